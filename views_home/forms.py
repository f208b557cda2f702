"""The toolbars of the Home, Activity, Trends and Hub tabs: inputs only (``core.forms``). What the
values mean and whether they are valid is ``views_home.queries``'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.attributes import ATTRIBUTE_LABELS, GROUP_BY_ATTRIBUTES
from core.forms import CheckboxListWidget, Choices, PeriodForm, keep_unknown
from core.queries import split_list
from events.periods import Interval
from events.selectors import CatalogFeature, feature_catalog
from views_home.selectors.trends import Measure


def compare_field(help_text: Any) -> forms.ChoiceField:
    """The pages' "Compare with" (``views_home.queries.compare_param``)."""
    return forms.ChoiceField(
        label=_("Compare with"),
        required=False,
        choices=[("", _("Nothing")), ("previous", _("The previous period"))],
        help_text=help_text,
    )


class HomeForm(PeriodForm):
    compare = compare_field(_("A dashed line over the weekly bars, week by week."))


class CatalogMixin(PeriodForm):
    """Options of the feature pickers: the workspace's catalog, read once per form."""

    _catalog: list[CatalogFeature] | None = None

    @property
    def catalog(self) -> list[CatalogFeature]:
        if self._catalog is None:
            self._catalog = feature_catalog(workspace=self.workspace)
        return self._catalog

    def feature_choices(self, selected: list[str]) -> Choices:
        # Labelled by key: the name every table, chart and export uses.
        return keep_unknown([(f.key, f.key) for f in self.catalog], selected)

    def checkbox_features(self, name: str) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.MultipleChoiceField)
        field.widget = CheckboxListWidget()
        field.choices = self.feature_choices(self.values_of(name))

    def values_of(self, name: str) -> list[str]:
        return split_list(self.data.getlist(name))

    def select(self, name: str, choices: Choices) -> None:
        widget = self.fields[name].widget
        assert isinstance(widget, forms.Select)
        widget.choices = choices


class ActivityForm(CatalogMixin):
    user = forms.CharField(
        label=_("User"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}),
        help_text=_("Type a name, email or external ID and pick the user."),
    )
    feature = forms.MultipleChoiceField(label=_("Features"), required=False)
    lines = forms.MultipleChoiceField(label=_("Lines on the chart"), required=False)
    compare = compare_field(_("A dashed line per feature on the chart, day by day."))

    def setup(self) -> None:
        self.checkbox_features("feature")
        self.checkbox_features("lines")
        # The type-ahead (static/js/app.js): users whose name, email or external ID holds what is typed.
        suggestions = reverse("activity-user-suggestions", kwargs={"slug": self.workspace.slug})
        self.fields["user"].widget.attrs["data-suggest-url"] = suggestions

    @property
    def feature_count(self) -> int:
        return len(self.values_of("feature"))


class TrendsForm(CatalogMixin):
    feature = forms.CharField(label=_("Feature"), required=False, widget=forms.Select)
    action = forms.CharField(label=_("Action"), required=False, widget=forms.Select)
    detail = forms.CharField(label=_("Detail"), required=False, widget=forms.Select)
    interval = forms.ChoiceField(
        label=_("Interval"),
        required=False,
        choices=[(Interval.DAY.value, _("Day")), (Interval.WEEK.value, _("Week")), (Interval.MONTH.value, _("Month"))],
        help_text=_("Weeks start on Monday."),
    )
    measure = forms.ChoiceField(
        label=_("Measure"),
        required=False,
        choices=[(Measure.EVENTS.value, _("Events")), (Measure.USERS.value, _("Distinct users"))],
    )
    group_by = forms.ChoiceField(
        label=_("Group by"),
        required=False,
        choices=[("", _("Nothing"))] + [(name, ATTRIBUTE_LABELS[name]) for name in GROUP_BY_ATTRIBUTES],
    )
    view = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("chart", _("Chart")), ("table", _("Table"))],
        widget=forms.HiddenInput,
    )
    compare = compare_field(_("A dashed line, bucket by bucket; not with a group-by."))

    def setup(self) -> None:
        """The pickers offer what was seen for the chosen feature (and action); the page script
        changes the options as the choice changes, from the same catalog (``catalog_data``)."""
        feature, action, detail = (str(self.data.get(name, "")).strip() for name in ("feature", "action", "detail"))
        seen = next((f.actions for f in self.catalog if f.key == feature), {})
        self.select("feature", [("", _("Most used")), *self.feature_choices([feature] if feature else [])])
        actions = [(a, a) for a in sorted(seen)]
        self.select("action", [("", _("Any action")), *keep_unknown(actions, [action] if action else [])])
        details = [(d, d) for d in sorted(seen.get(action, [])) if d]
        self.select("detail", [("", _("Any detail")), *keep_unknown(details, [detail] if detail else [])])

    def catalog_data(self) -> dict[str, Any]:
        """The dependent pickers' data: each feature's actions and each action's details."""
        return {
            f.key: {
                "name": f.name,
                "actions": {a: sorted(d for d in details if d) for a, details in sorted(f.actions.items())},
            }
            for f in self.catalog
        }


class HubForm(CatalogMixin):
    features = forms.MultipleChoiceField(label=_("Features"), required=False)
    feature = forms.CharField(label=_("Frequency of"), required=False, widget=forms.Select)
    buckets = forms.CharField(
        label=_("Bucket lower bounds"),
        required=False,
        max_length=200,
        help_text=_("Ascending whole numbers, comma-separated, e.g. 1,11,101."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}),
    )

    def setup(self) -> None:
        self.checkbox_features("features")
        feature = str(self.data.get("feature", "")).strip()
        self.select("feature", [("", _("Most popular")), *self.feature_choices([feature] if feature else [])])

    @property
    def feature_count(self) -> int:
        return len(self.values_of("features"))
