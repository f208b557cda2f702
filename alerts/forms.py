"""The Alerts page's form: it only renders (``core.forms`` says why). What it posts is checked by
``alerts.queries.AlertDefinition``, whose messages are put next to the inputs."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.forms.utils import ErrorDict, ErrorList
from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from alerts.models import Alert
from alerts.queries import MAX_DAYS
from events.filters import USER_FILTER_FIELDS
from events.models import Feature
from tenancy.models import SavedConfig, Workspace
from tenancy.scoping import in_workspace
from useranalysis.queries import OPERATORS
from views_home.forms import ActivityForm

PARAM_FIELDS = ("days", "feature", "action", "user", *USER_FILTER_FIELDS)
FILTER_LABELS = {"language": _("Language"), "country": _("Country"), "timezone": _("Time zone"), "status": _("Status")}


class AlertForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    metric = forms.ChoiceField(label=_("Metric"), choices=Alert.Metric.choices)
    days = forms.IntegerField(
        label=_("Days"), min_value=1, max_value=MAX_DAYS,
        help_text=_("N: the N days ending the day before each evaluation (workspace time zone)."),
    )  # fmt: skip
    feature = forms.ChoiceField(
        label=_("Feature"), required=False,
        help_text=_("Interactions, active users or failure rate of this feature only."),
    )  # fmt: skip
    action = forms.CharField(
        label=_("Action"),
        required=False,
        help_text=_("Interactions or failure rate of this action only; needs a feature."),
    )
    # The Activity tab's User field, type-ahead included (its widget and, in __init__, its suggestions URL).
    user = copy.deepcopy(ActivityForm.base_fields["user"])
    user.help_text = _("Days since last seen: type a name, email or external ID and pick the user.")
    condition = forms.ChoiceField(label=_("Condition"), choices=Alert.Condition.choices)
    op = forms.ChoiceField(label=_("Operator"), required=False, choices=[("", "—"), *((op, op) for op in OPERATORS)])
    value = forms.CharField(
        label=_("Value"), required=False, help_text=_("Threshold: the value; change: a percentage. Not for anomalies.")
    )
    interval = forms.ChoiceField(label=_("Interval"), choices=Alert.Interval.choices)
    recipients = forms.CharField(
        label=_("Recipients"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Email addresses, separated by commas."),
    )  # fmt: skip
    webhook_url = forms.CharField(label=_("Webhook URL"), required=False, help_text=_("http(s), a public address."))
    secret = forms.CharField(
        label=_("Webhook secret"), required=False, widget=forms.PasswordInput(render_value=False),
        help_text=_("Signs each webhook request; leave empty to keep the saved one."),
    )  # fmt: skip
    visibility = forms.ChoiceField(label=_("Shared"), choices=SavedConfig.Visibility.choices)

    def __init__(self, data: QueryDict, *, workspace: Workspace, errors: dict[str, Any] | None = None) -> None:
        super().__init__(data)
        keys = in_workspace(Feature, workspace).order_by("key").values_list("key", flat=True)
        feature = self.fields["feature"]
        assert isinstance(feature, forms.ChoiceField)
        feature.choices = [("", _("Every feature")), *((key, key) for key in keys)]
        # The type-ahead of static/js/app.js, answered by the Activity tab's suggestions (same users, same match).
        suggestions = reverse("activity-user-suggestions", kwargs={"slug": workspace.slug})
        self.fields["user"].widget.attrs["data-suggest-url"] = suggestions
        for name in USER_FILTER_FIELDS:
            self.fields[name] = forms.CharField(
                label=FILTER_LABELS[name], required=False, help_text=_("User filter; values separated by commas.")
            )
        self._errors = ErrorDict(
            {key: ErrorList([str(m) for m in messages]) for key, messages in (errors or {}).items()}
        )

    def full_clean(self) -> None:  # pragma: no cover - never called: the errors are the definition's
        pass

    @staticmethod
    def data_of(alert: Alert | None) -> QueryDict:
        """The inputs' values for an alert (or a new one's defaults)."""
        data = QueryDict(mutable=True)
        if alert is None:
            data.update(
                {"days": "1", "interval": Alert.Interval.DAILY, "condition": Alert.Condition.THRESHOLD, "op": ">"}
            )
            data["visibility"] = SavedConfig.Visibility.PRIVATE
            return data
        values: dict[str, Any] = {
            "name": alert.name, "metric": alert.metric, "condition": alert.condition, "op": alert.op,
            "value": "" if alert.value is None else f"{alert.value:g}", "interval": alert.interval,
            "recipients": ", ".join(alert.recipients), "webhook_url": alert.webhook_url, "visibility": alert.visibility,
        }  # fmt: skip
        for name in PARAM_FIELDS:
            stored = alert.params.get(name)
            values[name] = ",".join(stored) if isinstance(stored, list) else ("" if stored is None else str(stored))
        data.update(values)
        return data


def definition_data(post: QueryDict, *, editing: bool) -> dict[str, Any]:
    """What the form posted, as the API's JSON (``AlertDefinition``'s input)."""
    params: dict[str, Any] = {}
    for name in PARAM_FIELDS:
        text = post.get(name, "").strip()
        if text:
            params[name] = (
                [part.strip() for part in text.split(",") if part.strip()] if name in USER_FILTER_FIELDS else text
            )
    data: dict[str, Any] = {
        name: post.get(name, "")
        for name in ("name", "metric", "condition", "op", "interval", "webhook_url", "visibility")
    }
    data["params"] = params
    value = post.get("value", "").strip()
    data["value"] = value or None
    data["recipients"] = post.get("recipients", "")
    secret = post.get("secret", "")
    if secret or not editing:  # on an edit, an empty secret keeps the saved one
        data["secret"] = secret
    return data


def form_errors(detail: dict[str, Any]) -> dict[str, list[str]]:
    """``AlertDefinition``'s errors by input name (``params`` errors are its inputs')."""
    errors: dict[str, list[str]] = {}
    for key, messages in detail.items():
        if key == "params" and isinstance(messages, dict):
            for name, inner in messages.items():
                errors.setdefault(name if name in PARAM_FIELDS else "days", []).extend(str(m) for m in inner)
        else:
            errors.setdefault(key, []).extend(str(m) for m in messages)
    return errors
