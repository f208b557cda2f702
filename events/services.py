"""Writes of the events area: workspaces, CRM users and event ingestion.

Events are the system of record: an accepted event is committed before the caller answers. Rollups
are derived afterwards, by a task enqueued on commit (see ``events.rollups``).
"""

from __future__ import annotations

import logging
import sys
import time
import uuid as uuidlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import repeat
from operator import itemgetter, methodcaller
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from events.models import CrmUser, DirtyDay, Event, EventKey, Feature, FeatureAction
from events.partitions import event_partitions_ensure, event_partitions_known, month_of
from events.validation import EventColumns, EventRow
from tenancy.models import Workspace

logger = logging.getLogger(__name__)


# --- CRM users -------------------------------------------------------------------------------------


@dataclass
class UserUpsertResult:
    created: int = 0
    updated: int = 0


def crm_users_upsert(*, workspace: Workspace, rows: Sequence[dict[str, Any]]) -> UserUpsertResult:
    """Insert or update CRM users by external id; fields absent from a row keep their value."""
    result = UserUpsertResult()
    if not rows:
        return result
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:  # a later row for the same user wins, field by field
        merged.setdefault(row["external_id"], {}).update(row)
    with transaction.atomic():
        existing = {
            u.external_id: u
            for u in CrmUser.objects.select_for_update().filter(workspace=workspace, external_id__in=list(merged))
        }
        to_create: list[CrmUser] = []
        to_update: list[CrmUser] = []
        fields: set[str] = set()
        for external_id, values in merged.items():
            user = existing.get(external_id)
            if user is None:
                to_create.append(CrmUser(workspace=workspace, **values))
            else:
                changed = {k: v for k, v in values.items() if k != "external_id" and getattr(user, k) != v}
                for key, value in changed.items():
                    setattr(user, key, value)
                fields |= changed.keys()
                to_update.append(user)
        CrmUser.objects.bulk_create(to_create, batch_size=500)
        if fields:
            CrmUser.objects.bulk_update(to_update, sorted(fields), batch_size=500)
    result.created, result.updated = len(to_create), len(to_update)
    return result


def _resolve_ids(model: type[CrmUser] | type[Feature], workspace: Workspace, keys: set[str]) -> dict[str, int]:
    """Map external ids (users) or keys (features) to primary keys, creating what is missing.

    Unknown users are created active; unknown features as ``custom`` and flagged for review.
    Creation ignores conflicts so two concurrent batches naming the same new user both succeed, and
    goes in sorted order, so that they wait for each other instead of deadlocking (each holding a
    new key the other inserts next).
    """
    key_field = "external_id" if model is CrmUser else "key"
    found = dict(model.objects.filter(workspace=workspace, **{f"{key_field}__in": keys}).values_list(key_field, "id"))
    missing = keys - found.keys()
    if missing:
        if model is CrmUser:
            new: list[Any] = [CrmUser(workspace=workspace, external_id=k) for k in sorted(missing)]
        else:
            new = [
                Feature(workspace=workspace, key=k, name=k, type=Feature.Type.CUSTOM, auto_created=True)
                for k in sorted(missing)
            ]
        model.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
        found.update(
            model.objects.filter(workspace=workspace, **{f"{key_field}__in": missing}).values_list(key_field, "id")
        )
    return found


# --- events ----------------------------------------------------------------------------------------


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    days: set[date] = field(default_factory=set)

    def add(self, other: IngestResult) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.days |= other.days


_EVENT_COLUMNS = (
    "workspace_id, uuid, crm_user_id, feature_id, action, detail, record_id, occurred_at, received_at, properties, "
    "outcome, error_code, duration_ms, device"
)
_EVENT_PLACEHOLDERS = ",".join(["%s"] * 14)
# The staging table of the PostgreSQL path: one per connection, emptied at every commit.
_STAGE = "events_ingest_stage"
# SQLite: uuids per duplicate look-up (under SQLite's parameter limit).
_SQLITE_UUID_CHUNK = 500
# EventBulkWriter: events per transaction (one COPY on PostgreSQL).
BULK_BATCH_ROWS = 100_000


def _insert_events(rows: list[tuple[Any, ...]]) -> list[datetime]:
    """Insert event tuples, skipping uuids the workspace already has; return the times inserted.

    The database reports what it inserted, so duplicates are counted exactly even when two clients
    resend the same batch at once. Within a batch the first row of a uuid wins.
    """
    insert = _insert_events_postgresql if connection.vendor == "postgresql" else _insert_events_sqlite
    return [_as_aware(v) for v in insert(rows)]


def _insert_events_postgresql(rows: list[tuple[Any, ...]]) -> list[Any]:
    """``COPY`` the batch into a temporary staging table, then one statement: insert the first row
    of each uuid into the key table (``ON CONFLICT DO NOTHING RETURNING``), and the events whose
    keys went in. COPY is the cheapest way into PostgreSQL (no per-statement parameter parsing), and
    the conflict rule needs an INSERT. A client resending a batch while the first send is still
    being stored waits on the key's unique index, then finds the key taken."""
    with connection.cursor() as cursor:
        # Created once per connection (a no-op afterwards); ON COMMIT DELETE ROWS empties it at every
        # commit, and the DELETE below does so when several batches share one transaction.
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} (seq bigint, workspace_id bigint, uuid varchar(64), "
            "crm_user_id bigint, feature_id bigint, action varchar(64), detail varchar(128), "
            "record_id varchar(128), occurred_at timestamptz, received_at timestamptz, properties jsonb, "
            "outcome varchar(7), error_code varchar(64), duration_ms integer, device varchar(7)) "
            "ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY {_STAGE} (seq, {_EVENT_COLUMNS}) FROM STDIN") as copy:
            write_row = copy.write_row
            for seq, row in enumerate(rows):
                write_row((seq, *row))
        cursor.execute(
            f"WITH firsts AS (SELECT DISTINCT ON (workspace_id, uuid) * FROM {_STAGE} ORDER BY workspace_id, uuid, seq), "
            f"new_keys AS (INSERT INTO {EventKey._meta.db_table} (workspace_id, uuid, occurred_at) "
            "  SELECT workspace_id, uuid, occurred_at FROM firsts ON CONFLICT DO NOTHING RETURNING workspace_id, uuid) "
            f"INSERT INTO {Event._meta.db_table} ({_EVENT_COLUMNS}) SELECT {_EVENT_COLUMNS} FROM firsts "
            "JOIN new_keys USING (workspace_id, uuid) ORDER BY seq RETURNING occurred_at"
        )
        inserted = [r[0] for r in cursor.fetchall()]
        cursor.execute(f"DELETE FROM {_STAGE}")
    return inserted


def _insert_events_sqlite(rows: list[tuple[Any, ...]]) -> list[Any]:
    """Look up which uuids the workspace already has, then ``executemany`` the new keys and rows.

    SQLite has one writer and Django opens its transactions with ``BEGIN IMMEDIATE``: nothing can
    insert a uuid between the look-up and the insert, so the rows inserted are exactly the rows
    kept here. ``ON CONFLICT DO NOTHING`` stays as a guard, and the count is checked.
    """
    keys = EventKey._meta.db_table
    fresh: dict[tuple[int, str], tuple[Any, ...]] = {}
    for row in rows:
        fresh.setdefault((row[0], row[1]), row)  # the first row of a uuid wins
    with connection.cursor() as cursor:
        by_workspace: dict[int, list[str]] = {}
        for workspace_id, uuid in fresh:
            by_workspace.setdefault(workspace_id, []).append(uuid)
        for workspace_id, uuids in by_workspace.items():
            for start in range(0, len(uuids), _SQLITE_UUID_CHUNK):
                chunk = uuids[start : start + _SQLITE_UUID_CHUNK]
                cursor.execute(
                    f"SELECT uuid FROM {keys} WHERE workspace_id = %s AND uuid IN ({','.join(['%s'] * len(chunk))})",
                    [workspace_id, *chunk],
                )
                for (uuid,) in cursor.fetchall():
                    del fresh[(workspace_id, uuid)]
        new_rows = list(fresh.values())
        if new_rows:
            cursor.executemany(
                f"INSERT INTO {keys} (workspace_id, uuid, occurred_at) VALUES (%s,%s,%s) ON CONFLICT DO NOTHING",
                [(row[0], row[1], row[7]) for row in new_rows],
            )
            if cursor.rowcount != len(new_rows):  # cannot happen under the write lock; be exact anyway
                raise RuntimeError(f"expected to insert {len(new_rows)} event keys, inserted {cursor.rowcount}")
            cursor.executemany(
                f"INSERT INTO {Event._meta.db_table} ({_EVENT_COLUMNS}) VALUES ({_EVENT_PLACEHOLDERS})",
                new_rows,
            )
    return [row[7] for row in new_rows]


def _utc_months(cols: EventColumns) -> set[date]:
    """The UTC months (first days) of the events: the partitions they go to."""
    if cols.utc_stamps:
        return {date(int(m[:4]), int(m[5:7]), 1) for m in set(map(itemgetter(slice(0, 7)), cols.stamps))}
    return set(map(month_of, cols.moments))


def _db_moments(cols: EventColumns) -> Sequence[Any]:
    """The events' times as the database driver takes them: datetimes on PostgreSQL, on SQLite
    Django's text form of the UTC time ('YYYY-MM-DD HH:MM:SS[.ffffff]', what its range queries compare)."""
    if connection.vendor == "postgresql":
        return cols.moments
    if cols.utc_stamps:  # the same text, cut from the client's: one pass over the joined column
        return "\n".join(cols.stamps).replace("T", " ").replace("+00:00", "").replace("Z", "").split("\n")
    to_utc, naive = methodcaller("astimezone", UTC), methodcaller("replace", tzinfo=None)
    return list(map(str, map(naive, map(to_utc, cols.moments))))


def _local_days(cols: EventColumns, tz: ZoneInfo) -> set[date]:
    """The local days (in ``tz``) of the events."""
    if not cols.utc_stamps:
        return set(map(datetime.date, map(methodcaller("astimezone", tz), cols.moments)))
    # UTC text: one local day per UTC hour, unless a local midnight or an offset change falls inside
    # that hour (a time zone with a :30 or :45 offset); those hours are done event by event.
    days: set[date] = set()
    split: set[str] = set()
    for hour in set(map(itemgetter(slice(0, 13)), cols.stamps)):
        first = datetime.fromisoformat(hour + ":00:00+00:00").astimezone(tz)
        last = (first + timedelta(microseconds=3_599_999_999)).astimezone(tz)
        if first.date() == last.date() and first.utcoffset() == last.utcoffset():
            days.add(first.date())
        else:
            split.add(hour)
    if split:
        days.update(m.astimezone(tz).date() for s, m in zip(cols.stamps, cols.moments, strict=True) if s[:13] in split)
    return days


def _resolve_cached(
    model: type[CrmUser] | type[Feature], workspace: Workspace, keys: Iterable[str], cache: dict[str, int]
) -> None:
    missing = set(keys) - cache.keys()
    if missing:
        cache.update(_resolve_ids(model, workspace, missing))


def _feature_actions_record(
    workspace: Workspace, combos: set[tuple[int, str, str]], known: set[tuple[int, str, str]] | None = None
) -> set[tuple[int, str, str]]:
    """Insert the (feature id, action, detail) combinations not known yet; return those inserted."""
    new = combos - known if known is not None else combos
    if new and known is None:
        # Without a cache (the batch endpoint), one look-up of what is stored already: a steady
        # stream of batches then inserts nothing.
        stored = FeatureAction.objects.filter(workspace=workspace, feature_id__in={f for f, _, _ in new}).values_list(
            "feature_id", "action", "detail"
        )
        new -= set(stored)
    if new:
        FeatureAction.objects.bulk_create(  # sorted: concurrent batches wait instead of deadlocking
            [FeatureAction(workspace=workspace, feature_id=f, action=a, detail=d) for f, a, d in sorted(new)],
            ignore_conflicts=True,
        )
    return new


def _combos(cols: EventColumns, feature_ids: dict[str, int]) -> set[tuple[int, str, str]]:
    return {(feature_ids[f], a, d) for f, a, d in set(zip(cols.features, cols.actions, cols.details, strict=True))}


def _store_exact(
    workspace: Workspace,
    cols: EventColumns,
    *,
    user_ids: dict[str, int] | None = None,
    feature_ids: dict[str, int] | None = None,
    known_combos: set[tuple[int, str, str]] | None = None,
) -> IngestResult:
    """Store events in one transaction through the exact path (the database decides which rows are
    duplicates and reports the times of those it inserted), mark their days dirty.

    Ids come from the caches given (committed rows) or are resolved inside the transaction."""
    result = IngestResult()
    n = len(cols)
    if not n:
        return result
    event_partitions_ensure(_utc_months(cols))
    now = timezone.now()
    with transaction.atomic():
        if user_ids is None or feature_ids is None:
            user_ids = _resolve_ids(CrmUser, workspace, set(cols.users))
            feature_ids = _resolve_ids(Feature, workspace, set(cols.features))
        received = connection.ops.adapt_datetimefield_value(now)
        tuples = list(
            zip(
                repeat(workspace.id, n),
                cols.uuids,
                map(user_ids.__getitem__, cols.users),
                map(feature_ids.__getitem__, cols.features),
                cols.actions,
                cols.details,
                cols.record_ids,
                _db_moments(cols),
                repeat(received, n),
                cols.properties if cols.properties is not None else repeat(None, n),
                *_outcome_columns(cols),
                strict=False,
            )
        )
        inserted = _insert_events(tuples)
        combos = _combos(cols, feature_ids)
        new_combos = _feature_actions_record(workspace, combos, known_combos)
        tz = workspace.tzinfo
        result.accepted = len(inserted)
        result.duplicates = n - len(inserted)
        result.days = {moment.astimezone(tz).date() for moment in inserted}
        mark_days_dirty(workspace_id=workspace.id, days=result.days)
    if known_combos is not None:
        transaction.on_commit(lambda: known_combos.update(new_combos))
    return result


def events_ingest(*, workspace: Workspace, rows: Sequence[EventRow], enqueue_refresh: bool = True) -> IngestResult:
    """Store validated events (deduplicated by uuid) and mark their local days dirty.

    The events and the dirty marks commit together; the rollup refresh is enqueued only after the
    commit, so a worker never looks for rows that are not visible yet.
    """
    if not rows:
        return IngestResult()
    return events_ingest_columns(
        workspace=workspace, columns=EventColumns.from_rows(rows), enqueue_refresh=enqueue_refresh
    )


def events_ingest_columns(*, workspace: Workspace, columns: EventColumns, enqueue_refresh: bool = True) -> IngestResult:
    """``events_ingest`` for events already validated as columns (``event_batch_fast``)."""
    result = _store_exact(workspace, columns)
    if result.days and enqueue_refresh:
        transaction.on_commit(lambda: enqueue_rollup_refresh(workspace.id))
    return result


class _Conflict(Exception):
    """A bulk batch met a uuid the workspace already has (or a concurrent writer)."""


class EventBulkWriter:
    """Stores a long stream of validated events (``import_events``) with ``events_ingest``'s results,
    several times faster.

    Events are stored ``BULK_BATCH_ROWS`` per transaction. Optimistically, every event of a batch is
    new: on PostgreSQL the batch is a ``COPY`` straight into the events table, streamed while the
    next chunks are read and checked (the server inserts while Python parses), on SQLite one
    ``executemany``; no staging table, no duplicate look-up, and the local days come from the
    events themselves. A uuid seen twice in a batch ends the batch before it, and that chunk takes
    the exact path. The batch's uuids then go into the key table (PostgreSQL: a second ``COPY``,
    after the events'; SQLite: before them). A uuid already stored makes the batch fail (PostgreSQL:
    a unique violation; SQLite: fewer keys inserted than sent): it is rolled back and stored chunk by chunk through the
    exact path of ``events_ingest`` (staging table and ``ON CONFLICT DO NOTHING``, duplicates counted
    by the database), and the next batches take that path too, for a number of rows that doubles at
    each failure (a file imported twice) and resets at the next success.

    User and feature ids are loaded once and cached; unknown ones are created when first seen (on
    PostgreSQL inside the open batch: its COPY is ended, and a new one started after). A chunk with
    a month that has no events partition yet ends the open batch, and the partition is created
    before the chunk is written. Use as a
    context manager: leaving it on an exception rolls back the open batch; ``close()`` stores the
    rest and returns the totals.
    """

    def __init__(self, workspace: Workspace, *, batch_rows: int | None = None) -> None:
        self.workspace = workspace
        self.batch_rows = batch_rows or BULK_BATCH_ROWS
        self.result = IngestResult()
        self._tz = workspace.tzinfo
        self._postgresql = connection.vendor == "postgresql"
        # external id / feature key → id, and the same id as COPY text; None until first needed
        self._ids: dict[type[CrmUser] | type[Feature], tuple[dict[str, int], dict[str, str]]] | None = None
        self._created: list[tuple[dict[str, int], dict[str, str], str]] = []  # in the open batch
        self._known_combos: set[tuple[int, str, str]] = set()
        self._batch: list[EventColumns] = []
        self._batch_size = 0
        self._uuids: set[str] = set()
        self._months: set[date] = set()  # UTC months seen, whose partitions were seen to
        self._exact_rows = 0  # rows still to store through the exact path after a conflict
        self._backoff = 1
        # PostgreSQL, while a batch is open: its transaction and cursor; its COPY (while one runs)
        self._open: ExitStack | None = None
        self._cursor: Any = None
        self._copy_stack: ExitStack | None = None
        self._copy: Any = None
        self._received = ""

    def __enter__(self) -> EventBulkWriter:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc_type is not None:
            self._abort(exc)

    def add_rows(self, rows: Sequence[EventRow]) -> None:
        if rows:
            self.add(EventColumns.from_rows(rows))

    def add(self, cols: EventColumns) -> None:
        n = len(cols)
        if not n:
            return
        months = _utc_months(cols) - self._months
        if months:
            self._months |= months
            if not event_partitions_known(months):
                # A month without its partition yet: end the open batch (a conflict there switches
                # to the exact path, checked below), so that the partition is created outside it.
                self._flush()
                event_partitions_ensure(months)
        self._resolve(cols)
        if self._exact_rows > 0:
            self._exact_rows -= n
            self._store_exact(cols)
            return
        before = len(self._uuids)
        self._uuids.update(cols.uuids)
        if len(self._uuids) - before != n:  # a uuid repeated: the exact path keeps the first row
            self._flush()
            self._store_exact(cols)
            return
        self._batch.append(cols)
        self._batch_size += n
        if self._postgresql:
            try:
                if self._open is None:
                    self._begin()
                if self._copy is None:
                    self._begin_copy()
                self._copy.write(self._copy_text(cols))
            except Exception as exc:
                self._flush(failure=exc)
                return
        if self._batch_size >= self.batch_rows:
            self._flush()

    def close(self) -> IngestResult:
        self._flush()
        return self.result

    # --- internals ---------------------------------------------------------------------------------

    def _resolve(self, cols: EventColumns) -> None:
        """Make sure the chunk's users and features have ids (creating the unknown ones)."""
        if self._ids is None:
            self._ids = {}
            for model, key in ((CrmUser, "external_id"), (Feature, "key")):
                ids = dict(model.objects.filter(workspace=self.workspace).values_list(key, "id"))
                self._ids[model] = ids, {k: str(v) for k, v in ids.items()}
        missing = [
            (model, keys - self._ids[model][0].keys())
            for model, keys in ((CrmUser, set(cols.users)), (Feature, set(cols.features)))
        ]
        if not any(keys for _, keys in missing):
            return
        if self._postgresql and self._open is not None:
            # Inside the open batch (no other statement while a COPY runs): rolled back with it.
            try:
                self._end_copy()
            except Exception as exc:
                self._flush(failure=exc)
        in_batch = self._open is not None
        with transaction.atomic():
            for model, keys in missing:
                if keys:
                    ids, texts = self._ids[model]
                    found = _resolve_ids(model, self.workspace, keys)
                    ids.update(found)
                    texts.update((k, str(v)) for k, v in found.items())
                    if in_batch:
                        self._created.extend((ids, texts, k) for k in found)

    def _store_exact(self, cols: EventColumns) -> None:
        assert self._ids is not None
        self.result.add(
            _store_exact(
                self.workspace,
                cols,
                user_ids=self._ids[CrmUser][0],
                feature_ids=self._ids[Feature][0],
                known_combos=self._known_combos,
            )
        )

    def _begin(self) -> None:
        stack = ExitStack()
        try:
            stack.enter_context(transaction.atomic())
            self._cursor = stack.enter_context(connection.cursor())
        except BaseException:
            stack.close()
            raise
        self._open = stack
        self._received = timezone.now().isoformat()

    def _begin_copy(self) -> None:
        copy_stack = ExitStack()
        self._copy = copy_stack.enter_context(
            self._cursor.copy(f"COPY {Event._meta.db_table} ({_EVENT_COLUMNS}) FROM STDIN")
        )
        self._copy_stack = copy_stack

    def _end_copy(self, failure: BaseException | None = None) -> None:
        """End the running COPY, if any: the server inserts what is still in flight, and raises a
        unique violation if a uuid is stored already."""
        copy_stack, self._copy_stack, self._copy = self._copy_stack, None, None
        if copy_stack is not None:
            if failure is not None:
                copy_stack.__exit__(type(failure), failure, failure.__traceback__)
            else:
                copy_stack.close()

    def _copy_text(self, cols: EventColumns) -> bytes:
        """The events as lines of COPY's text format (values escaped only where a column needs it)."""
        assert self._ids is not None
        n = len(cols)
        lines = map(
            "\t".join,
            zip(
                repeat(str(self.workspace.id), n),
                _copy_escaped(cols.uuids),
                map(self._ids[CrmUser][1].__getitem__, cols.users),
                map(self._ids[Feature][1].__getitem__, cols.features),
                _copy_escaped(cols.actions),
                _copy_escaped(cols.details),
                _copy_escaped(cols.record_ids),
                cols.stamps,
                repeat(self._received, n),
                _copy_escaped(["\\N" if p is None else p for p in cols.properties])
                if cols.properties is not None
                else repeat("\\N", n),
                *_outcome_copy_text(cols),
                strict=False,
            ),
        )
        return ("\n".join(lines) + "\n").encode()

    def _copy_keys(self, batch: list[EventColumns]) -> None:
        """The batch's uuids into the key table, in one ``COPY`` after the events': a uuid stored
        already raises a unique violation, and the batch goes through the exact path."""
        workspace = str(self.workspace.id)
        with self._cursor.copy(f"COPY {EventKey._meta.db_table} (workspace_id, uuid, occurred_at) FROM STDIN") as copy:
            for cols in batch:
                lines = map("\t".join, zip(repeat(workspace), _copy_escaped(cols.uuids), cols.stamps))
                copy.write(("\n".join(lines) + "\n").encode())

    def _flush(self, failure: BaseException | None = None) -> None:
        """Commit the open batch; on a conflict, store it through the exact path instead."""
        batch, size = self._batch, self._batch_size
        self._batch, self._batch_size, self._uuids = [], 0, set()
        if not batch and self._open is None:
            return
        try:
            days = self._finish_postgresql(batch, failure) if self._postgresql else self._sqlite_batch(batch)
        except _Conflict:
            logger.debug("bulk batch of %s events met stored uuids; storing it through the exact path", size)
            for ids, texts, key in self._created:  # created in the rolled-back transaction
                ids.pop(key, None)
                texts.pop(key, None)
            self._created = []
            self._exact_rows = self._backoff * self.batch_rows
            self._backoff = min(self._backoff * 2, 64)
            for cols in batch:
                self._resolve(cols)
                self._store_exact(cols)
            return
        self._created = []
        self._backoff = 1
        self.result.accepted += size
        self.result.days |= days

    def _finish_postgresql(self, batch: list[EventColumns], failure: BaseException | None) -> set[date]:
        import psycopg.errors

        stack, self._open = self._open, None
        assert stack is not None
        conflicts = (psycopg.errors.UniqueViolation, psycopg.errors.DeadlockDetected, IntegrityError)
        try:
            self._end_copy(failure)
            if failure is not None:
                raise failure
            self._copy_keys(batch)
            days = self._batch_done(batch)
        except conflicts:
            stack.__exit__(*sys.exc_info())  # rolls the batch back
            raise _Conflict from None
        except BaseException:
            stack.__exit__(*sys.exc_info())
            raise
        stack.close()  # commits
        return days

    def _sqlite_batch(self, batch: list[EventColumns]) -> set[date]:
        assert self._ids is not None
        ws = self.workspace.id
        received = connection.ops.adapt_datetimefield_value(timezone.now())
        user_id, feature_id = self._ids[CrmUser][0].__getitem__, self._ids[Feature][0].__getitem__

        moments = [_db_moments(cols) for cols in batch]

        def params() -> Iterator[tuple[Any, ...]]:
            for cols, stored_moments in zip(batch, moments, strict=True):
                n = len(cols)
                yield from zip(
                    repeat(ws, n),
                    cols.uuids,
                    map(user_id, cols.users),
                    map(feature_id, cols.features),
                    cols.actions,
                    cols.details,
                    cols.record_ids,
                    stored_moments,
                    repeat(received, n),
                    cols.properties if cols.properties is not None else repeat(None, n),
                    *_outcome_columns(cols),
                    strict=False,
                )

        def keys() -> Iterator[tuple[Any, ...]]:
            for cols, stored_moments in zip(batch, moments, strict=True):
                yield from zip(repeat(ws), cols.uuids, stored_moments)

        size = sum(map(len, batch))
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {EventKey._meta.db_table} (workspace_id, uuid, occurred_at) VALUES (%s,%s,%s) "
                    "ON CONFLICT DO NOTHING",
                    keys(),  # type: ignore[arg-type]  # streamed: any iterable will do
                )
                if cursor.rowcount != size:  # some uuids were stored already: roll back
                    raise _Conflict
                cursor.executemany(
                    f"INSERT INTO {Event._meta.db_table} ({_EVENT_COLUMNS}) VALUES ({_EVENT_PLACEHOLDERS})",
                    params(),  # type: ignore[arg-type]
                )
            return self._batch_done(batch)

    def _batch_done(self, batch: list[EventColumns]) -> set[date]:
        """Inside the batch's transaction, after its events: feature actions and dirty days."""
        assert self._ids is not None
        feature_ids = self._ids[Feature][0]
        combos: set[tuple[int, str, str]] = set()
        days: set[date] = set()
        for cols in batch:
            combos |= _combos(cols, feature_ids)
            days |= _local_days(cols, self._tz)
        new = _feature_actions_record(self.workspace, combos, self._known_combos)
        mark_days_dirty(workspace_id=self.workspace.id, days=days)
        transaction.on_commit(lambda: self._known_combos.update(new))
        return days

    def _abort(self, exc: BaseException | None) -> None:
        stack, self._open = self._open, None
        self._batch, self._batch_size, self._uuids = [], 0, set()
        details = (type(exc), exc, exc.__traceback__) if exc is not None else (None, None, None)
        try:
            self._end_copy(exc)
        finally:
            if stack is not None:
                stack.__exit__(*details)


def _outcome_columns(cols: EventColumns) -> tuple[Iterable[Any], ...]:
    """The outcome, error code, duration and device of each event, as the database takes them."""
    if cols.outcomes is None:
        return repeat(""), repeat(""), repeat(None), repeat("")
    o = cols.outcomes
    return o.outcomes, o.error_codes, o.durations, o.devices


def _outcome_copy_text(cols: EventColumns) -> tuple[Iterable[str], ...]:
    """``_outcome_columns`` in COPY's text format (the codes are validated: nothing to escape but
    the error code)."""
    if cols.outcomes is None:
        return repeat(""), repeat(""), repeat("\\N"), repeat("")
    o = cols.outcomes
    durations = ["\\N" if d is None else str(d) for d in o.durations]
    return o.outcomes, _copy_escaped(o.error_codes), durations, o.devices


def _copy_escaped(values: Sequence[str]) -> Sequence[str]:
    """Values for COPY's text format: backslash, tab, newline and carriage return escaped."""
    joined = "\x00".join(values)
    if "\\" not in joined and "\t" not in joined and "\n" not in joined and "\r" not in joined:
        return values
    return [v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r") for v in values]


def _as_aware(value: Any) -> datetime:
    """RETURNING on SQLite gives the stored text ('YYYY-MM-DD HH:MM:SS[.ffffff]', UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def mark_days_dirty(*, workspace_id: int, days: Iterable[date]) -> None:
    """Record that these local days need their rollups recomputed (fresh token per mark)."""
    now = timezone.now()
    marks = [DirtyDay(workspace_id=workspace_id, day=d, token=uuidlib.uuid4().hex, marked_at=now) for d in sorted(days)]
    if marks:
        DirtyDay.objects.bulk_create(
            marks, update_conflicts=True, unique_fields=["workspace", "day"], update_fields=["token", "marked_at"]
        )


# After a failed publish, don't try the broker again for this long: while Redis is down each attempt
# would hold the ingest request for the connection timeout. The days stay marked dirty meanwhile.
BROKER_RETRY_AFTER_SECONDS = 15.0
_broker_down_until = 0.0


def enqueue_rollup_refresh(workspace_id: int) -> None:
    """Ask a worker to refresh the workspace's dirty days.

    Never lets a broker outage fail or slow the request that stored the events: the days stay
    marked, and the next enqueue that reaches the broker, or the periodic sweep
    (``CELERY_BEAT_SCHEDULE``), refreshes them all.
    """
    global _broker_down_until
    from events.tasks import refresh_rollups_task

    if time.monotonic() < _broker_down_until:
        return
    try:
        refresh_rollups_task.delay(workspace_id)
    except (KombuError, RedisError, OSError):
        _broker_down_until = time.monotonic() + BROKER_RETRY_AFTER_SECONDS
        logger.warning("The broker is unreachable; rollups of workspace %s wait for the sweep.", workspace_id)
    except Exception:
        # In-process (eager) mode runs the refresh right here: a failure must not turn the stored
        # batch into an error response; the day stays dirty and is retried.
        logger.exception("The rollup refresh of workspace %s failed; its days stay dirty.", workspace_id)
