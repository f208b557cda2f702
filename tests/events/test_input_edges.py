"""Clock and input edge cases: per-field rejection of bad text, old and future events, DST days."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.test import Client

from events.models import Event, UserDay
from tests.conftest import journeys

pytestmark = pytest.mark.django_db


def post(key, events):
    body = json.dumps({"events": events})
    return Client().post(
        "/api/v1/events/batch", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )


def event(n, **kw):
    return {
        "uuid": f"e{n}",
        "user": "u1",
        "feature": "Leads",
        "action": "view",
        "timestamp": "2025-10-06T09:00:00Z",
        **kw,
    }


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"user": "bad\x00user"}, "user"),
        ({"feature": "Le\x00ads"}, "feature"),
        ({"detail": "\ud800"}, "detail"),
        ({"record_id": "x" * 129}, "record_id"),
        ({"action": "   "}, "action"),
        ({"user": ""}, "user"),
        ({"properties": {"note": "nul \x00 inside"}}, "properties"),
        ({"properties": {"\x00key": 1}}, "properties"),
        ({"properties": {"s": "\udfff"}}, "properties"),
        ({"uuid": "ü" * 65}, "uuid"),
        ({"timestamp": "2025-10-06T09:00:00\x00Z"}, "timestamp"),
    ],
)
def test_bad_text_is_rejected_per_field_and_the_rest_is_stored(make_workspace, bad, field):
    _, key = make_workspace("acme")
    response = post(key, [event(1), event(2, **bad), event(3)])
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 2
    assert [(r["index"], list(r["errors"])) for r in body["rejected"]] == [(1, [field])]


def test_unicode_is_welcome(make_workspace):
    workspace, key = make_workspace("acme")
    body = post(key, [event(1, user="李伟", feature="线索", detail="看板视图", properties={"备注": "✓ ok 🚀"})]).json()
    assert body["accepted"] == 1
    stored = Event.objects.get(workspace=workspace)
    assert (stored.crm_user.external_id, stored.feature.key, stored.detail, stored.properties) == (
        "李伟",
        "线索",
        "看板视图",
        {"备注": "✓ ok 🚀"},
    )


def test_a_very_old_event_is_accepted_and_reopens_its_day(workspace):
    journeys(workspace, [("u1", "2025-10-06T09:00:00+00:00", "Leads", "view")])
    journeys(workspace, [("u1", "2003-05-17T09:00:00+00:00", "Leads", "view")])
    assert set(UserDay.objects.values_list("day", "events")) == {(date(2025, 10, 6), 1), (date(2003, 5, 17), 1)}


@pytest.mark.parametrize(
    ("day", "hours"),
    [("2025-03-09", 23), ("2025-11-02", 25)],  # New York: spring forward, fall back
)
def test_dst_days_bucket_correctly(make_workspace, member_client, day, hours):
    workspace, _ = make_workspace("ny", tz="America/New_York")
    # The first and last minute of the local day, and the repeated/skipped hour.
    journeys(
        workspace,
        [
            ("u1", f"{day}T00:00:00-05:00" if hours == 23 else f"{day}T00:00:00-04:00", "Leads", "view"),
            ("u1", f"{day}T23:59:00-04:00" if hours == 23 else f"{day}T23:59:00-05:00", "Leads", "view"),
            ("u2", f"{day}T01:30:00-04:00" if hours == 25 else f"{day}T03:30:00-04:00", "Leads", "view"),
            ("u2", f"{day}T01:30:00-05:00" if hours == 25 else f"{day}T01:30:00-05:00", "Leads", "view"),
        ],
    )
    days = (
        member_client(workspace)
        .get("/api/v1/workspaces/ny/trends", {"feature": "Leads", "start": day, "end": day})
        .json()
    )
    assert days["series"][0]["points"] == [{"bucket": day, "value": 4}]
    assert sum(UserDay.objects.filter(day=date.fromisoformat(day)).values_list("events", flat=True)) == 4
    assert not UserDay.objects.exclude(day=date.fromisoformat(day)).exists()


def test_events_before_1970_are_refused(make_workspace):
    _, key = make_workspace("acme")
    body = post(
        key, [event(1, timestamp="0261-05-17T08:16:06+00:00"), event(2, timestamp="1970-01-01T00:00:00Z")]
    ).json()
    assert body["accepted"] == 1
    assert body["rejected"] == [{"index": 0, "errors": {"timestamp": ["Must not be before 1970-01-01."]}}]


def test_a_nul_in_a_user_filter_is_a_400(workspace, member_client):
    response = member_client(workspace).get(f"/api/v1/workspaces/{workspace.slug}/home/summary", {"country": "C\x00N"})
    assert response.status_code == 400
    assert "country" in response.json()


def test_an_empty_csv_still_has_its_header_and_content_type(workspace, member_client):
    response = member_client(workspace).get(f"/api/v1/workspaces/{workspace.slug}/home/top-users", {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().strip() == "external_id,email,name,value"


def test_unknown_api_paths_and_errors_in_csv_requests_answer_json(workspace, member_client):
    client = member_client(workspace)
    missing = client.get(f"/api/v1/workspaces/{workspace.slug}/filter-sets/%C2%84/")
    assert (missing.status_code, missing["Content-Type"], missing.json()) == (
        404,
        "application/json",
        {"detail": "Not found."},
    )
    bad = client.get(f"/api/v1/workspaces/{workspace.slug}/home/summary", {"days": "0", "format": "csv"})
    assert (bad.status_code, bad["Content-Type"]) == (400, "application/json")
    assert "days" in bad.json()
