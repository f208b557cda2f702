"""Drill-down over HTTP (docs/drilldown.md): ``people=<selector>`` on each endpoint answers the users
behind that figure, as many as the figure in the same answer without ``people``.

The scenario, counted by hand (UTC workspace "acme", March 2025; weeks start on Monday Mar 3 and 10):
* a (CN): Leads view + create Mar 3, Deals view Mar 4, Leads view Mar 10 and Mar 11 → 4 active days,
  4 Leads events and 1 Deals event;
* b (CN): Leads view Mar 3, Deals view Mar 12 → 2 active days, 1 Leads event;
* c (US): 12 Leads views on Mar 5 → 1 active day, 12 Leads events;
* d (US): Deals view Mar 11 → 1 active day;
* idle (US): registered, no event: the one inactive user.
"other" holds x1 and x2 with events on the same days and features: never in acme's answers.
"""

from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import crm_users, journeys

pytestmark = pytest.mark.django_db

BASE = "/api/v1/workspaces/{slug}/"
USERS = [
    {"external_id": "a", "name": "Ann", "country": "CN", "created_at": "2025-01-01"},
    {"external_id": "b", "name": "Bo", "country": "CN", "created_at": "2025-01-01"},
    {"external_id": "c", "name": "Cy", "country": "US", "created_at": "2025-01-01"},
    {"external_id": "d", "name": "Di", "country": "US", "created_at": "2025-01-01"},
    {"external_id": "idle", "name": "Ida", "country": "US", "created_at": "2025-01-01"},
]
EVENTS = [
    ("a", "2025-03-03T09:00:00Z", "Leads", "view"),
    ("a", "2025-03-03T09:05:00Z", "Leads", "create"),
    ("a", "2025-03-04T09:00:00Z", "Deals", "view"),
    ("a", "2025-03-10T09:00:00Z", "Leads", "view"),
    ("a", "2025-03-11T09:00:00Z", "Leads", "view"),
    ("b", "2025-03-03T10:00:00Z", "Leads", "view"),
    ("b", "2025-03-12T10:00:00Z", "Deals", "view"),
    *[("c", f"2025-03-05T10:{m:02d}:00Z", "Leads", "view") for m in range(12)],
    ("d", "2025-03-11T10:00:00Z", "Deals", "view"),
]
HOME = {"as_of": "2025-03-14", "days": 14}
RANGE = {"start": "2025-03-01", "end": "2025-03-14"}
WEEKS = {"start": "2025-03-03", "end": "2025-03-14"}


@pytest.fixture
def two(make_workspace):
    acme = make_workspace("acme")[0]
    crm_users(acme, USERS)
    journeys(acme, EVENTS)
    other = make_workspace("other")[0]
    crm_users(other, [{"external_id": "x1", "country": "CN"}, {"external_id": "x2", "country": "US"}])
    journeys(
        other,
        [
            ("x1", "2025-03-03T09:00:00Z", "Leads", "view"),
            ("x1", "2025-03-04T09:00:00Z", "Deals", "view"),
            ("x2", "2025-03-10T09:00:00Z", "Leads", "view"),
            ("x2", "2025-03-11T09:00:00Z", "Deals", "view"),
        ],
    )
    return acme, other


@pytest.fixture
def client(two, member_client):
    return member_client(two[0])


def get(client, endpoint, slug="acme", **params):
    return client.get(BASE.format(slug=slug) + endpoint, params)


def people(client, endpoint, **params):
    response = get(client, endpoint, **params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    return body["count"], [r["external_id"] for r in body["results"]]


def test_home_summary_active_and_inactive_users(client):
    metrics = get(client, "home/summary", **HOME).json()["metrics"]
    assert (metrics["active_users"]["value"], metrics["inactive_users"]["value"]) == (4, 1)
    assert people(client, "home/summary", **HOME, people="active_users") == (4, ["a", "b", "c", "d"])
    assert people(client, "home/summary", **HOME, people="inactive_users") == (1, ["idle"])
    # Filtered: the figure and its users narrow alike.
    cn = get(client, "home/summary", **HOME, country="CN").json()["metrics"]["active_users"]["value"]
    assert cn == 2
    assert people(client, "home/summary", **HOME, country="CN", people="active_users") == (2, ["a", "b"])


def test_rows_are_the_users_rows_with_metrics_over_the_period(client):
    row = get(client, "home/summary", **HOME, people="active_users").json()["results"][0]
    users = {r["external_id"]: r for r in get(client, "users", **HOME).json()["results"]}
    assert row == users["a"]
    assert (row["attendance_days"], row["interactions"], row["features_used"]) == (4, 5, 2)


def test_attendance_calendar_day(client):
    days = {
        d["date"]: d["active_users"] for d in get(client, "home/attendance-calendar", **HOME, weeks=2).json()["days"]
    }
    assert (days["2025-03-03"], days["2025-03-11"], days["2025-03-13"]) == (2, 2, 0)
    assert people(client, "home/attendance-calendar", **HOME, weeks=2, people="2025-03-03") == (2, ["a", "b"])
    assert people(client, "home/attendance-calendar", **HOME, weeks=2, people="2025-03-11") == (2, ["a", "d"])
    assert people(client, "home/attendance-calendar", **HOME, weeks=2, people="2025-03-13") == (0, [])
    us = {
        d["date"]: d["active_users"]
        for d in get(client, "home/attendance-calendar", **HOME, weeks=2, country="US").json()["days"]
    }
    assert us["2025-03-11"] == 1
    assert people(client, "home/attendance-calendar", **HOME, weeks=2, country="US", people="2025-03-11") == (1, ["d"])


@pytest.mark.parametrize("period", [RANGE, {"start": "2025-03-01", "end": "2025-03-31"}, {**RANGE, "country": "CN"}])
def test_hub_popularity_feature(client, period):
    shown = {f["feature"]: f["users"] for f in get(client, "hub/popularity", **period).json()["features"]}
    expected = {"Leads": ["a", "b", "c"], "Deals": ["a", "b", "d"]}
    for feature, ids in expected.items():
        if period.get("country"):
            ids = [i for i in ids if i in ("a", "b")]
        assert people(client, "hub/popularity", **period, people=feature) == (shown[feature], ids)


def test_hub_frequency_bucket(client):
    buckets = get(client, "hub/frequency", **RANGE, feature="Leads", buckets="1,3,11").json()["buckets"]
    assert [(b["min"], b["users"]) for b in buckets] == [(1, 1), (3, 1), (11, 1)]
    for low, ids in (("1", ["b"]), ("3", ["a"]), ("11", ["c"])):
        assert people(client, "hub/frequency", **RANGE, feature="Leads", buckets="1,3,11", people=low) == (1, ids)


def test_trends_point_of_distinct_users(client):
    week = {**RANGE, "feature": "Leads", "measure": "users", "interval": "week"}
    points = {p["bucket"]: p["value"] for p in get(client, "trends", **week).json()["series"][0]["points"]}
    assert points == {"2025-02-24": 0, "2025-03-03": 3, "2025-03-10": 1}
    assert people(client, "trends", **week, people="2025-03-03") == (3, ["a", "b", "c"])
    assert people(client, "trends", **week, people="2025-03-10") == (1, ["a"])
    assert people(client, "trends", **week, people="2025-02-24") == (0, [])
    # Per day, the chart reads the feature·day bitmaps; the drill-down the users' rows: the same.
    day = {**RANGE, "feature": "Leads", "measure": "users"}
    by_day = {p["bucket"]: p["value"] for p in get(client, "trends", **day).json()["series"][0]["points"]}
    assert by_day["2025-03-03"] == 2
    assert people(client, "trends", **day, people="2025-03-03") == (2, ["a", "b"])
    # An action narrows both.
    assert people(client, "trends", **day, action="create", people="2025-03-03") == (1, ["a"])


def test_trends_grouped_point(client):
    grouped = {**RANGE, "feature": "Leads", "measure": "users", "interval": "week", "group_by": "country"}
    series = {
        s["group"]: {p["bucket"]: p["value"] for p in s["points"]}
        for s in get(client, "trends", **grouped).json()["series"]
    }
    assert (series["CN"]["2025-03-03"], series["US"]["2025-03-03"]) == (2, 1)
    assert people(client, "trends", **grouped, people="2025-03-03", people_group="CN") == (2, ["a", "b"])
    assert people(client, "trends", **grouped, people="2025-03-03", people_group="US") == (1, ["c"])


FUNNEL = {
    "name": "Lead then deal",
    "steps": [{"feature": "Leads", "action": "view"}, {"feature": "Deals", "action": "view"}],
    "start": "2025-03-01",
    "end": "2025-03-14",
    "window_days": 14,
    "visibility": "workspace",
}


def test_funnel_step_reached_and_dropped(two, member_client):
    client = member_client(two[0], role="analyst")
    created = client.post(BASE.format(slug="acme") + "funnels/", FUNNEL, format="json")
    assert created.status_code == 201, created.content
    results = f"funnels/{created.json()['id']}/results"
    steps = {s["step"]: s["count"] for s in get(client, results).json()["steps"]}
    assert steps == {1: 3, 2: 2}  # a and b reach the deal; c does not; d never views a lead
    assert people(client, results, people="1:reached") == (3, ["a", "b", "c"])
    assert people(client, results, people="2:reached") == (2, ["a", "b"])
    assert people(client, results, people="2:dropped") == (steps[1] - steps[2], ["c"])
    row = get(client, results, people="2:reached").json()["results"][0]
    assert (row["external_id"], row["unit"], row["level"], row["attendance_days"]) == ("a", "a", 2, 4)
    # funnels/query: the same in the body.
    body = {k: v for k, v in FUNNEL.items() if k != "name"}
    answer = client.post(BASE.format(slug="acme") + "funnels/query", {**body, "people": "2:dropped"}, format="json")
    assert answer.status_code == 200 and [r["external_id"] for r in answer.json()["results"]] == ["c"]


def test_retention_cell(client):
    weekly = {**WEEKS, "interval": "week", "periods": 2}
    cohorts = get(client, "behaviour/retention", **weekly).json()["cohorts"]
    cells = {(c["start"], v["offset"]): v["users"] for c in cohorts for v in c["values"]}
    assert cells == {("2025-03-03", 0): 3, ("2025-03-03", 1): 2, ("2025-03-10", 0): 1, ("2025-03-10", 1): 0}
    assert people(client, "behaviour/retention", **weekly, people="2025-03-03:0") == (3, ["a", "b", "c"])
    assert people(client, "behaviour/retention", **weekly, people="2025-03-03:1") == (2, ["a", "b"])
    assert people(client, "behaviour/retention", **weekly, people="2025-03-10:0") == (1, ["d"])


def test_lifecycle_bar(client):
    weekly = {**WEEKS, "interval": "week"}
    buckets = {b["bucket"]: b for b in get(client, "behaviour/lifecycle", **weekly).json()["buckets"]}
    second = buckets["2025-03-10"]
    assert (second["new"], second["returning"], second["resurrecting"]) == (1, 2, 0)
    # Dormant is a count of users (drawn below the axis by the page): c went dormant in the week of Mar 10.
    assert second["dormant"] == 1
    assert people(client, "behaviour/lifecycle", **weekly, people="2025-03-10:dormant") == (1, ["c"])
    assert people(client, "behaviour/lifecycle", **weekly, people="2025-03-10:returning") == (2, ["a", "b"])
    assert people(client, "behaviour/lifecycle", **weekly, people="2025-03-10:new") == (1, ["d"])
    assert buckets["2025-03-03"]["new"] == 3
    assert people(client, "behaviour/lifecycle", **weekly, people="2025-03-03:new") == (3, ["a", "b", "c"])


def test_stickiness_bar(client):
    counts = {c["active_days"]: c["users"] for c in get(client, "behaviour/stickiness", **RANGE).json()["counts"]}
    assert (counts[1], counts[2], counts[4]) == (2, 1, 1)
    assert people(client, "behaviour/stickiness", **RANGE, people="1") == (2, ["c", "d"])
    assert people(client, "behaviour/stickiness", **RANGE, people="4") == (1, ["a"])
    assert people(client, "behaviour/stickiness", **RANGE, people="3") == (0, [])


def test_csv_has_every_row_and_pages_are_pages(client):
    response = get(client, "home/summary", **HOME, people="active_users", format="csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["external_id"] for r in rows] == ["a", "b", "c", "d"]
    assert rows[0]["attendance_days"] == "4" and rows[0]["last_seen"].startswith("2025-03-11")
    first = get(client, "home/summary", **HOME, people="active_users", page_size=3).json()
    assert first["count"] == 4 and [r["external_id"] for r in first["results"]] == ["a", "b", "c"]
    assert first["next"] and first["previous"] is None
    second = client.get(first["next"]).json()
    assert [r["external_id"] for r in second["results"]] == ["d"]
    by_days = get(client, "home/summary", **HOME, people="active_users", ordering="-attendance_days").json()
    assert [r["external_id"] for r in by_days["results"]] == ["a", "b", "c", "d"]
    by_seen = get(client, "home/summary", **HOME, people="active_users", ordering="-last_seen").json()
    assert [r["external_id"] for r in by_seen["results"]] == ["b", "d", "a", "c"]


@pytest.mark.parametrize(
    ("endpoint", "params"),
    [
        ("home/summary", {**HOME, "people": "interactions"}),
        ("home/attendance-calendar", {**HOME, "weeks": 1, "people": "2025-03-03"}),  # not a day shown
        ("home/attendance-calendar", {**HOME, "people": "yesterday"}),
        ("hub/popularity", {**RANGE, "people": "Tasks"}),
        ("hub/frequency", {**RANGE, "feature": "Leads", "people": "2"}),
        ("trends", {**RANGE, "feature": "Leads", "people": "2025-03-03"}),  # events, not users
        ("trends", {**RANGE, "feature": "Leads", "measure": "users", "people": "2025-04-01"}),
        ("trends", {**RANGE, "feature": "Leads", "measure": "users", "group_by": "country", "people": "2025-03-03"}),
        (
            "trends",
            {
                **RANGE,
                "feature": "Leads",
                "measure": "users",
                "group_by": "country",
                "people": "2025-03-03",
                "people_group": "FR",
            },
        ),
        ("behaviour/retention", {**WEEKS, "people": "2025-03-03"}),
        ("behaviour/retention", {**WEEKS, "people": "2025-03-05:1"}),
        ("behaviour/retention", {**WEEKS, "periods": 2, "people": "2025-03-03:2"}),
        ("behaviour/lifecycle", {**WEEKS, "people": "2025-03-10:gone"}),
        ("behaviour/lifecycle", {**WEEKS, "people": "2025-03-17:new"}),
        ("behaviour/stickiness", {**RANGE, "people": "15"}),
        ("behaviour/stickiness", {**RANGE, "people": "x" * 300}),
        ("home/summary", {**HOME, "people": "active_users", "ordering": "shoe_size"}),
    ],
)
def test_a_selector_naming_no_figure_is_a_400_naming_people(client, endpoint, params):
    response = get(client, endpoint, **params)
    assert response.status_code == 400, response.content
    field = "ordering" if "ordering" in params else "people"
    assert list(response.json()) == [field]


def test_the_funnel_step_beyond_the_funnel_is_a_400_naming_people(two, member_client):
    client = member_client(two[0], role="analyst")
    pk = client.post(BASE.format(slug="acme") + "funnels/", FUNNEL, format="json").json()["id"]
    for selector in ("3:reached", "1:dropped", "two"):
        response = get(client, f"funnels/{pk}/results", people=selector)
        assert response.status_code == 400 and "people" in response.json(), selector


def test_another_workspace_never_leaks_and_a_non_member_gets_404(two, member_client):
    acme, other = two
    both = member_client(acme, username="both")
    member_client(other, username="both")
    assert people(both, "home/summary", **HOME, people="active_users")[1] == ["a", "b", "c", "d"]
    assert people(both, "hub/popularity", **RANGE, people="Leads")[1] == ["a", "b", "c"]
    assert people(both, "behaviour/stickiness", **RANGE, people="1")[1] == ["c", "d"]
    response = both.get(BASE.format(slug="other") + "home/summary", {**HOME, "people": "active_users"})
    assert [r["external_id"] for r in response.json()["results"]] == ["x1", "x2"]
    outsider = member_client(other, username="outsider")
    for endpoint in ("home/summary", "behaviour/stickiness"):
        assert get(outsider, endpoint, **HOME, people="active_users").status_code == 404
