"""A CRM user's raw event timeline: ``users/<external_id>/events`` (newest first, paged, by feature,
CSV) and the Events section of the user page; two workspaces with the same external id."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tenancy.models import Membership
from tests.conftest import journeys

pytestmark = pytest.mark.django_db

URL = "/api/v1/workspaces/sh/users/u1/events"
MARCH = {"start": "2025-03-01", "end": "2025-03-31"}


@pytest.fixture
def sh(make_workspace):
    workspace, _ = make_workspace("sh", tz="Asia/Shanghai")
    journeys(
        workspace,
        [
            ("u1", "2025-03-10T09:00:00+08:00", "Leads", "view", "list_view", {"device": "mobile"}),
            ("u1", "2025-03-10T09:05:00+08:00", "Leads", "create", "form", "LD-1",
             {"outcome": "failure", "error_code": "E_VALIDATION", "duration_ms": 1200}),
            ("u1", "2025-03-11T10:00:00+08:00", "Deals", "edit", {"outcome": "success", "duration_ms": 80}),
            ("u1", "2025-03-31T23:59:00+08:00", "Deals", "view"),  # the last minute of the period
            ("u1", "2025-04-01T00:00:00+08:00", "Deals", "view"),  # after it
            ("u2", "2025-03-12T10:00:00+08:00", "Deals", "view"),
        ],
    )  # fmt: skip
    other, _ = make_workspace("other", tz="UTC")
    journeys(other, [("u1", "2025-03-10T09:00:00+00:00", "Tasks", "view")])
    return workspace


@pytest.fixture
def reader(sh, member_client):
    return member_client(sh)


def test_newest_first_with_every_field(reader) -> None:
    answer = reader.get(URL, MARCH).json()
    assert answer["count"] == 4 and answer["next"] is None
    rows = answer["results"]
    assert [r["timestamp"] for r in rows] == [
        "2025-03-31T23:59:00+08:00", "2025-03-11T10:00:00+08:00", "2025-03-10T09:05:00+08:00",
        "2025-03-10T09:00:00+08:00",
    ]  # fmt: skip
    assert {k: rows[2][k] for k in ("feature", "action", "detail", "record_id", "outcome", "error_code", "duration_ms", "device")} == {
        "feature": "Leads", "action": "create", "detail": "form", "record_id": "LD-1", "outcome": "failure",
        "error_code": "E_VALIDATION", "duration_ms": 1200, "device": "",
    }  # fmt: skip
    assert rows[3]["device"] == "mobile" and rows[3]["outcome"] == "" and rows[3]["duration_ms"] is None


def test_paged_and_by_feature(reader) -> None:
    first = reader.get(URL, {**MARCH, "page_size": 3}).json()
    assert len(first["results"]) == 3 and first["next"]
    second = reader.get(URL, {**MARCH, "page_size": 3, "page": 2}).json()
    assert [r["feature"] for r in second["results"]] == ["Leads"]
    leads = reader.get(URL, {**MARCH, "feature": "Leads"}).json()
    assert [r["action"] for r in leads["results"]] == ["create", "view"]
    assert reader.get(URL, {**MARCH, "page": 9}).status_code == 404  # past the end
    for params, field in (({"page": "abc"}, "page"), ({"feature": "Nope"}, "feature"), ({"start": "x"}, "start")):
        response = reader.get(URL, {**MARCH, **params})
        assert response.status_code == 400 and field in response.json()


def test_the_csv_has_every_event_of_the_period(reader) -> None:
    response = reader.get(URL, {**MARCH, "format": "csv", "page_size": 1})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 4 and rows[2]["error_code"] == "E_VALIDATION" and rows[2]["duration_ms"] == "1200"


def test_another_workspaces_user_is_not_found(sh, member_client) -> None:
    from tenancy.models import Workspace

    outsider = member_client(Workspace.objects.get(slug="other"), username="outsider")
    assert outsider.get(URL, MARCH).status_code == 404
    own = outsider.get("/api/v1/workspaces/other/users/u1/events", MARCH).json()["results"]
    assert [r["feature"] for r in own] == ["Tasks"]
    assert member_client(sh).get("/api/v1/workspaces/sh/users/nobody/events").status_code == 404


def test_the_user_page_shows_the_timeline(sh) -> None:
    user = get_user_model().objects.create_user("ana")
    Membership.objects.create(workspace=sh, user=user, role=Membership.Role.VIEWER)
    client = Client()
    client.force_login(user)
    page = client.get("/w/sh/users/u1/", MARCH)
    assert page.status_code == 200
    shown = page.context["events_page"]
    assert shown.paginator.count == 4 and [e.action for e in shown.object_list][:2] == ["view", "edit"]
    html = page.content.decode()
    assert "E_VALIDATION" in html and 'id="events-table"' in html
    links = {link["key"]: link["url"] for link in page.context["events_feature_links"]}
    assert set(links) == {"", "Deals", "Leads"} and "events_feature=Deals" in links["Deals"]
    narrowed = client.get("/w/sh/users/u1/", {**MARCH, "events_feature": "Deals"})
    assert [e.feature.key for e in narrowed.context["events_page"].object_list] == ["Deals", "Deals"]
    unknown = client.get("/w/sh/users/u1/", {**MARCH, "events_feature": "Nope"})
    assert unknown.status_code == 200 and unknown.context["events_errors"]
    assert unknown.context["events_page"].paginator.count == 4


def test_a_member_of_both_workspaces_gets_each_ones_user(sh, member_client) -> None:
    """The same external id in two workspaces: the path's workspace decides whose events."""
    from tenancy.models import Membership, Workspace

    client = member_client(sh, username="both")
    Membership.objects.create(
        workspace=Workspace.objects.get(slug="other"),
        user=Membership.objects.get(workspace=sh, user__username="both").user,
        role="viewer",
    )
    mine = client.get(URL, MARCH).json()["results"]
    theirs = client.get("/api/v1/workspaces/other/users/u1/events", MARCH).json()["results"]
    assert {r["feature"] for r in mine} == {"Leads", "Deals"} and [r["feature"] for r in theirs] == ["Tasks"]
