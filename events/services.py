"""Writes of the events area: workspaces, CRM users and event ingestion.

Events are the system of record: an accepted event is committed before the caller answers. Rollups
are derived afterwards, by a task enqueued on commit (see ``events.rollups``).
"""

from __future__ import annotations

import json
import logging
import time
import uuid as uuidlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from events.models import CrmUser, DirtyDay, Event, Feature, FeatureAction, IngestKey, Membership, Workspace
from events.validation import EventRow

logger = logging.getLogger(__name__)


def workspace_create(
    *, slug: str, name: str = "", timezone_name: str = "UTC", session_timeout_minutes: int = 15
) -> tuple[Workspace, str]:
    """Create a workspace with its first ingest key; return both (the raw key is shown once)."""
    with transaction.atomic():
        workspace = Workspace(
            slug=slug, name=name or slug, timezone=timezone_name, session_timeout_minutes=session_timeout_minutes
        )
        workspace.full_clean()
        workspace.save()
        _, raw_key = IngestKey.issue(workspace)
    return workspace, raw_key


def membership_set(*, workspace: Workspace, user: Any, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": role})
    return membership


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
    Creation ignores conflicts so two concurrent batches naming the same new user both succeed.
    """
    key_field = "external_id" if model is CrmUser else "key"
    found = dict(model.objects.filter(workspace=workspace, **{f"{key_field}__in": keys}).values_list(key_field, "id"))
    missing = keys - found.keys()
    if missing:
        if model is CrmUser:
            new: list[Any] = [CrmUser(workspace=workspace, external_id=k) for k in missing]
        else:
            new = [
                Feature(workspace=workspace, key=k, name=k, type=Feature.Type.CUSTOM, auto_created=True)
                for k in missing
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
    "workspace_id, uuid, crm_user_id, feature_id, action, detail, record_id, occurred_at, received_at, properties"
)
# The staging table of the PostgreSQL path: one per connection, emptied at every commit.
_STAGE = "events_ingest_stage"
# SQLite: uuids per duplicate look-up (under SQLite's parameter limit).
_SQLITE_UUID_CHUNK = 500


def _insert_events(rows: list[tuple[Any, ...]]) -> list[datetime]:
    """Insert event tuples, skipping uuids the workspace already has; return the times inserted.

    The database reports what it inserted, so duplicates are counted exactly even when two clients
    resend the same batch at once. Within a batch the first row of a uuid wins.
    """
    insert = _insert_events_postgresql if connection.vendor == "postgresql" else _insert_events_sqlite
    return [_as_aware(v) for v in insert(rows)]


def _insert_events_postgresql(rows: list[tuple[Any, ...]]) -> list[Any]:
    """``COPY`` the batch into a temporary staging table, then one ``INSERT … SELECT … ON CONFLICT DO
    NOTHING RETURNING``: COPY is the cheapest way into PostgreSQL (no per-statement parameter
    parsing), and the conflict rule needs an INSERT. Staged rows keep the batch's order (``seq``), so
    the first row of a uuid repeated inside the batch is the one stored."""
    table = Event._meta.db_table
    with connection.cursor() as cursor:
        # Created once per connection (a no-op afterwards); ON COMMIT DELETE ROWS empties it at every
        # commit, and the DELETE below does so when several batches share one transaction.
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} (seq bigint, workspace_id bigint, uuid varchar(64), "
            "crm_user_id bigint, feature_id bigint, action varchar(64), detail varchar(128), "
            "record_id varchar(128), occurred_at timestamptz, received_at timestamptz, properties jsonb) "
            "ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY {_STAGE} (seq, {_EVENT_COLUMNS}) FROM STDIN") as copy:
            write_row = copy.write_row
            for seq, row in enumerate(rows):
                write_row((seq, *row))
        cursor.execute(
            f"INSERT INTO {table} ({_EVENT_COLUMNS}) SELECT {_EVENT_COLUMNS} FROM {_STAGE} ORDER BY seq "
            "ON CONFLICT DO NOTHING RETURNING occurred_at"
        )
        inserted = [r[0] for r in cursor.fetchall()]
        cursor.execute(f"DELETE FROM {_STAGE}")
    return inserted


def _insert_events_sqlite(rows: list[tuple[Any, ...]]) -> list[Any]:
    """Look up which uuids the workspace already has, then ``executemany`` the new rows.

    SQLite has one writer and Django opens its transactions with ``BEGIN IMMEDIATE``: nothing can
    insert a uuid between the look-up and the insert, so the rows inserted are exactly the rows
    kept here. ``ON CONFLICT DO NOTHING`` stays as a guard, and the count is checked.
    """
    table = Event._meta.db_table
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
                    f"SELECT uuid FROM {table} WHERE workspace_id = %s AND uuid IN ({','.join(['%s'] * len(chunk))})",
                    [workspace_id, *chunk],
                )
                for (uuid,) in cursor.fetchall():
                    del fresh[(workspace_id, uuid)]
        new_rows = list(fresh.values())
        if new_rows:
            cursor.executemany(
                f"INSERT INTO {table} ({_EVENT_COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING",
                new_rows,
            )
            if cursor.rowcount != len(new_rows):  # cannot happen under the write lock; be exact anyway
                raise RuntimeError(f"expected to insert {len(new_rows)} events, inserted {cursor.rowcount}")
    return [row[7] for row in new_rows]


def events_ingest(*, workspace: Workspace, rows: Sequence[EventRow], enqueue_refresh: bool = True) -> IngestResult:
    """Store validated events (deduplicated by uuid) and mark their local days dirty.

    The events and the dirty marks commit together; the rollup refresh is enqueued only after the
    commit, so a worker never looks for rows that are not visible yet.
    """
    result = IngestResult()
    if not rows:
        return result
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    with transaction.atomic():
        user_ids = _resolve_ids(CrmUser, workspace, {r.user for r in rows})
        feature_ids = _resolve_ids(Feature, workspace, {r.feature for r in rows})
        received = adapt(now)
        tuples = [
            (
                workspace.id,
                r.uuid or uuidlib.uuid4().hex,
                user_ids[r.user],
                feature_ids[r.feature],
                r.action,
                r.detail,
                r.record_id,
                adapt(r.occurred_at),
                received,
                json.dumps(r.properties) if r.properties is not None else None,
            )
            for r in rows
        ]
        inserted = _insert_events(tuples)
        FeatureAction.objects.bulk_create(
            [
                FeatureAction(workspace=workspace, feature_id=feature_ids[feature], action=action, detail=detail)
                for feature, action, detail in {(r.feature, r.action, r.detail) for r in rows}
            ],
            ignore_conflicts=True,
        )
        tz = workspace.tzinfo
        result.accepted = len(inserted)
        result.duplicates = len(rows) - len(inserted)
        result.days = {moment.astimezone(tz).date() for moment in inserted}
        mark_days_dirty(workspace_id=workspace.id, days=result.days)
    if result.days and enqueue_refresh:
        transaction.on_commit(lambda: enqueue_rollup_refresh(workspace.id))
    return result


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
