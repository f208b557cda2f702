"""An alert on one feature (docs/alerts.md "Metrics"): ``interactions`` with ``feature`` equals the
Activity tab's per-feature total, with ``action`` the Trends tab's total of ``measure=events``;
``active_users`` with ``feature`` equals the Hub's distinct users; change and anomaly work on them;
another workspace's events of the same feature never count."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail

from alerts.services import alert_reading, alerts_evaluate
from tenancy.models import Workspace
from tests.alerts.conftest import at, make_alert
from tests.conftest import crm_users, journeys

pytestmark = pytest.mark.django_db

NOW = at("2026-03-05T09:00:00+00:00")  # the day before: 2026-03-04


def _events(day: str, user: str, feature: str, action: str, count: int, hour: int = 10) -> list[tuple]:
    return [(user, f"{day}T{hour:02d}:{n:02d}:00+00:00", feature, action) for n in range(count)]


@pytest.fixture
def fx(make_workspace):
    """UTC; u1, u2 in CN, u3 in US.
    03-03: u1 Deals·edit ×2, u1 Deals·view ×1, u2 Deals·edit ×1, u2 Leads·view ×1.
    03-04: u1 Deals·edit ×1, u2 Deals·view ×2, u3 Deals·edit ×1, u2 Leads·view ×3.
    Another workspace: u1 Deals·edit ×10 on 03-04 (never counted here)."""
    workspace, _ = make_workspace("fx", tz="UTC")
    crm_users(
        workspace,
        [{"external_id": "u1", "country": "CN"}, {"external_id": "u2", "country": "CN"},
         {"external_id": "u3", "country": "US"}],
    )  # fmt: skip
    journeys(
        workspace,
        [
            *_events("2026-03-03", "u1", "Deals", "edit", 2),
            *_events("2026-03-03", "u1", "Deals", "view", 1, hour=11),
            *_events("2026-03-03", "u2", "Deals", "edit", 1),
            *_events("2026-03-03", "u2", "Leads", "view", 1, hour=12),
            *_events("2026-03-04", "u1", "Deals", "edit", 1),
            *_events("2026-03-04", "u2", "Deals", "view", 2),
            *_events("2026-03-04", "u3", "Deals", "edit", 1),
            *_events("2026-03-04", "u2", "Leads", "view", 3, hour=12),
        ],
    )
    other, _ = make_workspace("other", tz="UTC")
    journeys(other, _events("2026-03-04", "u1", "Deals", "edit", 10))
    return workspace


def value(alert):
    return alert_reading(alert, NOW).value


def test_feature_values_by_hand(fx, owner):
    def of(metric, **params):
        return value(make_alert(fx, owner, metric=metric, params={"days": 1, **params}))

    assert of("interactions", feature="Deals") == 4  # 1 + 2 + 1 on 03-04
    assert of("interactions", feature="Deals", action="edit") == 2  # u1 and u3
    assert of("interactions", feature="Leads") == 3
    assert of("interactions", feature="Deals", country=["CN"]) == 3  # u1 1, u2 2
    assert of("interactions", feature="Deals", action="edit", country=["CN"]) == 1
    assert of("active_users", feature="Deals") == 3
    assert of("active_users", feature="Deals", country=["CN"]) == 2
    assert of("active_users", feature="Leads") == 1
    assert of("interactions", feature="Deals", days=2) == 8  # 4 + 4 on 03-03
    assert of("interactions", feature="Deals", action="edit", days=2) == 5  # 3 + 2
    assert of("active_users", feature="Deals", days=2) == 3
    assert of("interactions") == 7  # the whole workspace, for contrast


@pytest.mark.parametrize("days", [1, 2])
@pytest.mark.parametrize("filters", [{}, {"country": ["CN"]}])
def test_feature_values_equal_the_tabs(fx, owner, member_client, days, filters):
    api = member_client(fx)
    start = (date(2026, 3, 4) - timedelta(days=days - 1)).isoformat()
    base = "/api/v1/workspaces/fx/"
    activity = api.get(f"{base}activity/features", {"as_of": "2026-03-04", "days": days, "feature": "Deals", **filters})
    trends = api.get(
        f"{base}trends",
        {"feature": "Deals", "action": "edit", "measure": "events", "start": start, "end": "2026-03-04", **filters},
    )
    hub = api.get(f"{base}hub/popularity", {"start": start, "end": "2026-03-04", "features": "Deals", **filters})
    assert activity.status_code == trends.status_code == hub.status_code == 200
    [activity_row] = activity.json()["features"]
    [series] = trends.json()["series"]
    [hub_row] = hub.json()["features"]

    def of(metric, **params):
        return value(make_alert(fx, owner, metric=metric, params={"days": days, **filters, **params}))

    assert of("interactions", feature="Deals") == activity_row["interactions"]
    assert of("interactions", feature="Deals", action="edit") == sum(p["value"] for p in series["points"])
    assert of("active_users", feature="Deals") == hub_row["users"]


def test_change_on_a_features_action(fx, owner):
    """Deals·edit: 3 on 03-03, 2 on 03-04: −33.3 %."""
    alert = make_alert(
        fx, owner, metric="interactions", params={"feature": "Deals", "action": "edit"}, condition="change",
        op="<", value=-30,
    )  # fmt: skip
    reading = alert_reading(alert, NOW)
    assert (reading.value, reading.compared, reading.holds) == (2, -33.3, True)
    users = make_alert(
        fx, owner, metric="active_users", params={"feature": "Deals"}, condition="change", op=">", value=0
    )
    reading = alert_reading(users, NOW)  # 3 users on 03-04 against 2 on 03-03: +50 %
    assert (reading.value, reading.compared, reading.holds) == (3, 50.0, True)


def test_anomaly_on_an_action_alone(make_workspace, owner):
    """Deals·edit 10 a day for 14 days then 50; Deals·view 50 then 10: the feature's and the
    workspace's totals stay at 60 (no anomaly), the action's jumps (an anomaly)."""
    workspace, _ = make_workspace("an", tz="UTC")
    first = date(2026, 3, 1)
    rows = []
    for i in range(15):
        day = (first + timedelta(days=i)).isoformat()
        edits, views = (10, 50) if i < 14 else (50, 10)
        rows += _events(day, "u1", "Deals", "edit", edits) + _events(day, "u1", "Deals", "view", views, hour=11)
    journeys(workspace, rows)
    anomaly = {"condition": "anomaly", "op": "", "value": None}
    edit = make_alert(workspace, owner, params={"feature": "Deals", "action": "edit"}, **anomaly)
    feature = make_alert(workspace, owner, params={"feature": "Deals"}, **anomaly)
    whole = make_alert(workspace, owner, **anomaly)
    now = at("2026-03-16T06:00:00+00:00")  # judges 03-15
    assert alert_reading(edit, now).value == 50 and alert_reading(edit, now).holds
    assert alert_reading(feature, now).value == 60 and not alert_reading(feature, now).holds
    assert alert_reading(whole, now).value == 60 and not alert_reading(whole, now).holds
    run = alerts_evaluate(now=now, workspace=workspace)
    assert (run.evaluated, run.fired) == (3, 1)
    edit.refresh_from_db()
    assert edit.state == "firing"


def test_the_other_workspace_counts_its_own(fx, owner):
    other = Workspace.objects.get(slug="other")
    assert value(make_alert(other, owner, params={"feature": "Deals", "action": "edit"})) == 10
    assert value(make_alert(other, owner, metric="active_users", params={"feature": "Deals"})) == 1


def test_the_email_names_the_feature_and_action(fx, owner):
    make_alert(fx, owner, name="Deals edits", params={"feature": "Deals", "action": "edit"}, op=">", value=1)
    alerts_evaluate(now=NOW, workspace=fx)
    [message] = mail.outbox
    lines = message.body.splitlines()
    assert "Metric: Interactions" in lines and "Feature: Deals · edit" in lines and "Value: 2" in lines
