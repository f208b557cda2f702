"""The drill-down page (``/w/<slug>/people/``): the users behind a figure of every tab, their count in
the title, sorted and paginated, the CSV link (the API's answer), "Save as filter set"; and the tab
pages link their figures to it. The scenario is tests/drilldown/test_api.py's."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from funnels.models import Funnel
from tenancy.models import Membership
from tests.drilldown.test_api import FUNNEL, HOME, RANGE, WEEKS, two  # noqa: F401  (the fixture)
from useranalysis.models import FilterSet

pytestmark = pytest.mark.django_db


def signed_in(workspace, role=Membership.Role.ANALYST, username="maria") -> Client:
    user, _ = get_user_model().objects.get_or_create(username=username)
    Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": role})
    client = Client()
    client.force_login(user)
    client.user = user  # type: ignore[attr-defined]
    return client


def page(client, slug="acme", **params):
    return client.get(f"/w/{slug}/people/", params)


def listed(response) -> list[str]:
    return re.findall(r'<tr data-user="([^"]+)"', response.content.decode())


def count_shown(response) -> int:
    return int(re.search(r"<strong data-people-count>([\d,]+)</strong>", response.content.decode()).group(1))


@pytest.mark.parametrize(
    ("params", "ids", "title"),
    [
        ({"source": "home/summary", **HOME, "people": "active_users"}, ["a", "b", "c", "d"], "Active users"),
        ({"source": "home/summary", **HOME, "people": "inactive_users"}, ["idle"], "Inactive users"),
        ({"source": "home/attendance-calendar", **RANGE, "people": "2025-03-11"}, ["a", "d"], "Users active on"),
        ({"source": "hub/popularity", **RANGE, "people": "Deals"}, ["a", "b", "d"], "Users of Deals"),
        (
            {"source": "hub/frequency", **RANGE, "feature": "Leads", "buckets": "1,3,11", "people": "3"},
            ["a"],
            "Users with 3–10 events on Leads",
        ),
        (
            {
                "source": "trends",
                **RANGE,
                "feature": "Leads",
                "measure": "users",
                "interval": "week",
                "people": "2025-03-03",
            },
            ["a", "b", "c"],
            "Users of Leads, Week of Mar 3, 2025",
        ),
        (
            {"source": "behaviour/retention", **WEEKS, "interval": "week", "periods": 2, "people": "2025-03-03:1"},
            ["a", "b"],
            "Cohort of Mar 3, 2025, back after 1 intervals",
        ),
        (
            {"source": "behaviour/lifecycle", **WEEKS, "interval": "week", "people": "2025-03-10:dormant"},
            ["c"],
            "Went dormant in the interval of Mar 10, 2025",
        ),
        ({"source": "behaviour/stickiness", **RANGE, "people": "1"}, ["c", "d"], "Active on exactly 1 day"),
    ],
)
def test_the_page_lists_the_users_behind_each_figure(two, params, ids, title):  # noqa: F811
    response = page(signed_in(two[0]), **params)
    assert response.status_code == 200, response.content.decode()[:2000]
    assert listed(response) == ids and count_shown(response) == len(ids)
    assert title in response.content.decode()


def test_sorted_paginated_and_the_csv_is_the_apis(two):  # noqa: F811
    client = signed_in(two[0])
    params = {"source": "home/summary", **HOME, "people": "active_users"}
    first = page(client, **params, page_size=3, ordering="-interactions")
    assert listed(first) == ["c", "a", "b"] and count_shown(first) == 4
    html = first.content.decode()
    next_url = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert parse_qs(urlparse(next_url).query)["people"] == ["active_users"]
    assert listed(client.get(next_url)) == ["d"]
    csv_url = re.search(r'class="csv-link" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    rows = list(csv.DictReader(io.StringIO(client.get(csv_url).content.decode())))
    assert [r["external_id"] for r in rows] == ["c", "a", "b", "d"]


def test_save_as_filter_set_keeps_the_users(two):  # noqa: F811
    client = signed_in(two[0])
    response = page(client, source="hub/popularity", **RANGE, people="Leads")
    html = response.content.decode()
    form = re.search(r'<form method="post" action="([^"]+)" class="toolbar people-save">(.*?)</form>', html, re.S)
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(2)))
    assert fields["external_ids"].split("\n") == ["a", "b", "c"] and fields["name"] == "Users of Leads"
    saved = client.post(form.group(1), {**fields, "visibility": "workspace"})
    assert saved.status_code == 302
    filter_set = FilterSet.objects.get(workspace=two[0], name="Users of Leads")
    assert filter_set.conditions["users"] == {"external_id": ["a", "b", "c"]}
    assert filter_set.owner == client.user
    listing = client.get("/w/acme/users/filter-sets/").content.decode()
    assert "Users of Leads" in listing
    # A viewer lists and downloads them but cannot save.
    viewer = signed_in(two[0], Membership.Role.VIEWER, username="vic")
    shown = page(viewer, source="hub/popularity", **RANGE, people="Leads").content.decode()
    assert "people-save" not in shown and "needs the analyst or admin role" in shown
    assert viewer.post(form.group(1), {**fields}).status_code == 403


def test_a_funnel_step(two):  # noqa: F811
    client = signed_in(two[0])
    funnel = Funnel.objects.create(
        workspace=two[0],
        owner=client.user,
        name="Lead then deal",
        steps=FUNNEL["steps"],
        range_start="2025-03-01",
        range_end="2025-03-14",
    )
    reached = page(client, source="funnels/results", funnel=funnel.pk, people="2:reached")
    assert reached.status_code == 200 and listed(reached) == ["a", "b"]
    assert "Reached step 2" in reached.content.decode()
    dropped = page(client, source="funnels/results", funnel=funnel.pk, people="2:dropped")
    assert listed(dropped) == ["c"]
    # Another workspace's funnel, or a private one of another member: as if it did not exist.
    outsider = Funnel.objects.create(workspace=two[1], owner=client.user, name="x", steps=FUNNEL["steps"])
    assert page(client, source="funnels/results", funnel=outsider.pk, people="2:reached").status_code == 404


def test_bad_figures_are_said_and_other_workspaces_are_404(two):  # noqa: F811
    client = signed_in(two[0])
    bad = page(client, source="home/summary", **HOME, people="interactions")
    assert bad.status_code == 400 and "names no figure" in bad.content.decode()
    assert page(client, source="home/summary", as_of="2099-01-01", people="active_users").status_code == 400
    assert page(client, source="nowhere", people="x").status_code == 404
    assert page(client, slug="other", source="home/summary", **HOME, people="active_users").status_code == 404


def test_the_tab_pages_link_their_figures(two):  # noqa: F811
    client = signed_in(two[0])
    home = client.get("/w/acme/", HOME).content.decode()
    assert "/w/acme/people/?" in home and "people=active_users" in home and "people=inactive_users" in home
    hub = client.get("/w/acme/hub/", RANGE).content.decode()
    assert "source=hub%2Fpopularity" in hub and "source=hub%2Ffrequency" in hub
    engagement = client.get("/w/acme/behaviour/engagement/", WEEKS).content.decode()
    assert "data-drilldown=" in engagement


def test_the_page_speaks_chinese(two):  # noqa: F811
    client = signed_in(two[0])
    client.cookies["django_language"] = "zh-hans"
    html = page(client, source="hub/popularity", **RANGE, people="Leads").content.decode()
    assert "使用 Leads 的用户" in html and "位用户" in html and "保存为筛选集" in html
