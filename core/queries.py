"""Query objects: every insight's request, parsed and validated once (docs/architecture.md).

An insight (the Home summary, a trend, the Hub's popularity…) is asked for by a typed, frozen
``Query``: the workspace, the one ``Period``, the user filters and the insight's own options. It is
built by ``Query.parse(data, workspace=…)`` from a request's parameters, through the insight's
``Params`` (a DRF serializer: the one validation stack, also what documents the parameters in the
OpenAPI schema). A bad value raises ``QueryInvalid`` with translated messages per field; the page
shows them next to its fields (400), the chart JSON answers ``{"errors": …}`` (400), the API
``{field: [message]}`` (400). The page, its charts, the API endpoint and the CSV export of an
insight all take the same query object, and its selector takes only it.

``query.params(**overrides)`` is the query's canonical URL parameters (defaults in force), used for
every link: tabs, chart JSON, CSV, drill-down.

Periods (docs/api.md#periods) are asked for in one of three ways, on every tab and endpoint:
a preset (``period=last_30_days``…, relative to today or to ``as_of``), ``as_of`` + ``days`` (N days
ending on a day), or ``start`` + ``end``. A tab keeps the way it was asked in its links.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from enum import Enum
from typing import Any, ClassVar, Literal, Self

from django import forms
from django.db.models import Model
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from events.filters import USER_FILTER_FIELDS, user_filters_from
from events.models import CrmUser, Feature
from events.periods import EARLIEST_DATE, LATEST_DATE, MAX_RANGE_DAYS, Period, RangeError, period_between
from events.selectors import UnknownStep, crm_user_find, feature_resolve
from tenancy.models import Workspace

UserFilters = dict[str, list[str]]
Errors = dict[str, list[str]]


class QueryInvalid(Exception):
    """A request's parameters do not make a valid query. ``errors`` maps each parameter to its
    messages (what a page shows next to its inputs); ``detail`` keeps them as the Params gave them,
    nested for nested input (a funnel's ``{"steps": {"1": {"action": [...]}}}``), as the API answers."""

    def __init__(self, errors: Mapping[str, Any]) -> None:
        super().__init__(errors)
        self.detail = errors
        self.errors: Errors = {str(key): _flat(value) for key, value in errors.items()}


def _flat(value: Any) -> list[str]:
    """A DRF error value (a list, a dict, a string) as a flat list of messages."""
    if isinstance(value, Mapping):
        return [m for v in value.values() for m in _flat(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _flat(v)]
    return [str(value)]


def split_list(values: Sequence[Any]) -> list[str]:
    """Repeated and/or comma-separated values (``f=A&f=B`` or ``f=A,B``) as a list of non-empty
    strings, in order, once each."""
    result: list[str] = []
    for raw in values:
        for part in (p.strip() for p in str(raw).split(",")):
            if part and part not in result:
                result.append(part)
    return result


# --- parameter fields: the messages a CRM admin reads, translated ----------------------------------------

NUL_MESSAGE = _("Null characters are not allowed.")
DATE_MESSAGE = _("Enter a date as YYYY-MM-DD.")


class DateParam(serializers.DateField):
    """A YYYY-MM-DD date; an empty one (a date input cleared) is as if not given."""

    default_error_messages = {"invalid": DATE_MESSAGE, "datetime": DATE_MESSAGE}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(input_formats=["%Y-%m-%d"], required=False, **kwargs)

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return super().to_internal_value(value)


class WholeNumberParam(serializers.IntegerField):
    default_error_messages = {
        "invalid": _("Enter a whole number."),
        "max_value": _("Ensure this value is less than or equal to %(limit_value)s."),
        "min_value": _("Ensure this value is greater than or equal to %(limit_value)s."),
        "max_string_length": _("Enter a whole number."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        # DRF formats with {min_value}; Django's catalog (translated) with %(limit_value)s.
        for key, limit in (("min_value", self.min_value), ("max_value", self.max_value)):
            if limit is not None:
                self.error_messages[key] = self.error_messages[key] % {"limit_value": limit}


class ChoiceParam(serializers.ChoiceField):
    default_error_messages = {
        "invalid_choice": _("Select a valid choice. {input} is not one of the available choices.")
    }

    def __init__(self, choices: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(choices, **kwargs)


class TextParam(serializers.CharField):
    """A string that PostgreSQL can compare (no NUL); blank allowed."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        if not kwargs["required"]:
            kwargs.setdefault("default", "")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if "\x00" in value:
            raise serializers.ValidationError(NUL_MESSAGE)
        return value


# At most this many values in one list parameter (features, a user attribute…): a request names what
# a person can choose, and no request may make the server work without bound (docs/api.md#limits).
MAX_LIST_VALUES = 100


@extend_schema_field(
    {"type": "array", "items": {"type": "string"}, "description": "Repeat the parameter or separate values by commas."}
)
class ListParam(serializers.Field):
    """Repeated and/or comma-separated values as a list (``split_list``), once each, at most
    ``MAX_LIST_VALUES``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", list)
        super().__init__(**kwargs)

    def get_value(self, dictionary: Any) -> Any:
        if hasattr(dictionary, "getlist"):
            values = dictionary.getlist(self.field_name)
            return values if values else serializers.empty
        return dictionary.get(self.field_name, serializers.empty)

    def to_internal_value(self, data: Any) -> list[str]:
        raw = data if isinstance(data, list | tuple) else [data]
        if sum(len(str(item)) for item in raw) > 100 * MAX_LIST_VALUES:  # before splitting: bounded work
            raise serializers.ValidationError(_("At most %(n)d values.") % {"n": MAX_LIST_VALUES})
        values = split_list(raw)
        if len(values) > MAX_LIST_VALUES:
            raise serializers.ValidationError(_("At most %(n)d values.") % {"n": MAX_LIST_VALUES})
        if any("\x00" in value for value in values):
            raise serializers.ValidationError(NUL_MESSAGE)
        return values

    def to_representation(self, value: Any) -> Any:
        return value


def resolve_features(workspace: Workspace, keys: list[str], field: str) -> list[Feature]:
    """The workspace's features by key, in order; a ``ValidationError`` naming ``field`` for an unknown one."""
    try:
        return [feature_resolve(workspace=workspace, key=key) for key in keys]
    except UnknownStep as exc:
        raise serializers.ValidationError({field: [str(exc)]}) from None


def resolve_crm_user(workspace: Workspace, text: str, field: str = "user") -> CrmUser:
    """The workspace's CRM user by external id or email; a ``ValidationError`` naming ``field``."""
    try:
        found = crm_user_find(workspace=workspace, query=text)
    except UnknownStep as exc:
        raise serializers.ValidationError({field: [str(exc)]}) from None
    if found is None:
        message = _("No CRM user has the external ID or email %(query)s.") % {"query": repr(text)}
        raise serializers.ValidationError({field: [message]})
    return found


# --- the user filters ------------------------------------------------------------------------------------


class UserFilterParams(serializers.Serializer):
    """The user-attribute filters every read endpoint accepts, validated by the shared FilterSet."""

    language = ListParam(help_text="Repeatable or comma-separated.")
    country = ListParam(help_text="Repeatable or comma-separated.")
    timezone = ListParam(help_text="Repeatable or comma-separated.")
    status = ListParam(help_text="active, inactive, deactivated; repeatable or comma-separated.")

    @property
    def workspace(self) -> Workspace:
        workspace: Workspace = self.context["workspace"]
        return workspace

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        raw = {name: attrs.pop(name, []) for name in USER_FILTER_FIELDS}
        if not any(raw.values()):  # most requests: no filter, and no FilterSet form to build
            attrs["filters"] = {}
            return attrs
        try:
            attrs["filters"] = user_filters_from(raw)
        except forms.ValidationError as exc:
            raise serializers.ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
            ) from None
        return attrs


# --- the period --------------------------------------------------------------------------------------------


class Preset(Enum):
    """Periods named relative to a day (today, or ``as_of``)."""

    LAST_7_DAYS = "last_7_days", _("Last 7 days")
    LAST_30_DAYS = "last_30_days", _("Last 30 days")
    LAST_60_DAYS = "last_60_days", _("Last 60 days")
    LAST_90_DAYS = "last_90_days", _("Last 90 days")
    THIS_MONTH = "this_month", _("This month")
    LAST_MONTH = "last_month", _("Last month")
    THIS_QUARTER = "this_quarter", _("This quarter")
    YEAR_TO_DATE = "year_to_date", _("Year to date")

    def __init__(self, slug: str, label: Any) -> None:
        self.slug, self.label = slug, label

    @classmethod
    def of(cls, slug: str) -> Preset:
        return next(p for p in cls if p.slug == slug)

    def bounds(self, anchor: date) -> tuple[date, date]:
        """First and last day of the preset relative to ``anchor``."""
        if self.slug.startswith("last_") and self.slug.endswith("_days"):
            days = int(self.slug.split("_")[1])
            return anchor - timedelta(days=days - 1), anchor
        if self is Preset.THIS_MONTH:
            return anchor.replace(day=1), anchor
        if self is Preset.LAST_MONTH:
            last = anchor.replace(day=1) - timedelta(days=1)
            return last.replace(day=1), last
        if self is Preset.THIS_QUARTER:
            return anchor.replace(month=(anchor.month - 1) // 3 * 3 + 1, day=1), anchor
        return anchor.replace(month=1, day=1), anchor  # year to date


PRESET_SLUGS = [p.slug for p in Preset]
# Every parameter that says which period: a link to another period drops them all first.
PRESET_PARAMS = ("period", "as_of", "days", "start", "end")
PeriodStyle = Literal["ending", "range"]


@dataclass(frozen=True)
class PeriodPick:
    """The period of a query and how it was asked for, so that links ask for it the same way."""

    period: Period
    preset: Preset | None = None
    style: PeriodStyle = "ending"
    anchor: date | None = None  # the as_of a preset was asked relative to (None: today)

    def params(self) -> dict[str, str]:
        if self.preset is not None:
            return {"period": self.preset.slug, **({"as_of": self.anchor.isoformat()} if self.anchor else {})}
        if self.style == "ending":
            return {"as_of": self.period.end.isoformat(), "days": str(self.period.days)}
        return {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()}

    def matching_preset(self, today: date) -> Preset | None:
        """The preset relative to today that names exactly this period, if any (the picker shows it)."""
        return next((p for p in Preset if p.bounds(today) == (self.period.start, self.period.end)), None)


def _in_calendar(value: date | None, field: str, message: Any) -> None:
    if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
        raise serializers.ValidationError({field: [message % {"first": EARLIEST_DATE, "last": LATEST_DATE}]})


class PeriodParams(UserFilterParams):
    """A period (presets, ``as_of`` + ``days``, or ``start`` + ``end``) and the user filters.

    Subclasses set ``default_days`` (the tab's default length) and ``period_style`` (how a tab writes its
    period in links when none was asked for: ``ending`` = as_of + days, ``range`` = start + end)."""

    default_days: ClassVar[int] = 30
    period_style: ClassVar[PeriodStyle] = "ending"

    period = ChoiceParam(
        PRESET_SLUGS, help_text="A preset: " + ", ".join(PRESET_SLUGS) + "; relative to as_of (default today)."
    )
    as_of = DateParam(help_text="The period's last day (YYYY-MM-DD, workspace time zone); default today.")
    days = WholeNumberParam(
        min_value=1, max_value=MAX_RANGE_DAYS, help_text="The period's length in days, ending on as_of."
    )
    start = DateParam(help_text="First day (YYYY-MM-DD, workspace time zone), with end.")
    end = DateParam(help_text="Last day, inclusive; default today.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs["period_pick"] = self.pick_period(attrs)
        attrs["period"] = attrs["period_pick"].period
        return attrs

    @property
    def days_by_default(self) -> int:
        """The tab's default length, or the one a saved configuration gives (``default_days`` in the context)."""
        return int(self.context.get("default_days") or self.default_days)

    def pick_period(self, attrs: dict[str, Any]) -> PeriodPick:
        workspace, given = self.workspace, {k for k in ("as_of", "days", "start", "end") if attrs.get(k) is not None}
        today = workspace.today()
        as_of, days, start, end = (attrs.get(k) for k in ("as_of", "days", "start", "end"))
        _in_calendar(as_of, "as_of", _("Choose a date between %(first)s and %(last)s."))
        for name, value in (("start", start), ("end", end)):
            _in_calendar(value, name, _("Must be between %(first)s and %(last)s."))
        if attrs.get("period"):  # a preset wins over dates (a form without script sends both)
            preset = Preset.of(attrs["period"])
            anchor = as_of or today
            self._not_future(anchor, "as_of", today)
            first, last = preset.bounds(anchor)
            return PeriodPick(Period(first, last, workspace.tzinfo), preset, self.period_style, anchor=as_of)
        ending = bool(given & {"as_of", "days"})
        ranged = bool(given & {"start", "end"})
        style: PeriodStyle = self.period_style if ending == ranged else ("ending" if ending else "range")
        if style == "ending":
            as_of = as_of or today
            self._not_future(as_of, "as_of", today)
            return PeriodPick(Period.ending(as_of, days or self.days_by_default, workspace.tzinfo), None, "ending")
        end = end or today
        self._not_future(end, "end", today)
        start = start or end - timedelta(days=self.days_by_default - 1)
        try:
            period = period_between(start, end, workspace.tzinfo)
        except RangeError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        return PeriodPick(period, None, "range")

    @staticmethod
    def _not_future(day: date, field: str, today: date) -> None:
        if day > today:
            message = _("Must not be after today (%(today)s in the workspace's time zone).") % {"today": today}
            raise serializers.ValidationError({field: [message]})


# --- query objects -----------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Query:
    """Base of every insight's query: the workspace and the user filters.

    Subclasses are frozen dataclasses naming their own fields (the validated parameters, objects
    resolved: a ``Feature``, a ``CrmUser``) and set ``Params``. ``encode`` lists the insight's own
    parameters for links, in order; fields that are not parameters are left out of it."""

    Params: ClassVar[type[serializers.Serializer]] = UserFilterParams

    workspace: Workspace
    filters: UserFilters

    @classmethod
    def parse(cls, data: Any, *, workspace: Workspace, **context: Any) -> Self:
        """The query asked for by ``data`` (a QueryDict or a dict); ``QueryInvalid`` if it is not valid.
        ``context`` reaches the Params: what a query of a saved configuration is parsed against (the
        saved funnel; a saved filter set's ``default_days``), and ``viewer``, the Django user asking (pages,
        charts and the API pass it: a parameter naming a saved segment resolves only those they may see)."""
        params = cls.Params(data=data, context={"workspace": workspace, **context})
        if not params.is_valid():
            raise QueryInvalid(params.errors)
        return cls.build(workspace, dict(params.validated_data))

    @classmethod
    def build(cls, workspace: Workspace, values: dict[str, Any]) -> Self:
        names = {f.name for f in fields(cls)} - {"workspace"}
        return cls(workspace=workspace, **{name: values[name] for name in names if name in values})

    def encode(self) -> dict[str, Any]:
        """The insight's own parameters (not the period nor the user filters), for links."""
        return {}

    def derive[Q: Query](self, cls: type[Q], **values: Any) -> Q:
        """A query of ``cls`` sharing this one's fields (workspace, period, filters…), with ``values``."""
        names = {f.name for f in fields(cls)} - set(values)
        return cls(**{name: getattr(self, name) for name in names if hasattr(self, name)}, **values)

    def params(self, **overrides: Any) -> QueryDict:
        """The canonical URL parameters of this query, with ``overrides`` set (a list sets a
        repeated parameter; None or "" removes one)."""
        query = QueryDict(mutable=True)
        for key, value in {**self.encode(), **self.filters, **overrides}.items():
            _set(query, key, value)
        return query


@dataclass(frozen=True, kw_only=True)
class PeriodQuery(Query):
    """A query over a period (see ``PeriodParams``)."""

    Params: ClassVar[type[serializers.Serializer]] = PeriodParams

    period: Period
    period_pick: PeriodPick

    def encode(self) -> dict[str, Any]:
        return dict(self.period_pick.params())

    @classmethod
    def over(cls, workspace: Workspace, period: Period, filters: UserFilters | None = None, **values: Any) -> Self:
        """A query built in code (another selector, a test), not parsed from a request."""
        style: PeriodStyle = getattr(cls.Params, "period_style", "ending")
        pick = PeriodPick(period, None, style)
        return cls(workspace=workspace, filters=filters or {}, period=period, period_pick=pick, **values)

    def with_period(self, period: Period) -> Self:
        """The same query over another period (asked for as start + end)."""
        return replace(self, period=period, period_pick=PeriodPick(period, None, "range"))


def _set(query: QueryDict, key: str, value: Any) -> None:
    if value is None or value == "" or value == [] or value == ():
        query.pop(key, None)
    elif isinstance(value, list | tuple):
        query.setlist(key, [_text(v) for v in value])
    else:
        query[key] = _text(value)


def _text(value: Any) -> str:
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Model):
        return str(getattr(value, "key", None) or getattr(value, "external_id", None) or value.pk)
    return str(value)


def parse_or_errors[Q: Query](query_class: type[Q], data: Any, workspace: Workspace) -> tuple[Q | None, Errors]:
    """``query_class.parse`` for callers that show errors rather than raise them."""
    try:
        return query_class.parse(data, workspace=workspace), {}
    except QueryInvalid as exc:
        return None, exc.errors
