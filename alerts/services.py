"""Evaluating alerts and notifying (docs/alerts.md).

Every value comes from the selector of the tab that shows it (Home's summary, Activity's, Trends'
or the Hub's figure of one feature, Behaviour's heatmap totals, the users table's last seen), over the N local days ending the day before the evaluation, so
an alert's number is the tab's number for those days.

Once per slot: an evaluation first inserts its ``AlertEvaluation`` row for (alert, slot) in a
transaction of its own. The unique constraint lets exactly one process — or one retry — own the
slot; the others see the row (or the IntegrityError) and skip. The state change is then written
under a row lock on the alert, and the notification sent after that commit: a crash in between
loses a notification rather than sending it twice ("at most once per firing").
"""

from __future__ import annotations

import copy
import http.client
import json
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from alerts.models import SUMMARY_METRICS, Alert, AlertEvaluation
from alerts.webhooks import WebhookRefused, webhook_post
from behaviour.queries import HeatmapQuery
from behaviour.selectors.anomalies import BASELINE_DAYS, MIN_BASELINE_DAYS, judge
from behaviour.selectors.failures import hour_heatmap, pct
from events.filters import USER_FILTER_FIELDS
from events.models import CrmUser, Feature
from events.periods import Interval, Period, change_pct, local_midnight_utc
from events.selectors import UnknownStep, feature_resolve, first_active_day
from tenancy.models import Membership, Workspace
from tenancy.scoping import in_workspace
from tenancy.services import audit_saved_config
from useranalysis.queries import OPERATORS, UserQuery
from useranalysis.selectors import user_row
from views_home.queries import ActivityQuery, HomeQuery, PopularityQuery, TrendsQuery
from views_home.selectors import Measure, activity_features, feature_popularity, home_summary, trend_series
from views_home.selectors.common import UserFilters

logger = logging.getLogger(__name__)


# --- the value -------------------------------------------------------------------------------------------


def alert_period(alert: Alert, now: datetime) -> Period:
    """The N local days (workspace time zone) ending the day before ``now``'s local day."""
    tz = alert.workspace.tzinfo
    yesterday = now.astimezone(tz).date() - timedelta(days=1)
    return Period.ending(yesterday, int(alert.params.get("days") or 1), tz)


def metric_value(alert: Alert, period: Period) -> float | None:
    """The alert's metric over ``period``, as its tab computes it; None when there is no figure (a
    failure rate without known outcomes, a user never seen, a feature or user since deleted)."""
    workspace, params = alert.workspace, alert.params
    filters = {name: list(params[name]) for name in USER_FILTER_FIELDS if params.get(name)}
    action = params.get("action") or ""
    try:
        feature = feature_resolve(workspace=workspace, key=params["feature"]) if params.get("feature") else None
    except UnknownStep:
        return None
    if feature is not None and alert.metric in (Alert.Metric.INTERACTIONS, Alert.Metric.ACTIVE_USERS):
        return float(_feature_figure(workspace, alert.metric, feature, action, period, filters))
    if alert.metric in SUMMARY_METRICS:
        summary = home_summary(HomeQuery.over(workspace, period, filters))
        return float(getattr(summary, alert.metric).value)
    if alert.metric == Alert.Metric.FAILURE_RATE_PCT:
        cells = hour_heatmap(HeatmapQuery.over(workspace, period, filters, feature=feature, action=action))
        return pct(sum(c.failures for c in cells), sum(c.outcomes for c in cells))
    crm_user = in_workspace(CrmUser, workspace).filter(external_id=params.get("user", "")).first()
    if crm_user is None:
        return None
    row = user_row(UserQuery.over(workspace, period, {}, user=crm_user.external_id, crm_user=crm_user))
    if row.last_seen is None:
        return None
    return float((period.end - row.last_seen.astimezone(workspace.tzinfo).date()).days)


def _feature_figure(
    workspace: Workspace, metric: str, feature: Feature, action: str, period: Period, filters: UserFilters
) -> int:
    """One feature's figure over the period, from the tab that shows exactly it:

    - interactions: the Activity tab's per-feature total (``activity/features?as_of&days&feature``);
      with an action, the Trends tab's Total row of ``measure=events`` by day
      (``trends?feature&action&start&end``), the only tab narrowing a feature to an action;
    - active_users: the Hub's distinct users of the feature (``hub/popularity?start&end&features``).
    """
    if metric == Alert.Metric.ACTIVE_USERS:
        rows = feature_popularity(PopularityQuery.over(workspace, period, filters, features=[feature]))
        return next(row.users for row in rows if row.feature == feature.key)
    if action:
        query = TrendsQuery.over(
            workspace, period, filters, feature=feature, action=action, interval=Interval.DAY, measure=Measure.EVENTS
        )
        return sum(series.total for series in trend_series(query))  # one series: no group_by
    totals = activity_features(ActivityQuery.over(workspace, period, filters, features=[feature]))
    return next(row.interactions for row in totals if row.feature == feature.key)


@dataclass(frozen=True)
class Reading:
    value: float | None  # the metric over the period
    compared: float | None  # what the condition compared: the value, the change % or the robust z
    holds: bool


def _compare(op: str, compared: float, limit: float) -> bool:
    return bool(OPERATORS[op](compared, limit))


def alert_reading(alert: Alert, now: datetime) -> Reading:
    """The value for the evaluation at ``now`` and whether the condition holds.

    - threshold: value ``op`` value. A user never seen (days_since_seen without a value) was seen
      infinitely long ago, as in filter sets: only ``>`` and ``>=`` hold.
    - change: change_pct against the N days before (docs/metrics.md#change_pct). When the days
      before are 0: 0 now is no change (0 %); more than 0 is an unbounded increase, which only
      ``>`` and ``>=`` satisfy (the change is then recorded as unknown). No figure on either side:
      does not hold.
    - anomaly: the value against the same metric over each of the 28 N-day windows before it,
      judged by the Behaviour tab's rule (``behaviour.selectors.anomalies.judge``: robust z, |z| > 3.5);
      windows starting before the workspace's first event are left out, and with fewer than 7 left
      the value is not judged (does not hold).
    """
    period = alert_period(alert, now)
    value = metric_value(alert, period)
    op, limit = alert.op, alert.value
    if alert.condition == Alert.Condition.THRESHOLD:
        if value is None:
            unbounded = alert.metric == Alert.Metric.DAYS_SINCE_SEEN and op in (">", ">=")
            return Reading(None, None, unbounded)
        return Reading(value, value, limit is not None and _compare(op, value, limit))
    if alert.condition == Alert.Condition.CHANGE:
        before = metric_value(alert, period.previous())
        if value is None or before is None or limit is None:
            return Reading(value, None, False)
        if before == 0 and value > 0:
            return Reading(value, None, op in (">", ">="))
        change = change_pct(value, before) if before else 0.0
        return Reading(value, change, change is not None and _compare(op, change, limit))
    return _anomaly_reading(alert, period, value)


def _anomaly_reading(alert: Alert, period: Period, value: float | None) -> Reading:
    first = first_active_day(workspace=alert.workspace)
    if value is None or first is None:
        return Reading(value, None, False)
    baseline = []
    for k in range(1, BASELINE_DAYS + 1):
        window = Period.ending(period.end - timedelta(days=k * period.days), period.days, period.tz)
        if window.start < first:
            break
        before = metric_value(alert, window)
        if before is not None:
            baseline.append(before)
    if len(baseline) < MIN_BASELINE_DAYS:
        return Reading(value, None, False)
    # judge is arithmetic on numbers: a rate (float) is judged exactly as a count.
    _median, z, anomaly = judge(cast(int, value), cast(list[int], baseline))
    return Reading(value, round(z, 2) if z is not None else None, anomaly)


# --- slots and evaluation ---------------------------------------------------------------------------------


def evaluation_slot(alert: Alert, now: datetime) -> datetime:
    """The start (UTC) of the slot containing ``now``: its clock hour in the workspace's time zone
    (hourly), or its local day (daily)."""
    tz = alert.workspace.tzinfo
    local = now.astimezone(tz)
    if alert.interval == Alert.Interval.HOURLY:
        return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    return local_midnight_utc(local.date(), tz)


def _slot_taken(alert: Alert, slot: datetime) -> bool:
    """A cheap look first; the insert below is what decides."""
    return AlertEvaluation.objects.filter(alert=alert, slot=slot).exists()


def _claim(alert: Alert, slot: datetime, now: datetime) -> AlertEvaluation | None:
    """The evaluation row of (alert, slot), inserted now; None when it exists (evaluated, or being
    evaluated by another process)."""
    if _slot_taken(alert, slot):
        return None
    try:
        with transaction.atomic():
            return AlertEvaluation.objects.create(alert=alert, slot=slot, at=now)
    except IntegrityError:
        # Another process inserted it between the check and the insert, or the alert was deleted
        # meanwhile (with its workspace): its foreign key fails. Either way: nothing to evaluate.
        return None


def alert_evaluate(alert: Alert, now: datetime) -> AlertEvaluation | None:
    """Evaluate ``alert`` for the slot containing ``now``, at most once; notify when it turns firing
    (unless muted). None when the slot was already taken."""
    evaluation = _claim(alert, evaluation_slot(alert, now), now)
    if evaluation is None:
        return None
    reading = alert_reading(alert, now)
    with transaction.atomic():
        locked = Alert.objects.select_for_update().filter(pk=alert.pk).first()
        if locked is None:
            # Deleted while it was read (by its owner, or with its workspace in the middle of a run):
            # its evaluation row went with it; nothing is recorded and nothing sent.
            return None
        state = Alert.State.FIRING if reading.holds else Alert.State.OK
        changed = state != locked.state
        fire = changed and state == Alert.State.FIRING and not locked.muted
        if changed:
            Alert.objects.filter(pk=alert.pk).update(state=state)
            locked.state = state
        evaluation.value, evaluation.compared, evaluation.holds = reading.value, reading.compared, reading.holds
        evaluation.state, evaluation.changed, evaluation.done = state, changed, True
        evaluation.save(update_fields=["value", "compared", "holds", "state", "changed", "done"])
    if fire:  # after the commit: a notification is never sent for a state that was rolled back
        evaluation.notified, evaluation.errors = _notify(locked, evaluation)
        evaluation.save(update_fields=["notified", "errors"])
    alert.state = locked.state
    return evaluation


@dataclass(frozen=True)
class EvaluationRun:
    evaluated: int  # alerts evaluated now
    skipped: int  # alerts already evaluated in their slot (or deleted during the run)
    fired: int  # alerts that turned firing
    failed: int  # alerts whose evaluation raised (logged; their slot stays taken)
    ownerless: int = 0  # alerts not evaluated: their owner left the workspace (``owner_left``)


def _owner_is_member() -> Exists:
    return Exists(Membership.objects.filter(workspace=OuterRef("workspace_id"), user=OuterRef("owner_id")))


def owner_left(alert: Alert) -> bool:
    """Whether the alert's owner no longer belongs to its workspace (removed, or deactivated).

    Such an alert is not evaluated: nobody in the workspace answers for what it sends (a private one
    is no one else's to see, let alone to change), so it would mail its recipients on behalf of
    someone gone. Its page says so; it resumes when the owner is a member again, or an admin
    recreates it as theirs. A superuser owner reads every workspace: never "left"."""
    owner = alert.owner
    if not owner.is_active:
        return True
    if owner.is_superuser:
        return False
    return not Membership.objects.filter(workspace_id=alert.workspace_id, user_id=owner.pk).exists()


def alerts_evaluate(*, now: datetime, workspace: Workspace | None = None) -> EvaluationRun:
    """Every alert (of ``workspace``, or all) due at ``now``: those not yet evaluated in their slot,
    whose owner is still in the workspace."""
    alerts: QuerySet[Alert] = (
        Alert.objects.select_related("workspace", "owner")
        .annotate(owner_is_member=_owner_is_member())
        .order_by("workspace_id", "id")
    )
    if workspace is not None:
        alerts = alerts.filter(workspace=workspace)
    evaluated = skipped = fired = failed = ownerless = 0
    for alert in alerts.iterator(chunk_size=200):
        owner = alert.owner
        if not owner.is_active or not (owner.is_superuser or getattr(alert, "owner_is_member", False)):  # owner_left
            ownerless += 1
            continue
        try:
            evaluation = alert_evaluate(alert, now)
        except Exception:
            # One broken alert must not stop the others; the next slot tries it again.
            logger.exception("alert %s: the evaluation failed", alert.pk)
            failed += 1
            continue
        if evaluation is None:
            skipped += 1
            continue
        evaluated += 1
        fired += int(evaluation.changed and evaluation.state == Alert.State.FIRING)
    return EvaluationRun(evaluated, skipped, fired, failed, ownerless)


def alert_history(alert: Alert) -> QuerySet[AlertEvaluation]:
    """The state changes, newest first."""
    return alert.evaluations.filter(changed=True, done=True).order_by("-at", "-id")


# --- notifications ----------------------------------------------------------------------------------------


def plain_number(value: float | None) -> float | int | None:
    """12.0 → 12: a count reads as the tab shows it."""
    if value is None or not math.isfinite(value):
        return None
    return int(value) if value.is_integer() else value


def alert_url(alert: Alert) -> str:
    return settings.SITE_URL + reverse("alerts-detail", kwargs={"slug": alert.workspace.slug, "pk": alert.pk})


def webhook_body(alert: Alert, evaluation: AlertEvaluation) -> bytes:
    payload = {
        "alert": {"id": alert.pk, "name": alert.name},
        "workspace": alert.workspace.slug,
        "state": evaluation.state,
        "value": plain_number(evaluation.value),
        "at": evaluation.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def _notify(alert: Alert, evaluation: AlertEvaluation) -> tuple[bool, list[str]]:
    """Email and webhook; (whether any was delivered, the failures). Failures are recorded, never raised."""
    delivered, errors = False, []
    if alert.recipients:
        try:
            _send_email(alert, evaluation)
            delivered = True
        except Exception as exc:  # SMTP and the like: recorded on the evaluation
            errors.append(f"email: {exc}")
    if alert.webhook_url:
        try:
            status = webhook_post(alert.webhook_url, alert.secret, webhook_body(alert, evaluation))
        except (WebhookRefused, OSError, http.client.HTTPException) as exc:
            errors.append(f"webhook: {exc}")
        else:
            if 200 <= status < 300:
                delivered = True
            else:
                errors.append(f"webhook: HTTP {status}")
    return delivered, errors


def _send_email(alert: Alert, evaluation: AlertEvaluation) -> None:
    period = alert_period(alert, evaluation.at)
    with translation.override(alert.language or settings.LANGUAGE_CODE):
        body = render_to_string(
            "alerts/email.txt",
            {
                "alert": alert,
                "value": plain_number(evaluation.value),
                "compared": plain_number(evaluation.compared),
                "period": period,
                "limit": plain_number(alert.value),
                "url": alert_url(alert),
            },
        )
    send_mail(alert.name, body, None, list(alert.recipients))


# --- saving ------------------------------------------------------------------------------------------------


def alert_fields(values: dict[str, Any]) -> dict[str, Any]:
    """The validated definition's fields (``AlertDefinition``) that are model fields."""
    names = {f.name for f in Alert._meta.concrete_fields}
    return {name: value for name, value in values.items() if name in names}


def alert_audit(*, actor: Any, alert: Alert, before: dict[str, Any] | None, deleted: bool = False) -> None:
    """``audit_saved_config`` for an alert, the webhook secret left out of the trail: admins read the
    trail, and a secret is write-only everywhere. A change of it is recorded as ``set``, ``replaced``
    or ``""`` (none)."""
    if before is None or deleted:
        audit_saved_config(actor=actor, instance=alert, before=before, deleted=deleted)
        return
    old, new = before.get("secret") or "", alert.secret or ""
    shown = copy.copy(alert)
    shown.secret = "" if not new else ("set" if new == old else "replaced")
    audit_saved_config(actor=actor, instance=shown, before={**before, "secret": "set" if old else ""})
