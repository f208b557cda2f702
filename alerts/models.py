"""Alerts on a metric (DESIGN.md section 8; docs/alerts.md).

An ``Alert`` is a saved configuration (owner and visibility as a funnel's). Each evaluation of an
alert claims its slot (the clock hour or the local day) by inserting an ``AlertEvaluation`` row:
the unique (alert, slot) constraint is what makes evaluating twice, or in two processes at once,
evaluate once. The rows whose state differs from the one before are the alert's history."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tenancy.models import SavedConfig, Workspace

SUMMARY_METRICS = ("interactions", "features_used", "attendance_days", "active_users", "inactive_users")


class Alert(SavedConfig):
    class Metric(models.TextChoices):
        INTERACTIONS = "interactions", _("Interactions")
        FEATURES_USED = "features_used", _("Features used")
        ATTENDANCE_DAYS = "attendance_days", _("Attendance days")
        ACTIVE_USERS = "active_users", _("Active users")
        INACTIVE_USERS = "inactive_users", _("Inactive users")
        FAILURE_RATE_PCT = "failure_rate_pct", _("Failure rate %")
        DAYS_SINCE_SEEN = "days_since_seen", _("Days since last seen")

    class Condition(models.TextChoices):
        THRESHOLD = "threshold", _("Threshold")
        CHANGE = "change", _("Change % vs the previous days")
        ANOMALY = "anomaly", _("Anomaly")

    class Interval(models.TextChoices):
        HOURLY = "hourly", _("Hourly")
        DAILY = "daily", _("Daily")

    class State(models.TextChoices):
        OK = "ok", _("OK")
        FIRING = "firing", _("Firing")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="alerts")
    metric = models.CharField(_("metric"), max_length=32, choices=Metric.choices)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    condition = models.CharField(_("condition"), max_length=16, choices=Condition.choices)
    op = models.CharField(_("operator"), max_length=2, blank=True, default="")
    value = models.FloatField(_("value"), null=True, blank=True)
    interval = models.CharField(_("interval"), max_length=8, choices=Interval.choices, default=Interval.DAILY)
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    webhook_url = models.URLField(_("webhook URL"), max_length=500, blank=True, default="")
    # Signs the webhook's body (HMAC-SHA256); write-only in the API.
    secret = models.CharField(_("secret"), max_length=200, blank=True, default="")
    muted = models.BooleanField(_("muted"), default=False)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OK)
    # The language of its emails: the one its owner used when saving it (users have no stored preference).
    language = models.CharField(max_length=16, blank=True, default="")

    class Meta(SavedConfig.Meta):
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["workspace", "visibility"], name="alert_ws_visibility")]


class AlertEvaluation(models.Model):
    """One evaluation of an alert in one slot (inserted first, in its own transaction, to claim the slot)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="evaluations")
    slot = models.DateTimeField()  # the start of the clock hour or local day, in UTC
    at = models.DateTimeField()  # the evaluation time (``now``)
    done = models.BooleanField(default=False)
    value = models.FloatField(null=True, blank=True)
    # What the condition compared: the value, its change % or its robust z (None: not known).
    compared = models.FloatField(null=True, blank=True)
    holds = models.BooleanField(default=False)
    state = models.CharField(max_length=8, choices=Alert.State.choices, default=Alert.State.OK)
    changed = models.BooleanField(default=False)  # a state change: part of the history
    notified = models.BooleanField(default=False)
    errors = models.JSONField(default=list, blank=True)  # delivery failures, recorded not raised

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [models.UniqueConstraint(fields=["alert", "slot"], name="alert_evaluation_once_per_slot")]
        indexes = [models.Index(fields=["alert", "changed", "-at"], name="alert_history")]

    def __str__(self) -> str:
        return f"{self.alert} @ {self.slot:%Y-%m-%d %H:%M}"
