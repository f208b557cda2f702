"""The users endpoint: the worked examples of docs/metrics.md#the-user-table, sorting, search, pagination, CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from events.models import Event
from tests.conftest import crm_users, journeys

pytestmark = pytest.mark.django_db

URL = "/api/v1/workspaces/sh/users"


@pytest.fixture
def sh(make_workspace):
    return make_workspace("sh", tz="Asia/Shanghai")[0]


def at(day: date, hm: str) -> str:
    return f"{day.isoformat()}T{hm}:00+08:00"


def rows_by_id(response):
    assert response.status_code == 200, response.content
    return {r["external_id"]: r for r in response.json()["results"]}


def test_worked_examples(sh, member_client):
    crm_users(
        sh, [{"external_id": "four", "created_at": "2025-10-01"}, {"external_id": "rise"}, {"external_id": "fall"}]
    )
    events = [("four", at(date(2025, 10, d), "10:00"), "Leads", "view") for d in (4, 8, 12, 14)]
    # 15 active days in the period (Oct 2–31) after 10 in the previous one (Sep 2–Oct 1): +50.0
    events += [("rise", at(date(2025, 9, 2) + timedelta(days=n), "10:00"), "Leads", "view") for n in range(10)]
    events += [("rise", at(date(2025, 10, 2) + timedelta(days=n), "10:00"), "Leads", "view") for n in range(15)]
    # 15 after 30: −50.0
    events += [("fall", at(date(2025, 9, 2) + timedelta(days=n), "10:00"), "Leads", "view") for n in range(30)]
    events += [("fall", at(date(2025, 10, 2) + timedelta(days=n), "10:00"), "Leads", "view") for n in range(15)]
    # Active Oct 2, 5 and 8, never after: last seen Oct 8 at that event. 09:00–10:00 and 20:00–22:00
    # on Oct 8 with no gap over 15 minutes: 2 sessions, 180.0 minutes.
    events += [
        ("seen", at(date(2025, 10, 2), "11:00"), "Leads", "view"),
        ("seen", at(date(2025, 10, 5), "11:00"), "Deals", "view"),
    ]
    events += [("seen", at(date(2025, 10, 8), f"09:{m:02d}"), "Leads", "view") for m in range(0, 60, 15)]
    events += [("seen", at(date(2025, 10, 8), "10:00"), "Leads", "edit")]
    events += [
        ("seen", at(date(2025, 10, 8), f"{h}:{m:02d}"), "Calendar", "view") for h in (20, 21) for m in range(0, 60, 15)
    ]
    events += [("seen", at(date(2025, 10, 8), "22:00"), "Calendar", "view")]
    journeys(sh, events)

    rows = rows_by_id(member_client(sh).get(URL, {"as_of": "2025-10-31", "days": 30}))
    assert rows["four"]["attendance_days"] == 4
    assert rows["rise"]["attendance_change_pct"] == 50.0
    assert rows["fall"]["attendance_change_pct"] == -50.0
    assert rows["four"]["attendance_change_pct"] is None  # nothing in the previous period
    seen = rows["seen"]
    assert seen["last_seen"] == "2025-10-08T22:00:00+08:00"
    # Oct 2 and Oct 5 are one-event sessions (0 minutes); Oct 8 adds 2 sessions of 60 + 120 minutes.
    assert (seen["session_count"], seen["session_minutes"]) == (4, 180.0)
    assert (seen["attendance_days"], seen["interactions"], seen["features_used"]) == (3, 2 + 5 + 9, 3)
    # As of Oct 5 the last event seen is the one of Oct 5.
    rows = rows_by_id(member_client(sh).get(URL, {"as_of": "2025-10-05", "days": 30}))
    assert rows["seen"]["last_seen"] == "2025-10-05T11:00:00+08:00"


def test_every_user_is_listed_whatever_the_status(sh, member_client):
    crm_users(
        sh, [{"external_id": "gone", "status": "deactivated"}, {"external_id": "new", "created_at": "2030-01-01"}]
    )
    journeys(sh, [("busy", at(date(2025, 10, 8), "10:00"), "Leads", "view")])
    rows = rows_by_id(member_client(sh).get(URL, {"as_of": "2025-10-31"}))
    assert set(rows) == {"gone", "new", "busy"}
    assert rows["gone"] == {
        "external_id": "gone", "email": "", "name": "", "language": "", "country": "", "timezone": "",
        "status": "deactivated", "attendance_days": 0, "attendance_change_pct": None, "last_seen": None,
        "session_count": 0, "session_minutes": 0.0, "interactions": 0, "features_used": 0,
    }  # fmt: skip
    rows = rows_by_id(member_client(sh).get(URL, {"as_of": "2025-10-31", "status": "deactivated"}))
    assert set(rows) == {"gone"}


@pytest.fixture
def three(sh):
    crm_users(
        sh,
        [
            {"external_id": "a1", "name": "Li Wei", "email": "li@zylker.com", "country": "CN"},
            {"external_id": "b2", "name": "Ana Silva", "email": "ana@zylker.com", "country": "BR"},
            {"external_id": "c3", "name": "Bo Chen", "email": "bo@other.org", "country": "CN"},
        ],
    )
    journeys(
        sh,
        [("a1", at(date(2025, 10, d), "10:00"), "Leads", "view") for d in (1, 2, 3)]
        + [
            ("b2", at(date(2025, 10, 3), "10:00"), "Leads", "view"),
            ("b2", at(date(2025, 10, 3), "10:05"), "Deals", "view"),
        ],
    )
    return sh


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("external_id", ["a1", "b2", "c3"]),
        ("-external_id", ["c3", "b2", "a1"]),
        ("-attendance_days", ["a1", "b2", "c3"]),
        ("attendance_days", ["c3", "b2", "a1"]),
        ("-features_used", ["b2", "a1", "c3"]),
        ("-interactions", ["a1", "b2", "c3"]),
        ("last_seen", ["a1", "b2", "c3"]),  # never seen: last, either way
        ("-last_seen", ["b2", "a1", "c3"]),
        ("name", ["b2", "c3", "a1"]),
        ("-session_minutes", ["b2", "a1", "c3"]),
        ("-session_count", ["a1", "b2", "c3"]),
        ("email", ["b2", "c3", "a1"]),
        ("attendance_change_pct", ["a1", "b2", "c3"]),  # all null: by external id
    ],
)
def test_sortable_on_every_column(three, member_client, ordering, expected):
    body = member_client(three).get(URL, {"as_of": "2025-10-05", "ordering": ordering}).json()
    assert [r["external_id"] for r in body["results"]] == expected


@pytest.mark.parametrize(
    ("term", "expected"), [("li", ["a1"]), ("ZYLKER", ["a1", "b2"]), ("c3", ["c3"]), ("chen", ["c3"])]
)
def test_search_by_name_email_or_external_id(three, member_client, term, expected):
    body = member_client(three).get(URL, {"as_of": "2025-10-05", "search": term}).json()
    assert [r["external_id"] for r in body["results"]] == expected


def test_pagination_and_csv_of_all_matching_rows(three, member_client):
    client = member_client(three)
    body = client.get(URL, {"as_of": "2025-10-05", "page_size": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"] and body["previous"] is None
    body = client.get(URL, {"as_of": "2025-10-05", "page_size": 2, "page": 2}).json()
    assert [r["external_id"] for r in body["results"]] == ["c3"]
    response = client.get(URL, {"as_of": "2025-10-05", "page_size": 2, "country": "CN", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["external_id"] for r in rows] == ["a1", "c3"]
    assert rows[0]["attendance_days"] == "3" and rows[0]["last_seen"] == "2025-10-03T10:00:00+08:00"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ordering": "shoe_size"}, "ordering"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 100000}, "page_size"),
        ({"days": -3}, "days"),
        ({"as_of": "31/10/2025"}, "as_of"),
        ({"status": "zombie"}, "status"),
    ],
)
def test_bad_parameters(three, member_client, params, field):
    response = member_client(three).get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_a_page_past_the_end_is_404_not_500(three, member_client):
    assert member_client(three).get(URL, {"page": 99}).status_code == 404


def test_reads_rollups_not_raw_events(three, member_client):
    client = member_client(three)
    before = client.get(URL, {"as_of": "2025-10-05"}).json()
    Event.objects.all().delete()
    assert client.get(URL, {"as_of": "2025-10-05"}).json() == before


@pytest.mark.parametrize("ordering", ["external_id", "-interactions", "-features_used", "last_seen"])
def test_every_page_has_every_metric_of_its_rows(three, member_client, ordering):
    # Pages fill last seen and features used for their own rows (unless sorted by them): page by
    # page, the rows are those of the CSV, which has every row complete.
    client = member_client(three)
    params = {"as_of": "2025-10-05", "ordering": ordering, "page_size": 1}
    pages = [client.get(URL, {**params, "page": n}).json()["results"][0] for n in (1, 2, 3)]
    csv_rows = list(csv.DictReader(io.StringIO(client.get(URL, {**params, "format": "csv"}).content.decode())))
    assert [(p["external_id"], p["features_used"], p["last_seen"] or "") for p in pages] == [
        (r["external_id"], int(r["features_used"]), r["last_seen"]) for r in csv_rows
    ]
    assert {p["external_id"]: p["features_used"] for p in pages} == {"a1": 1, "b2": 2, "c3": 0}
