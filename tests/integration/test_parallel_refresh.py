"""The rollup rebuild and a dirty refresh fanned out over two real Celery worker processes (a chord
through Redis, results in Redis) on PostgreSQL: the rows must be exactly the serial rebuild's, and
the chunk tasks must really have been shared by the two workers.

Runs in the PostgreSQL pass of ``make test`` (skipped without DATABASE_URL=postgres://… and
CELERY_BROKER_URL); the workers get CELERY_RESULT_BACKEND, which a chord needs to count its pieces.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from crm_usage.celery import app as celery_app
from events.models import DirtyDay, Session, UserDay, UserFeatureDay
from events.rollups import rebuild_chunks, rollups_rebuild
from events.services import mark_days_dirty
from events.tasks import rebuild_rollups_task
from tenancy.services import workspace_create
from tests.conftest import journeys
from tests.events.test_parallel_refresh import random_events, rollup_rows
from tests.integration.processes import BROKER_URL, CeleryProcess, celery, celery_env, needs_services

pytestmark = [pytest.mark.integration, needs_services]

WAIT_SECONDS = 90
# Results (the chord's counter) in another Redis database than the queue.
RESULT_BACKEND = urlunsplit(urlsplit(BROKER_URL)._replace(path="/1")) if BROKER_URL else ""


@pytest.fixture(scope="module")
def two_workers(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Path]]:
    """Two ``celery worker`` processes (solo pool, one task at a time each) on the test database."""
    with django_db_blocker.unblock():
        env = celery_env(CELERY_RESULT_BACKEND=RESULT_BACKEND)
    purged = celery("purge", "-f", env=env)
    assert purged.returncode == 0, f"celery purge failed:\n{purged.stdout}\n{purged.stderr}"
    directory = tmp_path_factory.mktemp("parallel")
    logs = [directory / "worker-a.log", directory / "worker-b.log"]
    workers = [CeleryProcess.worker(env, log) for log in logs]
    try:
        for worker in workers:
            worker.start(timeout=60)
        yield logs
    finally:
        for worker in workers:
            worker.stop()


@pytest.fixture
def workers(two_workers: list[Path], transactional_db: Any) -> Iterator[list[Path]]:
    assert settings.CELERY_BROKER_URL
    assert not celery_app.conf.task_always_eager, "tasks must go through the broker in this test"
    sizes = [log.stat().st_size for log in two_workers]
    yield two_workers
    for log, size in zip(two_workers, sizes, strict=True):  # this test's part of each log, on failure
        print(f"--- {log.name}\n{log.read_text(errors='replace')[size:][-5000:]}")


def wait_until_clean(workspace_id: int, logs: list[Path]) -> None:
    """The callback deletes the marks: wait for it (bounded), failing with the workers' logs."""
    deadline = time.monotonic() + WAIT_SECONDS
    while DirtyDay.objects.filter(workspace_id=workspace_id).exists():
        if time.monotonic() > deadline:
            text = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-6000:]}" for log in logs)
            pytest.fail(f"the dirty marks were not cleared after {WAIT_SECONDS} s:\n{text}")
        time.sleep(0.2)


def succeeded(log: Path, task: str, since: int) -> int:
    text = log.read_text(errors="replace")[since:]
    return len(re.findall(rf"Task events\.tasks\.{task}\[[^\]]+\] succeeded", text))


SPAN = [date(2025, 3, 3) + timedelta(days=n) for n in range(84)]


def test_rebuild_over_two_workers_equals_the_serial_rebuild(workers: list[Path]) -> None:
    workspace, _ = workspace_create(slug="it-parallel-rebuild", timezone_name="Europe/Berlin")
    rng = random.Random(8)
    journeys(workspace, random_events(rng, "Europe/Berlin", rng.sample(SPAN, 70)), refresh=False)
    rollups_rebuild(workspace=workspace)
    serial = rollup_rows(workspace)
    assert serial["UserFeatureDay"] and serial["Session"] and serial["UserFeatureMonth"]

    # Wrong rollups to be repaired: days missing, a stale day outside the span; and one mark.
    UserFeatureDay.objects.filter(workspace=workspace, day__lt=date(2025, 4, 1)).delete()
    Session.objects.filter(workspace=workspace, day__gt=date(2025, 5, 1)).delete()
    UserDay.objects.filter(pk=UserDay.objects.filter(workspace=workspace).first().pk).update(day=date(2024, 1, 1))
    mark_days_dirty(workspace_id=workspace.pk, days={date(2025, 3, 20)})
    offsets = [log.stat().st_size for log in workers]

    rebuild_rollups_task.delay(workspace.pk)
    wait_until_clean(workspace.pk, workers)

    assert rollup_rows(workspace) == serial
    days = sorted(UserDay.objects.filter(workspace=workspace).values_list("day", flat=True))
    chunks = rebuild_chunks(days[0], days[-1])
    per_worker = [succeeded(log, "rebuild_rollup_chunk_task", at) for log, at in zip(workers, offsets, strict=True)]
    assert sum(per_worker) == len(chunks) >= 12
    assert all(per_worker), f"both workers must have run chunks: {per_worker}"
    assert sum(succeeded(log, "finish_rebuild_task", at) for log, at in zip(workers, offsets, strict=True)) == 1
