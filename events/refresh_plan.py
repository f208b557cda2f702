"""How a rollup refresh is cut into pieces that Celery workers run in parallel (plain functions; the
Celery plumbing is in ``events/tasks.py``, the recomputing itself in ``events/rollups.py``).

A recompute locks only its own local days (PostgreSQL advisory locks), so pieces made of disjoint
days of one workspace run at the same time on several workers:

* a **full rebuild** reads the dirty marks, finds the span of local days that have events, drops
  the rollups outside it (``rollups_drop_outside``), and then every chunk of ``rebuild_chunks`` is
  one piece (``rollups_rebuild_days``: exactly what the serial ``rollups_rebuild`` does per chunk);
* a **dirty refresh** groups the dirty days into runs separated by at least ``RUN_GAP_DAYS`` days,
  so that the session days (±1 day) of two runs never overlap; a short run is one piece
  (``rollups_recompute_days``), a long one (a backfill) is cut into rebuild chunks of its days
  widened by one day on each side (the same rows: that is the same set of session days).

When every piece is done, the marks read at the start are deleted, each only if it still carries
the token read then (a day marked again meanwhile stays dirty for the next refresh).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Max, Min, Q

from events.models import DirtyDay, Event, Workspace
from events.rollups import CHUNK_DAYS, rebuild_chunks, rollups_drop_outside

# Two dirty days at least this far apart recompute disjoint session days (D±1).
RUN_GAP_DAYS = 3
# A run spanning more days than this is cut into rebuild chunks (else it is one piece).
LONG_RUN_DAYS = 2 * CHUNK_DAYS

Marks = dict[date, str]
# JSON-friendly forms, as passed in Celery messages.
MarksJson = list[list[str]]


@dataclass(frozen=True, slots=True)
class Piece:
    """One unit of parallel work: recompute the dirty ``days`` (with their ±1 session days), or
    rebuild every rollup of ``first``..``last`` (when ``days`` is empty)."""

    days: tuple[date, ...] = ()
    first: date | None = None
    last: date | None = None


@dataclass(frozen=True, slots=True)
class RebuildPlan:
    first: date
    last: date
    chunks: list[tuple[date, date]]
    marks: Marks

    @property
    def day_count(self) -> int:
        return (self.last - self.first).days + 1


def dirty_marks(*, workspace: Workspace) -> Marks:
    return dict(DirtyDay.objects.filter(workspace=workspace).values_list("day", "token"))


def marks_to_json(marks: Marks) -> MarksJson:
    return [[day.isoformat(), token] for day, token in sorted(marks.items())]


def marks_from_json(items: Iterable[Iterable[str]]) -> Marks:
    return {date.fromisoformat(day): token for day, token in items}


def marks_clear(*, workspace_id: int, marks: Marks) -> int:
    """Delete the marks that still carry the token read at the start; return how many went."""
    deleted = 0
    items = sorted(marks.items())
    for start in range(0, len(items), 200):
        condition = Q(pk__in=[])
        for day, token in items[start : start + 200]:
            condition |= Q(day=day, token=token)
        deleted += DirtyDay.objects.filter(condition, workspace_id=workspace_id).delete()[0]
    return deleted


def event_span(*, workspace: Workspace) -> tuple[date, date] | None:
    """The first and last local day with an event, or None without events."""
    bounds = Event.objects.filter(workspace=workspace).aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    if bounds["first"] is None:
        return None
    tz = workspace.tzinfo
    return bounds["first"].astimezone(tz).date(), bounds["last"].astimezone(tz).date()


def rebuild_prepare(*, workspace: Workspace) -> RebuildPlan | None:
    """The first, serial step of a parallel full rebuild: read the marks (before anything else, as
    ``rollups_rebuild`` does), find the span and drop the rollups outside it. None without events
    (then ``rollups_rebuild`` clears everything)."""
    marks = dirty_marks(workspace=workspace)
    span = event_span(workspace=workspace)
    if span is None:
        return None
    first, last = span
    rollups_drop_outside(workspace=workspace, first=first, last=last)
    return RebuildPlan(first=first, last=last, chunks=rebuild_chunks(first, last), marks=marks)


def dirty_runs(days: Iterable[date], gap: int = RUN_GAP_DAYS) -> list[list[date]]:
    """Sorted days grouped into runs; a new run starts where the previous day is ``gap`` or more
    days back, so the ±1 session days of two runs never overlap."""
    runs: list[list[date]] = []
    for day in sorted(set(days)):
        if runs and (day - runs[-1][-1]).days < gap:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def refresh_pieces(days: Iterable[date]) -> list[Piece]:
    """The pieces of a dirty refresh (see the module docstring), in day order, with disjoint days."""
    pieces: list[Piece] = []
    for run in dirty_runs(days):
        if (run[-1] - run[0]).days + 1 <= LONG_RUN_DAYS:
            pieces.append(Piece(days=tuple(run)))
        else:
            # Dirty features on run[0]..run[-1] and sessions on run[0]-1..run[-1]+1: rebuilding every
            # rollup of the widened span gives the same rows (the extra days were clean).
            widened = (run[0] - timedelta(days=1), run[-1] + timedelta(days=1))
            pieces.extend(Piece(first=first, last=last) for first, last in rebuild_chunks(*widened))
    return pieces
