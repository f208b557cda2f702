"""Two workspaces whose CRM users have the SAME external ids and emails, and one Django user who is a
member of both: every User analysis page, chart, export and endpoint shows the workspace's own users,
and a filter set of one workspace is out of reach from the other (404)."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tenancy.models import Membership, Workspace
from tests.conftest import crm_users, journeys
from tests.useranalysis.test_pages import builder_query, order_of, rows_of, text_of
from useranalysis.models import FilterSet

pytestmark = pytest.mark.django_db

PERIOD = {"as_of": "2025-10-31", "days": "30"}
SHARED_ID, SHARED_EMAIL = "u-1", "ada@zylker.test"


@pytest.fixture
def pair(make_workspace: Any) -> tuple[Workspace, Workspace]:
    """``north`` and ``south``: each has u-1 (same email, its own name and country) and u-2; in north
    u-1 used Leads on 3 days, in south Deals once; south alone has the feature Deals."""
    north, south = make_workspace("north", tz="Asia/Shanghai")[0], make_workspace("south", tz="Asia/Shanghai")[0]
    for workspace, name, country in ((north, "Ada North", "CN"), (south, "Ada South", "IN")):
        crm_users(
            workspace,
            [
                {"external_id": SHARED_ID, "email": SHARED_EMAIL, "name": name, "country": country},
                {"external_id": "u-2", "email": "bob@zylker.test", "name": f"Bob {name.split()[1]}"},
            ],
        )
    journeys(north, [(SHARED_ID, f"2025-10-{day}T10:00:00+08:00", "Leads", "view") for day in (20, 21, 22)])
    journeys(south, [(SHARED_ID, "2025-10-30T10:00:00+08:00", "Deals", "view")])
    return north, south


@pytest.fixture
def member(client: Client, pair: tuple[Workspace, Workspace]) -> Client:
    user = get_user_model().objects.create(username="both")
    for workspace in pair:
        Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.ANALYST)
    client.force_login(user)
    return client


@pytest.fixture
def api(pair: tuple[Workspace, Workspace], member_client: Any) -> APIClient:
    client: APIClient = member_client(pair[0], role=Membership.Role.ANALYST, username="both-api")
    member_client(pair[1], role=Membership.Role.ANALYST, username="both-api")
    return client


def url(name: str, slug: str, **kwargs: Any) -> str:
    return reverse(name, kwargs={"slug": slug, **kwargs})


def test_the_users_table_lists_the_workspaces_own_users(member: Client) -> None:
    for slug, mine, theirs in (("north", "Ada North", "Ada South"), ("south", "Ada South", "Ada North")):
        html = member.get(url("users-tab", slug), PERIOD).content.decode()
        assert order_of(html) == [SHARED_ID, "u-2"]
        text = text_of(html)
        assert f"{mine} {SHARED_EMAIL} External ID: {SHARED_ID}" in text and theirs not in text
    north = {r["user"]: r for r in rows_of(member.get(url("users-tab", "north"), PERIOD).content.decode())}
    south = {r["user"]: r for r in rows_of(member.get(url("users-tab", "south"), PERIOD).content.decode())}
    assert (north[SHARED_ID]["attendance_days"], north[SHARED_ID]["interactions"]) == ("3", "3")
    assert (south[SHARED_ID]["attendance_days"], south[SHARED_ID]["interactions"]) == ("1", "1")
    # The search matches the workspace's own users only.
    html = member.get(url("users-tab", "south"), {**PERIOD, "search": "north"}).content.decode()
    assert "No user matches." in text_of(html)


def test_the_user_page_and_its_chart_show_the_workspaces_own_user(member: Client) -> None:
    for slug, name, country, daily in (
        ("north", "Ada North", "China (CN)", [1, 1, 1]),
        ("south", "Ada South", "India (IN)", [0, 0, 0]),
    ):
        response = member.get(url("users-detail", slug, external_id=SHARED_ID), PERIOD)
        assert response.status_code == 200
        text = text_of(response.content.decode())
        assert name in text and SHARED_EMAIL in text and f"Country {country}" in text
        assert ("Ada South" if slug == "north" else "Ada North") not in text
        chart = json.loads(member.get(url("users-chart-daily-activity", slug), {"user": SHARED_ID, **PERIOD}).content)
        assert chart["datasets"][0]["data"][18:21] == daily  # Oct 20–22
    # The features used, and the catalog's others: the workspace's own (Leads is north's only, Deals
    # south's only, so neither page has a feature left unused).
    for slug, used, unused in (("north", "Leads 3", None), ("south", "Deals 1", None)):
        html = member.get(url("users-detail", slug, external_id=SHARED_ID), PERIOD).content.decode()
        table = re.search(r'<table class="table table--compact" id="features-used">(.*?)</table>', html, flags=re.S)
        assert table and text_of(table.group(1)).endswith(used)
        chips = re.search(r'<ul class="ua-chips" role="list" id="features-unused">(.*?)</ul>', html, flags=re.S)
        assert (text_of(chips.group(1)) if chips else None) == unused


def test_the_activity_lookups_find_the_workspaces_own_user(member: Client) -> None:
    """By the user page's link (external id) and by email, as the Activity tab looks users up."""
    for slug, name in (("north", "Ada North"), ("south", "Ada South")):
        html = member.get(url("users-detail", slug, external_id=SHARED_ID), PERIOD).content.decode()
        link = re.search(r'<p class="user-card__note"><a href="([^"]+)"', html)
        assert link
        for activity in (unescape(link.group(1)), url("activity-tab", slug) + f"?user={SHARED_EMAIL}&as_of=2025-10-31"):
            response = member.get(activity)
            assert response.status_code == 200, activity
            assert response.context["crm_user"].workspace.slug == slug
            assert f"Activity of {name}" in text_of(response.content.decode())


def test_the_users_endpoint_and_its_csv_answer_for_the_workspace(api: APIClient) -> None:
    for slug, name, interactions in (("north", "Ada North", 3), ("south", "Ada South", 1)):
        body = api.get(f"/api/v1/workspaces/{slug}/users", PERIOD).json()
        rows = {r["external_id"]: r for r in body["results"]}
        assert (rows[SHARED_ID]["name"], rows[SHARED_ID]["interactions"]) == (name, interactions)
        exported = api.get(f"/api/v1/workspaces/{slug}/users", {**PERIOD, "format": "csv"}).content.decode()
        assert [r["name"] for r in csv.DictReader(io.StringIO(exported))] == [name, f"Bob {name.split()[1]}"]


def shared_set(workspace: Workspace, name: str, conditions: dict[str, Any]) -> FilterSet:
    owner = get_user_model().objects.get_or_create(username="owner")[0]
    Membership.objects.get_or_create(workspace=workspace, user=owner, defaults={"role": Membership.Role.ANALYST})
    return FilterSet.objects.create(
        workspace=workspace, owner=owner, name=name, visibility="workspace", conditions=conditions
    )


def test_filter_sets_list_page_and_results_stay_in_their_workspace(member: Client, api: APIClient) -> None:
    north, south = Workspace.objects.get(slug="north"), Workspace.objects.get(slug="south")
    leads = shared_set(
        north, "North leads", {"features": [{"feature": "Leads", "action": "", "used": True, "min_count": 1}]}
    )
    deals = shared_set(
        south, "South deals", {"features": [{"feature": "Deals", "action": "", "used": True, "min_count": 1}]}
    )
    assert "North leads" in text_of(member.get(url("users-filter-sets", "north")).content.decode())
    listing = text_of(member.get(url("users-filter-sets", "south")).content.decode())
    assert "South deals" in listing and "North leads" not in listing
    # Each set's page and result, in its own workspace: its own u-1.
    for slug, filter_set, name in (("north", leads, "Ada North"), ("south", deals, "Ada South")):
        html = member.get(url("users-filter-set", slug, pk=filter_set.pk), {"as_of": "2025-10-31"}).content.decode()
        assert "1 of 2 users, 50.0%" in text_of(html) and order_of(html, "matched-users") == [SHARED_ID]
        assert name in text_of(html)
        result = api.get(f"/api/v1/workspaces/{slug}/filter-sets/{filter_set.pk}/results", {"as_of": "2025-10-31"})
        assert [u["name"] for u in result.json()["users"]] == [name]
    # Another workspace's set: 404 on every page and endpoint, even for a member of both.
    for page in (
        url("users-filter-set", "south", pk=leads.pk),
        url("users-filter-set-delete", "south", pk=leads.pk),
        f"/api/v1/workspaces/south/filter-sets/{leads.pk}/",
        f"/api/v1/workspaces/south/filter-sets/{leads.pk}/results",
    ):
        assert (api if page.startswith("/api/") else member).get(page).status_code == 404, page
    assert member.post(url("users-filter-set", "south", pk=leads.pk), builder_query(name="x")).status_code == 404
    assert api.delete(f"/api/v1/workspaces/south/filter-sets/{leads.pk}/").status_code == 404
    assert FilterSet.objects.filter(pk=leads.pk, name="North leads").exists()


def test_a_definition_is_checked_against_the_workspaces_own_features(member: Client, api: APIClient) -> None:
    deals = builder_query([], [{"feature": "Deals", "used": "true", "min_count": "1"}])
    assert "Unknown feature: 'Deals'." in text_of(
        member.get(url("users-filter-set-new", "north"), deals).content.decode()
    )
    html = member.get(url("users-filter-set-new", "south"), deals).content.decode()
    assert "1 of 2 users, 50.0%" in text_of(html) and "Ada South" in text_of(html)
    body = {"conditions": {"features": [{"feature": "Leads"}]}}
    assert (
        api.post("/api/v1/workspaces/south/filter-sets/query?as_of=2025-10-31", body, format="json").status_code == 400
    )
    north = api.post("/api/v1/workspaces/north/filter-sets/query?as_of=2025-10-31", body, format="json").json()
    assert [u["name"] for u in north["users"]] == ["Ada North"]
