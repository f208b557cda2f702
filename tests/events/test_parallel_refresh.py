"""The rollup refresh fanned out over Celery tasks (events/tasks.py, events/refresh_plan.py), here in
eager mode (no broker: the chord runs in-process): the rows must be exactly the serial rebuild's.
tests/integration/test_parallel_refresh.py runs the same with two real worker processes."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from celery.signals import task_prerun

from events.models import (
    DirtyDay,
    FeatureDay,
    FeatureMonth,
    Session,
    UserDay,
    UserFeatureDay,
    UserFeatureDayTotal,
    UserFeatureMonth,
    UserMonth,
    WorkspaceDay,
)
from events.rollups import marks_clear, rebuild_chunks, rollups_rebuild
from events.services import mark_days_dirty
from events.tasks import rebuild_rollups_task, refresh_rollups_task
from tenancy.models import Workspace
from tests.conftest import journeys

pytestmark = pytest.mark.django_db

ROLLUP_MODELS = (
    UserFeatureDay,
    UserFeatureDayTotal,
    FeatureDay,
    UserFeatureMonth,
    FeatureMonth,
    UserDay,
    Session,
    UserMonth,
    WorkspaceDay,
)


def rollup_rows(workspace: Workspace) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every rollup table of the workspace, all columns but the id."""
    rows = {}
    for model in ROLLUP_MODELS:
        columns = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
        # Seconds summed in another row order may differ in the last bits: compared to the microsecond.
        rows[model.__name__] = sorted(
            tuple(round(v, 6) if isinstance(v, float) else v for v in row)
            for row in model.objects.filter(workspace=workspace).values_list(*columns)
        )
    return rows


def random_events(rng: random.Random, tz: str, days: list[date], prefix: str = "") -> list[tuple[Any, ...]]:
    """Sessions of a few users on the given local days: some near midnight (crossing it), gaps
    around the 15-minute timeout, logouts, several features, actions and details."""
    zone = ZoneInfo(tz)
    events = []
    for day in days:
        for user in rng.sample(["u1", "u2", "u3", "u4", "u5"], k=rng.randint(1, 4)):
            start_hour = rng.choice([0, 8, 13, 22, 23])
            moment = datetime(day.year, day.month, day.day, start_hour, rng.randint(0, 59), tzinfo=zone)
            for _ in range(rng.randint(1, 8)):
                action = rng.choice(["view", "view", "create", "edit", "logout"])
                feature = rng.choice(["Leads", "Deals", "Contacts"])
                detail = rng.choice(["", "list_view", "kanban"])
                events.append((f"{prefix}{user}", moment, feature, action, detail))
                moment += timedelta(minutes=rng.choice([1, 5, 14, 15, 16, 40]))
    return events


@pytest.fixture
def recorded_tasks() -> Iterator[Counter[str]]:
    """The Celery tasks that actually ran (eager tasks send the same signals as a worker's)."""
    seen: Counter[str] = Counter()

    def record(sender: Any = None, **_: Any) -> None:
        seen[sender.name.rsplit(".", 1)[-1]] += 1

    task_prerun.connect(record, weak=False)
    yield seen
    task_prerun.disconnect(record)


# Berlin: the 2025 spring DST change (30 March) falls inside the span, so one local day is 23 hours.
SPAN = [date(2025, 3, 3) + timedelta(days=n) for n in range(50)]


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin", "Asia/Kolkata"])
def test_parallel_rebuild_equals_serial_rebuild(make_workspace, recorded_tasks, tz):
    workspace, _ = make_workspace(tz=tz)
    rng = random.Random(tz)
    journeys(workspace, random_events(rng, tz, rng.sample(SPAN, 35)), refresh=False)
    rollups_rebuild(workspace=workspace)
    serial = rollup_rows(workspace)
    assert serial["UserFeatureDay"] and serial["Session"] and serial["UserFeatureMonth"]

    # Leave the rollups in a wrong state: some days missing, a stale day outside the span, a mark.
    UserFeatureDay.objects.filter(workspace=workspace, day__lt=date(2025, 3, 20)).delete()
    Session.objects.filter(workspace=workspace, day__gt=date(2025, 4, 5)).delete()
    stale = UserDay.objects.filter(workspace=workspace).first()
    assert stale is not None
    UserDay.objects.filter(pk=stale.pk).update(day=date(2024, 1, 1), events=999)
    mark_days_dirty(workspace_id=workspace.pk, days={date(2025, 3, 10)})

    result = rebuild_rollups_task.delay(workspace.pk).get()

    days = list(UserDay.objects.filter(workspace=workspace).values_list("day", flat=True))
    chunks = rebuild_chunks(min(days), max(days))
    assert result["chunks"] == len(chunks) >= 7
    assert recorded_tasks["rebuild_rollup_chunk_task"] == len(chunks)
    assert recorded_tasks["finish_rebuild_task"] == 1
    assert rollup_rows(workspace) == serial
    assert not DirtyDay.objects.filter(workspace=workspace).exists()


def test_parallel_rebuild_of_a_workspace_without_events_clears_it(make_workspace):
    workspace, _ = make_workspace()
    journeys(workspace, [("u1", "2025-03-10T09:00:00+00:00", "Leads", "view")])
    from events.models import Event

    Event.objects.filter(workspace=workspace).delete()
    mark_days_dirty(workspace_id=workspace.pk, days={date(2025, 3, 10)})
    assert rebuild_rollups_task.delay(workspace.pk).get()["days"] == 0
    assert all(not rows for rows in rollup_rows(workspace).values())
    assert not DirtyDay.objects.filter(workspace=workspace).exists()


def test_a_dirty_refresh_stays_one_task(make_workspace, recorded_tasks):
    # Scattered late days: still one task (a fanned-out refresh would be fanned out again by every
    # sweep until its callback ran).
    workspace, _ = make_workspace()
    journeys(
        workspace,
        [("u1", f"2025-03-{day:02d}T09:00:00+00:00", "Leads", "view") for day in (1, 9, 20, 28)],
        refresh=False,
    )
    assert refresh_rollups_task.delay(workspace.pk).get() == 4
    assert recorded_tasks["refresh_rollups_task"] == 1 and recorded_tasks["rebuild_rollup_chunk_task"] == 0
    assert UserDay.objects.filter(workspace=workspace).count() == 4
    assert not DirtyDay.objects.filter(workspace=workspace).exists()


def test_marks_clear_keeps_a_day_marked_again_meanwhile(workspace):
    mark_days_dirty(workspace_id=workspace.pk, days={date(2025, 3, 10), date(2025, 3, 11)})
    seen = dict(DirtyDay.objects.filter(workspace=workspace).values_list("day", "token"))
    mark_days_dirty(workspace_id=workspace.pk, days={date(2025, 3, 11)})  # new events during the refresh
    assert marks_clear(workspace_id=workspace.pk, marks=seen) == 1
    assert list(DirtyDay.objects.filter(workspace=workspace).values_list("day", flat=True)) == [date(2025, 3, 11)]
