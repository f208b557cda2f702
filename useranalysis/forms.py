"""The inputs of the User analysis pages (``core.forms``: they only render; ``useranalysis.queries``
says what the values mean and whether they are valid).

- ``UsersForm``: the one period picker, the user filters and the search of the users table.
- ``FilterSetForm`` and two formsets of condition rows (activity, feature usage): the builder. A
  row's fields are plain text on purpose: the definition's Params judge them, so the page shows the
  same messages as ``filter-sets/query`` would answer, next to the row at fault (``builder``). The
  formsets only count and read the rows (and refuse a tampered or too long list).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import ErrorList
from django.utils.translation import gettext_lazy as _

from core.attributes import GROUP_BY_ATTRIBUTES, attribute_label
from core.forms import Choices, PeriodForm, keep_unknown
from core.queries import Errors
from events.selectors import CatalogFeature
from tenancy.models import SavedConfig
from useranalysis.presenters import METRIC_LABELS, OPERATOR_LABELS, OPERATOR_SYMBOLS
from useranalysis.queries import ACTIVITY_METRICS, MAX_CONDITIONS, MAX_SEARCH_LENGTH, OPERATORS

ACTIVITY_PREFIX = "activity"
FEATURES_PREFIX = "features"
USED_CHOICES = [("true", _("used")), ("false", _("did not use"))]


def hidden(label: Any) -> forms.CharField:
    """A table parameter kept across Apply (its label names it in the error summary)."""
    return forms.CharField(label=label, required=False, widget=forms.HiddenInput)


class UsersForm(PeriodForm):
    """The users table: the period, the user filters and the search; the order and the page size
    ride along (hidden) when they are not the defaults."""

    search = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "spellcheck": "false",
                "maxlength": str(MAX_SEARCH_LENGTH),
                "placeholder": _("Search users…"),
            }
        ),
        help_text=_("Name, email or external ID"),
    )
    ordering = hidden(_("Sort by"))
    page = hidden(_("Page"))
    page_size = hidden(_("Rows per page"))


def _one(choices: Choices, value: str | None) -> Choices:
    """A submitted value that is not an option stays visible (with its error) instead of vanishing."""
    return keep_unknown(choices, [value] if value else [])


class FilterSetForm(PeriodForm):
    """The builder's own fields: name, visibility, group-by, the period and the user-attribute
    conditions (the user filters of every tab)."""

    name = forms.CharField(
        label=_("Name"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": "200", "autocomplete": "off"}),
        help_text=_("Needed to save; not to run."),
    )
    visibility = forms.CharField(
        label=_("Visible to"),
        required=False,
        initial=SavedConfig.Visibility.PRIVATE,
        widget=forms.Select,
    )
    group_by = forms.CharField(label=_("Group by"), required=False, widget=forms.Select)
    ordering = hidden(_("Sort by"))
    page = hidden(_("Page"))
    page_size = hidden(_("Rows per page"))

    def setup(self) -> None:
        groups: Choices = [("", _("No grouping"))] + [(a, attribute_label(a)) for a in GROUP_BY_ATTRIBUTES]
        self.select("group_by", _one(groups, self.data.get("group_by")))
        visibilities: Choices = [
            (SavedConfig.Visibility.PRIVATE.value, _("Only me")),
            (SavedConfig.Visibility.WORKSPACE.value, _("Everyone in the workspace")),
        ]
        self.select("visibility", _one(visibilities, self.data.get("visibility")))

    def select(self, name: str, choices: Choices) -> None:
        widget = self.fields[name].widget
        assert isinstance(widget, forms.Select)
        widget.choices = choices

    def add_messages(self, errors: Errors) -> None:
        """Messages found after the form was built (saving: the name, the visibility)."""
        for key, messages in errors.items():
            self.errors.setdefault(key, ErrorList()).extend(messages)


# --- the condition rows --------------------------------------------------------------------------------


class ConditionForm(forms.Form):
    """A row of the builder; a blank row (``is_blank``) is left out."""

    def _submitted(self, name: str) -> str | None:
        return self.data.get(self.add_prefix(name)) if self.is_bound else None

    def _select(self, name: str, choices: Choices) -> None:
        widget = self.fields[name].widget
        assert isinstance(widget, forms.Select)
        widget.choices = _one(choices, self._submitted(name))

    def is_blank(self) -> bool:
        raise NotImplementedError

    def as_condition(self) -> dict[str, Any]:
        """The row as the API's condition object (values as typed: the definition's Params check them)."""
        raise NotImplementedError


class ActivityConditionForm(ConditionForm):
    """One activity condition: metric, operator, value (checked by ``ActivityConditionParams``)."""

    metric = forms.CharField(label=_("Metric"), required=False, widget=forms.Select)
    op = forms.CharField(label=_("Operator"), required=False, initial=">", widget=forms.Select)
    value = forms.CharField(
        label=_("Value"),
        required=False,
        widget=forms.NumberInput(attrs={"min": "0", "step": "any", "inputmode": "decimal"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._select("metric", [("", _("Choose a metric…"))] + [(m, METRIC_LABELS.get(m, m)) for m in ACTIVITY_METRICS])
        self._select("op", [(o, f"{OPERATOR_SYMBOLS[o]} {OPERATOR_LABELS[o]}") for o in OPERATORS])

    def is_blank(self) -> bool:
        """Nothing chosen: the row is left out (the operator always has a value)."""
        data = getattr(self, "cleaned_data", {})
        return not data.get("metric") and not data.get("value")

    def as_condition(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"metric": data.get("metric", ""), "op": data.get("op", ""), "value": data.get("value", "")}


class FeatureConditionForm(ConditionForm):
    """One feature-usage condition: feature, optional action (only those seen for the feature),
    used / did not use, at least N times (checked by ``FeatureConditionParams``)."""

    feature = forms.CharField(label=_("Feature"), required=False, widget=forms.Select)
    action = forms.CharField(label=_("Action"), required=False, widget=forms.Select)
    used = forms.CharField(label=_("Used"), required=False, initial="true", widget=forms.Select)
    min_count = forms.CharField(
        label=_("At least (times)"),
        required=False,
        initial="1",
        widget=forms.NumberInput(attrs={"min": "1", "step": "1", "inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, catalog: list[CatalogFeature] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        catalog = catalog or []
        self._select("feature", [("", _("Choose a feature…"))] + [(f.key, f.name) for f in catalog])
        seen = next((f.actions for f in catalog if f.key == self._submitted("feature")), {})
        self._select("action", [("", _("Any action"))] + [(a, a) for a in sorted(seen)])
        self._select("used", list(USED_CHOICES))

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not data.get("feature") and not data.get("action")

    def as_condition(self) -> dict[str, Any]:
        data = self.cleaned_data
        condition: dict[str, Any] = {
            "feature": data.get("feature", ""),
            "action": data.get("action", ""),
            "used": data.get("used") or "true",
        }
        if data.get("min_count", "") != "":  # left empty: the API's default (1)
            condition["min_count"] = data["min_count"]
        return condition


def condition_formset(form: type[ConditionForm]) -> type[forms.BaseFormSet]:
    return forms.formset_factory(
        form,
        extra=0,
        can_delete=True,
        max_num=MAX_CONDITIONS,
        validate_max=True,
        absolute_max=MAX_CONDITIONS,
    )


ActivityFormSet = condition_formset(ActivityConditionForm)
FeatureFormSet = condition_formset(FeatureConditionForm)
