"""What keeps alerts sound over time: the history is paged like every list; muting through the API
is audited and the webhook secret never enters the audit trail; an alert whose owner left its
workspace is not evaluated (and its page says so); a workspace deleted in the middle of a run."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from alerts import services
from alerts.models import Alert, AlertEvaluation
from alerts.services import alerts_evaluate, owner_left
from tenancy.models import AuditEntry, Membership, Workspace
from tenancy.services import membership_remove
from tests.alerts.conftest import at, daily, days_from, make_alert
from tests.conftest import run

pytestmark = pytest.mark.django_db


def _history(alert: Alert, count: int) -> None:
    """``count`` state changes, one a day from 2026-03-01 (firing, ok, firing…), the newest last."""
    start = datetime(2026, 3, 1, 6, tzinfo=UTC)
    for i in range(count):
        moment = start + timedelta(days=i)
        AlertEvaluation.objects.create(
            alert=alert, slot=moment, at=moment, done=True, changed=True, value=i,
            state="firing" if i % 2 == 0 else "ok",
        )  # fmt: skip
    # An evaluation without a change is not history.
    AlertEvaluation.objects.create(alert=alert, slot=start - timedelta(days=1), at=start, done=True, value=99)


def test_the_history_is_paged(make_workspace, member_client, owner):
    workspace, _ = make_workspace("pg")
    alert = make_alert(workspace, owner, visibility="workspace")
    _history(alert, 5)
    other, _ = make_workspace("pg2")
    _history(make_alert(other, owner, visibility="workspace"), 3)
    client = member_client(workspace)
    url = f"/api/v1/workspaces/pg/alerts/{alert.pk}/history"
    first = client.get(url, {"page_size": 2}).json()
    assert first["count"] == 5 and first["previous"] is None
    assert first["next"].endswith(f"/alerts/{alert.pk}/history?page=2&page_size=2")
    assert [(e["at"], e["state"], e["value"]) for e in first["history"]] == [
        ("2026-03-05T06:00:00Z", "firing", 4),
        ("2026-03-04T06:00:00Z", "ok", 3),
    ]
    last = client.get(url, {"page_size": 2, "page": 3}).json()
    assert [e["value"] for e in last["history"]] == [0] and last["next"] is None
    everything = client.get(url).json()  # default: 100 a page
    assert [e["value"] for e in everything["history"]] == [4, 3, 2, 1, 0] and everything["next"] is None
    assert client.get(url, {"page": 0}).status_code == 400
    assert "page" in client.get(url, {"page": "x"}).json()
    assert client.get(url, {"page": 4, "page_size": 2}).status_code == 404  # past the last page
    assert len(client.get(url, {"page_size": 10_000}).json()["history"]) == 5  # capped at 500, not refused


def test_the_history_page_size_is_capped(make_workspace, member_client, owner):
    workspace, _ = make_workspace("cap")
    alert = make_alert(workspace, owner, visibility="workspace")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    AlertEvaluation.objects.bulk_create(
        AlertEvaluation(alert=alert, slot=start + timedelta(hours=i), at=start + timedelta(hours=i), done=True,
                        changed=True)
        for i in range(501)
    )  # fmt: skip
    answer = member_client(workspace).get(f"/api/v1/workspaces/cap/alerts/{alert.pk}/history", {"page_size": 600})
    body = answer.json()
    assert (body["count"], len(body["history"])) == (501, 500)
    assert body["next"].endswith("page=2&page_size=600")  # the link repeats what was asked


def test_muting_through_the_api_is_audited_without_the_secret(make_workspace, member_client):
    workspace, _ = make_workspace("au")
    analyst = member_client(workspace, role=Membership.Role.ANALYST, username="ana")
    url = "/api/v1/workspaces/au/alerts/"
    body = {"name": "Busy", "metric": "interactions", "condition": "threshold", "op": ">", "value": 1,
            "webhook_url": "https://93.184.215.14/hook", "secret": "hunter2"}  # fmt: skip
    alert_id = analyst.post(url, body, format="json").json()["id"]
    assert analyst.patch(f"{url}{alert_id}", {"muted": True}, format="json").status_code == 200
    assert analyst.patch(f"{url}{alert_id}", {"muted": False}, format="json").status_code == 200
    analyst.patch(f"{url}{alert_id}", {"secret": "correct horse"}, format="json")
    analyst.patch(f"{url}{alert_id}", {"webhook_url": "", "secret": ""}, format="json")
    entries = AuditEntry.objects.filter(workspace=workspace, target_type="alert").order_by("created_at", "id")
    assert [(e.action, e.actor_name, e.changes) for e in entries] == [
        ("created", "ana", {"visibility": "private"}),
        ("updated", "ana", {"muted": [False, True]}),
        ("updated", "ana", {"muted": [True, False]}),
        ("updated", "ana", {"secret": ["set", "replaced"]}),
        ("updated", "ana", {"webhook_url": ["https://93.184.215.14/hook", ""], "secret": ["set", ""]}),
    ]
    assert not any("hunter2" in str(e.changes) or "horse" in str(e.changes) for e in AuditEntry.objects.all())
    assert Alert.objects.get().secret == ""


def test_the_page_mute_and_edit_keep_the_secret_out_of_the_trail(client, make_workspace, owner):
    workspace, _ = make_workspace("au2")
    alert = make_alert(workspace, owner, webhook_url="https://93.184.215.14/hook", secret="hunter2")
    client.force_login(owner)
    client.post(f"/w/au2/alerts/{alert.pk}/mute", {"muted": "1"})
    entry = AuditEntry.objects.get(workspace=workspace, target_type="alert")
    assert (entry.action, entry.changes) == ("updated", {"muted": [False, True]})


def test_an_alert_whose_owner_left_is_not_evaluated(make_workspace, owner, client):
    workspace, _ = make_workspace("gone")
    daily(workspace, days_from(date(2026, 3, 1), [5]))
    admin = get_user_model().objects.create_user(username="boss", password="pw")
    Membership.objects.create(workspace=workspace, user=admin, role=Membership.Role.ADMIN)
    left = make_alert(workspace, owner, name="Left behind", visibility="workspace")
    stays = make_alert(workspace, admin, name="Still here", visibility="workspace")
    # The owner is still a member of another workspace: their alert there is evaluated.
    elsewhere, _ = make_workspace("elsewhere")
    daily(elsewhere, days_from(date(2026, 3, 1), [5]))
    theirs = make_alert(elsewhere, owner, name="Elsewhere")
    membership_remove(membership=Membership.objects.get(workspace=workspace, user=owner), actor=admin)
    assert owner_left(left) and not owner_left(stays) and not owner_left(theirs)

    result = alerts_evaluate(now=at("2026-03-02T06:00:00Z"))
    assert (result.evaluated, result.fired, result.ownerless, result.failed) == (2, 2, 1, 0)
    assert not AlertEvaluation.objects.filter(alert=left).exists()
    assert sorted(m.subject for m in mail.outbox) == ["Elsewhere", "Still here"]
    out, _err = run("evaluate_alerts", "--now", "2026-03-02T07:00:00Z", "--workspace", "gone")
    assert out == ["0 evaluated, 0 fired, 1 already evaluated in their slot, "
                   "1 not evaluated (owner left the workspace), 0 failed."]  # fmt: skip

    client.force_login(admin)
    page = client.get(f"/w/gone/alerts/{left.pk}/").content.decode()
    assert 'id="alert-owner-left"' in page and "owner" in page
    assert 'id="alert-owner-left"' not in client.get(f"/w/gone/alerts/{stays.pk}/").content.decode()

    # Back in the workspace: evaluated again from the next slot (no catch-up).
    Membership.objects.create(workspace=workspace, user=owner, role=Membership.Role.ANALYST)
    result = alerts_evaluate(now=at("2026-03-03T06:00:00Z"), workspace=workspace)
    assert (result.evaluated, result.ownerless) == (2, 0)
    assert AlertEvaluation.objects.filter(alert=left).count() == 1


def test_a_deactivated_owner_has_left(make_workspace, owner):
    workspace, _ = make_workspace("off")
    alert = make_alert(workspace, owner)
    owner.is_active = False
    owner.save()
    alert.refresh_from_db()
    assert owner_left(alert)
    assert alerts_evaluate(now=at("2026-03-02T06:00:00Z")).ownerless == 1


@pytest.mark.django_db(transaction=True)  # the claim's own transaction commits, as in production
def test_a_workspace_deleted_in_the_middle_of_a_run(make_workspace, owner, monkeypatch):
    """The run reads ``first``'s alert, then ``second`` is deleted (with its alerts) before its turn:
    nothing fails, nothing is recorded or sent for it, and ``first`` is evaluated as usual."""
    first, _ = make_workspace("first")
    second, _ = make_workspace("second")
    daily(first, days_from(date(2026, 3, 1), [5]))
    kept = make_alert(first, owner, name="Kept")
    # No events (a workspace holding events cannot be deleted: Event.feature protects them); 0 < 1
    # would fire were it evaluated.
    make_alert(second, owner, name="Deleted", op="<", value=1)
    reading = services.alert_reading

    def reading_then_delete(alert, now):
        value = reading(alert, now)
        if alert.pk == kept.pk:
            Workspace.objects.filter(slug="second").delete()
        return value

    monkeypatch.setattr(services, "alert_reading", reading_then_delete)
    result = alerts_evaluate(now=at("2026-03-02T06:00:00Z"))
    assert (result.evaluated, result.fired, result.skipped, result.failed) == (1, 1, 1, 0)
    assert [m.subject for m in mail.outbox] == ["Kept"]
    assert list(Alert.objects.values_list("name", flat=True)) == ["Kept"]
    assert AlertEvaluation.objects.count() == 1


def test_an_alert_deleted_while_it_is_read(make_workspace, owner, monkeypatch):
    workspace, _ = make_workspace("del")
    daily(workspace, days_from(date(2026, 3, 1), [5]))
    alert = make_alert(workspace, owner)
    reading = services.alert_reading

    def reading_then_delete(alert, now):
        value = reading(alert, now)
        Alert.objects.filter(pk=alert.pk).delete()
        return value

    monkeypatch.setattr(services, "alert_reading", reading_then_delete)
    assert services.alert_evaluate(alert, at("2026-03-02T06:00:00Z")) is None
    assert mail.outbox == [] and not AlertEvaluation.objects.exists()
