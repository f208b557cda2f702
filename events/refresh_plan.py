"""How a full rollup rebuild is cut into chunks that Celery workers run in parallel (plain
functions; the Celery plumbing is in ``events/tasks.py``, the recomputing in ``events/rollups.py``).

A recompute locks only its own local days (PostgreSQL advisory locks), so chunks of disjoint days of
one workspace run at the same time on several workers. A full rebuild reads the dirty marks, finds
the span of local days that have events, drops the rollups outside it (``rollups_drop_outside``),
and then every chunk of ``rebuild_chunks`` is one task (``rollups_rebuild_days``: exactly what the
serial ``rollups_rebuild`` does per chunk). When every chunk is done, the marks read at the start
are deleted, each only if it still carries the token read then (a day marked again meanwhile stays
dirty for the next refresh).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from events.rollups import dirty_marks, event_span, rebuild_chunks, rollups_drop_outside
from tenancy.models import Workspace

Marks = dict[date, str]
# JSON-friendly forms, as passed in Celery messages.
MarksJson = list[list[str]]


@dataclass(frozen=True, slots=True)
class RebuildPlan:
    first: date
    last: date
    chunks: list[tuple[date, date]]
    marks: Marks

    @property
    def day_count(self) -> int:
        return (self.last - self.first).days + 1


def marks_to_json(marks: Marks) -> MarksJson:
    return [[day.isoformat(), token] for day, token in sorted(marks.items())]


def marks_from_json(items: Iterable[Iterable[str]]) -> Marks:
    return {date.fromisoformat(day): token for day, token in items}


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
