"""The coarse rollups (user·feature·day totals, feature·day, user·feature·month day bitmasks, events
and events per day, feature·month users and events, user·month bitmasks and totals, workspace·day)
always equal what the raw events say, however
they were reached: refresh after refresh, across a month end and a DST change, after a full
rebuild, and after days lose their events."""

from __future__ import annotations

import importlib
import random
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from events import rollups
from events.models import (
    CrmUser,
    Event,
    FeatureDay,
    FeatureMonth,
    UserDay,
    UserFeatureDayTotal,
    UserFeatureMonth,
    UserMonth,
    WorkspaceDay,
)
from events.periods import local_midnight_utc, month_end, month_mask, months_between
from tests.conftest import journeys

pytestmark = pytest.mark.django_db

DAY_FIELDS = [UserFeatureMonth.day_field(d) for d in range(1, 32)]


def from_raw_events(workspace):
    """The coarse tables computed straight from the events, in Python (a user's sessions and
    session seconds in a month from their UserDay rows, which tests/events/test_rollups.py checks)."""
    tz = workspace.tzinfo
    totals: Counter = Counter()
    for user_id, feature_id, moment in Event.objects.filter(workspace=workspace).values_list(
        "crm_user_id", "feature_id", "occurred_at"
    ):
        totals[(moment.astimezone(tz).date(), user_id, feature_id)] += 1
    per_feature: dict = defaultdict(lambda: [0, 0, set()])
    months: dict = defaultdict(lambda: [0, 0, [0] * 31])
    per_user_day: Counter = Counter()
    for (day, user_id, feature_id), n in totals.items():
        per_feature[(day, feature_id)][0] += n
        per_feature[(day, feature_id)][1] += 1
        per_feature[(day, feature_id)][2].add(user_id)
        months[(day.replace(day=1), user_id, feature_id)][0] |= 1 << (day.day - 1)
        months[(day.replace(day=1), user_id, feature_id)][1] += n
        months[(day.replace(day=1), user_id, feature_id)][2][day.day - 1] += n
        per_user_day[(day, user_id)] += n
    feature_months: dict = defaultdict(lambda: [0, 0])
    for (month, _user_id, feature_id), (_bits, n, _days) in months.items():
        feature_months[(month, feature_id)][0] += 1
        feature_months[(month, feature_id)][1] += n
    user_months: dict = defaultdict(lambda: [0, 0, 0, 0.0, [0] * 31])
    per_day: dict = defaultdict(lambda: [0, 0])
    for (day, user_id), n in per_user_day.items():
        figures = user_months[(day.replace(day=1), user_id)]
        figures[0] |= 1 << (day.day - 1)
        figures[1] += n
        figures[4][day.day - 1] += n
        per_day[day][0] += n
        per_day[day][1] += 1
    for day, user_id, sessions, seconds in UserDay.objects.filter(workspace=workspace).values_list(
        "day", "crm_user_id", "sessions", "session_seconds"
    ):
        user_months[(day.replace(day=1), user_id)][2] += sessions
        user_months[(day.replace(day=1), user_id)][3] += seconds
    return (
        sorted((day, u, f, n) for (day, u, f), n in totals.items()),
        sorted((day, f, e, u, tuple(sorted(ids))) for (day, f), (e, u, ids) in per_feature.items()),
        sorted((m, u, f, bits, n, *per_day) for (m, u, f), (bits, n, per_day) in months.items()),
        sorted((m, f, u, n) for (m, f), (u, n) in feature_months.items()),
        sorted(
            (m, u, bits, n, s, round(secs, 6), *per_day) for (m, u), (bits, n, s, secs, per_day) in user_months.items()
        ),
        sorted((day, e, u) for day, (e, u) in per_day.items()),
    )


def users_of_bits(workspace, user_bits) -> tuple[int, ...]:
    """The ids of the users whose bit is set in a FeatureDay bitmap."""
    value = int.from_bytes(user_bits, "little")
    indexes = [n for n in range(value.bit_length()) if value >> n & 1]
    by_index = dict(CrmUser.objects.filter(workspace=workspace).values_list("bit_index", "id"))
    return tuple(sorted(by_index[n] for n in indexes))


def stored(workspace):
    # Users are numbered 0, 1, 2… per workspace, without gaps, each once.
    numbers = sorted(CrmUser.objects.filter(workspace=workspace).values_list("bit_index", flat=True))
    assert numbers == list(range(len(numbers)))
    return (
        sorted(
            UserFeatureDayTotal.objects.filter(workspace=workspace).values_list(
                "day", "crm_user_id", "feature_id", "events"
            )
        ),
        sorted(
            (day, f, e, u, users_of_bits(workspace, bits))
            for day, f, e, u, bits in FeatureDay.objects.filter(workspace=workspace).values_list(
                "day", "feature_id", "events", "users", "user_bits"
            )
        ),
        sorted(
            UserFeatureMonth.objects.filter(workspace=workspace).values_list(
                "month", "crm_user_id", "feature_id", "days", "events", *DAY_FIELDS
            )
        ),
        sorted(FeatureMonth.objects.filter(workspace=workspace).values_list("month", "feature_id", "users", "events")),
        sorted(
            (m, u, bits, n, s, round(secs, 6), *per_day)
            for m, u, bits, n, s, secs, *per_day in UserMonth.objects.filter(workspace=workspace).values_list(
                "month", "crm_user_id", "days", "events", "sessions", "session_seconds", *DAY_FIELDS
            )
        ),
        sorted(WorkspaceDay.objects.filter(workspace=workspace).values_list("day", "events", "users")),
    )


def test_a_hand_checked_month_end():
    assert month_end(date(2024, 2, 10)) == date(2024, 2, 29)
    assert months_between(date(2025, 3, 30), date(2025, 5, 1)) == [date(2025, 3, 1), date(2025, 4, 1), date(2025, 5, 1)]
    assert month_mask(date(2025, 3, 1), date(2025, 3, 30), date(2025, 4, 2)) == (1 << 29) | (1 << 30)
    assert month_mask(date(2025, 4, 1), date(2025, 3, 30), date(2025, 4, 2)) == 0b11
    assert month_mask(date(2025, 5, 1), date(2025, 3, 30), date(2025, 4, 2)) == 0


def test_two_users_across_a_month_end(workspace):
    journeys(
        workspace,
        [
            ("ann", "2025-03-31T09:00:00+00:00", "Leads", "view"),
            ("ann", "2025-03-31T09:01:00+00:00", "Leads", "create"),
            ("ann", "2025-04-01T09:00:00+00:00", "Leads", "view"),
            ("bob", "2025-03-31T10:00:00+00:00", "Leads", "view", "kanban"),
            ("bob", "2025-03-31T10:00:00+00:00", "Deals", "view"),
        ],
    )
    ann, bob = (CrmUser.objects.get(external_id=x).id for x in ("ann", "bob"))
    rows = {
        (r.day.isoformat(), r.feature.key): (r.events, r.users)
        for r in FeatureDay.objects.filter(workspace=workspace).select_related("feature")
    }
    # Leads on the 31st: ann's two actions and bob's one, two distinct users.
    assert rows == {("2025-03-31", "Leads"): (3, 2), ("2025-03-31", "Deals"): (1, 1), ("2025-04-01", "Leads"): (1, 1)}
    # ann came first (bit 0), bob second (bit 1).
    assert [CrmUser.objects.get(pk=pk).bit_index for pk in (ann, bob)] == [0, 1]
    assert {
        (r.day.isoformat(), r.feature.key): bytes(r.user_bits)
        for r in FeatureDay.objects.filter(workspace=workspace).select_related("feature")
    } == {("2025-03-31", "Leads"): b"\x03", ("2025-03-31", "Deals"): b"\x02", ("2025-04-01", "Leads"): b"\x01"}
    months = {
        (r.month.isoformat(), r.crm_user_id, r.feature.key): r.days
        for r in UserFeatureMonth.objects.filter(workspace=workspace).select_related("feature")
    }
    assert months == {
        ("2025-03-01", ann, "Leads"): 1 << 30,
        ("2025-04-01", ann, "Leads"): 1,
        ("2025-03-01", bob, "Leads"): 1 << 30,
        ("2025-03-01", bob, "Deals"): 1 << 30,
    }
    # Leads in March: ann and bob (4 events); in April ann alone.
    assert {
        (r.month.isoformat(), r.feature.key): (r.users, r.events)
        for r in FeatureMonth.objects.filter(workspace=workspace).select_related("feature")
    } == {("2025-03-01", "Leads"): (2, 3), ("2025-03-01", "Deals"): (1, 1), ("2025-04-01", "Leads"): (1, 1)}
    assert stored(workspace) == from_raw_events(workspace)


@pytest.mark.parametrize(("seed", "tz"), [(1, "Europe/Berlin"), (2, "America/New_York"), (3, "Asia/Kolkata")])
def test_refresh_after_refresh_rebuild_and_lost_days_agree_with_the_events(make_workspace, seed, tz):
    rng = random.Random(seed)
    workspace = make_workspace("w", tz=tz)[0]
    zone = ZoneInfo(tz)
    start = datetime(2025, 2, 24, tzinfo=zone)  # a month end, a DST change (Europe and America) and another month end
    events = [
        (
            rng.choice(["a", "b", "c", "d"]),
            start + timedelta(hours=rng.uniform(0, 24 * 45)),
            rng.choice(["Leads", "Deals", "Home"]),
            rng.choice(["view", "create", "click"]),
            rng.choice(["", "x"]),
        )
        for _ in range(400)
    ]
    # Arrive out of order, in batches, each followed by an incremental refresh.
    rng.shuffle(events)
    for first in range(0, len(events), 57):
        journeys(workspace, events[first : first + 57])
        assert stored(workspace) == from_raw_events(workspace)
    incremental = stored(workspace)
    rollups.rollups_rebuild(workspace=workspace)
    assert stored(workspace) == incremental
    # The first and last days lose their events (as retention or an erasure would): a rebuild
    # clears their bits in months that keep other days.
    local_days = sorted({e.occurred_at.astimezone(zone).date() for e in Event.objects.filter(workspace=workspace)})
    for day in (local_days[0], local_days[1], local_days[-1]):
        Event.objects.filter(
            workspace=workspace,
            occurred_at__gte=local_midnight_utc(day, zone),
            occurred_at__lt=local_midnight_utc(day + timedelta(days=1), zone),
        ).delete()
    rollups.rollups_rebuild(workspace=workspace)
    assert stored(workspace) == from_raw_events(workspace)
    assert UserFeatureMonth.objects.filter(workspace=workspace, days=0).count() == 0
    assert UserMonth.objects.filter(workspace=workspace, days=0).count() == 0


def test_the_migration_backfill_builds_them_from_the_finest_rollup(workspace):
    journeys(
        workspace,
        [
            ("ann", "2025-03-31T09:00:00+00:00", "Leads", "view"),
            ("bob", "2025-04-02T10:00:00+00:00", "Deals", "view"),
        ],
    )
    expected = stored(workspace)
    for model in (UserFeatureDayTotal, FeatureDay, UserFeatureMonth, FeatureMonth, UserMonth, WorkspaceDay):
        model.objects.all().delete()
    assert rollups.coarse_rollups_backfill(workspace_id=workspace.id) == 3
    assert stored(workspace) == expected


def test_the_migration_backfill_fills_the_events_per_day_of_existing_months(workspace):
    backfill = importlib.import_module("events.migrations.0018_feature_month_day_events").backfill
    journeys(
        workspace,
        [
            ("ann", "2025-03-31T09:00:00+00:00", "Leads", "view"),
            ("ann", "2025-03-31T09:05:00+00:00", "Leads", "create"),
            ("ann", "2025-03-01T09:00:00+00:00", "Leads", "view"),
            ("bob", "2025-04-02T10:00:00+00:00", "Deals", "view"),
        ],
    )
    expected = stored(workspace)
    # As the rows were before the migration: bits and totals, no events per day.
    UserFeatureMonth.objects.update(**dict.fromkeys(DAY_FIELDS, 0))
    UserMonth.objects.update(**dict.fromkeys(DAY_FIELDS, 0))
    importlib.import_module("events.migrations.0022_user_month_day_events").backfill(
        None, SimpleNamespace(connection=connection)
    )
    assert stored(workspace) != expected
    backfill(None, SimpleNamespace(connection=connection))
    assert stored(workspace) == expected
    ann_march = UserFeatureMonth.objects.get(workspace=workspace, month=date(2025, 3, 1), feature__key="Leads")
    assert (ann_march.events, ann_march.events_01, ann_march.events_31, ann_march.events_15) == (3, 1, 2, 0)
    ann_month = UserMonth.objects.get(workspace=workspace, month=date(2025, 3, 1), crm_user__external_id="ann")
    assert (ann_month.events, ann_month.events_01, ann_month.events_31, ann_month.events_15) == (3, 1, 2, 0)


def test_the_feature_month_migration_counts_the_stored_month_rows(workspace):
    backfill = importlib.import_module("events.migrations.0020_feature_months").backfill
    journeys(
        workspace,
        [
            ("ann", "2025-03-31T09:00:00+00:00", "Leads", "view"),
            ("ann", "2025-03-02T09:00:00+00:00", "Leads", "create"),
            ("bob", "2025-03-15T10:00:00+00:00", "Leads", "view"),
            ("bob", "2025-04-02T10:00:00+00:00", "Deals", "view"),
        ],
    )
    expected = stored(workspace)
    FeatureMonth.objects.all().delete()
    backfill(None, SimpleNamespace(connection=connection))
    assert stored(workspace) == expected
    leads_march = FeatureMonth.objects.get(workspace=workspace, month=date(2025, 3, 1), feature__key="Leads")
    assert (leads_march.users, leads_march.events) == (2, 3)


def test_the_user_bits_migration_numbers_users_and_fills_the_bitmaps(make_workspace):
    backfill = importlib.import_module("events.migrations.0023_feature_day_user_bits").backfill
    workspace, other = make_workspace("w")[0], make_workspace("other")[0]
    for target in (workspace, other):
        journeys(
            target,
            [
                ("ann", "2025-03-31T09:00:00+00:00", "Leads", "view"),
                ("bob", "2025-03-31T10:00:00+00:00", "Leads", "create"),
                ("bob", "2025-04-02T10:00:00+00:00", "Deals", "view"),
            ],
        )
    expected = [stored(workspace), stored(other)]
    # As before the migration: nobody numbered, no bitmaps.
    CrmUser.objects.update(bit_index=None)
    FeatureDay.objects.update(user_bits=b"")
    backfill(None, SimpleNamespace(connection=connection))
    # Each workspace numbers its own users from 0.
    assert [stored(workspace), stored(other)] == expected
    leads = FeatureDay.objects.get(workspace=other, day=date(2025, 3, 31), feature__key="Leads")
    assert bytes(leads.user_bits) == b"\x03"


def test_users_created_later_get_the_next_numbers_and_keep_them(workspace):
    journeys(workspace, [("ann", "2025-03-31T09:00:00+00:00", "Leads", "view")])
    # Created by the API or an import, with no event yet: numbered at the next refresh or rebuild.
    CrmUser.objects.create(workspace=workspace, external_id="carl")
    journeys(workspace, [("bob", "2025-04-01T09:00:00+00:00", "Leads", "view")])
    numbers = dict(CrmUser.objects.filter(workspace=workspace).values_list("external_id", "bit_index"))
    assert numbers == {"ann": 0, "carl": 1, "bob": 2}
    assert rollups.user_bits_assign(workspace.id) == 0
    rollups.rollups_rebuild(workspace=workspace)
    assert dict(CrmUser.objects.filter(workspace=workspace).values_list("external_id", "bit_index")) == numbers
    bob_day = FeatureDay.objects.get(workspace=workspace, day=date(2025, 4, 1))
    assert bytes(bob_day.user_bits) == b"\x04"


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_coarse_rollups_upgrades_to_the_rows_a_rebuild_gives(make_workspace):
    """Migrating from 0013 runs every later backfill on the schema of its own time: 0014 must not
    use the app's code, which expects columns (0015's rollups version, 0023's user numbers) that
    do not exist yet."""
    workspace = make_workspace("w", tz="Europe/Berlin")[0]
    journeys(
        workspace,
        [
            ("ann", "2025-03-31T09:00:00+00:00", "Leads", "view"),
            ("ann", "2025-03-31T09:05:00+00:00", "Leads", "create"),
            ("bob", "2025-03-30T23:30:00+00:00", "Leads", "view"),
            ("bob", "2025-04-02T10:00:00+00:00", "Deals", "view"),
        ],
    )
    expected = stored(workspace)
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("events", "0013_month_and_workspace_rollups")])
        with connection.cursor() as cursor:
            # As 0013 left them: the new tables empty (0014 fills them), the finest rows stored.
            for table in ("userfeaturedaytotal", "featureday", "userfeaturemonth", "usermonth", "workspaceday"):
                cursor.execute(f"DELETE FROM events_{table}")
            cursor.execute("SELECT COUNT(*) FROM events_userfeatureday")
            assert cursor.fetchone()[0] == 4
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert stored(workspace) == expected
    leads = FeatureDay.objects.get(workspace=workspace, day=date(2025, 3, 31), feature__key="Leads")
    assert (leads.events, leads.users, bytes(leads.user_bits)) == (3, 2, b"\x03")
