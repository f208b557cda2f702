"""Evaluating alerts (docs/alerts.md): each metric's value equals its tab's figure for the same days;
threshold, change and anomaly transitions notify once per firing; muted; hourly and daily slots; a
workspace in Asia/Shanghai; the command."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.core.management import CommandError

from alerts.models import Alert, AlertEvaluation
from alerts.services import alert_period, alert_reading, alerts_evaluate, evaluation_slot
from tests.alerts.conftest import at, daily, days_from, make_alert
from tests.conftest import crm_users, journeys, run

pytestmark = pytest.mark.django_db

NOW = at("2026-03-05T09:00:00+00:00")  # the day before: 2026-03-04


@pytest.fixture
def acme(make_workspace):
    """UTC. 03-04: u1 Deals·edit success then failure, u2 Leads·view (no outcome); 03-03: u1 Deals·edit
    success and u2 Leads·view; u4 last seen 02-27; u3 registered, never active."""
    workspace, _ = make_workspace("acme", tz="UTC")
    crm_users(workspace, [{"external_id": "u3", "country": "US"}, {"external_id": "u1", "country": "CN"}])
    journeys(
        workspace,
        [
            ("u4", "2026-02-27T08:00:00+00:00", "Leads", "view"),
            ("u1", "2026-03-03T10:00:00+00:00", "Deals", "edit", {"outcome": "success"}),
            ("u2", "2026-03-03T11:00:00+00:00", "Leads", "view"),
            ("u1", "2026-03-04T10:00:00+00:00", "Deals", "edit", {"outcome": "success"}),
            ("u1", "2026-03-04T11:00:00+00:00", "Deals", "edit", {"outcome": "failure"}),
            ("u2", "2026-03-04T12:00:00+00:00", "Leads", "view"),
        ],
    )
    return workspace


@pytest.mark.parametrize("days", [1, 2])
@pytest.mark.parametrize(
    "metric", ["interactions", "features_used", "attendance_days", "active_users", "inactive_users"]
)
def test_summary_metrics_equal_the_home_summary(acme, owner, member_client, metric, days):
    alert = make_alert(acme, owner, metric=metric, params={"days": days})
    tab = (
        member_client(acme)
        .get("/api/v1/workspaces/acme/home/summary", {"as_of": "2026-03-04", "days": days})
        .json()["metrics"][metric]
    )
    assert alert_reading(alert, NOW).value == tab["value"]


def test_summary_values_by_hand(acme, owner):
    values = {m: alert_reading(make_alert(acme, owner, metric=m), NOW).value for m in
              ("interactions", "features_used", "attendance_days", "active_users", "inactive_users")}  # fmt: skip
    assert values == {
        "interactions": 3,
        "features_used": 2,
        "attendance_days": 2,
        "active_users": 2,
        "inactive_users": 2,
    }
    filtered = make_alert(acme, owner, params={"days": 2, "country": ["CN"]})
    assert alert_reading(filtered, NOW).value == 3  # u1's events of 03-03 and 03-04


def test_failure_rate_equals_the_behaviour_tab(acme, owner, member_client):
    answer = (
        member_client(acme)
        .get("/api/v1/workspaces/acme/behaviour/failures", {"start": "2026-03-04", "end": "2026-03-04"})
        .json()
    )
    deals = next(row for row in answer["features"] if row["feature"] == "Deals" and row["action"] == "edit")
    assert deals["failure_rate_pct"] == 50.0
    narrowed = make_alert(
        acme, owner, metric="failure_rate_pct", params={"days": 1, "feature": "Deals", "action": "edit"}
    )
    assert alert_reading(narrowed, NOW).value == deals["failure_rate_pct"]
    everything = make_alert(acme, owner, metric="failure_rate_pct", params={"days": 2})
    assert alert_reading(everything, NOW).value == round(1 / 3 * 100, 1)  # 1 failure of 3 known outcomes
    leads = make_alert(acme, owner, metric="failure_rate_pct", params={"days": 1, "feature": "Leads"})
    assert alert_reading(leads, NOW).value is None  # no known outcome: no figure, does not hold
    assert alert_reading(leads, NOW).holds is False


def test_days_since_seen_equals_the_users_table(acme, owner, member_client):
    rows = member_client(acme).get("/api/v1/workspaces/acme/users", {"as_of": "2026-03-04", "days": 30}).json()
    last_seen = {row["external_id"]: row["last_seen"] for row in rows["results"]}
    assert last_seen["u4"].startswith("2026-02-27")
    alert = make_alert(acme, owner, metric="days_since_seen", params={"days": 1, "user": "u4"}, value=4)
    reading = alert_reading(alert, NOW)
    assert reading.value == (date(2026, 3, 4) - date(2026, 2, 27)).days == 5
    assert reading.holds
    assert alert_reading(make_alert(acme, owner, metric="days_since_seen", params={"user": "u1"}), NOW).value == 0
    # Never seen: infinitely long ago, as in filter sets: only > and >= hold.
    never = make_alert(acme, owner, metric="days_since_seen", params={"user": "u3"}, op=">", value=1000)
    assert alert_reading(never, NOW).value is None and alert_reading(never, NOW).holds
    never.op = "<"
    assert not alert_reading(never, NOW).holds


def evaluate(workspace, text):
    return alerts_evaluate(now=at(text), workspace=workspace)


def history(alert):
    return list(AlertEvaluation.objects.filter(alert=alert, changed=True).values_list("state", "value", "notified"))


def test_threshold_fires_once_per_firing(make_workspace, owner):
    workspace, _ = make_workspace("t1")
    daily(workspace, days_from(date(2026, 3, 1), [5, 5, 1, 6]))
    alert = make_alert(workspace, owner, name="Too busy", op=">", value=2)
    evaluate(workspace, "2026-03-02T06:00:00Z")  # 03-01: 5 > 2
    assert Alert.objects.get().state == "firing" and len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Too busy" and message.to == ["ops@example.com"]
    assert "5" in message.body and "> 2" in message.body
    assert f"http://127.0.0.1:8000/w/t1/alerts/{alert.pk}/" in message.body
    evaluate(workspace, "2026-03-03T06:00:00Z")  # 03-02: 5, still firing: nothing sent
    assert len(mail.outbox) == 1
    evaluate(workspace, "2026-03-04T06:00:00Z")  # 03-03: 1, clears (recorded, not sent)
    assert Alert.objects.get().state == "ok" and len(mail.outbox) == 1
    evaluate(workspace, "2026-03-05T06:00:00Z")  # 03-04: 6, fires again
    assert len(mail.outbox) == 2
    assert history(alert) == [("firing", 6, True), ("ok", 1, False), ("firing", 5, True)]
    assert AlertEvaluation.objects.filter(alert=alert).count() == 4


def test_change_against_the_days_before(make_workspace, owner):
    workspace, _ = make_workspace("c1")
    daily(workspace, days_from(date(2026, 3, 1), [2, 4, 8, 8, 16]))
    alert = make_alert(workspace, owner, condition="change", op=">", value=50)
    evaluate(workspace, "2026-03-03T06:00:00Z")  # 4 vs 2: +100 %
    assert AlertEvaluation.objects.get(slot__date=date(2026, 3, 3)).compared == 100.0
    evaluate(workspace, "2026-03-04T06:00:00Z")  # 8 vs 4: +100 %, still firing
    evaluate(workspace, "2026-03-05T06:00:00Z")  # 8 vs 8: 0 %, clears
    evaluate(workspace, "2026-03-06T06:00:00Z")  # 16 vs 8: fires again
    assert history(alert) == [("firing", 16, True), ("ok", 8, False), ("firing", 4, True)]
    assert len(mail.outbox) == 2


def test_change_from_zero(make_workspace, owner):
    """The days before at 0: 0 again is no change; more is an unbounded increase (> and >= only)."""
    workspace, _ = make_workspace("c0")
    daily(workspace, days_from(date(2026, 3, 1), [1, 0, 0, 3]))
    up = make_alert(workspace, owner, condition="change", op=">", value=1000)
    down = make_alert(workspace, owner, condition="change", op="<", value=-10)
    same = make_alert(workspace, owner, condition="change", op="=", value=0)
    assert alert_reading(same, at("2026-03-04T06:00:00Z")).compared == 0.0  # 0 vs 0
    assert alert_reading(same, at("2026-03-04T06:00:00Z")).holds
    rising = alert_reading(up, at("2026-03-05T06:00:00Z"))  # 3 vs 0
    assert (rising.value, rising.compared, rising.holds) == (3, None, True)
    assert not alert_reading(down, at("2026-03-05T06:00:00Z")).holds


def test_anomaly_uses_the_behaviour_rule(make_workspace, owner):
    workspace, _ = make_workspace("a1")
    daily(workspace, days_from(date(2026, 3, 1), [10] * 14 + [50, 50, 10, 60]))
    alert = make_alert(workspace, owner, condition="anomaly", op="", value=None)
    # Before 7 baseline days there is no judgement.
    assert not alert_reading(alert, at("2026-03-07T06:00:00Z")).holds
    evaluate(workspace, "2026-03-16T06:00:00Z")  # 03-15: 50 against fourteen 10s
    evaluate(workspace, "2026-03-17T06:00:00Z")  # 03-16: 50 again, still anomalous: no second email
    assert len(mail.outbox) == 1
    evaluate(workspace, "2026-03-18T06:00:00Z")  # 03-17: 10, back to normal
    evaluate(workspace, "2026-03-19T06:00:00Z")  # 03-18: 60
    assert history(alert) == [("firing", 60, True), ("ok", 10, False), ("firing", 50, True)]
    assert len(mail.outbox) == 2


def test_anomaly_agrees_with_the_behaviour_tab(make_workspace, owner, member_client):
    workspace, _ = make_workspace("a2")
    daily(workspace, days_from(date(2026, 3, 1), [10, 12, 9, 11, 10, 13, 10, 11, 9, 40]))
    tab = (
        member_client(workspace)
        .get(
            "/api/v1/workspaces/a2/behaviour/anomalies",
            {"metric": "events", "feature": "*", "start": "2026-03-08", "end": "2026-03-10"},
        )
        .json()
    )
    flagged = {row["date"] for row in tab["anomalies"]}
    alert = make_alert(workspace, owner, condition="anomaly", op="", value=None)
    judged = {d for d in ("2026-03-08", "2026-03-09", "2026-03-10")
              if alert_reading(alert, at(f"{date.fromisoformat(d).replace(day=int(d[-2:]) + 1)}T06:00:00+00:00")).holds}  # fmt: skip
    assert flagged == judged == {"2026-03-10"}


def test_muted_records_without_sending(make_workspace, owner):
    workspace, _ = make_workspace("m1")
    daily(workspace, days_from(date(2026, 3, 1), [5]))
    alert = make_alert(workspace, owner, muted=True)
    evaluate(workspace, "2026-03-02T06:00:00Z")
    assert history(alert) == [("firing", 5, False)]
    assert mail.outbox == []


def test_hourly_and_daily_slots(make_workspace, owner):
    workspace, _ = make_workspace("s1")
    daily(workspace, days_from(date(2026, 3, 1), [5]))
    hourly = make_alert(workspace, owner, interval="hourly")
    every_day = make_alert(workspace, owner, interval="daily")
    for moment in ("2026-03-02T09:00:00Z", "2026-03-02T09:59:59Z", "2026-03-02T10:00:00Z", "2026-03-02T23:59:00Z"):
        evaluate(workspace, moment)
    assert AlertEvaluation.objects.filter(alert=hourly).count() == 3  # 09:00, 10:00 and 23:00
    assert AlertEvaluation.objects.filter(alert=every_day).count() == 1
    evaluate(workspace, "2026-03-03T00:00:00Z")
    assert AlertEvaluation.objects.filter(alert=every_day).count() == 2
    assert len(mail.outbox) == 2  # each fired once


def test_running_twice_evaluates_once(make_workspace, owner):
    workspace, _ = make_workspace("r1")
    daily(workspace, days_from(date(2026, 3, 1), [5]))
    make_alert(workspace, owner)
    first = evaluate(workspace, "2026-03-02T06:00:00Z")
    second = evaluate(workspace, "2026-03-02T07:00:00Z")
    assert (first.evaluated, first.fired, second.evaluated, second.skipped) == (1, 1, 0, 1)
    assert len(mail.outbox) == 1 and AlertEvaluation.objects.count() == 1


def test_a_workspace_in_shanghai_reads_its_local_day(make_workspace, owner):
    workspace, _ = make_workspace("sh", tz="Asia/Shanghai")
    journeys(
        workspace,
        [
            ("u1", "2026-03-04T09:00:00+08:00", "Deals", "edit"),
            ("u1", "2026-03-04T23:30:00+08:00", "Deals", "edit"),  # 15:30 UTC: still 03-04 in Shanghai
            ("u1", "2026-03-05T00:30:00+08:00", "Deals", "edit"),  # 03-04 in UTC, 03-05 here
        ],
    )
    alert = make_alert(workspace, owner, value=1)
    now = at("2026-03-04T17:00:00Z")  # 01:00 on 03-05 in Shanghai
    assert alert_period(alert, now).start == date(2026, 3, 4)
    assert alert_reading(alert, now).value == 2
    # Its local day starts at 16:00 UTC: 15:59 and 16:00 are two daily slots.
    assert evaluation_slot(alert, at("2026-03-04T15:59:00Z")) == at("2026-03-03T16:00:00Z")
    assert evaluation_slot(alert, at("2026-03-04T16:00:00Z")) == at("2026-03-04T16:00:00Z")
    evaluate(workspace, "2026-03-04T15:59:00Z")
    evaluate(workspace, "2026-03-04T16:00:00Z")
    assert AlertEvaluation.objects.filter(alert=alert).count() == 2


def test_the_command_with_workspace_and_now(make_workspace, owner):
    one, _ = make_workspace("one")
    two, _ = make_workspace("two")
    daily(one, days_from(date(2026, 3, 1), [5]))
    daily(two, days_from(date(2026, 3, 1), [5]))
    mine = make_alert(one, owner)
    theirs = make_alert(two, owner)
    out, _err = run("evaluate_alerts", "--now", "2026-03-02T08:30:00+08:00", "--workspace", "one")
    assert out == [
        "1 evaluated, 1 fired, 0 already evaluated in their slot, 0 not evaluated (owner left the workspace), 0 failed."
    ]
    assert AlertEvaluation.objects.get(alert=mine).at == at("2026-03-02T00:30:00Z")
    assert not AlertEvaluation.objects.filter(alert=theirs).exists()
    out, _err = run("evaluate_alerts", "--now", "2026-03-02T01:00:00")  # no offset: UTC; both workspaces
    assert out == [
        "1 evaluated, 1 fired, 1 already evaluated in their slot, 0 not evaluated (owner left the workspace), 0 failed."
    ]
    with pytest.raises(CommandError, match="--now must be an ISO 8601"):
        run("evaluate_alerts", "--now", "yesterday")
    with pytest.raises(CommandError, match="No workspace 'nope'"):
        run("evaluate_alerts", "--workspace", "nope")


def test_the_beat_entry_runs_the_task():
    from django.conf import settings

    from alerts.tasks import evaluate_alerts_task

    entry = settings.CELERY_BEAT_SCHEDULE["evaluate-alerts"]
    assert entry["task"] == evaluate_alerts_task.name == "alerts.tasks.evaluate_alerts_task"
    assert entry["schedule"] <= 600


def test_the_email_is_in_the_owners_language(make_workspace, owner):
    workspace, _ = make_workspace("zh")
    daily(workspace, days_from(date(2026, 3, 1), [5]))
    make_alert(workspace, owner, name="太忙", language="zh-hans")
    make_alert(workspace, owner, name="Busy", language="en")
    evaluate(workspace, "2026-03-02T06:00:00Z")
    bodies = {m.subject: m.body for m in mail.outbox}
    assert "告警“太忙”已触发。" in bodies["太忙"] and "打开告警" in bodies["太忙"]
    assert 'The alert "Busy" is firing.' in bodies["Busy"] and "Open the alert" in bodies["Busy"]
