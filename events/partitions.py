"""Monthly partitions of the events table (PostgreSQL; on SQLite every function here does nothing).

``events_event`` is range-partitioned by the UTC month of ``occurred_at`` (migration 0016). Each
month has its own partition, named ``events_event_pYYYY_MM``; a DEFAULT partition takes events of a
month that has none yet, so an insert never fails for want of a partition. Ingestion creates the
partitions of the months it is about to write (outside its own transaction), and the periodic
``maintain_event_partitions_task`` creates the next month's ahead of time and moves any rows the
DEFAULT partition holds into partitions of their own.

Retention drops a month's partition whole (``event_partitions_drop_expired``) once no workspace
keeping raw events for that month has any: no ``DELETE`` of millions of rows, no dead rows to
vacuum. Workspaces may keep raw events for different spans, so a partition that still holds events
a workspace keeps stays, and retention deletes the other workspaces' rows from it as before.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from events.models import Event
from events.periods import local_midnight_utc, month_end
from tenancy.models import Workspace

logger = logging.getLogger(__name__)

PARENT = Event._meta.db_table
DEFAULT = f"{PARENT}_default"
_NAME = re.compile(rf"^{PARENT}_p(\d{{4}})_(\d{{2}})$")
# pg_advisory_xact_lock key serialising partition changes (any number; "evpa" in ASCII).
_LOCK = 0x65767061

# Months known to have a partition, per database: saves a catalogue query per ingested batch. A
# partition dropped meanwhile by another process only sends that month's rows to DEFAULT.
_known: dict[str, set[date]] = {}


def enabled() -> bool:
    return connection.vendor == "postgresql"


def month_of(moment: datetime) -> date:
    utc = moment.astimezone(UTC)
    return date(utc.year, utc.month, 1)


def _next_month(month: date) -> date:
    return month_end(month) + timedelta(days=1)


def _name(month: date) -> str:
    return f"{PARENT}_p{month:%Y_%m}"


def _bounds(month: date) -> str:
    return f"FOR VALUES FROM ('{month:%Y-%m-%d} 00:00+00') TO ('{_next_month(month):%Y-%m-%d} 00:00+00')"


def event_partitions() -> dict[date, str]:
    """The monthly partitions that exist: first day of the month → table name."""
    if not enabled():
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [PARENT],
        )
        names = [name for (name,) in cursor.fetchall()]
    months = {}
    for name in names:
        match = _NAME.match(name)
        if match:
            months[date(int(match[1]), int(match[2]), 1)] = name
    _known[connection.settings_dict["NAME"]] = set(months)
    return months


def event_partitions_known(months: Iterable[date]) -> bool:
    """Whether these months are known (in this process) to have partitions; asks no database, so it
    can be called while a ``COPY`` runs. On SQLite, always."""
    return not enabled() or set(months) <= _known.get(connection.settings_dict["NAME"], set())


def event_partitions_ensure(months: Iterable[date]) -> list[date]:
    """Give each of these months (first days) a partition if it has none; return those created.

    Does nothing inside a transaction (the caller's rows then go to DEFAULT until the periodic task
    moves them): creating a partition locks the events table briefly, and that lock must not be held
    for the rest of someone else's transaction.
    """
    if not enabled() or connection.in_atomic_block:
        return []
    wanted = set(months)
    if event_partitions_known(wanted):
        return []
    missing = sorted(wanted - set(event_partitions()))
    created = []
    for month in missing:
        try:
            _create(month)
        except DatabaseError:
            # Never a reason to refuse events: without its partition a month's rows go to DEFAULT,
            # and the periodic upkeep tries again.
            logger.exception("could not create the events partition of %s", month)
        else:
            created.append(month)
    if missing:
        event_partitions()
    return created


def _create(month: date) -> None:
    """Create the month's partition, moving into it any rows of that month the DEFAULT partition
    holds (a partition cannot be attached while DEFAULT has rows in its range)."""
    name = _name(month)
    start, end = month, _next_month(month)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        cursor.execute("SELECT to_regclass(%s)", [name])
        if cursor.fetchone()[0] is not None:  # created meanwhile by another process
            return
        # No row may reach DEFAULT between the move below and the ATTACH, which checks DEFAULT
        # holds none of the month (writers of other months wait the few milliseconds too).
        cursor.execute(f"LOCK TABLE {DEFAULT} IN ACCESS EXCLUSIVE MODE")
        # With the CHECK constraints: ATTACH refuses a table that lacks one of the parent's.
        cursor.execute(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {DEFAULT} WHERE occurred_at >= %s AND occurred_at < %s RETURNING *) "
            f"INSERT INTO {name} SELECT * FROM moved",
            [_utc(start), _utc(end)],
        )
        moved = cursor.rowcount
        cursor.execute(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} {_bounds(month)}")
    logger.info("created the events partition %s (%s rows moved from %s)", name, moved, DEFAULT)


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def event_partitions_maintain(*, now: datetime | None = None) -> list[date]:
    """The periodic upkeep: partitions for this month and the next, and for every month whose rows
    sit in DEFAULT (those rows move into them). Returns the months created."""
    if not enabled():
        return []
    this_month = month_of(now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC') FROM {DEFAULT}")
        stranded = {moment.date() for (moment,) in cursor.fetchall()}
    return event_partitions_ensure({this_month, _next_month(this_month), *stranded})


def event_partitions_drop_expired() -> dict[int, int]:
    """Drop every monthly partition that holds no event any workspace still keeps; return the
    events dropped per workspace.

    A workspace keeps raw events from its retention start on, or all of them when it sets no
    retention. A partition ending on or before every cut-off of the workspaces with rows in it goes.
    """
    if not enabled():
        return {}
    cutoffs: dict[int, datetime | None] = {}
    for workspace in Workspace.objects.all():
        start = workspace.retention_start()
        cutoffs[workspace.id] = None if start is None else local_midnight_utc(start, workspace.tzinfo)
    latest = max((cutoff for cutoff in cutoffs.values() if cutoff is not None), default=None)
    if latest is None:
        return {}
    dropped: dict[int, int] = {}
    for month, name in sorted(event_partitions().items()):
        end = _utc(_next_month(month))
        if end > latest:  # some workspace keeps part of this month, or of every later one
            break
        keepers = [ws for ws, cutoff in cutoffs.items() if _keeps(cutoff, end)]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
            # One index probe per workspace keeping any of the month; counting is left for the
            # partitions that go.
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {name} WHERE workspace_id = ANY(%s))", [keepers])
            if cursor.fetchone()[0]:
                continue
            cursor.execute(f"SELECT workspace_id, COUNT(*) FROM {name} GROUP BY workspace_id")
            counts = dict(cursor.fetchall())
            if not counts:
                continue  # an empty month costs nothing; a late event of a workspace without retention may need it
            cursor.execute(f"ALTER TABLE {PARENT} DETACH PARTITION {name}")
            cursor.execute(f"DROP TABLE {name}")
        for ws, n in counts.items():
            dropped[ws] = dropped.get(ws, 0) + n
        logger.info("dropped the events partition %s (%s events past retention)", name, sum(counts.values()))
    if dropped:
        event_partitions()
    return dropped


def _keeps(cutoff: datetime | None, end: datetime) -> bool:
    """Whether a workspace keeping raw events from ``cutoff`` on (None: all) keeps any before ``end``."""
    return cutoff is None or end > cutoff
