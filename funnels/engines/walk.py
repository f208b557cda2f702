"""What every engine starts from: one funnel computation (``Walk``), the step conditions, and the
events that can matter, read as integers.

Times are integer microseconds since the epoch throughout (``epoch_us``, ``EpochMicroseconds``):
they compare and subtract exactly, and load much faster than aware datetimes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from events.filters import crm_user_condition
from events.models import CrmUser, Event, Feature
from events.periods import Period
from events.streams import EpochMicroseconds, epoch_us, stream_rows
from funnels.definition import FunnelSpec
from funnels.models import Order, Unit
from tenancy.models import Workspace

UserFilters = dict[str, list[str]]

# Best attempt per group (a breakdown value, or the interval an attempt started in; None: no
# grouping): group → (level, position of its step-1 event (or its time), step times).
Best = dict[Any, tuple[int, int, list[int]]]
# One unit (a CRM user's id or a record id) and its best attempts.
UnitBest = tuple[Any, Best]


@dataclass
class Walk:
    """One funnel computation: the definition, where attempts may start (``start`` ≤ t < ``end``, UTC)
    and how long they last, whose events count, what matches each step, and each attempt's group."""

    workspace: Workspace
    spec: FunnelSpec
    filters: UserFilters | None
    start: datetime
    end: datetime
    # Per step, the condition an event must meet (None: the feature does not exist, nothing matches)
    step_q: list[Q | None]
    # Per step, its feature's id (the strict order compares features); None as above
    step_features: list[int | None]
    # The breakdown group of the user who did an attempt's step-1 event (None: no breakdown)
    group_of: Callable[[int], str | None]
    # Per exclusion step, the condition an event must meet (None: its feature was never seen)
    exclusion_q: list[Q | None] = field(default_factory=list)
    # Groups attempts by when they start instead (conversion over time): epoch µs → the interval
    bucket_of: Callable[[int], Any] | None = None

    def __post_init__(self) -> None:
        self.n = len(self.spec.steps)
        self.window = timedelta(days=self.spec.window_days)
        self.start_us, self.end_us = epoch_us(self.start), epoch_us(self.end)
        self.window_us = self.window // timedelta(microseconds=1)

    def attempt_group(self, user_id: int, start_us: int) -> Any:
        """The group of an attempt: the interval it starts in when grouped by time, else the
        breakdown value of the user of its step-1 event."""
        return self.bucket_of(start_us) if self.bucket_of is not None else self.group_of(user_id)

    @property
    def step_bits(self) -> int:
        """The mask bits that stand for steps (those above stand for exclusion steps)."""
        return (1 << self.n) - 1

    @property
    def unit_field(self) -> str:
        return "crm_user_id" if self.spec.unit == Unit.USER else "record_id"

    @property
    def by_user(self) -> bool:
        """Whether the user of each attempt's step-1 event must be kept apart: only a record funnel's
        breakdown needs it (a user funnel's unit is its user; without a breakdown the group is None)."""
        return self.spec.unit == Unit.RECORD and bool(self.spec.breakdown)


def keep_if_better(best: Best, group: Any, level: int, first: int, times: list[int]) -> bool:
    """Keep an attempt as its group's best if it goes further than the one kept (attempts come
    earliest first, so of two that go as far the earlier stays); whether it was kept."""
    current = best.get(group)
    if current is None or level > current[0]:
        best[group] = (level, first, times)
        return True
    return False


def _condition(feature_id: int | None, action: str, detail: str) -> Q | None:
    """Events of the feature, with the action and detail when given; None when the feature was never
    seen (nothing matches)."""
    if feature_id is None:
        return None
    q = Q(feature_id=feature_id)
    if action:
        q &= Q(action=action)
    if detail:
        q &= Q(detail=detail)
    return q


def prepare(
    *,
    workspace: Workspace,
    spec: FunnelSpec,
    period: Period,
    filters: UserFilters | None,
    bucket_of: Callable[[int], Any] | None = None,
) -> Walk:
    """The walk of ``spec`` over the attempts that start in ``period`` (grouped by ``bucket_of``
    of their start, when given, instead of the breakdown)."""
    keys = {s.feature for s in spec.steps} | {e.feature for e in spec.exclusions}
    feature_ids = dict(Feature.objects.filter(workspace=workspace, key__in=keys).values_list("key", "id"))
    return Walk(
        workspace=workspace,
        spec=spec,
        filters=filters,
        start=period.start_utc,
        end=period.end_utc,
        step_q=[_condition(feature_ids.get(s.feature), s.action, s.detail) for s in spec.steps],
        step_features=[feature_ids.get(s.feature) for s in spec.steps],
        group_of=_grouping(workspace, spec.breakdown),
        exclusion_q=[_condition(feature_ids.get(e.feature), e.action, e.detail) for e in spec.exclusions],
        bucket_of=bucket_of,
    )


def _grouping(workspace: Workspace, breakdown: str) -> Callable[[int], str | None]:
    if not breakdown:
        return lambda user_id: None
    values = CrmUser.objects.filter(workspace=workspace).values_list("id", breakdown)
    attribute = {user_id: value or "" for user_id, value in values}
    return lambda user_id: attribute.get(user_id, "")


def candidate_events(walk: Walk) -> QuerySet[Event]:
    """The events of the units that count (filtered users; records only with a record id) in
    [range start, range end + window)."""
    base = Event.objects.filter(workspace=walk.workspace)
    if walk.spec.unit == Unit.RECORD:
        base = base.exclude(record_id="")
    if (condition := crm_user_condition(walk.workspace, walk.filters)) is not None:
        base = base.filter(condition)
    return base.filter(occurred_at__gte=walk.start, occurred_at__lt=walk.end + walk.window)


def step_mask(step_q: list[Q | None]) -> Any:
    """Bit k−1 set when the event matches the k-th condition (steps, then exclusion steps)."""
    mask: Any = Value(0)
    for j, step_match in enumerate(step_q):
        if step_match is not None:
            mask = mask + Case(When(step_match, then=Value(1 << j)), default=Value(0), output_field=IntegerField())
    return mask


def on_step_features(walk: Walk, qs: QuerySet[Event]) -> QuerySet[Event]:
    """Only events of the steps' features (what a strict walk looks at)."""
    return qs.filter(feature_id__in={f for f in walk.step_features if f is not None})


def event_rows(*, walk: Walk) -> Iterator[tuple[Any, ...]]:
    """(unit, occurred_at in epoch microseconds, crm_user_id, step mask, feature_id) of the events
    that can matter, ordered by unit, time and arrival."""
    # One pass over the time range. (Restricting it to the units with a step-1 event in the range, by
    # a semi-join, measured slower: a second scan costs more than streaming the units that never
    # enter, which are dropped at once.)
    qs = candidate_events(walk)
    exclusions = [q for q in walk.exclusion_q if q is not None]
    if walk.spec.order == Order.STRICT:
        wanted = Q(feature_id__in={f for f in walk.step_features if f is not None})
    else:
        wanted = reduce(or_, [q for q in walk.step_q if q is not None])
    qs = qs.filter(reduce(or_, [wanted, *exclusions]))
    return stream_rows(
        qs.annotate(step_mask=step_mask([*walk.step_q, *walk.exclusion_q]), at_us=EpochMicroseconds("occurred_at"))
        .order_by(walk.unit_field, "occurred_at", "id")
        .values_list(walk.unit_field, "at_us", "crm_user_id", "step_mask", "feature_id")
    )
