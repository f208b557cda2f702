"""Data quality (docs/metrics.md#data-quality): each check on a hand-made case, the user filters,
the API, the page with its links, two workspaces. Both backends."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F
from django.test import Client

from behaviour.queries import QualityQuery
from behaviour.selectors import data_quality
from events.models import CrmUser, Event, Feature
from events.periods import period_between
from tenancy.models import Membership
from tests.conftest import crm_users, journeys

pytestmark = pytest.mark.django_db


@pytest.fixture
def ws(make_workspace):
    workspace, _ = make_workspace("dq", tz="Asia/Shanghai")
    crm_users(workspace, [
        {"external_id": "u1", "country": "CN"}, {"external_id": "u2", "country": "CN"},
        {"external_id": "u3", "country": "US"}, {"external_id": "u8", "status": "deactivated"},
        {"external_id": "u9", "name": "Nobody", "country": "CN"},
    ])  # fmt: skip
    begin = datetime(2025, 3, 11, tzinfo=workspace.tzinfo)
    marathon = [("u3", begin + timedelta(minutes=10 * n), "Deals", "view") for n in range(150)]  # 24 h 50 min
    journeys(
        workspace,
        [
            ("u1", "2025-03-10T09:00:00+08:00", "Leads", "view", "list", "L1"),
            ("u1", "2025-03-10T09:00:00.800000+08:00", "Leads", "view", "list", "L1"),  # 0.8 s later: a duplicate
            ("u1", "2025-03-10T09:00:02+08:00", "Leads", "view", "list", "L1"),  # 1.2 s after the previous
            ("u1", "2025-03-10T09:00:00.500000+08:00", "Leads", "view", "kanban", "L1"),  # another detail
            ("u1", "2025-03-10T09:05:00+08:00", "Mystery", "click"),
            ("u2", "2025-03-10T12:00:00+08:00", "Leads", "view"),  # a one-event session
            *marathon,  # one session of 25 hours
        ],
    )
    events = Event.objects.filter(workspace=workspace)
    events.update(received_at=F("occurred_at") + timedelta(minutes=1))
    events.filter(feature__key="Mystery").update(received_at=F("occurred_at") + timedelta(hours=30))  # late
    events.filter(crm_user__external_id="u2").update(received_at=F("occurred_at") - timedelta(minutes=10))  # future
    Feature.objects.filter(workspace=workspace).exclude(key="Mystery").update(auto_created=False)
    other, _ = make_workspace("other")
    journeys(
        other,
        [("u1", "2025-03-10T01:00:00+00:00", "Leads", "view"), ("u1", "2025-03-10T01:00:00.1+00:00", "Leads", "view")],
    )
    return workspace


def report(ws, filters=None):
    return data_quality(QualityQuery.over(ws, period_between(date(2025, 3, 1), date(2025, 3, 31), ws.tzinfo), filters))


def test_each_check(ws) -> None:
    found = report(ws)
    assert found.suspected_duplicates.count == 1
    assert found.suspected_duplicates.examples[0] | {} == {
        "user": "u1", "feature": "Leads", "action": "view", "timestamp": "2025-03-10T09:00:00.800000+08:00",
        "gap_seconds": 0.8,
    }  # fmt: skip
    # Sessions: u1's (5 events over 5 minutes), u2's one event (short), u3's 25 hours (long).
    assert (found.short_sessions.count, found.short_sessions.examples[0]["user"]) == (1, "u2")
    assert (found.long_sessions.count, found.long_sessions.examples[0]["seconds"]) == (1, 24 * 3600 + 50 * 60)
    assert [(e["user"], e["feature"]) for e in found.late_events.examples] == [("u1", "Mystery")]
    assert (found.future_events.count, found.future_events.examples[0]["user"]) == (1, "u2")
    assert found.users_never_seen.count == 1 and found.users_never_seen.examples[0]["user"] == "u9"  # u8 is deactivated
    assert [f["feature"] for f in found.features_to_review] == ["Mystery"]
    # Only the users in China: no long session (u3), the same duplicate.
    china = report(ws, {"country": ["CN"]})
    assert (china.long_sessions.count, china.suspected_duplicates.count, china.users_never_seen.count) == (0, 1, 1)
    assert report(ws, {"country": ["US"]}).users_never_seen.count == 0
    # Outside the period: nothing but the users and features.
    empty = data_quality(QualityQuery.over(ws, period_between(date(2025, 1, 1), date(2025, 1, 31), ws.tzinfo)))
    assert (empty.suspected_duplicates.count, empty.short_sessions.count, empty.late_events.count) == (0, 0, 0)


def test_the_api_and_the_page(ws, member_client) -> None:
    client = member_client(ws)
    answer = client.get(
        "/api/v1/workspaces/dq/behaviour/data-quality", {"start": "2025-03-01", "end": "2025-03-31"}
    ).json()
    assert {k: v["count"] for k, v in answer.items() if k != "features_to_review"} == {
        "suspected_duplicates": 1, "short_sessions": 1, "long_sessions": 1, "late_events": 1, "future_events": 1,
        "users_never_seen": 1,
    }  # fmt: skip
    assert answer["features_to_review"][0]["feature"] == "Mystery"
    other = member_client(None, username="stranger")
    assert other.get("/api/v1/workspaces/dq/behaviour/data-quality").status_code == 404

    user = get_user_model().objects.create_user("ana")
    Membership.objects.create(workspace=ws, user=user, role=Membership.Role.ADMIN)
    browser = Client()
    browser.force_login(user)
    page = browser.get("/w/dq/behaviour/data-quality/", {"start": "2025-03-01", "end": "2025-03-31"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "/w/dq/users/u9/" in html and "Review in the admin" in html and "Suspected duplicates" in html
    assert CrmUser.objects.filter(workspace=ws).count() == 5
