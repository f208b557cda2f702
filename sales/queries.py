"""The Sales tab's queries (API.md "Accounts and sales", docs/sales.md): one per dashboard.

Four dashboards ask for a period as ``start`` + ``end`` (``SalesParams``: the 30 days ending today by
default, as every tab); the month dashboards (pipeline generation, forecast) cover start's month to
end's month and may look ahead: their ``end`` may be after today. The open pipeline takes ``as_of``
(the day its days in stage and days idle are counted to) and an optional close-date filter
``start``–``end``; clean house takes ``as_of``.

Every query also takes ``table``: which of the dashboard's lists ``format=csv`` downloads (the main
one by default). The user filters (language, country…) are checked as on every endpoint (a bad value
is a 400) but do not narrow the sales figures: they describe CRM users, not deals (docs/sales.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.queries import ChoiceParam, DateParam, PeriodParams, PeriodQuery, Query, UserFilterParams, WholeNumberParam
from events.periods import EARLIEST_DATE, LATEST_DATE, months_between

TABLE_HELP = "Which list format=csv downloads: "


def table_param(choices: list[str]) -> ChoiceParam:
    return ChoiceParam(
        choices, default=choices[0], help_text=TABLE_HELP + ", ".join(choices) + f" (default {choices[0]})."
    )


class SalesParams(PeriodParams):
    default_days = 30
    period_style = "range"


class AheadParams(SalesParams):
    """A period whose ``end`` may lie after today: deals close, and quotas fall, in the months ahead."""

    def _not_future(self, day: date, field: str, today: date) -> None:  # type: ignore[override]
        if field != "end":
            PeriodParams._not_future(day, field, today)


def _check_day(value: date | None, field: str) -> None:
    if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
        message = _("Must be between %(first)s and %(last)s.") % {"first": EARLIEST_DATE, "last": LATEST_DATE}
        raise serializers.ValidationError({field: [message]})


def _as_of(params: UserFilterParams, value: date | None) -> date:
    """``as_of``, default today; never after today."""
    today = params.workspace.today()
    _check_day(value, "as_of")
    if value is not None and value > today:
        message = _("Must not be after today (%(today)s in the workspace's time zone).") % {"today": today}
        raise serializers.ValidationError({"as_of": [message]})
    return value or today


# --- 1. state of the union -----------------------------------------------------------------------------------

UNION_TABLES = ["leaderboard", "top_deals"]
MAX_LIMIT = 100


class UnionParams(SalesParams):
    limit = WholeNumberParam(min_value=1, max_value=MAX_LIMIT, default=10, help_text="Top deals shown (default 10).")
    table = table_param(UNION_TABLES)


@dataclass(frozen=True, kw_only=True)
class SalesQuery(PeriodQuery):
    """A dashboard over a period; ``table`` picks the CSV's list."""

    default_table: ClassVar[str] = ""
    table: str = ""  # "": the default table

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "table": None if self.table in ("", self.default_table) else self.table}

    @property
    def months(self) -> list[date]:
        """The first day of every month from start's month to end's month."""
        return months_between(self.period.start, self.period.end)


@dataclass(frozen=True, kw_only=True)
class UnionQuery(SalesQuery):
    Params: ClassVar[type[serializers.Serializer]] = UnionParams
    default_table: ClassVar[str] = "leaderboard"

    limit: int = 10

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "limit": self.limit}


# --- 2. activity ---------------------------------------------------------------------------------------------


class ActivityParams(SalesParams):
    table = table_param(["rows", "reps"])


@dataclass(frozen=True, kw_only=True)
class ActivityQuery(SalesQuery):
    Params: ClassVar[type[serializers.Serializer]] = ActivityParams
    default_table: ClassVar[str] = "rows"


# --- 3. open pipeline -----------------------------------------------------------------------------------------


class OpenPipelineParams(UserFilterParams):
    as_of = DateParam(help_text="The day days in stage and days idle count to (YYYY-MM-DD); default today.")
    start = DateParam(help_text="Only deals closing on or after this day (optional).")
    end = DateParam(help_text="Only deals closing on or before this day (optional).")
    table = table_param(["by_stage", "stuck", "idle"])

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs["as_of"] = _as_of(self, attrs.get("as_of"))
        start, end = attrs.get("start"), attrs.get("end")
        _check_day(start, "start")
        _check_day(end, "end")
        if start is not None and end is not None and start > end:
            raise serializers.ValidationError({"start": [_("Must not be after end.")]})
        return attrs


@dataclass(frozen=True, kw_only=True)
class OpenPipelineQuery(Query):
    Params: ClassVar[type[serializers.Serializer]] = OpenPipelineParams

    as_of: date
    start: date | None = None  # close_date filter, inclusive; None: no bound
    end: date | None = None
    table: str = "by_stage"

    def encode(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of, "start": self.start, "end": self.end,
            "table": None if self.table == "by_stage" else self.table,
        }  # fmt: skip


# --- 4. pipeline generation, 5. forecast ---------------------------------------------------------------------


class GenerationParams(AheadParams):
    table = table_param(["months", "reps"])


@dataclass(frozen=True, kw_only=True)
class GenerationQuery(SalesQuery):
    Params: ClassVar[type[serializers.Serializer]] = GenerationParams
    default_table: ClassVar[str] = "months"


class ForecastParams(AheadParams):
    table = table_param(["months", "categories"])


@dataclass(frozen=True, kw_only=True)
class ForecastQuery(SalesQuery):
    Params: ClassVar[type[serializers.Serializer]] = ForecastParams
    default_table: ClassVar[str] = "months"


# --- 6. clean house -------------------------------------------------------------------------------------------

CLEAN_HOUSE_TABLES = ["past_due", "missing_amount", "missing_close_date", "ownerless_accounts", "duplicate_accounts"]


class CleanHouseParams(UserFilterParams):
    as_of = DateParam(help_text="The day deals are past due on (YYYY-MM-DD); default today.")
    table = table_param(CLEAN_HOUSE_TABLES)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs["as_of"] = _as_of(self, attrs.get("as_of"))
        return attrs


@dataclass(frozen=True, kw_only=True)
class CleanHouseQuery(Query):
    Params: ClassVar[type[serializers.Serializer]] = CleanHouseParams

    as_of: date
    table: str = "past_due"

    def encode(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "table": None if self.table == "past_due" else self.table}
