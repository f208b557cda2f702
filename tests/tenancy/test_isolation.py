"""No lookup crosses a workspace (tenancy.scoping).

Two workspaces hold the SAME external ids, emails, feature keys and saved-configuration names, with
different people and different figures behind them; one Django user is a member of both. Every
lookup by external id, email, key or id — pages, chart JSON, API, admin, command line — must answer
with the workspace named in the URL (or the command), and an id of the other workspace is a 404.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from events.models import CrmUser, Event
from funnels.models import Funnel
from tenancy.models import Membership, Workspace
from tests.conftest import crm_users, journeys
from useranalysis.models import FilterSet

pytestmark = pytest.mark.django_db

PERIOD = {"as_of": "2025-10-31", "days": "30"}
# The same person keys in both workspaces; who they are and what they did differs.
PEOPLE = {
    "north": {"name": "Nora North", "events": 3},
    "south": {"name": "Sam South", "events": 5},
}


@pytest.fixture
def both(make_workspace: Any) -> dict[str, Any]:
    """Workspaces north and south, each with user "u-1" (same email), "Leads" events (3 and 5), a
    funnel and a filter set named alike; "pat" is an analyst of both and owns every saved config."""
    pat = get_user_model().objects.create_user(username="pat", password="pw-isolation-1")
    found: dict[str, Any] = {"pat": pat}
    for slug, person in PEOPLE.items():
        workspace = make_workspace(slug)[0]
        Membership.objects.create(workspace=workspace, user=pat, role=Membership.Role.ANALYST)
        crm_users(
            workspace,
            [
                {
                    "external_id": "u-1",
                    "email": "shared@example.test",
                    "name": person["name"],
                    "created_at": "2025-01-01",
                }
            ],
        )
        journeys(
            workspace,
            [("u-1", f"2025-10-{10 + n:02d}T09:00:00+00:00", "Leads", "view") for n in range(person["events"])]
            + [("u-1", "2025-10-20T09:00:00+00:00", "Deals", "create")],
        )
        steps = [{"feature": "Leads", "action": "view"}, {"feature": "Deals", "action": "create"}]
        funnel = Funnel.objects.create(workspace=workspace, owner=pat, name="Lead to deal", steps=steps)
        filter_set = FilterSet.objects.create(
            workspace=workspace, owner=pat, name="Lead viewers", conditions={"features": [{"feature": "Leads"}]}
        )
        found[slug] = {"workspace": workspace, "funnel": funnel, "filter_set": filter_set, **person}
    return found


@pytest.fixture
def browser(client: Client, both: dict[str, Any]) -> Client:
    client.force_login(both["pat"])
    return client


@pytest.fixture
def api(both: dict[str, Any]) -> APIClient:
    _, token = AuthToken.objects.create(both["pat"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.mark.parametrize("slug, other", [("north", "south"), ("south", "north")])
@pytest.mark.parametrize("who", ["u-1", "shared@example.test", "SHARED@example.test"])
def test_activity_finds_the_user_of_its_own_workspace(browser: Client, api: APIClient, slug, other, who) -> None:
    """The Activity tab's ``user=`` (external id or email): page, chart and API."""
    page = browser.get(f"/w/{slug}/activity/", {**PERIOD, "user": who})
    assert page.status_code == 200
    text = text_of(page.content.decode())
    assert PEOPLE[slug]["name"] in text and PEOPLE[other]["name"] not in text
    chart = browser.get(f"/w/{slug}/charts/activity.json", {**PERIOD, "user": who}).json()
    leads = next(d for d in chart["datasets"] if d["label"] == "Leads")
    assert sum(leads["data"]) == PEOPLE[slug]["events"]
    answer = api.get(f"/api/v1/workspaces/{slug}/activity/features", {**PERIOD, "user": who}).json()
    assert {f["feature"]: f["interactions"] for f in answer["features"]}["Leads"] == PEOPLE[slug]["events"]


@pytest.mark.parametrize("slug, other", [("north", "south"), ("south", "north")])
def test_the_user_page_shows_the_user_of_its_own_workspace(browser: Client, both, slug, other) -> None:
    page = browser.get(f"/w/{slug}/users/u-1/", PERIOD)
    assert page.status_code == 200
    text = text_of(page.content.decode())
    assert PEOPLE[slug]["name"] in text and PEOPLE[other]["name"] not in text
    chart = browser.get(f"/w/{slug}/charts/user-activity.json", {**PERIOD, "user": "u-1"}).json()
    assert sum(sum(d["data"]) for d in chart["datasets"]) == PEOPLE[slug]["events"] + 1


@pytest.mark.parametrize("slug, other", [("north", "south"), ("south", "north")])
def test_the_users_table_and_api_list_their_own_workspace(browser: Client, api: APIClient, slug, other) -> None:
    page = text_of(browser.get(f"/w/{slug}/users/", {**PERIOD, "search": "shared"}).content.decode())
    assert PEOPLE[slug]["name"] in page and PEOPLE[other]["name"] not in page
    rows = api.get(f"/api/v1/workspaces/{slug}/users", {**PERIOD, "search": "shared"}).json()["results"]
    assert [(r["external_id"], r["name"], r["interactions"]) for r in rows] == [
        ("u-1", PEOPLE[slug]["name"], PEOPLE[slug]["events"] + 1)
    ]


@pytest.mark.parametrize("slug, other", [("north", "south"), ("south", "north")])
def test_saved_configurations_stay_in_their_workspace(browser: Client, api: APIClient, both, slug, other) -> None:
    mine, theirs = both[slug], both[other]
    # Lists: one of each, this workspace's.
    funnels = api.get(f"/api/v1/workspaces/{slug}/funnels/").json()["results"]
    assert [f["id"] for f in funnels] == [mine["funnel"].pk]
    sets = api.get(f"/api/v1/workspaces/{slug}/filter-sets/").json()
    assert [s["id"] for s in sets] == [mine["filter_set"].pk]
    funnel_list = browser.get(f"/w/{slug}/funnels/").content.decode()
    assert f"/w/{slug}/funnels/{mine['funnel'].pk}/" in funnel_list
    assert f"/funnels/{theirs['funnel'].pk}/" not in funnel_list
    set_list = browser.get(f"/w/{slug}/users/filter-sets/").content.decode()
    assert f"/w/{slug}/users/filter-sets/{mine['filter_set'].pk}/" in set_list
    assert f"/filter-sets/{theirs['filter_set'].pk}/" not in set_list
    # The other workspace's ids, under this workspace's URL: 404 everywhere, for a member of both.
    for url in (
        f"/w/{slug}/funnels/{theirs['funnel'].pk}/",
        f"/w/{slug}/funnels/{theirs['funnel'].pk}/chart.json",
        f"/w/{slug}/users/filter-sets/{theirs['filter_set'].pk}/",
    ):
        assert browser.get(url).status_code == 404, url
    for url in (
        f"/api/v1/workspaces/{slug}/funnels/{theirs['funnel'].pk}",
        f"/api/v1/workspaces/{slug}/funnels/{theirs['funnel'].pk}/results",
        f"/api/v1/workspaces/{slug}/filter-sets/{theirs['filter_set'].pk}",
        f"/api/v1/workspaces/{slug}/filter-sets/{theirs['filter_set'].pk}/results",
    ):
        assert api.get(url).status_code == 404, url
    # Their own results count their own events.
    october = {"start": "2025-10-01", "end": "2025-10-31"}
    results = api.get(f"/api/v1/workspaces/{slug}/funnels/{mine['funnel'].pk}/results", october).json()
    assert [s["count"] for s in results["steps"]] == [1, 1]
    matched = api.get(f"/api/v1/workspaces/{slug}/filter-sets/{mine['filter_set'].pk}/results", PERIOD).json()
    assert [(u["name"], u["interactions"]) for u in matched["users"]] == [
        (PEOPLE[slug]["name"], PEOPLE[slug]["events"] + 1)
    ]


@pytest.mark.parametrize("slug", ["north", "south"])
def test_features_and_trends_are_the_workspace_own(browser: Client, api: APIClient, slug) -> None:
    trend = api.get(
        f"/api/v1/workspaces/{slug}/trends", {"feature": "Leads", "start": "2025-10-01", "end": "2025-10-31"}
    ).json()
    assert sum(p["value"] for p in trend["series"][0]["points"]) == PEOPLE[slug]["events"]
    hub = api.get(f"/api/v1/workspaces/{slug}/hub/frequency", {"feature": "Leads", **PERIOD, "buckets": "1,4"}).json()
    assert hub["buckets"] == (
        [{"min": 1, "max": 3, "users": 1}, {"min": 4, "max": None, "users": 0}]
        if PEOPLE[slug]["events"] < 4
        else [{"min": 1, "max": 3, "users": 0}, {"min": 4, "max": None, "users": 1}]
    )


def test_admin_of_one_workspace_cannot_open_the_other_s_user(client: Client, both) -> None:
    staff = get_user_model().objects.create_user(username="north-admin", password="pw-isolation-2", is_staff=True)
    Membership.objects.create(workspace=both["north"]["workspace"], user=staff, role=Membership.Role.ADMIN)
    client.force_login(staff)
    north_user = CrmUser.objects.get(workspace=both["north"]["workspace"], external_id="u-1")
    south_user = CrmUser.objects.get(workspace=both["south"]["workspace"], external_id="u-1")
    assert client.get(f"/admin/events/crmuser/{north_user.pk}/change/").status_code == 200
    assert client.get(f"/admin/events/crmuser/{south_user.pk}/change/").status_code == 404
    listing = client.get("/admin/events/crmuser/").content.decode()
    assert "Nora North" in listing and "Sam South" not in listing


def test_erasing_a_user_by_external_id_erases_only_that_workspace_s(both) -> None:
    call_command("erase_crm_user", "u-1", "--workspace", "north", stdout=None)
    north: Workspace = both["north"]["workspace"]
    south: Workspace = both["south"]["workspace"]
    assert not Event.objects.filter(workspace=north).exists()
    assert Event.objects.filter(workspace=south).count() == PEOPLE["south"]["events"] + 1
    assert CrmUser.objects.get(workspace=south, external_id="u-1").name == "Sam South"
