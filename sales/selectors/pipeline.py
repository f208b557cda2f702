"""3. Open pipeline (seed 003, "the pipeline X-ray"): the open deals by stage, the deals stuck in their
stage and those nobody has worked on lately, optionally only those closing in start–end.

No JSON answer or page reads every open deal (docs/sales.md#open-pipeline): the totals by stage come
from the records' ``OpenStageFigures`` (open deals per stage and close date), the stuck deals from an
ordered walk of the (workspace, state, stage_entered_at) index, the idle ones from ordered walks of the
(workspace, state, last_activity_on) index; each list stops after the rows asked for (``LIST_CAP`` in
JSON; a CSV has the whole list)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import DateField, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Cast

from events.periods import local_midnight_utc
from records.figures import weighted_cents
from records.models import DEFAULT_STUCK_DAYS, Activity, Deal, OpenStageFigures
from records.selectors import Capped, stuck_thresholds, visible_deals
from sales.selectors.common import DEAL_FIELDS, DealRow, deal_row, deal_rows

if TYPE_CHECKING:
    from sales.queries import OpenPipelineQuery

# A deal is stuck when it has been in its current stage more than its stage's threshold in days
# (DESIGN.md section 6: a workspace setting, ``records.models.StageThreshold``); a stage without one
# uses this default (API.md: "stuck when > 30").
STUCK_AFTER_DAYS = DEFAULT_STUCK_DAYS
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
    """The open deals (visible), closing in start–end when given (then a deal without a close date is
    left out; with neither bound, every open deal counts)."""
    deals = visible_deals(query.workspace).filter(state=Deal.State.OPEN)
    if query.start is not None:
        deals = deals.filter(close_date__gte=query.start)
    if query.end is not None:
        deals = deals.filter(close_date__lte=query.end)
    return deals


def by_stage(query: OpenPipelineQuery) -> tuple[list[StageRow], int, int, int]:
    """The rows by stage (largest amount first, ties by stage) and the totals: deals, cents, weighted.
    From ``OpenStageFigures``: its rows of close dates in start–end, or all of them (the deals without
    a close date too) when neither is given."""
    figures = OpenStageFigures.objects.filter(workspace=query.workspace)
    if query.start is not None:
        figures = figures.filter(close_date__gte=query.start)
    if query.end is not None:
        figures = figures.filter(close_date__lte=query.end)
    rows = (
        figures.values("stage")
        .annotate(deals=Sum("deals"), amount=Sum("amount_cents"), weighted=Sum("weighted"))
        .order_by()
    )
    raw = [(r["stage"], r["deals"], r["amount"], r["weighted"]) for r in rows]
    stages = [StageRow(stage, deals, amount, weighted_cents(weighted)) for stage, deals, amount, weighted in raw]
    stages.sort(key=lambda row: (-row.amount_cents, row.stage))
    total_weighted = weighted_cents(sum(r[3] for r in raw))
    return stages, sum(r[1] for r in raw), sum(r[2] for r in raw), total_weighted


# --- stuck ------------------------------------------------------------------------------------------------------


def _stuck_before(query: OpenPipelineQuery, days: int) -> datetime | None:
    """The moment before which a deal entered its stage to be in it more than ``days`` days on as_of
    (local dates): days in stage > N ⇔ the local day entered ≤ as_of − N − 1 ⇔ entered before as_of − N
    begins. None: no deal can be (the threshold reaches back past the calendar's first day)."""
    if days >= (query.as_of - date.min).days:
        return None
    return local_midnight_utc(query.as_of - timedelta(days=days), query.workspace.tzinfo)


def stuck_filter(query: OpenPipelineQuery) -> Q | None:
    """The open deals stuck on as_of: per stage, entered before its threshold's moment (a stage with
    a ``StageThreshold`` row uses its days, the others ``DEFAULT_STUCK_DAYS``). Stages sharing a number
    of days share a term; the latest of the moments bounds the whole, so the index scan starts and ends
    in the index. None: no deal can be stuck."""
    thresholds, default = stuck_thresholds(query.workspace)
    special = {stage: days for stage, days in thresholds.items() if days != default}
    by_days: dict[int, list[str]] = defaultdict(list)
    for stage, days in special.items():
        by_days[days].append(stage)
    terms: list[Q] = []
    moments: list[datetime] = []
    before = _stuck_before(query, default)
    if before is not None:
        moments.append(before)
        term = Q(stage_entered_at__lt=before)
        terms.append(term & ~Q(stage__in=sorted(special)) if special else term)
    for days, stages in sorted(by_days.items()):
        before = _stuck_before(query, days)
        if before is not None:
            moments.append(before)
            terms.append(Q(stage__in=sorted(stages), stage_entered_at__lt=before))
    if len(terms) <= 1:
        return terms[0] if terms else None
    return Q(stage_entered_at__lt=max(moments)) & reduce(or_, terms)


def stuck_deals(query: OpenPipelineQuery, limit: int | None) -> Capped[StuckDeal]:
    """Open deals in their stage longer than the stage's threshold (local dates, to as_of), longest
    first: by the moment they entered it, then external id. Without a close range, an ordered walk of
    the (workspace, state, stage_entered_at) index from the oldest entry, stopping after ``limit`` + 1
    rows (with one, the database may rather read the deals of the range and sort them)."""
    stuck = stuck_filter(query)
    if stuck is None:
        return Capped([], False)
    tz = query.workspace.tzinfo
    deals = open_deals(query).filter(stuck).order_by("stage_entered_at", "external_id")
    rows, more = deal_rows(deals, limit, "stage_entered_at")
    return Capped(
        [StuckDeal(deal_row(row), (query.as_of - row["stage_entered_at"].astimezone(tz).date()).days) for row in rows],
        more,
    )


# --- idle -------------------------------------------------------------------------------------------------------


def idle_deals(query: OpenPipelineQuery, limit: int | None) -> Capped[IdleDeal]:
    """Open deals with no completed activity in the ``IDLE_WINDOW_DAYS`` days ending on as_of: never
    worked on (up to as_of) first, by external id, then the longest idle, ties by external id.

    ``Deal.last_activity_on`` (L, kept by the aggregates) is the last completed activity over all
    time, so for as_of it settles every deal but those worked on after as_of:

    - L null: never worked on → ``days_idle`` null;
    - L before the window (as_of − 13): idle, ``days_idle`` = as_of − L;
    - L in the window: not idle;
    - L after as_of: the last activity on or before as_of decides, found for just these deals through
      the (deal, occurred_on) index (they are few unless as_of lies in the past).

    A list cut to ``limit`` is read in two statements, each a union of reads cut to the rows still
    wanted and merged by the database (so the order of external ids is the database's): the deals
    never worked on up to as_of (L null — the (workspace, state, last_activity_on) index —, and those
    worked on only after as_of: no activity up to as_of, an anti-join walked in external-id order);
    then, only when they are fewer than the rows wanted, the idle ones (L before the window, walked in
    the index's order, and those worked on after as_of whose last activity up to as_of is before the
    window). The whole list (CSV) is one statement."""
    window_start = query.as_of - timedelta(days=IDLE_WINDOW_DAYS - 1)
    deals = open_deals(query)
    worked = Activity.objects.filter(deal=OuterRef("pk"), completed=True, deleted=False, occurred_on__lte=query.as_of)
    # The deals worked on after as_of, with the day of their last completed activity up to as_of.
    later = deals.filter(last_activity_on__gt=query.as_of)
    later_last = later.annotate(last_activity=Subquery(worked.order_by("-occurred_on").values("occurred_on")[:1]))
    if limit is None:
        settled = deals.filter(Q(last_activity_on__isnull=True) | Q(last_activity_on__lt=window_start))
        rows = _union(
            [
                _part(settled.annotate(last_activity=F("last_activity_on"))),
                _part(later_last, fenced=True, where=("last_activity IS NULL OR last_activity < %s", [window_start])),
            ],
            "last_activity ASC NULLS FIRST, external_id ASC",
            None,
        )
    else:
        none = Cast(Value(None), output_field=DateField())
        never = deals.filter(last_activity_on__isnull=True).annotate(last_activity=none)
        later_never = later.filter(~Exists(worked)).annotate(last_activity=none)
        rows = _union([_part(never), _part(later_never)], "external_id ASC", limit + 1)
        if len(rows) <= limit:
            before_window = deals.filter(last_activity_on__lt=window_start).annotate(
                last_activity=F("last_activity_on")
            )
            rows += _union(
                [_part(before_window), _part(later_last, fenced=True, where=("last_activity < %s", [window_start]))],
                "last_activity ASC, external_id ASC",
                limit + 1 - len(rows),
            )
    more = limit is not None and len(rows) > limit
    idle = []
    for row in rows[:limit] if limit is not None else rows:
        row["close_date"] = _date(row["close_date"])
        idle.append(IdleDeal(deal_row(row), _days(query.as_of, row["last_activity"])))
    return Capped(idle, more)


@dataclass(frozen=True)
class _Part:
    """One read of a union: a SELECT of the deal fields and ``last_activity``, and a condition on those."""

    sql: str
    params: tuple[Any, ...]
    fenced: bool
    where: str
    where_params: list[Any]


def _part(deals: QuerySet[Deal], *, fenced: bool = False, where: tuple[str, list[Any]] | None = None) -> _Part:
    """``fenced``: PostgreSQL may not merge the read into the statement around it (``OFFSET 0``), so a
    subquery in it (the last activity up to as_of) is run once per deal, not again for the condition and
    the order on its result."""
    sql, params = deals.values(*DEAL_FIELDS, "last_activity").order_by().query.sql_with_params()
    condition, arguments = where or ("", [])
    return _Part(sql, params, fenced and connection.vendor == "postgresql", condition, arguments)


def _union(parts: list[_Part], order: str, limit: int | None) -> list[dict[str, Any]]:
    """The rows of the parts, each read in ``order`` and cut to ``limit`` rows (None: all), merged in
    ``order`` and cut again, by the database."""
    cut = "" if limit is None else f" ORDER BY {order} LIMIT %s"
    cut_args: list[Any] = [] if limit is None else [limit]
    selects: list[str] = []
    arguments: list[Any] = []
    for n, part in enumerate(parts):
        fence = " OFFSET 0" if part.fenced else ""
        where = f" WHERE {part.where}" if part.where else ""
        selects.append(f"SELECT * FROM (SELECT * FROM ({part.sql}{fence}) AS all{n}{where}{cut}) AS part{n}")
        arguments += [*part.params, *part.where_params, *cut_args]
    statement = " UNION ALL ".join(selects) + f" ORDER BY {order}" + (" LIMIT %s" if limit is not None else "")
    with connection.cursor() as cursor:
        cursor.execute(statement, [*arguments, *cut_args])  # Django's own SQL, parameters apart
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _date(value: date | str | None) -> date | None:
    """A date column read without Django's converters (SQLite gives text)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _days(as_of: date, last: date | str | None) -> int | None:
    day = _date(last)
    return None if day is None else (as_of - day).days


def open_pipeline(query: OpenPipelineQuery, limit: int | None) -> OpenPipeline:
    stages, deals, amount, weighted = by_stage(query)
    return OpenPipeline(deals, amount, weighted, stages, stuck_deals(query, limit), idle_deals(query, limit))
