"""Forms of the User analysis pages: the users table's query and the filter-set builder.

- ``UsersQueryForm``: the Home tab's period and user filters (``views_home.forms.HomeQueryForm``) plus
  search, ordering and pagination: the parameters of the ``users`` endpoint, so that the CSV link is
  the page's own query with ``format=csv``.
- ``FilterSetForm`` and two formsets of condition rows (activity, feature usage): the builder. The
  condition fields, the name, the visibility and the group-by are plain text on purpose: the API's
  serializers (``FilterSetQuerySerializer`` to run, ``FilterSetSerializer`` to save), not Django,
  judge them, so the page shows the same messages as ``filter-sets/query`` would answer, next to the
  row at fault (see ``useranalysis.views``). The user-attribute conditions are the user filters of
  every tab (checkboxes of the values the workspace's CRM users have).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from core.legacy import GROUP_BY_LABELS, HomeQueryForm
from events.selectors import CatalogFeature
from tenancy.models import SavedConfig, Workspace
from useranalysis.api.serializers import ORDERINGS
from useranalysis.selectors import ACTIVITY_METRICS, GROUP_BY_ATTRIBUTES, OPERATORS

DEFAULT_ORDERING = "external_id"  # as the ``users`` endpoint
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
PAGE_SIZES = (25, 50, 100, 200)
MAX_CONDITIONS = 20  # rows per condition list

METRIC_LABELS = {
    "last_seen_days": _("Days since last seen"),
    "session_minutes": _("Session minutes"),
    "session_count": _("Sessions"),
    "attendance_days": _("Attendance (active days)"),
    "interactions": _("Interactions"),
    "features_used": _("Features used"),
}
OPERATOR_SYMBOLS = {">": ">", ">=": "≥", "<": "<", "<=": "≤", "=": "="}
OPERATOR_LABELS = {
    ">": _("more than"),
    ">=": _("at least"),
    "<": _("less than"),
    "<=": _("at most"),
    "=": _("exactly"),
}
USED_CHOICES = [("true", _("used")), ("false", _("did not use"))]

Choices = list[tuple[str, Any]]


def _keep_unknown(choices: Choices, value: str | None) -> Choices:
    """A submitted value that is not an option stays visible (with its error) instead of vanishing."""
    if value and value not in {key for key, _label in choices}:
        return [*choices, (value, value)]
    return choices


class TableQueryMixin(forms.Form):
    """Ordering and pagination of a table of user rows (``users`` endpoint parameters)."""

    ordering = forms.ChoiceField(
        label=_("Sort by"), required=False, choices=[(o, o) for o in ORDERINGS], widget=forms.HiddenInput
    )
    page = forms.IntegerField(label=_("Page"), required=False, min_value=1, widget=forms.HiddenInput)
    page_size = forms.IntegerField(
        label=_("Rows per page"),
        required=False,
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        widget=forms.HiddenInput,
    )

    def clean_ordering(self) -> str:
        return self.cleaned_data.get("ordering") or DEFAULT_ORDERING

    def clean_page(self) -> int:
        return self.cleaned_data.get("page") or 1

    def clean_page_size(self) -> int:
        return self.cleaned_data.get("page_size") or DEFAULT_PAGE_SIZE

    def table_values(self) -> dict[str, str | list[str]]:
        """The table parameters for links; defaults left out so URLs stay short."""
        q = self.cleaned_data
        return {
            "ordering": "" if q["ordering"] == DEFAULT_ORDERING else q["ordering"],
            "page": "" if q["page"] == 1 else str(q["page"]),
            "page_size": "" if q["page_size"] == DEFAULT_PAGE_SIZE else str(q["page_size"]),
        }


class UsersQueryForm(TableQueryMixin, HomeQueryForm):
    """The users table: period, user filters, a search, the ordering and the page."""

    search = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}),
        help_text=_("Name, email or external ID"),
    )

    def __init__(self, data: QueryDict | dict[str, Any] | None, *, workspace: Workspace) -> None:
        super().__init__(data, workspace=workspace)
        self.fields["search"].widget.attrs["placeholder"] = _("Search users…")

    def query_values(self) -> dict[str, str | list[str]]:
        return {**super().query_values(), "search": self.cleaned_data["search"], **self.table_values()}

    def period_query(self) -> QueryDict:
        """Only what the other tabs understand: the period and the user filters."""
        return self.query(search=None, ordering=None, page=None, page_size=None)


# --- the filter-set builder ------------------------------------------------------------------------------


class ConditionForm(forms.Form):
    """A row of the builder; a blank row (``is_blank``) is left out."""

    def _submitted(self, name: str) -> str | None:
        return self.data.get(self.add_prefix(name)) if self.is_bound else None

    def _select(self, name: str) -> forms.Select:
        widget = self.fields[name].widget
        assert isinstance(widget, forms.Select)
        return widget

    def is_blank(self) -> bool:
        raise NotImplementedError

    def as_condition(self) -> dict[str, Any]:
        """The row as the API's condition object (values as typed: the serializer checks them)."""
        raise NotImplementedError


class ActivityConditionForm(ConditionForm):
    """One activity condition: metric, operator, value (checked by ``ActivityConditionSerializer``)."""

    metric = forms.CharField(label=_("Metric"), required=False, widget=forms.Select)
    op = forms.CharField(label=_("Operator"), required=False, initial=">", widget=forms.Select)
    value = forms.CharField(
        label=_("Value"),
        required=False,
        widget=forms.NumberInput(attrs={"min": "0", "step": "any", "inputmode": "decimal"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        metric, op = self._submitted("metric"), self._submitted("op")
        metrics: Choices = [("", _("Choose a metric…"))] + [(m, METRIC_LABELS.get(m, m)) for m in ACTIVITY_METRICS]
        self._select("metric").choices = _keep_unknown(metrics, metric)
        operators: Choices = [(o, f"{OPERATOR_SYMBOLS.get(o, o)} {OPERATOR_LABELS.get(o, o)}") for o in OPERATORS]
        self._select("op").choices = _keep_unknown(operators, op)

    def is_blank(self) -> bool:
        """Nothing chosen: the row is left out (the operator always has a value)."""
        data = getattr(self, "cleaned_data", {})
        return not data.get("metric") and not data.get("value")

    def as_condition(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"metric": data.get("metric", ""), "op": data.get("op", ""), "value": data.get("value", "")}


class FeatureConditionForm(ConditionForm):
    """One feature-usage condition: feature, optional action (only those seen for the feature),
    used / did not use, at least N times (checked by ``FeatureConditionSerializer``)."""

    feature = forms.CharField(label=_("Feature"), required=False, widget=forms.Select)
    action = forms.CharField(label=_("Action"), required=False, widget=forms.Select)
    used = forms.CharField(label=_("Used"), required=False, initial="true", widget=forms.Select(choices=USED_CHOICES))
    min_count = forms.CharField(
        label=_("At least (times)"),
        required=False,
        initial="1",
        widget=forms.NumberInput(attrs={"min": "1", "step": "1", "inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, catalog: list[CatalogFeature] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        catalog = catalog or []
        feature = self._submitted("feature")
        features: Choices = [("", _("Choose a feature…"))] + [(f.key, f.name) for f in catalog]
        self._select("feature").choices = _keep_unknown(features, feature)
        seen = next((f.actions for f in catalog if f.key == feature), {})
        actions: Choices = [("", _("Any action"))] + [(a, a) for a in sorted(seen)]
        self._select("action").choices = _keep_unknown(actions, self._submitted("action"))
        self._select("used").choices = _keep_unknown(list(USED_CHOICES), self._submitted("used"))

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


ActivityFormSet = forms.formset_factory(
    ActivityConditionForm,
    extra=0,
    can_delete=True,
    max_num=MAX_CONDITIONS,
    validate_max=True,
    absolute_max=MAX_CONDITIONS,
)
FeatureFormSet = forms.formset_factory(
    FeatureConditionForm,
    extra=0,
    can_delete=True,
    max_num=MAX_CONDITIONS,
    validate_max=True,
    absolute_max=MAX_CONDITIONS,
)
ACTIVITY_PREFIX = "activity"
FEATURES_PREFIX = "features"


class FilterSetForm(TableQueryMixin, HomeQueryForm):
    """The builder's own fields: name, visibility, group-by, the period (as_of, days) and the
    user-attribute conditions (the user filters). Only the period and the filters are checked here
    (as on every tab); the rest is the API serializers' job."""

    # The parameters of a builder query besides the condition rows (see ``definition_query``).
    builder_fields: ClassVar[tuple[str, ...]] = ("name", "visibility", "group_by")

    name = forms.CharField(
        label=_("Name"),
        required=False,
        strip=False,  # the serializer trims and checks
        widget=forms.TextInput(attrs={"maxlength": "200", "autocomplete": "off"}),
        help_text=_("Needed to save; not to run."),
    )
    visibility = forms.CharField(
        label=_("Visible to"),
        required=False,
        initial=SavedConfig.Visibility.PRIVATE,
        widget=forms.Select(
            choices=[
                (SavedConfig.Visibility.PRIVATE.value, _("Only me")),
                (SavedConfig.Visibility.WORKSPACE.value, _("Everyone in the workspace")),
            ]
        ),
    )
    group_by = forms.CharField(label=_("Group by"), required=False, widget=forms.Select)

    def __init__(self, data: QueryDict | dict[str, Any] | None, *, workspace: Workspace) -> None:
        super().__init__(data, workspace=workspace)
        group_by = self.query_data.get("group_by")
        choices: Choices = [("", _("No grouping"))] + [(a, GROUP_BY_LABELS.get(a, a)) for a in GROUP_BY_ATTRIBUTES]
        widget = self.fields["group_by"].widget
        assert isinstance(widget, forms.Select)
        widget.choices = _keep_unknown(choices, group_by)
        visibility = self.fields["visibility"].widget
        assert isinstance(visibility, forms.Select)
        visibility.choices = _keep_unknown(list(visibility.choices), self.query_data.get("visibility"))
        # Short help: the builder has many fields side by side.
        self.fields["as_of"].help_text = _("Last day, %(tz)s") % {"tz": workspace.timezone}
        self.fields["days"].help_text = _("1 to 731")

    def query_values(self) -> dict[str, str | list[str]]:
        return {**super().query_values(), **self.table_values()}


class UserChartQueryForm(HomeQueryForm):
    """The daily-activity chart of one CRM user: the period and the user's external id."""

    user = forms.CharField(label=_("User"), max_length=128, strip=False, help_text=_("External ID of a CRM user."))
