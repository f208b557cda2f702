"""The Perception selectors' answers cached until the workspace's records change (``records.versions``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from events.periods import Period
from records.models import Account
from records.versions import cached_answer
from tenancy.models import Workspace


class PeriodAnswer(Protocol):
    """What both the metrics' and the voice's queries have (frozen dataclasses: read-only)."""

    @property
    def workspace(self) -> Workspace: ...

    @property
    def period(self) -> Period: ...

    @property
    def account(self) -> Account | None: ...


# The kinds of records each family of answers reads: a write to another kind leaves them cached.
METRIC_KINDS = ("accounts", "contracts", "surveys", "retention-spend")
VOICE_KINDS = ("accounts", "feedback")


def period_cached[T](
    name: str, kinds: tuple[str, ...], query: PeriodAnswer, compute: Callable[[], T], *parts: Any
) -> T:
    """``compute()``, cached under ``name`` until the records of ``kinds`` change, keyed on the query's
    period, its time zone and account filter and ``parts`` (whatever else the answer depends on: the
    callers name every part). Callers with a segment do not come here: a segment's accounts depend on
    the aggregates too, so those reads compute."""
    period = query.period
    key = (period.start, period.end, period.tz.key, query.account.pk if query.account else None, *parts)
    return cached_answer(query.workspace, kinds, name, key, compute)
