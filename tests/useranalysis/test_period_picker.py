"""The one period picker on the User analysis pages (From–To and the presets): the users table, a
user's page and the filter-set builder read a period asked in any of the three ways, keep writing it
the way it was asked, and show the messages of ``as_of``/``days`` on To/From."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from tenancy.models import Membership, Workspace
from tests.useranalysis import test_pages
from tests.useranalysis.test_pages import (
    ADA,
    BUSY,
    PERIOD,
    builder_query,
    heading,
    href_of,
    login,
    order_of,
    query_of,
    text_of,
    url,
)
from useranalysis.models import FilterSet

pytestmark = pytest.mark.django_db

sh = test_pages.sh  # the Shanghai workspace of the page tests, with its figures

RANGE = {"start": "2025-10-02", "end": "2025-10-31"}  # the same 30 days as PERIOD


def date_input(html: str, name: str) -> str:
    match = re.search(rf'<input type="(?:date|text)" name="{name}" value="([^"]*)"', html)
    assert match, name
    return match.group(1)


def test_the_users_table_reads_a_range_and_writes_its_links_that_way(client: Client, sh: Workspace) -> None:
    login(client, sh)
    by_days = client.get(url("users-tab"), {**PERIOD, "ordering": "-interactions"})
    by_range = client.get(url("users-tab"), {**RANGE, "ordering": "-interactions"})
    assert by_days.context["query"].period == by_range.context["query"].period
    assert order_of(by_range.content.decode()) == order_of(by_days.content.decode())
    html = by_range.content.decode()
    assert (date_input(html, "start"), date_input(html, "end")) == ("2025-10-02", "2025-10-31")
    link = href_of(heading(html, "interactions"), "interactions")
    assert query_of(link) == {"start": ["2025-10-02"], "end": ["2025-10-31"], "ordering": ["interactions"]}
    # The picker of a page asked with as_of + days shows the same days as From–To.
    assert date_input(by_days.content.decode(), "start") == "2025-10-02"


def test_a_preset_keeps_the_rest_of_the_query(client: Client, sh: Workspace) -> None:
    login(client, sh)
    html = client.get(url("users-tab"), {**PERIOD, "search": "ada", "country": "CN"}).content.decode()
    preset = re.search(r'<a href="([^"]+)"[^>]*>Last 7 days</a>', html)
    assert preset
    assert query_of(unescape(preset.group(1))) == {"search": ["ada"], "country": ["CN"], "period": ["last_7_days"]}
    response = client.get(url("users-tab"), {"period": "last_7_days", "as_of": "2025-10-31"})
    period = response.context["query"].period
    assert (period.start.isoformat(), period.end.isoformat()) == ("2025-10-25", "2025-10-31")


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"as_of": "2025-02-30"}, "end", "Enter a date as YYYY-MM-DD."),
        ({"days": "0"}, "start", "Ensure this value is greater than or equal to 1."),
        ({"start": "2025-11-01", "end": "2025-10-01"}, "start", ""),
    ],
)
def test_as_of_and_days_messages_show_on_to_and_from(
    client: Client, sh: Workspace, params: dict[str, str], field: str, message: str
) -> None:
    login(client, sh)
    for page in (url("users-tab"), url("users-detail", external_id=ADA)):
        response = client.get(page, params)
        assert response.status_code == 400, page
        html = response.content.decode()
        errors = re.search(rf'<ul class="field__errors" id="id_{field}-errors">(.*?)</ul>', html, flags=re.S)
        assert errors, (page, field)
        assert message in text_of(errors.group(1))


def test_the_user_page_keeps_the_table_query_across_the_picker(client: Client, sh: Workspace) -> None:
    login(client, sh)
    html = client.get(url("users-detail", external_id=ADA), {**RANGE, "ordering": "-interactions"}).content.decode()
    hidden = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', html))
    assert hidden.get("ordering") == "-interactions" and "start" not in hidden and "as_of" not in hidden
    chart = re.search(r'data-chart-url="([^"]+)"', html)
    assert chart
    assert query_of(unescape(chart.group(1))) == {"user": [ADA], "start": ["2025-10-02"], "end": ["2025-10-31"]}


def test_the_builder_has_the_picker_and_its_presets_keep_the_definition(client: Client, sh: Workspace) -> None:
    login(client, sh, role=Membership.Role.ANALYST)
    html = client.get(url("users-filter-set-new"), builder_query([BUSY], group_by="country")).content.decode()
    assert (date_input(html, "start"), date_input(html, "end")) == ("2025-10-02", "2025-10-31")
    preset = re.search(r'<a href="([^"]+)"[^>]*>Last 7 days</a>', html)
    assert preset
    params = query_of(unescape(preset.group(1)))
    assert params["period"] == ["last_7_days"] and params["activity-0-metric"] == ["attendance_days"]
    assert params["group_by"] == ["country"] and "as_of" not in params
    # Run with From–To: the same result as with as_of + days.
    ranged = {k: v for k, v in builder_query([BUSY]).items() if k not in PERIOD}
    response = client.get(url("users-filter-set-new"), {**ranged, **RANGE})
    assert "2 of 4 users, 50.0%" in text_of(response.content.decode())
    bad = client.get(url("users-filter-set-new"), {**ranged, "as_of": "2025-13-01", "days": "30"})
    assert bad.status_code == 400
    errors = re.search(r'<ul class="field__errors" id="id_end-errors">(.*?)</ul>', bad.content.decode(), flags=re.S)
    assert errors and "Enter a date as YYYY-MM-DD." in text_of(errors.group(1))


def test_saving_a_range_keeps_its_length_as_the_default_days(client: Client, sh: Workspace) -> None:
    login(client, sh, role=Membership.Role.ANALYST)
    ranged = {k: v for k, v in builder_query([BUSY], name="Busy").items() if k not in PERIOD}
    response = client.post(url("users-filter-set-new"), {**ranged, "start": "2025-10-18", "end": "2025-10-31"})
    saved = FilterSet.objects.get()
    assert saved.default_days == 14
    assert response["Location"] == url("users-filter-set", pk=saved.pk) + "?as_of=2025-10-31"


def test_an_editors_sort_link_keeps_the_saved_name(client: Client, sh: Workspace) -> None:
    owner = login(client, sh, role=Membership.Role.ANALYST)
    filter_set = FilterSet.objects.create(
        workspace=sh, owner=owner, name="Busy", visibility="private", conditions={"activity": [BUSY]}
    )
    html = client.get(url("users-filter-set", pk=filter_set.pk), PERIOD).content.decode()
    link = href_of(heading(html, "interactions"), "interactions")
    assert "name" not in query_of(link)
    html = client.get(link).content.decode()
    assert re.search(r'name="name" value="Busy"', html)
    assert urlsplit(link).path == url("users-filter-set", pk=filter_set.pk)


def test_the_api_accepts_every_way_of_asking_a_period(sh: Workspace, member_client: Any) -> None:
    api = member_client(sh)
    by_days = api.get("/api/v1/workspaces/sh/users", PERIOD).json()
    assert api.get("/api/v1/workspaces/sh/users", RANGE).json() == by_days
    body = {"conditions": {"activity": [{"metric": "attendance_days", "op": ">=", "value": 2}]}}
    ran = api.post("/api/v1/workspaces/sh/filter-sets/query?start=2025-10-02&end=2025-10-31", body, format="json")
    assert ran.json()["matched"] == 2
    assert api.post("/api/v1/workspaces/sh/filter-sets/query", [1], format="json").status_code == 400


def test_apply_keeps_a_valid_order_and_drops_an_invalid_one(client: Client, sh: Workspace) -> None:
    login(client, sh)
    html = client.get(url("users-tab"), {**PERIOD, "ordering": "-interactions", "page_size": "25"}).content.decode()
    assert '<input type="hidden" name="ordering" value="-interactions"' in html
    assert '<input type="hidden" name="page_size" value="25"' in html
    html = client.get(url("users-tab"), {**PERIOD, "ordering": "password"}).content.decode()
    assert 'name="ordering"' not in html  # Apply would send it again
