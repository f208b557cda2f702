"""POST /api/v1/events/batch and /api/v1/users/batch through the real URL routes."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from events.models import CrmUser, DirtyDay, Event, Feature, FeatureAction, UserDay
from events.validation import event_batch_fast
from tenancy.models import IngestKey

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/batch"
USERS_URL = "/api/v1/users/batch"


def post(key, body, url=URL, **extra):
    payload = body if isinstance(body, str | bytes) else json.dumps(body)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return Client().post(url, payload, content_type="application/json", **headers, **extra)


def event(n, user="u1", ts="2025-10-06T09:00:00+00:00", **kw):
    return {"uuid": f"e{n}", "user": user, "feature": "Leads", "action": "view", "timestamp": ts, **kw}


@pytest.fixture
def ws(make_workspace):
    return make_workspace("acme", tz="Asia/Shanghai")


def test_a_good_batch_is_stored_and_rolled_up(ws, django_capture_on_commit_callbacks):
    workspace, key = ws
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(key, {"events": [event(1), event(2, ts="2025-10-06T09:10:00+00:00", detail="kanban_view")]})
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    assert Event.objects.filter(workspace=workspace).count() == 2
    # The rollup refresh is enqueued once, after the commit (the refresh then queues saved funnels).
    assert [c.__qualname__ for c in callbacks].count("events_ingest_columns.<locals>.<lambda>") == 1
    # Tasks run in-process without a broker: the rollup is already there.
    day = UserDay.objects.get()
    assert (day.day.isoformat(), day.events, day.sessions, day.session_seconds) == ("2025-10-06", 2, 1, 600.0)
    assert DirtyDay.objects.count() == 0


def test_a_resent_batch_stores_nothing_twice(ws):
    workspace, key = ws
    batch = {"events": [event(1), event(2), event(2)]}  # the same uuid twice in one batch, too
    assert post(key, batch).json() == {"accepted": 2, "duplicates": 1, "rejected": []}
    assert post(key, batch).json() == {"accepted": 0, "duplicates": 3, "rejected": []}
    assert Event.objects.count() == 2


def test_events_without_uuid_are_all_kept(ws):
    _, key = ws
    plain = {"user": "u1", "feature": "Leads", "action": "view", "timestamp": "2025-10-06T09:00:00Z"}
    assert post(key, {"events": [plain, plain]}).json()["accepted"] == 2


def test_uuids_are_unique_per_workspace_not_globally(make_workspace):
    _, key_a = make_workspace("a")
    _, key_b = make_workspace("b")
    assert post(key_a, {"events": [event(1)]}).json()["accepted"] == 1
    assert post(key_b, {"events": [event(1)]}).json()["accepted"] == 1


def test_a_partial_batch_stores_the_good_events_and_names_the_bad_fields(ws):
    workspace, key = ws
    future = (timezone.now() + timedelta(days=2)).isoformat()
    batch = {
        "events": [
            event(1),
            {"uuid": "e2", "feature": "Leads", "action": "view", "timestamp": "2025-10-06T09:00:00Z"},
            event(3, ts="yesterday"),
            event(4, ts="2025-10-06T09:00:00"),
            event(5, ts=future),
            event(6, properties={"blob": "x" * 9000}),
            event(7, action=""),
            "not an object",
            event(9, colour="red"),
            event(10, ts="2025-10-06T10:00:00+08:00"),
        ]
    }
    body = post(key, batch).json()
    assert body["accepted"] == 2
    assert body["duplicates"] == 0
    rejected = {r["index"]: r["errors"] for r in body["rejected"]}
    assert set(rejected) == {1, 2, 3, 4, 5, 6, 7, 8}
    assert rejected[1] == {"user": ["This field is required."]}
    assert list(rejected[2]) == ["timestamp"]
    assert "offset" in rejected[3]["timestamp"][0]
    assert rejected[4] == {"timestamp": ["Must not be more than 1 day in the future."]}
    assert list(rejected[5]) == ["properties"]
    assert rejected[6] == {"action": ["This field is required."]}
    assert list(rejected[7]) == ["non_field_errors"]
    assert "colour" in rejected[8]["non_field_errors"][0]
    assert sorted(Event.objects.filter(workspace=workspace).values_list("uuid", flat=True)) == ["e1", "e10"]


def test_unknown_users_and_features_are_created_for_review(ws):
    workspace, key = ws
    post(key, {"events": [event(1, user="new-user", feature="Pipelines"), event(2, feature="Leads")]})
    user = CrmUser.objects.get(workspace=workspace, external_id="new-user")
    assert user.status == CrmUser.Status.ACTIVE
    pipelines = Feature.objects.get(workspace=workspace, key="Pipelines")
    assert (pipelines.type, pipelines.auto_created) == (Feature.Type.CUSTOM, True)


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (None, 401),
        ("Bearer", 401),
        ("Bearer ik_wrong", 401),
        ("Bearer a b", 401),
        ("Token something", 401),
        ("Basic dXNlcjpwYXNz", 401),
    ],
)
def test_bad_keys_are_refused(ws, header, status):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = Client().post(URL, json.dumps({"events": [event(1)]}), content_type="application/json", **extra)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()
    assert Event.objects.count() == 0


def test_a_revoked_key_is_refused_and_a_used_key_records_its_use(ws):
    workspace, key = ws
    assert post(key, {"events": [event(1)]}).status_code == 200
    ingest_key = IngestKey.objects.get(workspace=workspace)
    assert ingest_key.last_used_at is not None
    ingest_key.revoked_at = timezone.now()
    ingest_key.save()
    assert post(key, {"events": [event(2)]}).status_code == 401


def test_the_key_is_stored_hashed(ws):
    workspace, key = ws
    stored = IngestKey.objects.get(workspace=workspace)
    assert key not in (stored.digest, stored.hint)
    assert stored.digest == IngestKey.digest_of(key)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("{not json", "detail"),
        (b"\xff\xfe", "detail"),
        ("[1, 2]", "events"),
        ('{"events": {"a": 1}}', "events"),
        ('{"events": []}', "events"),
        ('{"evts": []}', "events"),
        ("", "detail"),
    ],
)
def test_malformed_bodies_get_a_json_400(ws, body, field):
    _, key = ws
    response = post(key, body)
    assert response.status_code == 400
    assert field in response.json()


def test_an_empty_body_says_to_send_a_content_length(ws):
    _, key = ws
    response = post(key, "")
    assert response.status_code == 400
    assert "Content-Length" in response.json()["detail"]


def test_too_many_events_get_a_json_413(ws):
    _, key = ws
    response = post(key, {"events": [event(n) for n in range(1001)]})
    assert response.status_code == 413
    assert "1000" in response.json()["events"][0]
    assert Event.objects.count() == 0


def test_an_oversize_body_gets_a_json_413_not_djangos_html_400(ws):
    _, key = ws
    big = {"events": [event(n, properties={"note": "x" * 7000}) for n in range(200)]}  # ~1.4 MiB
    response = post(key, big)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "bytes" in response.json()["detail"]
    # Even larger than Django's own DATA_UPLOAD_MAX_MEMORY_SIZE.
    huge = json.dumps({"events": [event(1, properties={"note": "x" * 5_000_000})]})
    response = post(key, huge)
    assert (response.status_code, response["Content-Type"]) == (413, "application/json")


def test_a_batch_of_exactly_1000_events_is_accepted(ws):
    _, key = ws
    ts = datetime(2025, 10, 6, 9, tzinfo=UTC)
    batch = {"events": [event(n, ts=(ts + timedelta(seconds=n)).isoformat()) for n in range(1000)]}
    assert post(key, batch).json() == {"accepted": 1000, "duplicates": 0, "rejected": []}


def test_users_batch_creates_then_updates(ws):
    workspace, key = ws
    users = {
        "users": [
            {
                "external_id": "u1",
                "email": "li@zylker.com",
                "name": "Li Wei",
                "country": "CN",
                "created_at": "2025-10-01",
            },
            {"external_id": "u2", "status": "inactive"},
            {"external_id": "u3", "email": "not-an-email"},
            {"email": "nobody@zylker.com"},
            {"external_id": "u4", "timezone": "Mars/Olympus"},
            {"external_id": "u5", "status": "sleeping"},
        ]
    }
    body = post(key, users, url=USERS_URL).json()
    assert (body["created"], body["updated"]) == (2, 0)
    assert {r["index"]: list(r["errors"]) for r in body["rejected"]} == {
        2: ["email"],
        3: ["external_id"],
        4: ["timezone"],
        5: ["status"],
    }
    li = CrmUser.objects.get(workspace=workspace, external_id="u1")
    # A bare date is midnight in the workspace's time zone (Asia/Shanghai).
    assert li.created_at == datetime(2025, 9, 30, 16, 0, tzinfo=UTC)
    body = post(key, {"users": [{"external_id": "u1", "language": "zh"}]}, url=USERS_URL).json()
    assert (body["created"], body["updated"]) == (0, 1)
    li.refresh_from_db()
    assert (li.language, li.email, li.country) == ("zh", "li@zylker.com", "CN")  # the rest kept


def test_users_batch_needs_the_key_and_a_list(ws):
    _, key = ws
    assert post(None, {"users": []}, url=USERS_URL).status_code == 401
    assert post(key, {"users": "u1"}, url=USERS_URL).status_code == 400


def test_get_is_not_allowed(ws):
    _, key = ws
    response = Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 405


@pytest.mark.django_db(transaction=True)
def test_concurrent_resends_store_each_event_once(make_workspace):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises writers; run by make test on PostgreSQL)")
    workspace, key = make_workspace("race")
    batch = {"events": [event(n, ts=f"2025-10-06T09:{n:02d}:00+00:00") for n in range(50)]}
    results = []

    def send():
        results.append(post(key, batch).json())
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(r["accepted"] for r in results) == 50
    assert sum(r["duplicates"] for r in results) == 150
    assert Event.objects.filter(workspace=workspace).count() == 50


def test_a_plainly_valid_batch_and_the_same_events_beside_a_bad_one_are_stored_alike(make_workspace):
    # The first batch takes the column-wise fast path, the second (one bad event) the event-by-event
    # path: the stored events, their actions and dirty days must not tell them apart.
    stamps = ["2025-10-05T16:30:00+00:00", "2025-10-05T15:59:59.5+00:00", "2025-10-06T01:00:00+08:00"]
    good = [
        event(n, user=f"u{n % 2}", ts=ts, detail=["", "kanban_view", "list_view"][n], record_id=f"r{n}")
        for n, ts in enumerate(stamps)
    ]
    assert event_batch_fast(good, now=timezone.now()) is not None  # the fast path does take it
    stored = []
    for slug, batch, rejected in (("fast", good, []), ("rows", [*good, {"uuid": "bad", "user": "u1"}], [3])):
        workspace, key = make_workspace(slug, tz="Asia/Shanghai")
        body = post(key, {"events": batch}).json()
        assert body["accepted"] == 3 and [r["index"] for r in body["rejected"]] == rejected
        assert post(key, {"events": good}).json() == {"accepted": 0, "duplicates": 3, "rejected": []}
        stored.append(
            (
                sorted(
                    Event.objects.filter(workspace=workspace).values_list(
                        "uuid", "crm_user__external_id", "feature__key", "action", "detail", "record_id", "occurred_at"
                    )
                ),
                sorted(
                    FeatureAction.objects.filter(workspace=workspace).values_list("feature__key", "action", "detail")
                ),
                sorted(DirtyDay.objects.filter(workspace=workspace).values_list("day", flat=True)),
            )
        )
    assert stored[0] == stored[1]
    # Local days in Shanghai: 16:30 UTC on the 5th is 00:30 on the 6th; 15:59:59.5 is still the 5th.
    assert [d.isoformat() for d in stored[0][2]] == ["2025-10-05", "2025-10-06"]
