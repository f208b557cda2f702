"""TEMPORARY (issue 16, removed before it closes): the old form and serializer of a period that the
Funnels and User analysis tabs still use until they are moved onto their query objects."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.attributes import ATTRIBUTE_LABELS
from events.filters import USER_FILTER_FIELDS, CrmUserFilterSet, user_filter_badges, user_filters_from
from events.models import CrmUser
from events.periods import EARLIEST_DATE, LATEST_DATE, MAX_RANGE_DAYS, Period
from tenancy.models import Workspace

MAX_DAYS = MAX_RANGE_DAYS
DEFAULT_DAYS = 30
DAY_PRESETS = (7, 30, 90)
EARLIEST_AS_OF = EARLIEST_DATE
LATEST_AS_OF = LATEST_DATE
DATE_ERROR = _("Enter a date as YYYY-MM-DD.")
GROUP_BY_LABELS = ATTRIBUTE_LABELS

Choices = list[tuple[str, Any]]


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


class UserFilterQuerySerializer(serializers.Serializer):
    """The user-attribute filters every read endpoint accepts, validated by the shared FilterSet."""

    language = serializers.CharField(required=False, help_text="Repeatable or comma-separated.")
    country = serializers.CharField(required=False, help_text="Repeatable or comma-separated.")
    timezone = serializers.CharField(required=False, help_text="Repeatable or comma-separated.")
    status = serializers.CharField(required=False, help_text="active, inactive, deactivated; repeatable.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            attrs["filters"] = user_filters_from(self.initial_data)
        except forms.ValidationError as exc:
            raise serializers.ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            ) from None
        for key in ("language", "country", "timezone", "status"):
            attrs.pop(key, None)
        return attrs


class AsOfQuerySerializer(UserFilterQuerySerializer):
    as_of = serializers.DateField(required=False, help_text="YYYY-MM-DD in the workspace time zone; default today.")

    def validate_as_of(self, value: date | None) -> date | None:
        if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
            raise serializers.ValidationError(f"Must be between {EARLIEST_DATE} and {LATEST_DATE}.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if attrs.get("as_of") is None:
            attrs["as_of"] = self.context["workspace"].today()
        return attrs


class PeriodQuerySerializer(AsOfQuerySerializer):
    days = serializers.IntegerField(required=False, default=30, min_value=1, max_value=MAX_DAYS)
