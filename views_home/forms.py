"""The query form of the Home tab: period (as_of + days) and the user-attribute filters.

The page, its chart JSON endpoints and the CSV links all read their parameters through this one form,
so an invalid value shows the same message everywhere and nothing parses ``request.GET`` by hand.
The user filters are the fields of ``events.filters.CrmUserFilterSet`` (validated, in ``clean``, by
``user_filters_from`` exactly as the API does); only their widget changes, to a list of checkboxes
whose options are the values the workspace's CRM users actually have.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from events.filters import USER_FILTER_FIELDS, CrmUserFilterSet, user_filters_from
from events.models import CrmUser, Workspace
from events.periods import EARLIEST_DATE, LATEST_DATE
from views_home.api.serializers import MAX_DAYS

DEFAULT_DAYS = 30
DAY_PRESETS = (7, 30, 90)
EARLIEST_AS_OF = EARLIEST_DATE
LATEST_AS_OF = LATEST_DATE


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


class HomeQueryForm(forms.Form):
    as_of = forms.DateField(
        label=_("As of"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        help_text=_("The last day of the period, in the workspace's time zone."),
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
    )
    days = forms.IntegerField(
        label=_("Days"),
        required=False,
        min_value=1,
        max_value=MAX_DAYS,
        widget=forms.NumberInput(attrs={"list": "days-presets", "inputmode": "numeric"}),
        help_text=_("Length of the period in days, 1 to 731."),
    )

    def __init__(self, data: QueryDict | dict[str, Any] | None, *, workspace: Workspace) -> None:
        self.workspace = workspace
        data = _with_defaults(data, workspace)
        self.query_data = data
        super().__init__(data)
        filter_fields = CrmUserFilterSet(data=data, queryset=CrmUser.objects.none()).form.fields
        for name in USER_FILTER_FIELDS:
            field = filter_fields[name]
            field.required = False
            field.widget = CheckboxListWidget(choices=self._choices(name, data))
            self.fields[name] = field

    def _choices(self, name: str, data: QueryDict) -> list[tuple[str, str]]:
        if name == "status":
            choices = [(str(value), str(label)) for value, label in CrmUser.Status.choices]
        else:
            values = (
                CrmUser.objects.filter(workspace=self.workspace)
                .exclude(**{name: ""})
                .order_by(name)
                .values_list(name, flat=True)
                .distinct()
            )
            choices = [(value, value) for value in values]
        # A value in the URL that no user has (yet) stays visible and ticked instead of vanishing.
        known = {value for value, _label in choices}
        for raw in data.getlist(name):
            for value in (part.strip() for part in raw.split(",")):
                if value and value not in known:
                    choices.append((value, value))
                    known.add(value)
        return choices

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
        return DEFAULT_DAYS if value is None else value

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

    # --- the query, for links -----------------------------------------------------------------------

    def query(self, **overrides: Any) -> QueryDict:
        """The validated query as URL parameters (as_of, days, filters), with ``overrides`` set."""
        assert self.is_valid()
        query = QueryDict(mutable=True)
        query["as_of"] = self.cleaned_data["as_of"].isoformat()
        query["days"] = str(self.cleaned_data["days"])
        for name, values in self.cleaned_data["filters"].items():
            query.setlist(name, values)
        for key, value in overrides.items():
            query[key] = str(value)
        return query

    @property
    def filter_fields(self) -> list[dict[str, Any]]:
        """The user-filter fields with how many values each has ticked (for the dropdown badges)."""
        result = []
        for name in USER_FILTER_FIELDS:
            bound = self[name]
            result.append({"field": bound, "selected": len(bound.field.widget.format_value(bound.value()))})
        return result

    @property
    def active_filter_count(self) -> int:
        if not self.is_valid():
            return 0
        return sum(len(values) for values in self.cleaned_data["filters"].values())


def _with_defaults(data: QueryDict | dict[str, Any] | None, workspace: Workspace) -> QueryDict:
    """A copy of the query with as_of and days filled in, so the inputs show the period in force."""
    if isinstance(data, QueryDict):
        query = data.copy()
    else:
        query = QueryDict(mutable=True)
        for key, value in (data or {}).items():
            query.setlist(key, [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)])
    if not query.get("as_of"):
        query["as_of"] = workspace.today().isoformat()
    if not query.get("days"):
        query["days"] = str(DEFAULT_DAYS)
    return query
