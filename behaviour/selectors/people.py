"""The users behind a figure of retention, lifecycle and stickiness (``people=``, docs/drilldown.md),
found from the same masks as the figure (``behaviour.selectors.cohorts``), so that their number is
the figure. A selector naming no figure of the answer is ``NotAFigure`` (a 400 naming ``people``)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from behaviour.selectors.cohorts import (
    LIFECYCLE_STATES,
    lifecycle,
    lifecycle_people,
    retention,
    retention_people,
    stickiness_people,
)
from core.people import NotAFigure

if TYPE_CHECKING:
    from behaviour.queries import LifecycleQuery, RetentionQuery, StickinessQuery


def _pair(text: str) -> tuple[date, str] | None:
    """``<date>:<rest>`` → (date, rest); None when it is not one."""
    day, colon, rest = text.partition(":")
    if not colon:
        return None
    try:
        return date.fromisoformat(day), rest
    except ValueError:
        return None


def cell_people(query: RetentionQuery) -> list[int]:
    """``<cohort>:<offset>``: a cell shown (its interval has started)."""
    pair = _pair(query.people)
    offset = int(pair[1]) if pair and pair[1].isdigit() else None
    if pair is None or offset is None:
        raise NotAFigure(query.people, "<cohort>:<offset>")
    cohort = next((c for c in retention(query) if c.start == pair[0]), None)
    if cohort is None or offset >= len(cohort.values) or cohort.values[offset].users is None:
        raise NotAFigure(query.people)
    return retention_people(query, cohort.start, offset)


def bar_people(query: LifecycleQuery) -> list[int]:
    """``<bucket>:<new|returning|resurrecting|dormant>``; dormant: the users who went dormant."""
    pair = _pair(query.people)
    if pair is None or pair[1] not in LIFECYCLE_STATES:
        raise NotAFigure(query.people, "<bucket>:" + "|".join(LIFECYCLE_STATES))
    if pair[0] not in {b.bucket for b in lifecycle(query)}:
        raise NotAFigure(query.people)
    return lifecycle_people(query, pair[0], pair[1])


def stickiness_bar_people(query: StickinessQuery) -> list[int]:
    """``<active_days>``: 1 … the period's days."""
    text = query.people
    if not text.isdigit() or not 1 <= int(text) <= query.period.days:
        raise NotAFigure(text, f"1 … {query.period.days}")
    return stickiness_people(query, int(text))
