"""The walks in SQL: one statement per funnel, returning one row per unit (its best attempt) instead
of the events.

``sql_walk_bests`` (ordered funnels whose steps no event can match twice; PostgreSQL and SQLite) and
``strict_sql_bests`` (strict order; PostgreSQL, for its arrays) build the statement as common table
expressions: the step events, one window pass per step (from the last back), the attempts (step-1
events in the range) with their step times, and per unit the best of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import reduce
from itertools import groupby
from operator import itemgetter, or_
from typing import Any

from django.db import connection
from django.db.models import F, IntegerField, Value

from events.streams import EpochMicroseconds, stream_rows
from funnels.engines.python import Exclusions
from funnels.engines.walk import Best, UnitBest, Walk, candidate_events, keep_if_better, on_step_features, step_mask

# ``occurred_at`` as integer microseconds since the epoch in raw SQL (as ``EpochMicroseconds``).
EPOCH_SQL = {
    "postgresql": "CAST(ROUND(EXTRACT(EPOCH FROM {0}) * 1000000) AS BIGINT)",
    "sqlite": "(CAST(strftime('%%s', {0}) AS INTEGER) * 1000000 + CAST(substr({0}, 21, 6) AS INTEGER))",
}


def _fetch(sql: str, params: Iterable[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, tuple(params))
        return cursor.fetchall()


# --- ordered funnels, steps disjoint ---------------------------------------------------------------------


def sql_walk_bests(*, walk: Walk) -> Iterator[UnitBest]:
    """The best attempts, with the window walk done by one SQL statement (ordered, disjoint steps).

    When no event matches two steps, an attempt's greedy walk depends only on its start time t0:
    t(1) = t0 and t(k) = the first time ≥ t(k−1) of an event matching step k (equal timestamps
    are distinct events, one per step); its level is the longest prefix with t(k) ≤ t0 + window.
    With N_k(t) = min{time of a step-k event ≥ t}, t(k) = N_k(… N_2(t0)), and because every N_k is
    non-decreasing, N_j(N_k(t)) = min over step-k events at or after t of N_j(their time): a
    running ``MIN(...) FILTER (WHERE s = k) OVER (PARTITION BY unit ORDER BY time DESC, s DESC)``.
    n − 1 such passes, from the last step back, give every step-1 event the times of its whole
    attempt; the database then keeps per unit (and per step-1 user, for a record breakdown) the
    best attempt: highest level, then earliest. Only those rows come back (one per unit), not the
    events. Attempts with the same start have the same times, so ties between them do not matter.

    The same statement runs on SQLite.
    """
    carry = "u, ts, s, uid" if walk.by_user else "u, ts, s"
    events, params = _step_events(walk)
    passes, source = _running_minimum_passes(walk.n, carry)
    ctes = [f"e({carry}) AS ({events})", *passes, _ordered_attempts(walk, source)]
    params += [connection.ops.adapt_datetimefield_value(moment) for moment in (walk.start, walk.end)]
    later = [f"v{j}" for j in range(2, walk.n + 1)]
    level = " + ".join(["1", *(f"CASE WHEN {v} <= ts + {walk.window_us:d} THEN 1 ELSE 0 END" for v in later)])
    per = "u, uid" if walk.by_user else "u"
    sql = (
        f"WITH {', '.join(ctes)} "
        f"SELECT u, uid, lvl, ts, {', '.join(later)} FROM ("
        f"SELECT a.*, {level} AS lvl, ROW_NUMBER() OVER (PARTITION BY {per} ORDER BY {level} DESC, ts) AS rn "
        "FROM a) r WHERE rn = 1 ORDER BY u"
    )
    yield from _ordered_bests(_fetch(sql, params), walk)


def sql_walk_attempt_bests(*, walk: Walk) -> Iterator[UnitBest]:
    """As ``sql_walk_bests``, for a funnel with exclusion steps or grouped by when attempts start
    (conversion over time): the statement returns every attempt with its step times, not only each
    unit's best, and Python drops the attempts an exclusion voids (the unit's excluded events are
    read by a second, narrow query) and keeps the best of each group."""
    carry = "u, ts, s, uid" if walk.by_user else "u, ts, s"
    events, params = _step_events(walk)
    passes, source = _running_minimum_passes(walk.n, carry)
    ctes = [f"e({carry}) AS ({events})", *passes, _ordered_attempts(walk, source)]
    params += [connection.ops.adapt_datetimefield_value(moment) for moment in (walk.start, walk.end)]
    later = [f"v{j}" for j in range(2, walk.n + 1)]
    level = " + ".join(["1", *(f"CASE WHEN {v} <= ts + {walk.window_us:d} THEN 1 ELSE 0 END" for v in later)])
    sql = f"WITH {', '.join(ctes)} SELECT u, uid, {level} AS lvl, ts, {', '.join(later)} FROM a ORDER BY u, ts"
    excluded = _excluded_events(walk)
    for unit, unit_rows in groupby(_fetch(sql, params), key=itemgetter(0)):
        exclusions = excluded.get(unit)
        best: Best = {}
        for _u, user, level, ts, *rest in unit_rows:  # earliest first
            times = [ts, *rest[: level - 1]]
            if exclusions is not None and exclusions.void(times, ts + walk.window_us):
                continue
            keep_if_better(best, walk.attempt_group(user, ts), level, ts, times)
        if best:
            yield unit, best


def sql_any_order_bests(*, walk: Walk) -> Iterator[UnitBest]:
    """Any order, steps disjoint: when no event matches two steps, an attempt starting at t0 can
    serve a step exactly when the step has an event in [t0, t0 + window], and T(k) is the k-th
    earliest of the steps' first times at or after t0. One window pass gives every event those first
    times (``MIN(ts) FILTER (WHERE s = k)`` over the unit's events at or after it: a RANGE frame, so
    that events of the same instant count too). Each unit's best attempt is chosen in the database;
    with exclusion steps or grouping by start time every attempt comes back and Python chooses."""
    carry = "u, ts, s, uid" if walk.by_user else "u, ts, s"
    events, params = _step_events(walk)
    firsts = ", ".join(f"MIN(ts) FILTER (WHERE s = {k}) OVER w AS n{k}" for k in range(1, walk.n + 1))
    window = "WINDOW w AS (PARTITION BY u ORDER BY ts DESC RANGE UNBOUNDED PRECEDING)"
    postgres = connection.vendor == "postgresql"
    epoch = EPOCH_SQL["postgresql" if postgres else "sqlite"]
    names = [f"n{k}" for k in range(1, walk.n + 1)]
    as_epoch = ", ".join(f"{epoch.format(c)} AS {c}" for c in ["ts", *names])
    uid = "uid" if walk.by_user else "u AS uid"
    if postgres:
        # Every event of the range is an attempt: the levels are compared as timestamps, and only
        # the rows that come back are turned into integers (numeric EXTRACT on every attempt cost
        # more than the window pass).
        attempts = f"a AS (SELECT u, {uid}, ts, {', '.join(names)} FROM p WHERE ts >= %s AND ts < %s)"
        deadline = f"ts + INTERVAL '{walk.window_us:d} microseconds'"
        output = as_epoch
    else:  # SQLite's stored times are text: compare them as integers
        attempts = f"a AS (SELECT u, {uid}, {as_epoch} FROM p WHERE ts >= %s AND ts < %s)"
        deadline = f"ts + {walk.window_us:d}"
        output = f"ts, {', '.join(names)}"
    ctes = [f"e({carry}) AS ({events})", f"p AS (SELECT {carry}, {firsts} FROM e {window})", attempts]
    params += [connection.ops.adapt_datetimefield_value(moment) for moment in (walk.start, walk.end)]
    if walk.spec.exclusions or walk.bucket_of is not None:  # every attempt comes back
        sql = f"WITH {', '.join(ctes)} SELECT u, uid, {output} FROM a ORDER BY u, a.ts"
    else:
        level = " + ".join(f"CASE WHEN {c} <= {deadline} THEN 1 ELSE 0 END" for c in names)
        per = "u, uid" if walk.by_user else "u"
        sql = (
            f"WITH {', '.join(ctes)} SELECT u, uid, {output} FROM ("
            f"SELECT a.*, ROW_NUMBER() OVER (PARTITION BY {per} ORDER BY {level} DESC, ts) AS rn FROM a) r "
            "WHERE rn = 1 ORDER BY u, r.ts"
        )
    excluded = _excluded_events(walk) if walk.spec.exclusions else {}
    for unit, unit_rows in groupby(_fetch(sql, params), key=itemgetter(0)):
        exclusions = excluded.get(unit)
        best: Best = {}
        for _u, user, ts, *first_times in unit_rows:  # earliest first
            deadline = ts + walk.window_us
            step_at = sorted(t for t in first_times if t is not None and t <= deadline)
            if exclusions is not None and exclusions.void(step_at, deadline):
                continue
            keep_if_better(best, walk.attempt_group(user, ts), len(step_at), ts, step_at)
        if best:
            yield unit, best


def _excluded_events(walk: Walk) -> dict[Any, Exclusions]:
    """Per unit, its events that match an exclusion step (in the walk's time span)."""
    conditions = [q for q in walk.exclusion_q if q is not None]
    if not conditions:
        return {}
    masks = step_mask([*([None] * walk.n), *walk.exclusion_q])  # the bits Exclusions reads
    rows = stream_rows(
        candidate_events(walk)
        .filter(reduce(or_, conditions))
        .annotate(mask=masks, at_us=EpochMicroseconds("occurred_at"))
        .order_by(walk.unit_field, "occurred_at", "id")
        .values_list(walk.unit_field, "at_us", "crm_user_id", "mask", "feature_id")
    )
    return {unit: Exclusions(list(unit_rows), walk) for unit, unit_rows in groupby(rows, key=itemgetter(0))}


def _step_events(walk: Walk) -> tuple[str, list[Any]]:
    """The step events as (unit, time, step[, user]): one branch per step, each of which can read an
    index on feature and action alone; no event is in two (the steps are disjoint)."""
    fields = [walk.unit_field, "ts", "s", *(["crm_user_id"] if walk.by_user else [])]
    qs = candidate_events(walk)
    branches: list[str] = []
    params: list[Any] = []
    for k, step_match in enumerate(walk.step_q, start=1):
        if step_match is None:
            continue
        branch = (
            qs.filter(step_match)
            .annotate(ts=F("occurred_at"), s=Value(k, output_field=IntegerField()))
            .order_by()
            .values_list(*fields)
        )
        sql, branch_params = branch.query.sql_with_params()
        branches.append(sql)
        params.extend(branch_params)
    return " UNION ALL ".join(branches), params


def _running_minimum_passes(n: int, carry: str) -> tuple[list[str], str]:
    """Pass k (from n − 1 down to 1) gives each row the times of steps k+1..n of a walk that is at
    step k at its time.

    Each pass reads, at a row of step k, the rows of step k+1 at or after it: sorted by time
    descending, and at equal times by step descending, those are exactly the rows before it (a ROWS
    frame: cheaper than RANGE, which looks for the peers of every row). The passes compare stored
    times as they are (SQLite's text sorts in time order too)."""
    window = "WINDOW w AS (PARTITION BY u ORDER BY ts DESC, s DESC ROWS UNBOUNDED PRECEDING)"
    ctes, source = [], "e"
    for k in range(n - 1, 0, -1):
        columns = [f"MIN(ts) FILTER (WHERE s = {k + 1}) OVER w AS v{k + 1}"]
        columns += [f"MIN(v{j}) FILTER (WHERE s = {k + 1}) OVER w AS v{j}" for j in range(k + 2, n + 1)]
        ctes.append(f"p{k} AS (SELECT {carry}, {', '.join(columns)} FROM {source} {window})")
        source = f"p{k}"
    return ctes, source


def _ordered_attempts(walk: Walk, source: str) -> str:
    """The attempts (step-1 events in the range), their times in integer microseconds: the deadline
    is simple arithmetic then, and integers load faster than aware datetimes."""
    epoch = EPOCH_SQL["postgresql" if connection.vendor == "postgresql" else "sqlite"]
    columns = ["ts", *(f"v{j}" for j in range(2, walk.n + 1))]
    attempt_times = ", ".join(f"{epoch.format(column)} AS {column}" for column in columns)
    return (
        f"a AS (SELECT u, {'uid' if walk.by_user else 'u AS uid'}, {attempt_times} FROM {source} "
        "WHERE s = 1 AND ts >= %s AND ts < %s)"
    )


def _ordered_bests(rows: list[tuple[Any, ...]], walk: Walk) -> Iterator[UnitBest]:
    """Rows (unit, user, level, t1, t2…) sorted by unit: per unit, the best attempt of each group."""
    for unit, unit_rows in groupby(rows, key=itemgetter(0)):
        best: Best = {}
        for row in unit_rows:
            level = row[2]
            times = list(row[3 : 3 + level])
            group = walk.group_of(row[1])
            current = best.get(group)
            if current is None or (level, -times[0]) > (current[0], -current[1]):
                best[group] = (level, times[0], times)
        yield unit, best


# --- strict order (PostgreSQL) ------------------------------------------------------------------------------


def strict_sql_bests(*, walk: Walk) -> Iterator[UnitBest]:
    """The best attempts of a strict-order funnel, walked by one PostgreSQL statement.

    Step k of an attempt is the next event of step k's feature after step k−1's event (by time,
    then arrival), and it must match step k. So what follows a walk standing at an event depends
    only on that event: R_k(e) = the times of steps k, k+1, … reached from e = [t(q)] + R_{k+1}(q)
    where q is the next event of step k's feature after e, if q matches step k, else nothing.
    Going back from the last step, each pass finds q for every event with a running
    ``MIN(ARRAY[time, id] || payload) FILTER (WHERE feature = step k's)`` over the events after
    it (sorted by time and id descending: those before it), the payload being q's R_{k+1}. An
    attempt's level is 1 + the number of its times within the window (they never decrease).
    """
    qs = (
        on_step_features(walk, candidate_events(walk))
        .annotate(m=step_mask(walk.step_q), ts=EpochMicroseconds("occurred_at"))
        .order_by()
        .values_list(walk.unit_field, "ts", "id", "feature_id", "m", "crm_user_id" if walk.by_user else walk.unit_field)
    )
    events, params = qs.query.sql_with_params()
    carry = "u, ts, id, f, m, uid"
    passes, source, after = _next_event_passes(walk, carry)
    ctes = [f"e({carry}) AS ({events})", *passes]
    ctes.append(
        f"a AS (SELECT u, uid, ts, id, ARRAY[ts] || {after} AS times FROM {source} "
        "WHERE m & 1 <> 0 AND ts >= %s AND ts < %s)"
    )
    level = f"(SELECT count(*) FROM unnest(times) t WHERE t <= ts + {walk.window_us:d})"
    per = "u, uid" if walk.by_user else "u"
    sql = (
        f"WITH {', '.join(ctes)} SELECT u, uid, lvl, times, id FROM ("
        f"SELECT u, uid, times, lvl, id, ROW_NUMBER() OVER (PARTITION BY {per} ORDER BY lvl DESC, ts, id) AS rn "
        f"FROM (SELECT a.*, {level} AS lvl FROM a) l) r WHERE rn = 1 ORDER BY u"
    )
    yield from _strict_bests(_fetch(sql, (*params, walk.start_us, walk.end_us)), walk)


def _next_event_passes(walk: Walk, carry: str) -> tuple[list[str], str, str]:
    """Pass k (from n down to 2): r{k} = the times of steps k.. reached after each event. Returns the
    passes, the last one's name and the name of its column."""
    window = "WINDOW w AS (PARTITION BY u ORDER BY ts DESC, id DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
    ctes, source, after = [], "e", "'{}'::bigint[]"
    for k in range(walk.n, 1, -1):
        feature_id = walk.step_features[k - 1]
        if feature_id is None:  # the step matches nothing: every walk stops before it
            ctes.append(f"p{k} AS (SELECT {carry}, '{{}}'::bigint[] AS r{k} FROM {source})")
        else:
            payload = f"CASE WHEN m & {1 << (k - 1)} <> 0 THEN ARRAY[ts] || {after} ELSE '{{}}'::bigint[] END"
            nearest = f"MIN(ARRAY[ts, id] || {payload}) FILTER (WHERE f = {feature_id:d}) OVER w"
            ctes.append(
                f"p{k} AS (SELECT {carry}, COALESCE(({nearest})[3:], '{{}}'::bigint[]) AS r{k} FROM {source} {window})"
            )
        source, after = f"p{k}", f"r{k}"
    return ctes, source, after


def _strict_bests(rows: list[tuple[Any, ...]], walk: Walk) -> Iterator[UnitBest]:
    """Rows (unit, user, level, times, id of the step-1 event) sorted by unit: per unit, the best
    attempt of each group.

    Several rows per unit only for a record breakdown (one per step-1 user). Attempts that start at
    the same time can differ here, so "earliest" is by time, then arrival: the rows in that order,
    the position stands for both."""
    for unit, unit_rows in groupby(rows, key=itemgetter(0)):
        best: Best = {}
        ordered = sorted(unit_rows, key=lambda row: (row[3][0], row[4]))
        for position, (_u, user, level, times, _id) in enumerate(ordered):
            keep_if_better(best, walk.group_of(user), level, position, list(times[:level]))
        yield unit, best
