"""The Accounts tab's queries (``core.queries`` explains the shape): the overview, the account list (also
a saved segment's), the suggested segments and one account's page.

Each is parsed once from a request by its ``Params`` (a DRF serializer: it validates and documents the
parameters) and handed whole to ``accounts.selectors``; the page, its charts, the API endpoint and the
CSV export take the same object. The list's filter values are validated by the list's FilterSet
(``accounts.filters``), the one the selectors filter with.

These endpoints do not take the user-attribute filters of the usage tabs: ``country`` and ``status``
here are the account's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, ClassVar

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.filters import (
    DEFAULT_ORDERING,
    LIST_FIELDS,
    MAX_SEARCH_LENGTH,
    CriteriaInvalid,
    account_criteria,
)
from accounts.rules import RULE_KEYS
from core.queries import (
    MAX_LIST_VALUES,
    ChoiceParam,
    DateParam,
    ListParam,
    Query,
    QueryInvalid,
    TextParam,
    UserFilters,
    WholeNumberParam,
)
from events.periods import EARLIEST_DATE, LATEST_DATE, MAX_RANGE_DAYS, Period
from records.aggregates import next_month
from records.figures import cents_text
from records.validation import parse_cents
from tenancy.models import SavedConfig

DEFAULT_DAYS = 30
DEFAULT_BANDS = (0, 1_000_000, 10_000_000, 100_000_000)  # 0, 10,000, 100,000, 1,000,000 in cents
MAX_BANDS = 20
MONTHS = 12  # the revenue and acquisition series
NEW_MONTHS = 6  # new accounts: created in the 6 months to as_of's
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
OVERVIEW_TABLES = (
    "top_accounts", "closing_this_month", "revenue_by_month", "acquisition", "top_industries", "revenue_bands",
    "top_products", "rising_products",
)  # fmt: skip
ACCOUNT_TABLES = ("deals", "products")


def amount_param(cents: int) -> str:
    """Cents as a URL amount: ``1000000`` → ``"10000"``, ``1050`` → ``"10.50"``."""
    return str(cents // 100) if cents % 100 == 0 else str(cents_text(cents))


def _number(value: float | None) -> str | None:
    """An NPS bound as a URL writes it: ``30`` rather than ``30.0``."""
    return None if value is None else f"{value:g}"


def month_back(month: date, n: int) -> date:
    """The first of the month ``n`` months before ``month`` (a first)."""
    index = month.year * 12 + month.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


class AsOfParams(serializers.Serializer):
    """``as_of``: the day the figures are as of (default today in the workspace's time zone)."""

    as_of = DateParam(help_text="The day the figures are as of (YYYY-MM-DD, workspace time zone); default today.")

    @property
    def workspace(self) -> Any:
        return self.context["workspace"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        today = self.workspace.today()
        as_of = attrs.get("as_of")
        attrs["as_of_given"] = as_of is not None
        as_of = as_of or today
        if not EARLIEST_DATE <= as_of <= LATEST_DATE:
            message = _("Choose a date between %(first)s and %(last)s.") % {"first": EARLIEST_DATE, "last": LATEST_DATE}
            raise serializers.ValidationError({"as_of": [message]})
        if as_of > today:
            message = _("Must not be after today (%(today)s in the workspace's time zone).") % {"today": today}
            raise serializers.ValidationError({"as_of": [message]})
        attrs["as_of"] = as_of
        return attrs


@extend_schema_field(
    {"type": "array", "items": {"type": "string"}, "description": "Band lower bounds, ascending, comma-separated."}
)
class BandsParam(ListParam):
    pass


class OverviewParams(AsOfParams):
    days = WholeNumberParam(
        min_value=1,
        max_value=MAX_RANGE_DAYS,
        default=DEFAULT_DAYS,
        help_text="The products' period: the days ending on as_of (default 30); rising compares with the days before.",
    )
    bands = BandsParam(help_text="Revenue band lower bounds (amounts), ascending; default 0,10000,100000,1000000.")
    table = ChoiceParam(
        OVERVIEW_TABLES, default="top_accounts", help_text="Which list format=csv downloads (default top_accounts)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        raw = attrs.get("bands") or []
        if not raw:
            attrs["bands"] = DEFAULT_BANDS
            return attrs
        if len(raw) > MAX_BANDS:
            raise serializers.ValidationError({"bands": [_("At most %(n)d bands.") % {"n": MAX_BANDS}]})
        try:
            bands = tuple(parse_cents(value) for value in raw)
        except ValueError:
            message = _("Enter amounts of 0 or more with at most 2 decimals.")
            raise serializers.ValidationError({"bands": [message]}) from None
        if any(b <= a for a, b in zip(bands, bands[1:], strict=False)):
            raise serializers.ValidationError({"bands": [_("The bands must be in increasing order.")]})
        attrs["bands"] = bands
        return attrs


@dataclass(frozen=True, kw_only=True)
class OverviewQuery(Query):
    """The 001 overview as of a day (API.md Definitions, "Overview")."""

    Params: ClassVar[type[serializers.Serializer]] = OverviewParams

    filters: UserFilters = field(default_factory=dict)
    as_of: date
    as_of_given: bool = False
    days: int = DEFAULT_DAYS
    bands: tuple[int, ...] = DEFAULT_BANDS
    table: str = "top_accounts"

    @property
    def period(self) -> Period:
        """The products' period: ``days`` days ending on as_of."""
        return Period.ending(self.as_of, self.days, self.workspace.tzinfo)

    @property
    def month(self) -> date:
        return self.as_of.replace(day=1)

    @property
    def month_end(self) -> date:
        return next_month(self.month) - timedelta(days=1)

    @property
    def months(self) -> list[date]:
        """The 12 months ending in as_of's, oldest first (each its 1st)."""
        return [month_back(self.month, n) for n in range(MONTHS - 1, -1, -1)]

    @property
    def new_since(self) -> date:
        """The first day of the 6 months to as_of's."""
        return month_back(self.month, NEW_MONTHS - 1)

    def encode(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of if self.as_of_given else None,
            "days": self.days if self.days != DEFAULT_DAYS else None,
            "bands": ",".join(amount_param(b) for b in self.bands) if self.bands != DEFAULT_BANDS else None,
        }


# --- the account list ----------------------------------------------------------------------------------


@extend_schema_field(
    {"type": "array", "items": {"type": "string"}, "description": "Repeat the parameter for several values."}
)
class ExactListParam(ListParam):
    """Repeated values, each taken whole (an industry or an external id may hold a comma)."""

    def to_internal_value(self, data: Any) -> list[str]:
        raw = data if isinstance(data, list | tuple) else [data]
        if len(raw) > MAX_LIST_VALUES:
            raise serializers.ValidationError(_("At most %(n)d values.") % {"n": MAX_LIST_VALUES})
        return [str(item) for item in raw if str(item).strip()]


class CriteriaParams(serializers.Serializer):
    """The list's filters and ordering; their values are checked by the list's FilterSet."""

    search = TextParam(max_length=MAX_SEARCH_LENGTH, help_text="Part of the account name, any case.")
    industry = ExactListParam(help_text="Industries (repeat the parameter for several).")
    country = ListParam(help_text="Countries; repeatable or comma-separated.")
    owner = ExactListParam(help_text="Owners' CRM user external ids (repeat the parameter for several).")
    status = ListParam(help_text="active, dormant; repeatable or comma-separated.")
    min_revenue = TextParam(max_length=40, help_text="Revenue (all won deals) at least this amount.")
    max_revenue = TextParam(max_length=40, help_text="Revenue at most this amount.")
    active_since = TextParam(max_length=40, help_text="A completed activity on or after this day (YYYY-MM-DD).")
    suggested = TextParam(max_length=40, help_text="Only a suggested segment's accounts: " + ", ".join(RULE_KEYS))
    sentiment = ListParam(help_text="The latest feedback's sentiment: positive, neutral, negative; repeatable.")
    min_nps = TextParam(max_length=40, help_text="NPS (over all the account's responses) at least this, -100 to 100.")
    max_nps = TextParam(max_length=40, help_text="NPS at most this.")
    ordering = TextParam(
        max_length=40, help_text="name (default), revenue, open_pipeline, open_deals, last_activity, created…; - desc."
    )

    @property
    def workspace(self) -> Any:
        return self.context["workspace"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        raw = {name: attrs.pop(name) for name in LIST_FIELDS if name in attrs}
        try:
            attrs.update(account_criteria(self.workspace, {k: v for k, v in raw.items() if v not in ("", [])}))
        except CriteriaInvalid as exc:
            raise serializers.ValidationError(exc.errors) from None
        return attrs


class ListParams(CriteriaParams):
    page = WholeNumberParam(min_value=1, default=1)
    page_size = WholeNumberParam(min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE)


@dataclass(frozen=True, kw_only=True)
class ListQuery(Query):
    """The account list: filters, ordering and the page (API.md "accounts/")."""

    Params: ClassVar[type[serializers.Serializer]] = ListParams

    filters: UserFilters = field(default_factory=dict)
    search: str = ""
    industry: tuple[str, ...] = ()
    country: tuple[str, ...] = ()
    owner: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    min_revenue: int | None = None  # cents
    max_revenue: int | None = None
    active_since: date | None = None
    suggested: str = ""
    sentiment: tuple[str, ...] = ()  # the latest labelled feedback's
    min_nps: float | None = None
    max_nps: float | None = None
    ordering: str = DEFAULT_ORDERING
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    def saved_filters(self) -> dict[str, Any]:
        """The filters as a segment keeps them (JSON; defaults left out)."""
        values: dict[str, Any] = {
            "search": self.search,
            "industry": list(self.industry),
            "country": list(self.country),
            "owner": list(self.owner),
            "status": list(self.status),
            "min_revenue": cents_text(self.min_revenue),
            "max_revenue": cents_text(self.max_revenue),
            "active_since": self.active_since.isoformat() if self.active_since else None,
            "suggested": self.suggested,
            "sentiment": list(self.sentiment),
            "min_nps": _number(self.min_nps),
            "max_nps": _number(self.max_nps),
            "ordering": None if self.ordering == DEFAULT_ORDERING else self.ordering,
        }
        return {key: value for key, value in values.items() if value not in (None, "", [])}

    def filter_data(self) -> dict[str, Any]:
        """The values the FilterSet filters with (the ordering always named)."""
        return {**self.saved_filters(), "ordering": self.ordering}

    @property
    def narrowed(self) -> bool:
        return bool(set(self.saved_filters()) - {"ordering"})

    def encode(self) -> dict[str, Any]:
        return {
            **self.saved_filters(),
            "page": self.page if self.page > 1 else None,
            "page_size": self.page_size if self.page_size != DEFAULT_PAGE_SIZE else None,
        }


COLUMNS = (
    "industry",
    "country",
    "owner",
    "status",
    "revenue",
    "open_pipeline",
    "open_deals",
    "last_activity",
    "created",
    "nps",
    "sentiment",
    "churn_risk",
)
DEFAULT_COLUMNS = ("industry", "country", "owner", "status", "revenue", "open_pipeline", "open_deals", "last_activity")


class ListPageParams(ListParams):
    columns = ListParam(help_text="The columns the page shows.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        asked = attrs.get("columns") or []
        unknown = [c for c in asked if c not in COLUMNS]
        if unknown:
            message = _("Unknown column: %(bad)s. Use: %(names)s.") % {
                "bad": ", ".join(unknown),
                "names": ", ".join(COLUMNS),
            }
            raise serializers.ValidationError({"columns": [message]})
        attrs["columns"] = tuple(asked) if asked else DEFAULT_COLUMNS  # in the order asked
        return attrs


@dataclass(frozen=True, kw_only=True)
class ListPageQuery(ListQuery):
    """The list page: the list's query and the columns shown (kept in the query string)."""

    Params: ClassVar[type[serializers.Serializer]] = ListPageParams

    columns: tuple[str, ...] = DEFAULT_COLUMNS

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "columns": list(self.columns) if self.columns != DEFAULT_COLUMNS else None}

    def list_query(self) -> ListQuery:
        return self.derive(ListQuery)


# --- segments ------------------------------------------------------------------------------------------


def segment_filters(workspace: Any, data: Any) -> dict[str, Any]:
    """A segment's ``filters`` (a JSON object of list parameters: no page) validated as the list's and
    returned in their saved form; ``QueryInvalid`` naming each key at fault."""
    if not isinstance(data, Mapping):
        raise QueryInvalid({"non_field_errors": [_("The filters must be a JSON object.")]})
    unknown = [str(key) for key in data if key not in LIST_FIELDS]
    if unknown:
        raise QueryInvalid({key: [_("Not a filter of the account list.")] for key in unknown})
    params = CriteriaParams(data=dict(data), context={"workspace": workspace})
    if not params.is_valid():
        raise QueryInvalid(params.errors)
    return ListQuery.build(workspace, dict(params.validated_data)).saved_filters()


def segment_list_query(workspace: Any, filters: Mapping[str, Any], params: QueryDict | Mapping[str, Any]) -> ListQuery:
    """A segment's accounts: its filters, with the ordering (when asked), page and page size of ``params``."""
    data: dict[str, Any] = dict(filters)
    for name in ("ordering", "page", "page_size"):
        value = params.get(name)
        if value not in (None, ""):
            data[name] = value
    return ListQuery.parse(data, workspace=workspace)


# --- one account ---------------------------------------------------------------------------------------


class AccountParams(serializers.Serializer):
    table = ChoiceParam(ACCOUNT_TABLES, default="deals", help_text="Which list format=csv downloads (default deals).")


@dataclass(frozen=True, kw_only=True)
class AccountQuery(Query):
    Params: ClassVar[type[serializers.Serializer]] = AccountParams

    filters: UserFilters = field(default_factory=dict)
    table: str = "deals"


class AccountChartParams(serializers.Serializer):
    account = TextParam(
        max_length=128, required=True, allow_blank=False, trim_whitespace=False, help_text="The account's external id."
    )


@dataclass(frozen=True, kw_only=True)
class AccountChartQuery(Query):
    """An account's revenue chart: the account by external id (looked up in the workspace)."""

    Params: ClassVar[type[serializers.Serializer]] = AccountChartParams

    filters: UserFilters = field(default_factory=dict)
    account: str

    def encode(self) -> dict[str, Any]:
        return {"account": self.account}


class SegmentSaveParams(serializers.Serializer):
    """What saving a segment from a page adds to its filters: the model fields' rules."""

    name = serializers.CharField(max_length=200)
    visibility = serializers.ChoiceField(choices=SavedConfig.Visibility.choices, default=SavedConfig.Visibility.PRIVATE)
