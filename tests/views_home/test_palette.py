"""Trends grouped by an attribute: twenty distinguishable colours, and a group keeps its colour from
chart to chart (issue 21: "grouped Trends repeat colours after seven series")."""

from __future__ import annotations

from itertools import combinations
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from core.charts import CHARTJS_COLORS, SERIES_COLORS
from tenancy.models import Membership
from tests.conftest import crm_users, journeys

# Twenty-one countries: past the palette's nineteen colours for values.
COUNTRIES = ["AE", "AR", "AU", "BR", "CA", "CN", "DE", "ES", "FR", "GB", "ID", "IN", "IT", "JP", "KR", "MX", "NL",
             "SE", "SG", "US", "VN"]  # fmt: skip


def cielab(color: tuple[int, int, int]) -> tuple[float, float, float]:
    """sRGB (D65) to CIELAB, written out here rather than taken from the code under test."""

    def linear(channel: int) -> float:
        c = channel / 255
        return ((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92

    r, g, b = (linear(c) for c in color)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def delta_e(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    return sum((p - q) ** 2 for p, q in zip(cielab(a), cielab(b), strict=True)) ** 0.5


def test_twenty_colours_no_two_closer_than_chart_js_s_own() -> None:
    assert len(SERIES_COLORS) == 20 == len(set(SERIES_COLORS))
    assert SERIES_COLORS[:7] == CHARTJS_COLORS  # every other chart keeps its colours
    closest_of_chart_js = min(delta_e(a, b) for a, b in combinations(CHARTJS_COLORS, 2))
    assert min(delta_e(a, b) for a, b in combinations(SERIES_COLORS, 2)) >= closest_of_chart_js >= 25
    assert all(cielab(color)[0] < 88 for color in SERIES_COLORS)  # none too light to see on white


def test_a_group_keeps_its_colour_whichever_groups_a_chart_shows(client: Client, make_workspace: Any) -> None:
    shop = make_workspace("shop", tz="Asia/Shanghai")[0]
    other = make_workspace("other", tz="Asia/Shanghai")[0]
    crm_users(shop, [{"external_id": f"u-{code}", "country": code} for code in COUNTRIES] + [{"external_id": "u-none"}])
    crm_users(other, [{"external_id": "u-SE", "country": "SE"}])
    # Everyone on October 6; on October 13 only Japan, Sweden and the user without a country.
    journeys(shop, [(f"u-{code}", "2025-10-06T10:00:00+08:00", "Leads", "create") for code in COUNTRIES]
             + [("u-none", "2025-10-06T10:00:00+08:00", "Leads", "create")]
             + [(f"u-{code}", "2025-10-13T10:00:00+08:00", "Leads", "create") for code in ("JP", "SE", "none")])  # fmt: skip
    journeys(other, [("u-SE", "2025-10-06T10:00:00+08:00", "Leads", "create")])
    user = get_user_model().objects.create_user("viewer")
    for workspace in (shop, other):
        Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.VIEWER)
    client.force_login(user)

    def colours(workspace: Any, day: str) -> dict[str, str]:
        query = {"feature": "Leads", "start": day, "end": day, "group_by": "country"}
        response = client.get(reverse("trends-chart", kwargs={"slug": workspace.slug}), query)
        assert response.status_code == 200, response.content
        return {dataset["label"]: dataset["borderColor"] for dataset in response.json()["datasets"]}

    everyone = colours(shop, "2025-10-06")
    assert len(everyone) == 22  # 21 countries and "(not set)"
    first_nineteen = [everyone[label] for label in everyone if label != "(not set)"][:19]
    assert len(set(first_nineteen)) == 19  # no colour twice among the first nineteen values
    assert everyone["(not set)"] == "rgb(201, 203, 207)" and "rgb(201, 203, 207)" not in first_nineteen
    few = colours(shop, "2025-10-13")
    assert set(few) == {"Japan (JP)", "Sweden (SE)", "(not set)"}
    assert few == {label: everyone[label] for label in few}  # the same colour with other groups around
    # Another workspace's countries are its own: Sweden is its only value, so its first colour.
    assert colours(other, "2025-10-06") == {"Sweden (SE)": "rgb(54, 162, 235)"}
