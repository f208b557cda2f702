"""Writes of the Funnels area: saved funnels and their cached results.

Saving a funnel enqueues the computation of its result after the commit, so the page has numbers by
the time someone opens it. New events make results *stale* (``funnels_mark_stale``, called by the
refresh task after the rollups of the days concerned were rebuilt); ``funnels_refresh_stale`` then
recomputes each stale result once, however many batches arrived in between. A saved funnel's figures
are read through ``funnel_results``: the stored result while it is fresh (``funnel_result_is_fresh``),
else computed (docs/metrics.md#saved-funnels).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from events.models import Event
from events.periods import Period
from funnels.definition import FunnelSpec
from funnels.models import Funnel, FunnelResult
from funnels.queries import FunnelQuery, FunnelResultsQuery
from funnels.selectors import (
    FunnelData,
    FunnelTrends,
    TimeToConvert,
    funnel_compute,
    funnel_time_to_convert,
    funnel_trends,
)
from funnels.signals import funnel_saved
from tenancy.models import Workspace
from tenancy.services import audit_saved_config, field_values

logger = logging.getLogger(__name__)

FUNNEL_FIELDS = (
    "name",
    "steps",
    "unit",
    "window_days",
    "order",
    "range_start",
    "range_end",
    "range_days",
    "filters",
    "breakdown",
    "visibility",
    "exclusions",
)

# What a saved funnel's stored result holds besides its steps: the time to convert from the first
# step to the last and the weekly conversion over time, the views its page opens with.
STORED_INTERVAL = "week"


def _enqueue_refresh(funnel_id: int) -> None:
    """Once the transaction commits, announce the saved funnel (``funnels.signals.funnel_saved``):
    its results are queued for computing (``funnels.tasks``)."""
    transaction.on_commit(lambda: funnel_saved.send(sender=Funnel, funnel_id=funnel_id))


def funnel_create(*, workspace: Workspace, owner: Any, data: dict[str, Any]) -> Funnel:
    """Create a funnel from validated data (``funnels.queries.SavedFunnelParams``) and queue its results."""
    with transaction.atomic():
        funnel = Funnel(workspace=workspace, owner=owner, **{k: v for k, v in data.items() if k in FUNNEL_FIELDS})
        funnel.full_clean()
        funnel.save()
        audit_saved_config(actor=owner, instance=funnel, before=None)
        _enqueue_refresh(funnel.pk)
    return funnel


def funnel_update(*, funnel: Funnel, data: dict[str, Any], actor: Any = None) -> Funnel:
    """Change a funnel; if what its numbers depend on changed, its cached result is recomputed."""
    with transaction.atomic():
        values = field_values(funnel)
        before = (funnel.signature(), funnel.default_period())
        for key, value in data.items():
            if key in FUNNEL_FIELDS:
                setattr(funnel, key, value)
        funnel.full_clean()
        funnel.save()
        audit_saved_config(actor=actor, instance=funnel, before=values)
        if (funnel.signature(), funnel.default_period()) != before:
            FunnelResult.objects.filter(funnel=funnel).update(stale=True)
            _enqueue_refresh(funnel.pk)
    return funnel


def funnel_delete(*, funnel: Funnel, actor: Any = None) -> None:
    with transaction.atomic():
        audit_saved_config(actor=actor, instance=funnel, before=None, deleted=True)
        funnel.delete()


def funnel_results_refresh(*, funnel: Funnel) -> FunnelResult:
    """Compute the funnel over its default range now and store it as its cached result.

    The stale mark is cleared *before* computing, so a mark made by events arriving meanwhile
    survives the save and the next refresh picks it up.
    """
    FunnelResult.objects.filter(funnel=funnel, stale=True).update(stale=False)
    return _compute_and_store(funnel)


def _compute_and_store(funnel: Funnel) -> FunnelResult:
    period = funnel.default_period()
    signature = funnel.signature()
    started = time.monotonic()
    query = FunnelQuery.over(
        funnel.workspace, period, funnel.filters, definition=FunnelSpec.of(funnel), interval=STORED_INTERVAL
    )
    payload = {
        **funnel_compute(query).as_dict(),
        "time_to_convert": funnel_time_to_convert(query).as_dict(),
        "trends": funnel_trends(query).as_dict(),
    }
    duration_ms = int((time.monotonic() - started) * 1000)
    result, _created = FunnelResult.objects.update_or_create(
        funnel=funnel,
        defaults={
            "range_start": period.start,
            "range_end": period.end,
            "signature": signature,
            "payload": payload,
            "computed_at": timezone.now(),
            "duration_ms": duration_ms,
        },
    )
    return result


def funnel_result_is_fresh(*, funnel: Funnel, result: FunnelResult | None) -> bool:
    """Whether a stored result still answers for the funnel: not marked stale, made for its current
    definition and for its current saved range."""
    if result is None or result.stale or result.signature != funnel.signature():
        return False
    period = funnel.default_period()
    return (result.range_start, result.range_end) == (period.start, period.end)


def funnel_saved_results(*, funnel: Funnel) -> tuple[FunnelData, FunnelResult, bool]:
    """The saved funnel over its saved range: the stored result when fresh, else computed now (and
    stored). The flag says whether it came from the store."""
    result = FunnelResult.objects.filter(funnel=funnel).first()
    cached = funnel_result_is_fresh(funnel=funnel, result=result)
    if result is None or not cached:
        result = funnel_results_refresh(funnel=funnel)
    return FunnelData.from_dict(result.payload), result, cached


@dataclass(frozen=True)
class FunnelResults:
    """A saved funnel's figures for a query, and where they come from."""

    data: FunnelData
    period: Period  # the range the attempts started in
    computed_at: datetime
    stored: FunnelResult | None  # the stored result (the saved range and filters); None: computed, not stored
    cached: bool = False  # whether the stored result was fresh (else it was computed for this request)
    time_to_convert: TimeToConvert | None = None  # with view=time_to_convert
    trends: FunnelTrends | None = None  # with view=trends


# What a saved funnel's page shows: every view the stored result can hold.
PAGE_VIEWS = ("steps", "time_to_convert", "trends")


def funnel_results(query: FunnelResultsQuery, views: tuple[str, ...] = ()) -> FunnelResults:
    """The saved funnel for ``query``, with ``views`` filled (default: the one the query asks for):
    over its saved range and filters, from the stored result (computed and stored when missing or
    stale), which also holds the time to convert from the first step to the last and the weekly
    conversion over time; otherwise, and for other steps or intervals, computed now and not stored.
    A single view computed now is stamped as such (``cached`` false)."""
    wanted = set(views or (query.view,))
    computation = query.computation()
    if query.custom:
        data = funnel_compute(computation) if "steps" in wanted else FunnelData([])
        results = FunnelResults(data, query.period, timezone.now(), None)
        payload: dict[str, Any] = {}
    else:
        data, stored, cached = funnel_saved_results(funnel=query.funnel)
        results = FunnelResults(data, query.period, stored.computed_at, stored, cached)
        payload = stored.payload
    stamped = "steps" in wanted  # the steps' stamp stays; a view alone carries its own
    if "time_to_convert" in wanted:
        kept = payload.get("time_to_convert")
        if kept and (kept["from_step"], kept["to_step"]) == computation.convert_steps:
            results = replace(results, time_to_convert=TimeToConvert.from_dict(kept))
        else:
            results = replace(
                results if stamped else _computed_now(results), time_to_convert=funnel_time_to_convert(computation)
            )
    if "trends" in wanted:
        kept = payload.get("trends")
        if kept and kept["interval"] == query.interval:
            results = replace(results, trends=FunnelTrends.from_dict(kept))
        else:
            results = replace(results if stamped else _computed_now(results), trends=funnel_trends(computation))
    return results


def _computed_now(results: FunnelResults) -> FunnelResults:
    """A view the stored result does not hold is computed for the request: say so."""
    return replace(results, computed_at=timezone.now(), stored=None, cached=False)


def _affected_by(result: FunnelResult, window_days: int, days: Iterable[date]) -> bool:
    """Whether events on these local days can change the result: its range up to the end + window."""
    last = result.range_end + timedelta(days=window_days)
    return any(result.range_start <= day <= last for day in days)


def funnels_mark_stale(*, workspace: Workspace, days: Iterable[date] | None = None, everything: bool = False) -> int:
    """Mark stale the cached results that events on ``days`` can change; return how many.

    Without ``days`` (the caller does not know which days changed), a result is stale when an event
    it covers was received after it was computed; with ``everything``, every result is.
    """
    results = list(
        FunnelResult.objects.filter(funnel__workspace=workspace, stale=False).select_related("funnel__workspace")
    )
    stale: list[int] = []
    if everything:
        stale = [r.pk for r in results]
    elif days is not None:
        days = set(days)
        stale = [r.pk for r in results if _affected_by(r, r.funnel.window_days, days)]
    else:
        for r in results:
            period = Period(r.range_start, r.range_end, workspace.tzinfo)
            window = timedelta(days=r.funnel.window_days)
            if Event.objects.filter(
                workspace=workspace,
                occurred_at__gte=period.start_utc,
                occurred_at__lt=period.end_utc + window,
                received_at__gt=r.computed_at,
            ).exists():
                stale.append(r.pk)
    return FunnelResult.objects.filter(pk__in=stale, stale=False).update(stale=True) if stale else 0


def funnel_refresh_if_stale(*, funnel_id: int) -> bool:
    """Recompute one stale result, unless another worker already claimed it; return whether this did.

    The claim is a conditional update (stale → not stale), so of two tasks racing for the same result
    exactly one computes it. Events arriving during the computation mark it stale again, for the next
    refresh. If the computation fails the mark is put back.
    """
    if not FunnelResult.objects.filter(funnel_id=funnel_id, stale=True).update(stale=False):
        return False
    funnel = Funnel.objects.select_related("workspace").filter(pk=funnel_id).first()
    if funnel is None:
        return False
    try:
        _compute_and_store(funnel)
    except Exception:
        FunnelResult.objects.filter(funnel_id=funnel_id).update(stale=True)
        raise
    return True


def funnels_refresh_stale(
    *, workspace: Workspace, days: Iterable[date] | None = None, everything: bool = False, limit: int
) -> int:
    """Mark what ``days`` made stale, then recompute the stale results of the workspace once each,
    at most ``limit`` of them (the most recently changed funnels first; the others stay stale)."""
    funnels_mark_stale(workspace=workspace, days=days, everything=everything)
    ids = (
        FunnelResult.objects.filter(funnel__workspace=workspace, stale=True)
        .order_by("-funnel__updated_at", "-funnel_id")
        .values_list("funnel_id", flat=True)[:limit]
    )
    return sum(funnel_refresh_if_stale(funnel_id=funnel_id) for funnel_id in list(ids))
