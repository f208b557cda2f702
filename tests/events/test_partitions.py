"""Event uuids kept unique by the key table, and the events table partitioned by month (PostgreSQL).

The key table runs on both databases; the partitions only on PostgreSQL (those tests skip on SQLite).
Partitions are created outside transactions, so those tests use ``transactional_db``.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from events.models import CrmUser, Event, EventKey, Feature
from events.partitions import DEFAULT, event_partitions, event_partitions_maintain, month_of
from events.privacy import raw_events_apply_retention
from events.tasks import apply_retention_task, maintain_event_partitions_task
from tenancy.models import Workspace
from tests.events.test_ingest_api import event, post

postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the events table is partitioned on PostgreSQL only"
)


def where_stored(workspace: Workspace) -> dict[str, str]:
    """uuid → the table (partition) holding the event."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT uuid, tableoid::regclass::text FROM events_event WHERE workspace_id = %s", [workspace.id]
        )
        return dict(cursor.fetchall())


def import_csv(tmp_path: Path, workspace: Workspace, rows: list[str]) -> str:
    path = tmp_path / "events.csv"
    path.write_text("uuid,user,feature,action,detail,record_id,timestamp\n" + "\n".join(rows) + "\n")
    out = io.StringIO()
    call_command("import_events", str(path), "--workspace", workspace.slug, "--no-refresh", stdout=out)
    return out.getvalue().strip().splitlines()[-1]


# --- the key table (both databases) ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_uuid_resent_with_another_time_is_a_duplicate(make_workspace: Any, tmp_path: Path) -> None:
    # A partitioned table could only have kept (uuid, time) unique; the key table keeps the uuid.
    workspace, key = make_workspace("acme")
    assert post(key, {"events": [event(1, ts="2025-03-10T09:00:00+00:00")]}).json()["accepted"] == 1
    body = post(key, {"events": [event(1, ts="2025-07-10T09:00:00+00:00"), event(2)]}).json()
    assert body == {"accepted": 1, "duplicates": 1, "rejected": []}
    # The import (its bulk path, then its exact path after the conflict) says the same.
    line = import_csv(
        tmp_path, workspace, ["e1,u1,Leads,view,,,2025-11-01T00:00:00Z", "e3,u1,Leads,view,,,2025-11-01T00:00:00Z"]
    )
    assert line == "imported=1 duplicates=1 rejected=0"
    assert sorted(Event.objects.filter(workspace=workspace).values_list("uuid", "occurred_at")) == [
        ("e1", datetime(2025, 3, 10, 9, tzinfo=UTC)),
        ("e2", datetime(2025, 10, 6, 9, tzinfo=UTC)),
        ("e3", datetime(2025, 11, 1, tzinfo=UTC)),
    ]
    assert sorted(EventKey.objects.filter(workspace=workspace).values_list("uuid", flat=True)) == ["e1", "e2", "e3"]
    # Another workspace may use the same uuid.
    other, other_key = make_workspace("other")
    assert post(other_key, {"events": [event(1)]}).json()["accepted"] == 1


@pytest.mark.django_db
def test_retention_prunes_the_keys_of_the_events_it_removes(make_workspace: Any) -> None:
    workspace, key = make_workspace("acme")
    today = workspace.today()
    old, recent = (f"{today - timedelta(days=n)}T10:00:00+00:00" for n in (40, 5))
    assert post(key, {"events": [event(1, ts=old), event(2, ts=recent)]}).json()["accepted"] == 2
    workspace.raw_event_retention_days = 30
    workspace.save()
    assert raw_events_apply_retention(workspace=workspace) == 1
    assert list(EventKey.objects.filter(workspace=workspace).values_list("uuid", flat=True)) == ["e2"]
    # The pruned uuid cannot come back: its time is past the retention, and the batch says so.
    body = post(key, {"events": [event(1, ts=old)]}).json()
    assert body["accepted"] == 0 and body["rejected"][0]["errors"].keys() == {"timestamp"}


# --- monthly partitions (PostgreSQL) --------------------------------------------------------------


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_events_are_stored_in_their_months_partitions(make_workspace: Any, tmp_path: Path) -> None:
    workspace, key = make_workspace("acme", tz="Asia/Shanghai")
    # 00:30 in Shanghai on 1 April is still March in UTC: partitions follow UTC months.
    batch = [event(1, ts="2024-04-01T00:30:00+08:00"), event(2, ts="2024-04-01T08:00:00+00:00")]
    assert post(key, {"events": batch}).json()["accepted"] == 2
    rows = [f"i{n},u1,Leads,view,,,2024-{month:02d}-15T12:00:00Z" for n, month in enumerate((5, 6, 6, 7))]
    assert import_csv(tmp_path, workspace, rows) == "imported=4 duplicates=0 rejected=0"
    assert where_stored(workspace) == {
        "e1": "events_event_p2024_03",
        "e2": "events_event_p2024_04",
        "i0": "events_event_p2024_05",
        "i1": "events_event_p2024_06",
        "i2": "events_event_p2024_06",
        "i3": "events_event_p2024_07",
    }
    assert {date(2024, m, 1) for m in range(3, 8)} <= event_partitions().keys()
    # A time range reads only its months' partitions.
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT count(*) FROM events_event WHERE occurred_at >= %s AND occurred_at < %s",
            [datetime(2024, 6, 1, tzinfo=UTC), datetime(2024, 7, 1, tzinfo=UTC)],
        )
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "events_event_p2024_06" in plan and "events_event_p2024_05" not in plan and DEFAULT not in plan


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_events_written_inside_a_transaction_wait_in_default_until_the_upkeep_moves_them(make_workspace: Any) -> None:
    workspace, _ = make_workspace("acme")
    user = CrmUser.objects.create(workspace=workspace, external_id="u1")
    feature = Feature.objects.create(workspace=workspace, key="Leads", name="Leads")
    moment = datetime(2019, 5, 20, 8, tzinfo=UTC)
    stored = Event.objects.create(
        workspace=workspace, uuid="old", crm_user=user, feature=feature, action="view", occurred_at=moment
    )
    assert where_stored(workspace) == {"old": DEFAULT}
    created = event_partitions_maintain(now=datetime(2030, 1, 10, tzinfo=UTC))
    assert created == [date(2019, 5, 1), date(2030, 1, 1), date(2030, 2, 1)]
    assert where_stored(workspace) == {"old": "events_event_p2019_05"}
    assert Event.objects.get(workspace=workspace, occurred_at=moment).pk == stored.pk
    # The upkeep task does the same for this month and the next.
    maintain_event_partitions_task()
    assert month_of(timezone.now()) in event_partitions()
    assert where_stored(workspace) == {"old": "events_event_p2019_05"}
    # New events keep taking ids from the same sequence.
    later = Event.objects.create(
        workspace=workspace, uuid="new", crm_user=user, feature=feature, action="view", occurred_at=moment
    )
    assert later.pk > stored.pk


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_retention_drops_a_month_only_when_no_workspace_keeps_any_of_it(make_workspace: Any) -> None:
    short, short_key = make_workspace("short")
    forever, forever_key = make_workspace("forever")
    # January: both workspaces; February: only the one that will keep 30 days.
    assert (
        post(short_key, {"events": [event(1, ts="2024-01-10T10:00:00Z"), event(2, ts="2024-02-10T10:00:00Z")]}).json()[
            "accepted"
        ]
        == 2
    )
    assert post(forever_key, {"events": [event(1, ts="2024-01-20T10:00:00Z")]}).json()["accepted"] == 1
    recent = f"{short.today() - timedelta(days=2)}T10:00:00+00:00"
    assert post(short_key, {"events": [event(3, ts=recent)]}).json()["accepted"] == 1
    short.raw_event_retention_days = 30
    short.save()

    assert apply_retention_task() == 2  # February as a partition, January's event of "short" as a row
    months = event_partitions()
    assert date(2024, 2, 1) not in months and date(2024, 1, 1) in months
    assert sorted(Event.objects.values_list("workspace__slug", "uuid")) == [("forever", "e1"), ("short", "e3")]
    assert sorted(EventKey.objects.filter(workspace=short).values_list("uuid", flat=True)) == ["e3"]

    # Once the other workspace keeps 30 days too, January goes whole.
    forever.raw_event_retention_days = 30
    forever.save()
    assert raw_events_apply_retention(workspace=forever) == 1
    assert date(2024, 1, 1) not in event_partitions()
    assert list(Event.objects.values_list("uuid", flat=True)) == ["e3"]
    # A partition with events of this month is never touched.
    assert raw_events_apply_retention(workspace=short) == 0


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_migration_carries_the_events_over_and_back(make_workspace: Any) -> None:
    workspace, key = make_workspace("acme")
    batch = [event(1, ts="2023-11-30T23:59:59Z"), event(2, ts="2023-12-01T00:00:00Z"), event(3)]
    assert post(key, {"events": batch}).json()["accepted"] == 3
    before = sorted(Event.objects.values_list("id", "uuid", "occurred_at"))
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("events", "0015_workspace_rollups_version")])
        with connection.cursor() as cursor:
            cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'events_event'")
            assert cursor.fetchone()[0] == "r"  # a plain table again, uuid-unique
            cursor.execute("SELECT id, uuid, occurred_at FROM events_event ORDER BY id")
            assert sorted(cursor.fetchall()) == before
        executor = MigrationExecutor(connection)
        executor.migrate([("events", "0016_event_keys_and_month_partitions")])
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert sorted(Event.objects.values_list("id", "uuid", "occurred_at")) == before
    assert where_stored(workspace) == {
        "e1": "events_event_p2023_11",
        "e2": "events_event_p2023_12",
        "e3": "events_event_p2025_10",
    }
    assert EventKey.objects.filter(workspace=workspace).count() == 3
    assert post(key, {"events": [event(4, ts="2023-12-05T00:00:00Z")]}).json()["accepted"] == 1
    assert Event.objects.get(uuid="e4").pk > max(row[0] for row in before)
