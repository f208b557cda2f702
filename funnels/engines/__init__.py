"""The walk engines of the funnel computation and the choice between them (``unit_bests``).

Each engine yields, per unit that entered the funnel, its best attempt per breakdown group (what
docs/metrics.md#funnels defines); ``funnels.selectors.funnel_compute`` counts them.

How it runs. An ordered funnel whose steps no single event can match twice (the usual case) walks
its windows inside the database: one statement reads only the step events (per step, one range of
the ``event_step_time`` index: workspace, feature, action, time, user), finds every attempt's step
times with n − 1 running-minimum window passes and returns one row per unit, its best attempt
(``sql.sql_walk_bests``); with exclusion steps, or grouped by when attempts start (conversion over
time), the statement returns every attempt instead and Python voids and groups them
(``sql.sql_walk_attempt_bests``). A strict funnel without those does the same on PostgreSQL
(``sql.strict_sql_bests``). An any-order funnel of disjoint steps finds each event's first time of
every step in one window pass (``sql.sql_any_order_bests``).

Otherwise (overlapping steps, where which event serves which step matters; any order; strict order
on SQLite, or with exclusions or grouping) the database returns only the events that can matter —
in [range start, range end + window), matching some step or exclusion (strict: on some step's
feature), of filtered users — ordered by unit and time, with a bit mask of the steps and exclusions
each event matches computed in SQL. They are streamed as plain rows (``events.streams.stream_rows``,
a server-side cursor on PostgreSQL), never as model instances, and each unit is evaluated in one
pass over its own events (``python``). Memory holds one unit's
events plus, per step, one number per converted unit (for the medians).

Equal timestamps: the events of one instant are matched as a set. Greedily taking, at the earliest
instant where step k can be matched, as many consecutive steps as distinct events of that instant
can serve (a small bipartite matching) gives the highest level and the earliest step times.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from operator import itemgetter

from django.db import connection

from funnels.definition import FunnelSpec
from funnels.engines.python import any_order_unit, ordered_unit, strict_unit
from funnels.engines.sql import sql_any_order_bests, sql_walk_attempt_bests, sql_walk_bests, strict_sql_bests
from funnels.engines.walk import Best, UnitBest, Walk, event_rows, prepare
from funnels.models import Order

__all__ = ["SQL_WALK", "Best", "UnitBest", "Walk", "prepare", "steps_disjoint", "unit_bests", "use_sql_walk"]

# Whether funnels walk their windows in the database. None: on PostgreSQL only — SQLite's window
# functions are slower than the Python walk there (300k events: ~365 ms against ~250 ms). The tests
# force both paths on both.
SQL_WALK: bool | None = None


def use_sql_walk(spec: FunnelSpec) -> bool:
    postgres = connection.vendor == "postgresql"
    wanted = postgres if SQL_WALK is None else SQL_WALK
    if spec.order == Order.STRICT:
        return wanted and postgres  # its statement needs PostgreSQL's arrays
    return wanted and steps_disjoint(spec)


def steps_disjoint(spec: FunnelSpec) -> bool:
    """A funnel (ordered or any order) whose steps no single event can match twice (no two steps
    with the same feature and action whose details are equal or one of them empty)."""
    if spec.order == Order.STRICT:
        return False
    for i, a in enumerate(spec.steps):
        for b in spec.steps[i + 1 :]:
            if (a.feature, a.action) == (b.feature, b.action) and (
                not a.detail or not b.detail or a.detail == b.detail
            ):
                return False
    return True


def unit_bests(walk: Walk) -> Iterator[UnitBest]:
    """Per unit that entered the funnel, the unit and its best attempt per group."""
    order = walk.spec.order
    entries = walk.step_q if order == Order.ANY else walk.step_q[:1]
    if all(q is None for q in entries):  # nobody can enter
        return
    if use_sql_walk(walk.spec):
        if order == Order.ANY:
            yield from sql_any_order_bests(walk=walk)
            return
        if order == Order.ORDERED:
            every_attempt = walk.spec.exclusions or walk.bucket_of is not None
            yield from (sql_walk_attempt_bests if every_attempt else sql_walk_bests)(walk=walk)
            return
        if not walk.spec.exclusions and walk.bucket_of is None:  # strict: each unit's best only
            yield from strict_sql_bests(walk=walk)
            return
    evaluate = {Order.STRICT.value: strict_unit, Order.ANY.value: any_order_unit}.get(str(order), ordered_unit)
    for unit, unit_rows in groupby(event_rows(walk=walk), key=itemgetter(0)):
        best = evaluate(list(unit_rows), walk)
        if best:
            yield unit, best
