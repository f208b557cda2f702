"""The Behaviour tab's toolbar: inputs only (``core.forms``); ``behaviour.queries`` says what the
values mean and whether they are valid."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import PeriodForm, keep_unknown
from events.selectors import feature_catalog


def feature_select(form: PeriodForm, name: str, first: list[tuple[str, Any]]) -> None:
    """The options of a feature picker: ``first`` (e.g. every feature), then the catalog's keys; a
    key asked for that the catalog lacks stays shown."""
    asked = str(form.data.get(name, "")).strip()
    known = {value for value, _label in first}
    keys = [(f.key, f.key) for f in feature_catalog(workspace=form.workspace)]
    widget = form.fields[name].widget
    assert isinstance(widget, forms.Select)
    widget.choices = [*first, *keep_unknown(keys, [asked] if asked and asked not in known else [])]


class BehaviourForm(PeriodForm):
    feature = forms.CharField(label=_("Heatmap of"), required=False, widget=forms.Select)
    action = forms.CharField(
        label=_("Action"),
        required=False,
        max_length=64,
        help_text=_("Optional, e.g. edit."),
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )

    def setup(self) -> None:
        feature_select(self, "feature", [("", _("Every feature"))])


INTERVAL_CHOICES = [("day", _("Day")), ("week", _("Week")), ("month", _("Month"))]
EVENT_HELP = _("A feature, or Feature/action; empty: any event.")


def event_input(label: Any) -> forms.CharField:  # a lazy translation
    return forms.CharField(
        label=label,
        required=False,
        max_length=200,
        help_text=EVENT_HELP,
        widget=forms.TextInput(attrs={"list": "feature-keys", "spellcheck": "false", "autocomplete": "off"}),
    )


class CatalogKeys(PeriodForm):
    """The feature keys offered as suggestions (a datalist) by the event inputs."""

    @property
    def feature_keys(self) -> list[str]:
        return [f.key for f in feature_catalog(workspace=self.workspace)]


class RetentionForm(CatalogKeys):
    interval = forms.ChoiceField(label=_("Interval"), required=False, choices=INTERVAL_CHOICES)
    periods = forms.IntegerField(
        label=_("Periods"), required=False, min_value=1, max_value=36, help_text=_("Columns, the first included.")
    )
    start_event = event_input(_("Start event"))
    return_event = event_input(_("Return event"))
    mode = forms.ChoiceField(
        label=_("Cohorts"),
        required=False,
        choices=[("first_time", _("First time")), ("recurring", _("Recurring"))],
    )


class EngagementForm(CatalogKeys):
    interval = forms.ChoiceField(label=_("Interval"), required=False, choices=INTERVAL_CHOICES)
    event = event_input(_("Active means"))


class AnomaliesForm(PeriodForm):
    metric = forms.ChoiceField(
        label=_("Measure"),
        required=False,
        choices=[("events", _("Events")), ("users", _("Users")), ("failures", _("Failures"))],
    )
    feature = forms.CharField(label=_("Of"), required=False, widget=forms.Select)

    def setup(self) -> None:
        feature_select(self, "feature", [("", _("Every feature")), ("*", _("The workspace total"))])


class PathsForm(CatalogKeys):
    node = forms.ChoiceField(
        label=_("Nodes"), required=False, choices=[("feature", _("Features")), ("feature_action", _("Feature·action"))]
    )
    start_point = forms.CharField(
        label=_("Start at"), required=False, max_length=200,
        widget=forms.TextInput(attrs={"list": "feature-keys", "spellcheck": "false", "autocomplete": "off"}),
    )  # fmt: skip
    end_point = forms.CharField(
        label=_("End at"), required=False, max_length=200,
        widget=forms.TextInput(attrs={"list": "feature-keys", "spellcheck": "false", "autocomplete": "off"}),
    )  # fmt: skip
    steps = forms.IntegerField(label=_("Steps"), required=False, min_value=2, max_value=10)
    exclude = forms.CharField(
        label=_("Leave out"), required=False, max_length=2000, help_text=_("Comma-separated, e.g. Home."),
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )  # fmt: skip
