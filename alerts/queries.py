"""What an alert may hold (API.md "Alerts"; docs/alerts.md), checked in one place: the API's
serializer and the Alerts page both validate through ``AlertDefinition``, so a bad value is the same
400 naming the field everywhere (``params`` errors are nested: ``{"params": {"feature": [...]}}``)."""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from alerts.models import Alert
from alerts.webhooks import WebhookRefused, webhook_target
from core.queries import TextParam, UserFilterParams, WholeNumberParam, resolve_crm_user
from events.filters import USER_FILTER_FIELDS
from events.selectors import UnknownStep, feature_resolve
from tenancy.models import SavedConfig, Workspace
from useranalysis.queries import OPERATORS

# An alert reads at most this many days (and, for an anomaly, 28 windows of them before): bounded work.
MAX_DAYS = 90
MAX_RECIPIENTS = 20
PARAM_NAMES = ("days", "feature", "action", "user", *USER_FILTER_FIELDS)
# The metrics a tab shows for one feature over days (docs/alerts.md "Metrics"), and those also for one action.
FEATURE_METRICS = (Alert.Metric.INTERACTIONS, Alert.Metric.ACTIVE_USERS, Alert.Metric.FAILURE_RATE_PCT)
ACTION_METRICS = (Alert.Metric.INTERACTIONS, Alert.Metric.FAILURE_RATE_PCT)


class AlertParamsParams(UserFilterParams):
    """An alert's ``params``: the days, and what narrows the metric. Unknown keys are refused."""

    days = WholeNumberParam(
        min_value=1,
        max_value=MAX_DAYS,
        default=1,
        help_text="N: the N local days ending the day before the evaluation.",
    )
    feature = TextParam(
        max_length=100,
        help_text="interactions, active_users, failure_rate_pct: a feature key (default: every feature).",
    )
    action = TextParam(max_length=64, help_text="interactions, failure_rate_pct: an action of the feature.")
    user = TextParam(max_length=128, help_text="days_since_seen: the CRM user's external id or email.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(PARAM_NAMES)) if isinstance(self.initial_data, dict) else []
        if unknown:
            raise serializers.ValidationError({unknown[0]: [_("Unknown parameter.")]})
        attrs = super().validate(attrs)
        metric = self.context.get("metric")
        if attrs["action"] and not attrs["feature"]:
            raise serializers.ValidationError({"action": [_("An action needs a feature.")]})
        if attrs["feature"]:
            if metric not in FEATURE_METRICS:
                raise serializers.ValidationError(
                    {"feature": [_("Only interactions, active users and the failure rate are narrowed to a feature.")]}
                )
            if attrs["action"] and metric not in ACTION_METRICS:
                # No tab shows the distinct users of one action over the days (Trends counts them per
                # bucket): an alert only watches a figure a tab shows.
                raise serializers.ValidationError(
                    {"action": [_("Active users are narrowed to a feature, not to an action.")]}
                )
            try:
                feature_resolve(workspace=self.workspace, key=attrs["feature"], action=attrs["action"])
            except UnknownStep as exc:
                raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        if metric == Alert.Metric.DAYS_SINCE_SEEN:
            if not attrs["user"]:
                raise serializers.ValidationError({"user": [_("days_since_seen needs a user.")]})
            if attrs["filters"]:
                raise serializers.ValidationError(
                    {next(iter(attrs["filters"])): [_("days_since_seen is one user's: no user filters.")]}
                )
            attrs["user"] = resolve_crm_user(self.workspace, attrs["user"]).external_id
        elif attrs["user"]:
            raise serializers.ValidationError({"user": [_("Only days_since_seen names a user.")]})
        stored: dict[str, Any] = {"days": attrs["days"]}
        stored.update({name: attrs[name] for name in ("feature", "action", "user") if attrs[name]})
        stored.update(attrs["filters"])
        return stored


class RecipientsField(serializers.ListField):
    """Email addresses: a JSON list, or (a form) one text of addresses separated by commas or new lines."""

    def to_internal_value(self, data: Any) -> list[Any]:
        if isinstance(data, str):
            data = [part.strip() for part in data.replace("\n", ",").split(",") if part.strip()]
        values = super().to_internal_value(data)
        return list(dict.fromkeys(values))


class AlertDefinition(serializers.Serializer):
    """The writable fields of an alert and their rules; with an ``instance``, a partial change is
    checked merged with what is stored. ``context["workspace"]`` is the alert's workspace."""

    name = serializers.CharField(max_length=200)
    metric = serializers.ChoiceField(choices=Alert.Metric.choices)
    params = serializers.JSONField(required=False, help_text="days (default 1), feature, action, user, user filters.")
    condition = serializers.ChoiceField(choices=Alert.Condition.choices)
    op = serializers.ChoiceField(choices=list(OPERATORS), required=False, allow_blank=True)
    value = serializers.FloatField(required=False, allow_null=True)
    interval = serializers.ChoiceField(choices=Alert.Interval.choices, required=False)
    recipients = RecipientsField(child=serializers.EmailField(), required=False, max_length=MAX_RECIPIENTS)
    webhook_url = serializers.CharField(required=False, allow_blank=True, max_length=500)
    secret = serializers.CharField(required=False, allow_blank=True, max_length=200, write_only=True)
    muted = serializers.BooleanField(required=False)
    visibility = serializers.ChoiceField(choices=SavedConfig.Visibility.choices, required=False)

    @property
    def workspace(self) -> Workspace:
        workspace: Workspace = self.context["workspace"]
        return workspace

    def validate_value(self, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise serializers.ValidationError(_("Enter a finite number."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        stored = self.instance
        merged = {
            name: attrs[name] if name in attrs else getattr(stored, name, None)
            for name in ("metric", "params", "condition", "op", "value", "webhook_url", "secret")
        }
        errors: dict[str, Any] = {}
        params = AlertParamsParams(
            data=merged["params"] if merged["params"] is not None else {},
            context={"workspace": self.workspace, "metric": merged["metric"]},
        )
        if not isinstance(params.initial_data, dict):
            errors["params"] = [_("The parameters must be a JSON object.")]
        elif not params.is_valid():
            errors["params"] = params.errors
        else:
            attrs["params"] = params.validated_data
        if merged["condition"] == Alert.Condition.ANOMALY:
            # An anomaly is judged by the section 5 rule: no operator, no value of its own.
            attrs["op"], attrs["value"] = "", None
        else:
            if not merged["op"]:
                errors["op"] = [_("Choose an operator for this condition.")]
            if merged["value"] is None:
                errors["value"] = [_("Give a value for this condition.")]
        if merged["webhook_url"]:
            try:
                webhook_target(merged["webhook_url"])
            except WebhookRefused as exc:
                errors["webhook_url"] = [str(exc)]
            if not merged["secret"]:
                errors["secret"] = [_("A webhook needs a secret: its requests are signed with it.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs
