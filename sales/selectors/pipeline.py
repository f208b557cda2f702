"""3. Open pipeline (seed 003, "the pipeline X-ray"): the open deals by stage, the deals stuck in their
stage and those nobody has worked on lately, optionally only those closing in start–end.

The stage is on no aggregate, so these read the open deals themselves, always through the
(workspace, state, close_date) index: the totals by stage are summed by the database, the lists come
back ordered and cut to the rows asked for (``LIST_CAP`` in JSON, all in CSV)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Sum

from events.periods import local_midnight_utc
from records.aggregates import AMOUNT
from records.figures import weighted_cents
from records.models import Activity, Deal
from records.selectors import visible_deals
from sales.selectors.common import DEAL_FIELDS, Capped, DealRow, deal_row, deal_rows

if TYPE_CHECKING:
    from sales.queries import OpenPipelineQuery

# A deal is stuck when it has been in its current stage more than this many days (DESIGN.md section 6:
# "the stage's threshold, workspace setting, default 30"; API.md fixes it at 30 until there is one).
STUCK_AFTER_DAYS = 30
# A deal is idle when no completed activity on it falls in the this-many days ending on as_of.
IDLE_WINDOW_DAYS = 14


@dataclass(frozen=True)
class StageRow:
    stage: str
    deals: int
    amount_cents: int
    weighted_cents: int  # Σ amount × probability / 100, rounded half up once


@dataclass(frozen=True)
class StuckDeal:
    deal: DealRow
    days_in_stage: int


@dataclass(frozen=True)
class IdleDeal:
    deal: DealRow
    days_idle: int | None  # None: no completed activity on the deal, ever (up to as_of)


@dataclass(frozen=True)
class OpenPipeline:
    deals: int
    amount_cents: int
    weighted_cents: int
    by_stage: list[StageRow]
    stuck: Capped[StuckDeal]
    idle: Capped[IdleDeal]


def open_deals(query: OpenPipelineQuery) -> QuerySet[Deal]:
    """The open deals (visible), closing in start–end when given."""
    deals = visible_deals(query.workspace).filter(state=Deal.State.OPEN)
    if query.start is not None:
        deals = deals.filter(close_date__gte=query.start)
    if query.end is not None:
        deals = deals.filter(close_date__lte=query.end)
    return deals


def by_stage(query: OpenPipelineQuery) -> tuple[list[StageRow], int, int, int]:
    """The rows by stage (largest amount first, ties by stage) and the totals: deals, cents, weighted."""
    rows = (
        open_deals(query)
        .values("stage")
        .annotate(deals=Count("id"), amount=Sum(AMOUNT), weighted=Sum(AMOUNT * F("probability")))
        .order_by()
    )
    raw = [(r["stage"], r["deals"], r["amount"] or 0, r["weighted"] or 0) for r in rows]
    stages = [StageRow(stage, deals, amount, weighted_cents(weighted)) for stage, deals, amount, weighted in raw]
    stages.sort(key=lambda row: (-row.amount_cents, row.stage))
    total_weighted = weighted_cents(sum(r[3] for r in raw))
    return stages, sum(r[1] for r in raw), sum(r[2] for r in raw), total_weighted


def stuck_deals(query: OpenPipelineQuery, limit: int | None) -> Capped[StuckDeal]:
    """Open deals more than ``STUCK_AFTER_DAYS`` days (local dates, to as_of) in their stage, longest
    first: by the moment they entered it, then external id."""
    tz = query.workspace.tzinfo
    # days in stage > N ⇔ the local day entered ≤ as_of − N − 1 ⇔ entered before as_of − N begins.
    cutoff = local_midnight_utc(query.as_of - timedelta(days=STUCK_AFTER_DAYS), tz)
    deals = open_deals(query).filter(stage_entered_at__lt=cutoff).order_by("stage_entered_at", "external_id")
    rows, more = deal_rows(deals, limit, "stage_entered_at")
    stuck = [
        StuckDeal(deal_row(row), (query.as_of - row["stage_entered_at"].astimezone(tz).date()).days) for row in rows
    ]
    return Capped(stuck, more)


def idle_deals(query: OpenPipelineQuery, limit: int | None) -> Capped[IdleDeal]:
    """Open deals with no completed activity in the ``IDLE_WINDOW_DAYS`` days ending on as_of: never
    worked on first, then the longest idle, ties by external id.

    Each open deal's last completed activity up to as_of is one probe of the (deal, occurred_on) index,
    made once per deal: the deals with it are read in a subquery that PostgreSQL may not merge into
    the outer one (``OFFSET 0``), so the filter and the order on it do not probe again."""
    window_start = query.as_of - timedelta(days=IDLE_WINDOW_DAYS - 1)
    last = (
        Activity.objects.filter(deal=OuterRef("pk"), completed=True, deleted=False, occurred_on__lte=query.as_of)
        .order_by("-occurred_on")
        .values("occurred_on")[:1]
    )
    deals = open_deals(query).annotate(last_activity=Subquery(last)).values(*DEAL_FIELDS, "last_activity")
    inner, params = deals.order_by().query.sql_with_params()
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
    sql = (
        f"SELECT * FROM ({inner}{fence}) AS open_deals"  # noqa: S608 - Django's own SQL, parameters apart
        " WHERE last_activity IS NULL OR last_activity < %s"
        " ORDER BY last_activity ASC NULLS FIRST, external_id ASC"
    )
    arguments: list[Any] = [*params, window_start]
    if limit is not None:
        sql += " LIMIT %s"
        arguments.append(limit + 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, arguments)
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    more = limit is not None and len(rows) > limit
    idle = []
    for row in rows[:limit] if limit is not None else rows:
        row["close_date"] = _date(row["close_date"])
        idle.append(IdleDeal(deal_row(row), _days(query.as_of, row["last_activity"])))
    return Capped(idle, more)


def _date(value: date | str | None) -> date | None:
    """A date column read without Django's converters (SQLite gives text)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _days(as_of: date, last: date | str | None) -> int | None:
    day = _date(last)
    return None if day is None else (as_of - day).days


def open_pipeline(query: OpenPipelineQuery, limit: int | None) -> OpenPipeline:
    stages, deals, amount, weighted = by_stage(query)
    return OpenPipeline(deals, amount, weighted, stages, stuck_deals(query, limit), idle_deals(query, limit))
