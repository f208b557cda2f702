"""The behaviour grains of the rollups (docs/architecture.md#rollups-and-grains): per local hour and
per day, what the events came to — ``FeatureActionHour`` and ``WorkspaceHour`` (events, known
outcomes, failures per local wall-clock hour) and ``FeatureActionDay`` (the same per day, and the
durations as a histogram, ``events.durations``).

Rebuilt with the other grains of a chunk of days (``events.rollups``), by *replace*, in the same
transaction. The local hour of an event is found against the UTC instants at which each local
hour begins, computed with Python's zoneinfo (``hour_starts``) as the day boundaries are: on
PostgreSQL with ``width_bucket`` over them in one statement, on SQLite by streaming the chunk's
events through ``bisect``. Both give the same rows (tests/events/test_outcome_rollups.py).
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from events.durations import LOWS, bucket_of
from events.models import Event, FeatureActionDay, FeatureActionHour, WorkspaceHour
from events.periods import local_midnight_utc
from tenancy.models import Workspace


@dataclass(frozen=True)
class HourStart:
    at: datetime  # UTC
    day: date  # local
    hour: int  # local wall-clock hour


def _offset_changes(start: datetime, end: datetime, tz: ZoneInfo) -> list[datetime]:
    """The UTC instants in (start, end) at which ``tz``'s UTC offset changes (zoneinfo's changes fall
    on whole seconds), found by bisection: a day without a change costs two look-ups."""
    changes: list[datetime] = []
    last = end - timedelta(seconds=1)
    low = start
    while low < last and low.astimezone(tz).utcoffset() != last.astimezone(tz).utcoffset():
        offset = low.astimezone(tz).utcoffset()
        a, b = int(low.timestamp()), int(last.timestamp())  # the offset at a is offset's, at b not
        while b - a > 1:
            middle = (a + b) // 2
            if datetime.fromtimestamp(middle, UTC).astimezone(tz).utcoffset() == offset:
                a = middle
            else:
                b = middle
        low = datetime.fromtimestamp(b, UTC)
        changes.append(low)
    return changes


def hour_starts(tz: ZoneInfo, first: date, last: date) -> list[HourStart]:
    """The UTC instants at which a local wall-clock hour begins, from the start of ``first`` to
    the end of ``last``, with the local day and hour each begins. A DST change starts a run of its
    own: after a fall back, the repeated hour begins again (the same day and hour: it counts in
    its hour); after a change at a half hour, the hour that begins mid-way is still that hour."""
    starts: list[HourStart] = []
    day = first
    while day <= last:
        begin, end = local_midnight_utc(day, tz), local_midnight_utc(day + timedelta(days=1), tz)
        segment = begin
        for change in [*_offset_changes(begin, end, tz), end]:
            at = segment
            while at < change:
                local = at.astimezone(tz)
                starts.append(HourStart(at, local.date(), local.hour))
                into_hour = timedelta(minutes=local.minute, seconds=local.second, microseconds=local.microsecond)
                at = at + timedelta(hours=1) - into_hour
            segment = change
        day += timedelta(days=1)
    return starts


def outcome_days_rebuild(workspace: Workspace, first: date, last: date) -> None:
    """Replace the behaviour grains of the local days first..last from their events."""
    for model in (FeatureActionHour, WorkspaceHour, FeatureActionDay):
        model.objects.filter(workspace=workspace, day__range=(first, last)).delete()
    starts = hour_starts(workspace.tzinfo, first, last)
    if connection.vendor == "postgresql":
        _rebuild_postgresql(workspace, starts, last)
    else:
        _rebuild_python(workspace, starts, last)
    _rebuild_workspace_hours(workspace.id, first, last)


def outcome_days_recompute(workspace: Workspace, days: Iterable[date]) -> None:
    """``outcome_days_rebuild`` for some days, a run of consecutive days at a time (after an erasure)."""
    ordered = sorted(set(days))
    while ordered:
        run_end = 0
        while run_end + 1 < len(ordered) and (ordered[run_end + 1] - ordered[run_end]).days == 1 and run_end < 30:
            run_end += 1
        outcome_days_rebuild(workspace, ordered[0], ordered[run_end])
        ordered = ordered[run_end + 1 :]


def _rebuild_postgresql(workspace: Workspace, starts: list[HourStart], last: date) -> None:
    end = local_midnight_utc(last + timedelta(days=1), workspace.tzinfo)
    events = Event._meta.db_table
    params: dict[str, Any] = {
        "workspace": workspace.id,
        "start": starts[0].at,
        "end": end,
        "bounds": [s.at for s in starts],
        "days": [s.day for s in starts],
        "hours": [s.hour for s in starts],
        "lows": LOWS,
    }
    # The hour run of each event, and from it its local day and hour.
    located = (
        f"SELECT *, width_bucket(occurred_at, %(bounds)s::timestamptz[]) AS run FROM {events} "
        "WHERE workspace_id = %(workspace)s AND occurred_at >= %(start)s AND occurred_at < %(end)s"
    )
    day, hour = "(%(days)s::date[])[run]", "(%(hours)s::smallint[])[run]"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {FeatureActionHour._meta.db_table} "
            "(workspace_id, day, hour, feature_id, action, events, outcomes, failures) "
            f"SELECT workspace_id, {day}, {hour}, feature_id, action, COUNT(*), "
            "COUNT(*) FILTER (WHERE outcome <> ''), COUNT(*) FILTER (WHERE outcome = 'failure') "
            f"FROM ({located}) AS e GROUP BY workspace_id, 2, 3, feature_id, action ORDER BY 2, feature_id, action, 3",
            params,
        )
        cursor.execute(
            f"INSERT INTO {FeatureActionDay._meta.db_table} (workspace_id, day, feature_id, action, events, "
            "outcomes, failures, durations, duration_buckets) "
            "SELECT c.workspace_id, c.day, c.feature_id, c.action, c.events, c.outcomes, c.failures, "
            "COALESCE(d.durations, 0), COALESCE(d.buckets, '{}'::jsonb) FROM ("
            "  SELECT workspace_id, day, feature_id, action, SUM(events) AS events, SUM(outcomes) AS outcomes, "
            f"  SUM(failures) AS failures FROM {FeatureActionHour._meta.db_table} "
            "  WHERE workspace_id = %(workspace)s AND day >= %(first)s AND day <= %(last)s "
            "  GROUP BY workspace_id, day, feature_id, action) AS c "
            "LEFT JOIN ("
            "  SELECT day, feature_id, action, SUM(n) AS durations, jsonb_object_agg(bucket::text, n) AS buckets FROM ("
            f"    SELECT {day} AS day, feature_id, action, width_bucket(duration_ms, %(lows)s::int[]) AS bucket, "
            f"    COUNT(*) AS n FROM ({located}) AS e WHERE duration_ms IS NOT NULL GROUP BY 1, 2, 3, 4"
            "  ) AS b GROUP BY day, feature_id, action"
            ") AS d USING (day, feature_id, action) ORDER BY c.day, c.feature_id, c.action",
            {**params, "first": starts[0].day, "last": last},
        )


def _rebuild_python(workspace: Workspace, starts: list[HourStart], last: date) -> None:
    """SQLite: the chunk's events streamed in time order and counted here, against the same
    hour starts (Django's text form of UTC times sorts as the times do)."""
    ops = connection.ops
    bounds = [_micros(s.at) for s in starts]
    end = local_midnight_utc(last + timedelta(days=1), workspace.tzinfo)
    hours: dict[tuple[date, int, int, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    durations: dict[tuple[date, int, str], Counter[int]] = defaultdict(Counter)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT occurred_at, feature_id, action, outcome, duration_ms FROM {Event._meta.db_table} "
            "WHERE workspace_id = %s AND occurred_at >= %s AND occurred_at < %s",
            [workspace.id, ops.adapt_datetimefield_value(starts[0].at), ops.adapt_datetimefield_value(end)],
        )
        while rows := cursor.fetchmany(10_000):
            for occurred_at, feature_id, action, outcome, duration_ms in rows:
                start = starts[bisect.bisect_right(bounds, _micros(occurred_at)) - 1]
                counts = hours[(start.day, start.hour, feature_id, action)]
                counts[0] += 1
                if outcome:
                    counts[1] += 1
                    counts[2] += outcome == "failure"
                if duration_ms is not None:
                    durations[(start.day, feature_id, action)][bucket_of(duration_ms)] += 1
    days: dict[tuple[date, int, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for (day, _hour, feature_id, action), counts in hours.items():
        totals = days[(day, feature_id, action)]
        for n, value in enumerate(counts):
            totals[n] += value
    FeatureActionHour.objects.bulk_create(
        [
            FeatureActionHour(
                workspace=workspace, day=day, hour=hour, feature_id=feature_id, action=action,
                events=events, outcomes=outcomes, failures=failures,
            )
            for (day, hour, feature_id, action), (events, outcomes, failures) in sorted(hours.items())
        ],
        batch_size=1000,
    )  # fmt: skip
    FeatureActionDay.objects.bulk_create(
        [
            FeatureActionDay(
                workspace=workspace, day=day, feature_id=feature_id, action=action,
                events=events, outcomes=outcomes, failures=failures,
                durations=sum(durations[key].values()),
                duration_buckets={str(b): n for b, n in sorted(durations[key].items())},
            )
            for key, (events, outcomes, failures) in sorted(days.items())
            for day, feature_id, action in [key]
        ],
        batch_size=1000,
    )  # fmt: skip


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(value: datetime | str) -> int:
    """Microseconds since 1970 of a UTC time as the driver gives it: SQLite's text
    ('YYYY-MM-DD HH:MM:SS[.ffffff]'), or a datetime (naive when it is UTC)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND


def _rebuild_workspace_hours(workspace_id: int, first: date, last: date) -> None:
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {WorkspaceHour._meta.db_table} (workspace_id, day, hour, events, outcomes, failures) "
            "SELECT workspace_id, day, hour, SUM(events), SUM(outcomes), SUM(failures) "
            f"FROM {FeatureActionHour._meta.db_table} WHERE workspace_id = %s AND day >= %s AND day <= %s "
            "GROUP BY workspace_id, day, hour ORDER BY day, hour",
            [workspace_id, ops.adapt_datefield_value(first), ops.adapt_datefield_value(last)],
        )
