"""The query forms of the Home, Activity, Trends and Hub tabs.

A page, its chart JSON endpoints and its CSV links all read their parameters through one form, so an
invalid value shows the same message everywhere and nothing parses ``request.GET`` by hand. The rules
themselves live with the shared validators and are only called from here:

- user filters: the fields of ``events.filters.CrmUserFilterSet``, checked by ``user_filters_from``
  exactly as the API does (only their widget changes, to a list of checkboxes whose options are the
  values the workspace's CRM users actually have);
- a start–end range: ``events.periods.period_between`` (``RangeError`` names the field);
- a feature, action and detail: ``events.selectors.feature_resolve`` (``UnknownStep`` names the field);
- a CRM user searched by external id or email: ``events.selectors.crm_user_find``;
- frequency buckets: ``views_home.selectors.parse_frequency_bounds``.

Every form knows its canonical query (``query()``): the validated values with the defaults in force,
used for links (tabs, chart JSON, CSV) so that a view can be bookmarked and shared.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, ClassVar

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from events.filters import USER_FILTER_FIELDS, CrmUserFilterSet, MultiValueField, user_filter_badges, user_filters_from
from events.models import CrmUser, Feature
from events.periods import EARLIEST_DATE, LATEST_DATE, MAX_RANGE_DAYS, Interval, Period, RangeError, period_between
from events.selectors import CatalogFeature, UnknownStep, crm_user_find, feature_catalog, feature_resolve
from tenancy.models import Workspace
from views_home import selectors

MAX_DAYS = MAX_RANGE_DAYS
DEFAULT_DAYS = 30
ACTIVITY_DEFAULT_DAYS = 60
DEFAULT_RANGE_DAYS = 30
DAY_PRESETS = (7, 30, 90)
EARLIEST_AS_OF = EARLIEST_DATE
LATEST_AS_OF = LATEST_DATE
DEFAULT_BUCKETS = ",".join(str(bound) for bound in selectors.DEFAULT_FREQUENCY_BOUNDS)
DATE_ERROR = _("Enter a date as YYYY-MM-DD.")

Choices = list[tuple[str, Any]]  # (value, label), the label maybe a lazy translation


class CheckboxListWidget(forms.CheckboxSelectMultiple):
    """Checkboxes that read repeated parameters (``country=CN&country=IN``) like ``ListWidget``."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        if hasattr(data, "getlist"):
            return data.getlist(name)
        return data.get(name)

    def format_value(self, value: Any) -> list[str]:
        # Comma-separated values (``country=CN,IN``) tick every box they name.
        values = super().format_value(value)
        return [part.strip() for item in values for part in str(item).split(",") if part.strip()]


def split_values(data: QueryDict, name: str) -> list[str]:
    """A repeated and/or comma-separated parameter as a list of non-empty strings, in order, once each."""
    result: list[str] = []
    for raw in data.getlist(name):
        for part in (p.strip() for p in str(raw).split(",")):
            if part and part not in result:
                result.append(part)
    return result


def _parse_date(value: str | None) -> date | None:
    """For deriving defaults only (validation is the form's): a YYYY-MM-DD string, or None."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _parse_days(value: str | None) -> int | None:
    try:
        days = int(value) if value else None
    except ValueError:
        return None
    return days if days is not None and 1 <= days <= MAX_DAYS else None


def _copy_query(data: QueryDict | dict[str, Any] | None) -> QueryDict:
    if isinstance(data, QueryDict):
        return data.copy()
    query = QueryDict(mutable=True)
    for key, value in (data or {}).items():
        query.setlist(key, [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)])
    return query


def date_field(label: Any, help_text: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        help_text=help_text,
        error_messages={"invalid": DATE_ERROR},
    )


class WorkspaceQueryForm(forms.Form):
    """Base of the tab forms: a workspace, its defaults filled in, and the user-attribute filters."""

    # Fields whose value goes into ``query()`` (in this order), before the user filters.
    query_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, data: QueryDict | dict[str, Any] | None, *, workspace: Workspace) -> None:
        self.workspace = workspace
        query = _copy_query(data)
        self.fill_defaults(query)
        self.query_data = query
        super().__init__(query)
        filter_fields = CrmUserFilterSet(data=query, queryset=CrmUser.objects.none()).form.fields
        for name in USER_FILTER_FIELDS:
            field = filter_fields[name]
            field.required = False
            field.widget = CheckboxListWidget(choices=self._filter_choices(name, query))
            self.fields[name] = field

    def fill_defaults(self, query: QueryDict) -> None:
        """Put the defaults in force into the query, so the inputs show them (subclasses extend)."""

    def _filter_choices(self, name: str, data: QueryDict) -> Choices:
        if name == "status":
            choices: Choices = [(str(value), str(label)) for value, label in CrmUser.Status.choices]
        else:
            values = (
                CrmUser.objects.filter(workspace=self.workspace)
                .exclude(**{name: ""})
                .order_by(name)
                .values_list(name, flat=True)
                .distinct()
            )
            choices = [(value, value) for value in values]
        return _keep_unknown(choices, split_values(data, name))

    def full_clean(self) -> None:
        super().full_clean()
        # A date typed wrongly is shown as typed: a date input would blank it out.
        for name in self.errors:
            widget = self.fields[name].widget if name in self.fields else None
            if isinstance(widget, forms.DateInput) and _parse_date(self.query_data.get(name)) is None:
                widget.input_type = "text"
                widget.attrs = {**widget.attrs, "type": "text", "placeholder": "YYYY-MM-DD"}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            cleaned["filters"] = user_filters_from({name: self.query_data.getlist(name) for name in USER_FILTER_FIELDS})
        except forms.ValidationError as exc:
            errors = exc.error_dict if hasattr(exc, "error_dict") else {None: exc.error_list}
            for field, messages in errors.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned

    def add_field_error(self, field: str, message: str) -> None:
        """An error from a shared validator, on its field when the form has one."""
        self.add_error(field if field in self.fields else None, message)

    # --- the query, for links -----------------------------------------------------------------------

    def query_values(self) -> dict[str, str | list[str]]:
        """The validated parameters of this form (without the user filters), defaults included."""
        return {}

    def query(self, **overrides: Any) -> QueryDict:
        """The validated query as URL parameters, with ``overrides`` set (a list sets a repeated
        parameter; None or "" removes it)."""
        assert self.is_valid()
        query = QueryDict(mutable=True)
        for key, value in self.query_values().items():
            _set(query, key, value)
        for name, values in self.cleaned_data["filters"].items():
            query.setlist(name, values)
        for key, value in overrides.items():
            _set(query, key, value)
        return query

    @property
    def filter_fields(self) -> list[dict[str, Any]]:
        """The user-filter fields with how many values each has ticked (for the dropdown badges)."""
        return user_filter_badges(self)

    @property
    def active_filter_count(self) -> int:
        if not self.is_valid():
            return 0
        return sum(len(values) for values in self.cleaned_data["filters"].values())


def _set(query: QueryDict, key: str, value: Any) -> None:
    if value is None or value == "" or value == []:
        query.pop(key, None)
    elif isinstance(value, list | tuple):
        query.setlist(key, [str(v) for v in value])
    else:
        query[key] = str(value)


def _select(form: forms.Form, name: str) -> forms.Select:
    widget = form.fields[name].widget
    assert isinstance(widget, forms.Select)
    return widget


def _keep_unknown(choices: Choices, values: list[str]) -> Choices:
    """A value in the URL that is not an option (yet) stays visible and selected instead of vanishing."""
    known = {value for value, _label in choices}
    return choices + [(value, value) for value in values if value not in known]


# --- Home and Activity: a period of N days ending on as_of ---------------------------------------------


class HomeQueryForm(WorkspaceQueryForm):
    default_days: ClassVar[int] = DEFAULT_DAYS

    as_of = forms.DateField(
        label=_("As of"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        help_text=_("The last day of the period, in the workspace's time zone."),
        error_messages={"invalid": DATE_ERROR},
    )
    days = forms.IntegerField(
        label=_("Days"),
        required=False,
        min_value=1,
        max_value=MAX_DAYS,
        widget=forms.NumberInput(attrs={"list": "days-presets", "inputmode": "numeric"}),
        help_text=_("Length of the period in days, 1 to 731."),
    )

    def fill_defaults(self, query: QueryDict) -> None:
        # Coming from a tab with a start–end range, keep that range as as_of + days.
        start, end = _parse_date(query.get("start")), _parse_date(query.get("end"))
        if not query.get("as_of"):
            query["as_of"] = (end or self.workspace.today()).isoformat()
        if not query.get("days"):
            derived = (end - start).days + 1 if start and end and start <= end else None
            query["days"] = str(derived if derived and derived <= MAX_DAYS else self.default_days)

    def clean_as_of(self) -> date:
        value: date | None = self.cleaned_data.get("as_of")
        if value is None:
            return self.workspace.today()
        if not EARLIEST_AS_OF <= value <= LATEST_AS_OF:
            raise forms.ValidationError(
                _("Choose a date between %(first)s and %(last)s."),
                params={"first": EARLIEST_AS_OF.isoformat(), "last": LATEST_AS_OF.isoformat()},
            )
        return value

    def clean_days(self) -> int:
        value: int | None = self.cleaned_data.get("days")
        return self.default_days if value is None else value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("as_of") and cleaned.get("days"):
            cleaned["period"] = Period.ending(cleaned["as_of"], cleaned["days"], self.workspace.tzinfo)
        return cleaned

    def query_values(self) -> dict[str, str | list[str]]:
        return {"as_of": self.cleaned_data["as_of"].isoformat(), "days": str(self.cleaned_data["days"])}


class FeatureChoicesMixin:
    """Options of the feature pickers: the workspace's catalog, read once per form."""

    workspace: Workspace
    _catalog: list[CatalogFeature] | None = None

    @property
    def catalog(self) -> list[CatalogFeature]:
        if self._catalog is None:
            self._catalog = feature_catalog(workspace=self.workspace)
        return self._catalog

    def feature_choices(self, selected: list[str]) -> Choices:
        # Labelled by key: the name every table, chart and export uses.
        return _keep_unknown([(f.key, f.key) for f in self.catalog], selected)

    def resolve_features(self, keys: list[str], field: str) -> list[Feature] | None:
        """The Feature rows for keys, or None (with the error added) when one is unknown."""
        features = []
        for key in keys:
            if "\x00" in key:  # PostgreSQL cannot even compare such a string
                self.add_field_error(field, str(_("Null characters are not allowed.")))  # type: ignore[attr-defined]
                return None
            try:
                features.append(feature_resolve(workspace=self.workspace, key=key))
            except UnknownStep as exc:
                self.add_field_error(field, str(exc))  # type: ignore[attr-defined]
                return None
        return features


class ActivityQueryForm(FeatureChoicesMixin, HomeQueryForm):
    """Activity: the period (60 days by default), one CRM user, a set of features, the user filters.

    ``lines`` are the features drawn on the chart (default: the top five of the table).
    """

    default_days = ACTIVITY_DEFAULT_DAYS

    user = forms.CharField(
        label=_("User"),
        required=False,
        max_length=254,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}),
        help_text=_("External ID or email of one CRM user."),
    )
    feature = MultiValueField(label=_("Features"), required=False)
    lines = MultiValueField(label=_("Lines on the chart"), required=False)

    def __init__(self, data: QueryDict | dict[str, Any] | None, *, workspace: Workspace) -> None:
        super().__init__(data, workspace=workspace)
        for name in ("feature", "lines"):
            self.fields[name].widget = CheckboxListWidget(
                choices=self.feature_choices(split_values(self.query_data, name))
            )

    def clean_feature(self) -> list[str]:
        return split_values(self.query_data, "feature")

    def clean_lines(self) -> list[str]:
        return split_values(self.query_data, "lines")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        keys = cleaned.get("feature") or []
        cleaned["features"] = self.resolve_features(keys, "feature") if keys else None
        cleaned["line_features"] = self.resolve_features(cleaned.get("lines") or [], "lines")
        cleaned["crm_user"] = None
        query = cleaned.get("user")
        if query:
            try:
                cleaned["crm_user"] = crm_user_find(workspace=self.workspace, query=query)
            except UnknownStep as exc:
                self.add_field_error("user", str(exc))
            else:
                if cleaned["crm_user"] is None:
                    self.add_error(
                        "user", _("No CRM user has the external ID or email %(query)s.") % {"query": repr(query)}
                    )
        return cleaned

    def query_values(self) -> dict[str, str | list[str]]:
        return {
            **super().query_values(),
            "user": self.cleaned_data["user"],
            "feature": self.cleaned_data["feature"],
            "lines": self.cleaned_data["lines"],
        }

    def api_query(self, **overrides: Any) -> QueryDict:
        """The query of ``activity/features`` (no chart lines)."""
        return self.query(lines=None, **overrides)

    @property
    def feature_count(self) -> int:
        return len(split_values(self.query_data, "feature"))


# --- Trends and Hub: a start–end range ----------------------------------------------------------------


class RangeQueryForm(FeatureChoicesMixin, WorkspaceQueryForm):
    """A start–end range (default: the 30 days ending today), checked by ``period_between``."""

    start = date_field(_("Start"), _("First day, in the workspace's time zone."))
    end = date_field(_("End"), _("Last day, inclusive."))

    def fill_defaults(self, query: QueryDict) -> None:
        # Coming from a tab with as_of + days, keep that period as the range.
        as_of, days = _parse_date(query.get("as_of")), _parse_days(query.get("days"))
        if not query.get("end"):
            query["end"] = (as_of or self.workspace.today()).isoformat()
        if not query.get("start"):
            end = _parse_date(query.get("end"))
            if end is not None:
                span = days if as_of and days else DEFAULT_RANGE_DAYS
                try:
                    query["start"] = (end - timedelta(days=span - 1)).isoformat()
                except OverflowError:
                    query["start"] = EARLIEST_DATE.isoformat()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            try:
                cleaned["period"] = period_between(start, end, self.workspace.tzinfo)
            except RangeError as exc:
                self.add_field_error(exc.field, str(exc))
        elif "start" not in self.errors and "end" not in self.errors:
            missing = "start" if start is None else "end"
            self.add_error(missing, _("Enter a date as YYYY-MM-DD."))
        return cleaned

    def query_values(self) -> dict[str, str | list[str]]:
        return {"start": self.cleaned_data["start"].isoformat(), "end": self.cleaned_data["end"].isoformat()}


GROUP_BY_LABELS = {
    "language": _("Language"),
    "country": _("Country"),
    "timezone": _("Time zone"),
    "status": _("Status"),
    "role": _("Role"),
}


class TrendsQueryForm(RangeQueryForm):
    """Trends: one feature (default: the most used in the range), optionally an action and a detail."""

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
        choices=[(selectors.Measure.EVENTS.value, _("Events")), (selectors.Measure.USERS.value, _("Distinct users"))],
    )
    group_by = forms.ChoiceField(
        label=_("Group by"),
        required=False,
        choices=[("", _("Nothing"))]
        + [(name, GROUP_BY_LABELS.get(name, name)) for name in selectors.GROUP_BY_ATTRIBUTES],
    )
    view = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("chart", _("Chart")), ("table", _("Table"))],
        widget=forms.HiddenInput,
    )

    def __init__(self, data: QueryDict | dict[str, Any] | None, *, workspace: Workspace) -> None:
        super().__init__(data, workspace=workspace)
        self._picker_choices()

    def _picker_choices(self) -> None:
        """Server-side, the pickers offer what was seen for the chosen feature (and action); the page
        script changes the options as the choice changes, from the same catalog (``catalog_data``)."""
        feature, action, detail = (self.query_data.get(name, "").strip() for name in ("feature", "action", "detail"))
        seen = next((f.actions for f in self.catalog if f.key == feature), {})
        _select(self, "feature").choices = [("", _("Most used"))] + self.feature_choices([feature] if feature else [])
        actions = [(a, a) for a in sorted(seen)]
        _select(self, "action").choices = [("", _("Any action"))] + _keep_unknown(actions, [action] if action else [])
        details = [(d, d) for d in sorted(seen.get(action, [])) if d]
        _select(self, "detail").choices = [("", _("Any detail"))] + _keep_unknown(details, [detail] if detail else [])

    def clean_interval(self) -> Interval:
        return Interval(self.cleaned_data.get("interval") or Interval.DAY.value)

    def clean_measure(self) -> selectors.Measure:
        return selectors.Measure(self.cleaned_data.get("measure") or selectors.Measure.EVENTS.value)

    def clean_view(self) -> str:
        return self.cleaned_data.get("view") or "chart"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        key, action, detail = cleaned.get("feature", ""), cleaned.get("action", ""), cleaned.get("detail", "")
        if not key and "period" in cleaned:
            # The most used feature of the range (with the same user filters); else the first one.
            used = selectors.activity_features(
                workspace=self.workspace, period=cleaned["period"], filters=cleaned.get("filters")
            )
            key = used[0].feature if used else (self.catalog[0].key if self.catalog else "")
            cleaned["feature"] = key
            self.query_data["feature"] = key  # the picker shows the feature in force
            self._picker_choices()
        if key:
            try:
                cleaned["feature_obj"] = feature_resolve(
                    workspace=self.workspace, key=key, action=action, detail=detail
                )
            except UnknownStep as exc:
                self.add_field_error(exc.field, str(exc))
        elif "period" in cleaned:
            self.add_error("feature", _("This workspace has no feature yet."))
        return cleaned

    def query_values(self) -> dict[str, str | list[str]]:
        q = self.cleaned_data
        return {
            "feature": q["feature"],
            "action": q["action"],
            "detail": q["detail"],
            **super().query_values(),
            "interval": q["interval"].value,
            "measure": q["measure"].value,
            "group_by": q["group_by"],
        }

    def api_query(self, **overrides: Any) -> QueryDict:
        return self.query(view=None, **overrides)

    def catalog_data(self) -> dict[str, Any]:
        """The dependent pickers' data: each feature's actions and each action's details."""
        return {
            f.key: {
                "name": f.name,
                "actions": {a: sorted(d for d in details if d) for a, details in sorted(f.actions.items())},
            }
            for f in self.catalog
        }


class HubQueryForm(RangeQueryForm):
    """Hub: the range, an optional set of features (popularity), one feature and the bucket bounds
    (frequency; default the most popular feature and 1,11,101)."""

    features = MultiValueField(label=_("Features"), required=False)
    feature = forms.CharField(label=_("Frequency of"), required=False, widget=forms.Select)
    buckets = forms.CharField(
        label=_("Bucket lower bounds"),
        required=False,
        max_length=200,
        help_text=_("Ascending whole numbers, comma-separated, e.g. 1,11,101."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}),
    )

    def fill_defaults(self, query: QueryDict) -> None:
        super().fill_defaults(query)
        if not query.get("buckets", "").strip():
            query["buckets"] = DEFAULT_BUCKETS

    def __init__(self, data: QueryDict | dict[str, Any] | None, *, workspace: Workspace) -> None:
        super().__init__(data, workspace=workspace)
        self.fields["features"].widget = CheckboxListWidget(
            choices=self.feature_choices(split_values(self.query_data, "features"))
        )
        feature = self.query_data.get("feature", "").strip()
        _select(self, "feature").choices = [("", _("Most popular"))] + self.feature_choices(
            [feature] if feature else []
        )

    def clean_features(self) -> list[str]:
        return split_values(self.query_data, "features")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        keys = cleaned.get("features") or []
        cleaned["feature_set"] = self.resolve_features(keys, "features") if keys else None
        key = cleaned.get("feature", "")
        cleaned["frequency_feature"] = None
        if key:
            found = self.resolve_features([key], "feature")
            cleaned["frequency_feature"] = found[0] if found else None
        if "buckets" in cleaned:
            try:
                cleaned["bounds"] = selectors.parse_frequency_bounds(cleaned["buckets"])
            except ValueError as exc:
                self.add_error("buckets", str(exc))
        return cleaned

    def query_values(self) -> dict[str, str | list[str]]:
        q = self.cleaned_data
        return {
            **super().query_values(),
            "features": q["features"],
            "feature": q["feature"],
            "buckets": ",".join(str(b) for b in q["bounds"]),
        }

    def show_frequency_feature(self, key: str) -> None:
        """Show the feature in force in the picker when the default (the most popular) was used."""
        if not self.query_data.get("feature"):
            self.query_data["feature"] = key

    def popularity_query(self, **overrides: Any) -> QueryDict:
        return self.query(feature=None, buckets=None, **overrides)

    def frequency_query(self, feature: str, **overrides: Any) -> QueryDict:
        return self.query(features=None, feature=feature, **overrides)

    @property
    def feature_count(self) -> int:
        return len(split_values(self.query_data, "features"))
