"""activity/features, trends and hub/* over HTTP: exact answers on hand-checkable data."""

from __future__ import annotations

import csv
import io

import pytest

from events.models import Event
from tests.conftest import crm_users, journeys

pytestmark = pytest.mark.django_db

BASE = "/api/v1/workspaces/zylker/"


@pytest.fixture
def zylker(make_workspace):
    """Asia/Shanghai (UTC+8). Oct 2025: Mon 6, Wed 8, Sun 12, Mon 13; Nov 1 is a Saturday."""
    workspace = make_workspace("zylker", tz="Asia/Shanghai")[0]
    crm_users(
        workspace,
        [
            {"external_id": "li", "email": "Li@Zylker.com", "country": "CN", "language": "zh"},
            {"external_id": "ana", "email": "ana@zylker.com", "country": "IN", "language": "en"},
            {"external_id": "bo", "email": "shared@zylker.com", "country": "CN"},
            {"external_id": "cy", "email": "shared@zylker.com", "country": "US"},
        ],
    )
    journeys(
        workspace,
        [
            ("li", "2025-10-06T09:00:00+08:00", "Leads", "view", "kanban_view"),
            ("li", "2025-10-06T09:05:00+08:00", "Leads", "view", "list_view"),
            ("li", "2025-10-08T23:59:00+08:00", "Leads", "create"),  # 15:59 UTC: still Oct 8 locally
            ("ana", "2025-10-09T00:01:00+08:00", "Leads", "view", "kanban_view"),  # Oct 8 16:01 UTC: Oct 9
            ("ana", "2025-10-12T10:00:00+08:00", "Leads", "view", "kanban_view"),  # Sunday
            ("ana", "2025-10-13T10:00:00+08:00", "Leads", "view", "kanban_view"),  # next Monday
            ("li", "2025-10-31T10:00:00+08:00", "Leads", "view", "kanban_view"),
            ("bo", "2025-11-01T10:00:00+08:00", "Leads", "view", "kanban_view"),
            ("li", "2025-10-07T10:00:00+08:00", "Calendar", "view"),
            ("ana", "2025-10-07T11:00:00+08:00", "Calendar", "view"),
            ("ana", "2025-10-07T12:00:00+08:00", "Calendar", "view"),
            ("cy", "2025-10-07T12:00:00+08:00", "Reports", "export"),
        ],
    )
    return workspace


@pytest.fixture
def api(zylker, member_client):
    client = member_client(zylker)

    def get(endpoint, **params):
        return client.get(BASE + endpoint, params)

    return get


# --- activity/features ---------------------------------------------------------------------------


def test_activity_every_day_present_with_zeros(api):
    body = api("activity/features", as_of="2025-10-09", days=4).json()
    assert [(f["feature"], f["interactions"]) for f in body["features"]] == [
        ("Leads", 4),
        ("Calendar", 3),
        ("Reports", 1),
    ]
    leads = body["features"][0]["series"]
    assert leads == [
        {"date": "2025-10-06", "interactions": 2},
        {"date": "2025-10-07", "interactions": 0},
        {"date": "2025-10-08", "interactions": 1},
        {"date": "2025-10-09", "interactions": 1},
    ]


def test_activity_defaults_to_60_days(api, zylker):
    body = api("activity/features", as_of="2025-11-01").json()
    assert len(body["features"][0]["series"]) == 60
    assert body["features"][0]["series"][-1]["date"] == "2025-11-01"


@pytest.mark.parametrize("query", [{"feature": "Calendar,Reports"}, "feature=Calendar&feature=Reports"])
def test_activity_filter_by_features(zylker, member_client, query):
    client = member_client(zylker)
    url = BASE + "activity/features"
    if isinstance(query, str):
        response = client.get(f"{url}?as_of=2025-10-09&days=4&{query}")
    else:
        response = client.get(url, {"as_of": "2025-10-09", "days": 4, **query})
    assert [(f["feature"], f["interactions"]) for f in response.json()["features"]] == [("Calendar", 3), ("Reports", 1)]


def test_activity_a_requested_feature_without_use_is_listed_at_zero(api):
    body = api("activity/features", as_of="2025-10-30", days=3, feature="Reports").json()
    assert body["features"] == [
        {
            "feature": "Reports",
            "interactions": 0,
            "series": [{"date": d, "interactions": 0} for d in ("2025-10-28", "2025-10-29", "2025-10-30")],
        }
    ]


@pytest.mark.parametrize("user", ["ana", "ANA@zylker.com", "ana@zylker.com"])
def test_activity_of_one_user_by_external_id_or_email(api, user):
    body = api("activity/features", as_of="2025-10-13", days=8, user=user).json()
    assert [(f["feature"], f["interactions"]) for f in body["features"]] == [("Leads", 3), ("Calendar", 2)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"user": "nobody"}, "user"),
        ({"user": "shared@zylker.com"}, "user"),  # two users share it: ask for the external id
        ({"feature": "Leads,Nope"}, "feature"),
        ({"days": 0}, "days"),
        ({"as_of": "2025-02-30"}, "as_of"),
        ({"country": "CN", "status": "asleep"}, "status"),
    ],
)
def test_activity_bad_parameters(api, params, field):
    response = api("activity/features", **params)
    assert response.status_code == 400
    assert field in response.json()


# --- trends ----------------------------------------------------------------------------------------


def points(body, group=None):
    series = {s["group"]: s["points"] for s in body["series"]}
    return [(p["bucket"], p["value"]) for p in series[group]]


def test_trends_per_day(api):
    body = api("trends", feature="Leads", start="2025-10-07", end="2025-10-10").json()
    assert (body["interval"], body["measure"], body["start"], body["end"]) == (
        "day",
        "events",
        "2025-10-07",
        "2025-10-10",
    )
    assert points(body) == [("2025-10-07", 0), ("2025-10-08", 1), ("2025-10-09", 1), ("2025-10-10", 0)]


def test_trends_per_week_start_on_monday_and_count_only_inside_the_range(api):
    # The range starts on Tuesday Oct 7: Monday Oct 6's two views are outside, yet the bucket is Oct 6.
    body = api("trends", feature="Leads", start="2025-10-07", end="2025-10-20", interval="week").json()
    assert points(body) == [("2025-10-06", 3), ("2025-10-13", 1), ("2025-10-20", 0)]
    body = api("trends", feature="Leads", start="2025-10-06", end="2025-10-19", interval="week").json()
    assert points(body) == [("2025-10-06", 5), ("2025-10-13", 1)]


def test_trends_per_month_are_named_by_their_first_day(api):
    body = api("trends", feature="Leads", start="2025-10-08", end="2025-11-15", interval="month").json()
    assert points(body) == [("2025-10-01", 5), ("2025-11-01", 1)]


def test_trends_distinct_users_per_bucket_not_per_day(api):
    body = api("trends", feature="Leads", start="2025-10-06", end="2025-10-31", interval="week", measure="users").json()
    # Week of Oct 6: li (Mon, Wed) and ana (Thu, Sun) → 2 users, not 4 user-days.
    assert points(body) == [("2025-10-06", 2), ("2025-10-13", 1), ("2025-10-20", 0), ("2025-10-27", 1)]


def test_trends_narrowed_to_action_and_detail(api):
    body = api(
        "trends", feature="Leads", action="view", detail="kanban_view", start="2025-10-06", end="2025-10-09"
    ).json()
    assert points(body) == [("2025-10-06", 1), ("2025-10-07", 0), ("2025-10-08", 0), ("2025-10-09", 1)]
    body = api("trends", feature="Leads", action="create", start="2025-10-06", end="2025-10-09").json()
    assert points(body) == [("2025-10-06", 0), ("2025-10-07", 0), ("2025-10-08", 1), ("2025-10-09", 0)]


def test_trends_group_by_a_user_attribute(api):
    body = api(
        "trends", feature="Leads", start="2025-10-01", end="2025-11-30", interval="month", group_by="country"
    ).json()
    assert [s["group"] for s in body["series"]] == ["CN", "IN"]  # busiest first
    assert points(body, "CN") == [("2025-10-01", 4), ("2025-11-01", 1)]
    assert points(body, "IN") == [("2025-10-01", 3), ("2025-11-01", 0)]


def test_trends_filters(api):
    body = api("trends", feature="Leads", start="2025-10-01", end="2025-11-30", interval="month", language="zh").json()
    assert points(body) == [("2025-10-01", 4), ("2025-11-01", 0)]


def test_trends_with_no_events_still_has_every_bucket(api):
    body = api("trends", feature="Reports", start="2025-12-01", end="2025-12-03").json()
    assert body["series"] == [{"group": None, "points": [{"bucket": f"2025-12-0{d}", "value": 0} for d in (1, 2, 3)]}]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "feature"),
        ({"feature": "Nope"}, "feature"),
        ({"feature": "Leads", "action": "convert"}, "action"),
        ({"feature": "Leads", "action": "view", "detail": "canvas_view"}, "detail"),
        ({"feature": "Leads", "detail": "kanban_view"}, "detail"),
        ({"feature": "Leads", "start": "2025-10-10", "end": "2025-10-01"}, "start"),
        ({"feature": "Leads", "start": "2023-01-01", "end": "2025-10-01"}, "end"),
        ({"feature": "Leads", "start": "2025-13-01"}, "start"),
        ({"feature": "Leads", "end": "0001-01-01"}, "end"),
        ({"feature": "Leads", "interval": "year"}, "interval"),
        ({"feature": "Leads", "measure": "sessions"}, "measure"),
        ({"feature": "Leads", "group_by": "shoe_size"}, "group_by"),
    ],
)
def test_trends_bad_parameters(api, params, field):
    response = api("trends", **params)
    assert response.status_code == 400
    assert field in response.json()


def test_trends_range_of_exactly_two_years_is_allowed(api):
    response = api("trends", feature="Leads", start="2023-11-01", end="2025-10-31", interval="month")
    assert response.status_code == 200
    assert len(response.json()["series"][0]["points"]) == 24


# --- hub -------------------------------------------------------------------------------------------


def test_popularity_most_users_first(api):
    body = api("hub/popularity", start="2025-10-01", end="2025-11-30").json()
    assert body["features"] == [
        {"feature": "Leads", "users": 3, "interactions": 8},
        {"feature": "Calendar", "users": 2, "interactions": 3},
        {"feature": "Reports", "users": 1, "interactions": 1},
    ]


def test_popularity_of_chosen_features_includes_unused_ones(api):
    body = api("hub/popularity", start="2025-10-07", end="2025-10-07", features="Leads,Calendar").json()
    assert body["features"] == [
        {"feature": "Calendar", "users": 2, "interactions": 3},
        {"feature": "Leads", "users": 0, "interactions": 0},
    ]


def test_frequency_default_and_custom_buckets(api):
    body = api("hub/frequency", feature="Leads", start="2025-10-01", end="2025-11-30").json()
    # li 4 events, ana 3, bo 1: all in 1–10.
    assert body == {
        "feature": "Leads",
        "buckets": [
            {"min": 1, "max": 10, "users": 3},
            {"min": 11, "max": 100, "users": 0},
            {"min": 101, "max": None, "users": 0},
        ],
    }
    body = api("hub/frequency", feature="Leads", start="2025-10-01", end="2025-11-30", buckets="2,4").json()
    assert body["buckets"] == [{"min": 2, "max": 3, "users": 1}, {"min": 4, "max": None, "users": 1}]


@pytest.mark.parametrize(
    ("endpoint", "params", "field"),
    [
        ("hub/frequency", {}, "feature"),
        ("hub/frequency", {"feature": "Nope"}, "feature"),
        ("hub/frequency", {"feature": "Leads", "buckets": "10,5"}, "buckets"),
        ("hub/frequency", {"feature": "Leads", "buckets": "0,5"}, "buckets"),
        ("hub/frequency", {"feature": "Leads", "buckets": "a,b"}, "buckets"),
        ("hub/frequency", {"feature": "Leads", "buckets": ","}, "buckets"),
        ("hub/frequency", {"feature": "Leads", "buckets": ",".join(str(n) for n in range(1, 30))}, "buckets"),
        ("hub/popularity", {"features": "Leads,Nope"}, "features"),
        ("hub/popularity", {"start": "2025-10-10", "end": "2025-10-01"}, "start"),
        ("hub/popularity", {"start": "yesterday"}, "start"),
    ],
)
def test_hub_bad_parameters(api, endpoint, params, field):
    response = api(endpoint, **params)
    assert response.status_code == 400
    assert field in response.json()


# --- shared ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "params", "header", "first"),
    [
        ("activity/features", {"as_of": "2025-10-09", "days": 4}, "feature,date,interactions", "Leads,2025-10-06,2"),
        (
            "trends",
            {"feature": "Leads", "start": "2025-10-06", "end": "2025-10-06"},
            "group,bucket,value",
            ",2025-10-06,2",
        ),
        ("hub/popularity", {"start": "2025-10-01", "end": "2025-11-30"}, "feature,users,interactions", "Leads,3,8"),
        ("hub/frequency", {"feature": "Leads", "start": "2025-10-01", "end": "2025-11-30"}, "min,max,users", "1,10,3"),
    ],
)
def test_csv_downloads(api, endpoint, params, header, first):
    response = api(endpoint, **params, format="csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert (lines[0], lines[1]) == (header, first)
    assert list(csv.reader(io.StringIO(response.content.decode())))[0] == header.split(",")


def test_these_endpoints_read_rollups_not_raw_events(api):
    queries = [
        ("activity/features", {"as_of": "2025-11-01", "days": 60}),
        (
            "trends",
            {"feature": "Leads", "start": "2025-10-01", "end": "2025-11-30", "interval": "week", "measure": "users"},
        ),
        ("trends", {"feature": "Leads", "start": "2025-10-01", "end": "2025-11-30", "group_by": "country"}),
        ("hub/popularity", {"start": "2025-10-01", "end": "2025-11-30"}),
        ("hub/frequency", {"feature": "Leads", "start": "2025-10-01", "end": "2025-11-30"}),
    ]
    before = [api(e, **p).json() for e, p in queries]
    Event.objects.all().delete()
    assert [api(e, **p).json() for e, p in queries] == before


def test_non_members_get_404(zylker, member_client):
    outsider = member_client(None, username="outsider")
    for endpoint in ("activity/features", "trends?feature=Leads", "hub/popularity", "hub/frequency?feature=Leads"):
        assert outsider.get(BASE + endpoint).status_code == 404
