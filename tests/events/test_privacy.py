"""Raw-event retention (rollups kept) and erasing a CRM user."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.test import Client

from events.models import CrmUser, Event, FeatureDay, FeatureMonth, Session, UserDay, UserFeatureDay, WorkspaceDay
from events.privacy import crm_user_erase, raw_events_apply_retention
from events.tasks import apply_retention_task
from tenancy.models import AuditEntry
from tests.conftest import journeys

pytestmark = pytest.mark.django_db


def days_ago(workspace, n, hm="10:00"):
    return f"{(workspace.today() - timedelta(days=n)).isoformat()}T{hm}:00+00:00"


def test_retention_deletes_old_raw_events_and_keeps_rollups(workspace, member_client):
    journeys(
        workspace, [("u1", days_ago(workspace, 40), "Leads", "view"), ("u1", days_ago(workspace, 5), "Leads", "view")]
    )
    client = member_client(workspace)
    before = client.get(f"/api/v1/workspaces/{workspace.slug}/home/summary", {"days": 60}).json()
    workspace.raw_event_retention_days = 30
    workspace.save()
    assert apply_retention_task() == 1
    assert Event.objects.count() == 1
    assert UserDay.objects.count() == 2  # the 40-day-old rollup stays
    assert client.get(f"/api/v1/workspaces/{workspace.slug}/home/summary", {"days": 60}).json() == before
    assert raw_events_apply_retention(workspace=workspace) == 0  # idempotent


def test_events_older_than_the_retention_are_refused_per_event(make_workspace):
    workspace, key = make_workspace("acme")
    workspace.raw_event_retention_days = 30
    workspace.save()
    events = [
        {"uuid": "old", "user": "u1", "feature": "Leads", "action": "view", "timestamp": days_ago(workspace, 31)},
        {"uuid": "new", "user": "u1", "feature": "Leads", "action": "view", "timestamp": days_ago(workspace, 29)},
    ]
    body = (
        Client()
        .post(
            "/api/v1/events/batch",
            json.dumps({"events": events}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        .json()
    )
    assert body["accepted"] == 1
    assert body["rejected"][0]["index"] == 0 and "30 days" in body["rejected"][0]["errors"]["timestamp"][0]


def test_erasing_a_user_removes_their_events_and_rollups_only(workspace, member_client):
    journeys(
        workspace,
        [
            ("gone", "2025-10-06T09:00:00+00:00", "Leads", "view"),
            ("gone", "2025-10-06T09:05:00+00:00", "Deals", "view"),
            ("stays", "2025-10-06T09:00:00+00:00", "Leads", "view"),
        ],
    )
    client = member_client(workspace)
    url = f"/api/v1/workspaces/{workspace.slug}/home/summary"
    assert client.get(url, {"as_of": "2025-10-06", "days": 1}).json()["metrics"]["interactions"]["value"] == 3
    counts = crm_user_erase(workspace=workspace, crm_user=CrmUser.objects.get(external_id="gone"))
    assert counts == {
        "events": 2,
        "user_days": 1,
        "feature_days": 2,
        "feature_day_totals": 2,
        "feature_months": 2,
        "user_months": 1,
        "sessions": 1,
    }
    assert not CrmUser.objects.filter(external_id="gone").exists()
    # The per-feature and per-day totals mixed both users: recounted without the erased one.
    assert list(FeatureDay.objects.values_list("feature__key", "events", "users")) == [("Leads", 1, 1)]
    assert list(FeatureMonth.objects.values_list("month", "feature__key", "events", "users")) == [
        (date(2025, 10, 1), "Leads", 1, 1)
    ]
    # Only the bit of the user who stays (numbered 1, after "gone") is left.
    assert [bytes(bits) for bits in FeatureDay.objects.values_list("user_bits", flat=True)] == [b"\x02"]
    # A calendar month (FeatureMonth) and a period cut mid-month (the FeatureDay bitmaps).
    for start, end in (("2025-10-01", "2025-10-31"), ("2025-10-05", "2025-10-20")):
        hub = client.get(f"/api/v1/workspaces/{workspace.slug}/hub/popularity", {"start": start, "end": end}).json()
        assert [(r["feature"], r["users"], r["interactions"]) for r in hub["features"]] == [("Leads", 1, 1)]
    assert list(WorkspaceDay.objects.values_list("day", "events", "users")) == [(date(2025, 10, 6), 1, 1)]
    assert Event.objects.count() == 1 and Session.objects.count() == 1 and UserFeatureDay.objects.count() == 1
    metrics = client.get(url, {"as_of": "2025-10-06", "days": 1}).json()["metrics"]
    assert (metrics["interactions"]["value"], metrics["active_users"]["value"], metrics["features_used"]["value"]) == (
        1,
        1,
        1,
    )
    entry = AuditEntry.objects.get(action="user_erased")
    assert "gone" not in json.dumps(entry.changes) + entry.target_repr  # counts only


def test_erase_command(workspace):
    journeys(workspace, [("gone", "2025-10-06T09:00:00+00:00", "Leads", "view")])
    from io import StringIO

    out = StringIO()
    call_command("erase_crm_user", "gone", "--workspace", workspace.slug, stdout=out)
    assert out.getvalue().strip() == (
        "erased events=1 user_days=1 feature_days=1 feature_day_totals=1 feature_months=1 user_months=1 sessions=1"
    )
    assert not CrmUser.objects.exists()


def test_import_refuses_events_older_than_the_retention_with_their_line(workspace, tmp_path):
    from io import StringIO

    workspace.raw_event_retention_days = 30
    workspace.save()
    path = tmp_path / "events.csv"
    path.write_text(
        "uuid,user,feature,action,detail,record_id,timestamp\n"
        f"a,u1,Leads,view,,,{days_ago(workspace, 31)}\n"
        f"b,u1,Leads,view,,,{days_ago(workspace, 2)}\n"
    )
    out, err = StringIO(), StringIO()
    call_command("import_events", str(path), "--workspace", workspace.slug, stdout=out, stderr=err)
    assert out.getvalue().strip().splitlines()[-1] == "imported=1 duplicates=0 rejected=1"
    assert "line 2: timestamp: Older than the 30 days" in err.getvalue()
