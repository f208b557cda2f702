"""``import_events`` killed (SIGKILL) half-way through a big file on PostgreSQL, then run again:
exactly the file's events are stored, once each, and the rollups equal a GROUP BY over the raw
events (issue 17). IMPORT_KILL_EVENTS sets the size (default 1,000,000: about a minute on 2 cores);
every wait is bounded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path

import pytest
from django.db import connection
from django.db.models.functions import TruncDate

from events.models import DirtyDay, Event
from tenancy.services import workspace_create
from tests.integration.processes import REPO_ROOT, needs_services, test_database_url

pytestmark = [pytest.mark.integration, needs_services]

TOTAL = int(os.environ.get("IMPORT_KILL_EVENTS", "1000000"))
WAIT_SECONDS = 600


def write_file(path: Path) -> None:
    """TOTAL distinct events over 20 days of March 2025 in day order (so the events stored before the
    kill have days of their own, which only their dirty marks bring into the rollups), 300 users,
    12 features × 3 actions."""
    with path.open("w") as out:
        out.write("uuid,user,feature,action,detail,record_id,timestamp\n")
        for n in range(TOTAL):
            day, second = 1 + n * 20 // TOTAL, (n * 7919) % 86400
            stamp = f"2025-03-{day:02d}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"
            out.write(f"k{n},u{n % 300},F{n % 12},{('view', 'create', 'edit')[n % 3]},,,{stamp}\n")


def import_command(path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": test_database_url(), "DJANGO_SETTINGS_MODULE": "crm_usage.settings"}
    env.pop("CELERY_BROKER_URL", None)  # the refresh at the end runs in the command itself
    return subprocess.Popen(
        [sys.executable, "manage.py", "import_events", str(path), "--workspace", "killed"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def stored(workspace_id: int) -> int:
    return Event.objects.filter(workspace_id=workspace_id).count()


def differences(sql_pairs: list[tuple[str, str]], workspace_id: int) -> dict[str, int]:
    """Rows in one query and not the other, both ways, per table."""
    found = {}
    with connection.cursor() as cursor:
        for name, (rollup, raw) in zip(("user_feature_day", "user_day", "workspace_day"), sql_pairs, strict=True):
            cursor.execute(f"SELECT COUNT(*) FROM (({rollup}) EXCEPT ALL ({raw})) a", [workspace_id, workspace_id])
            one = cursor.fetchone()[0]
            cursor.execute(f"SELECT COUNT(*) FROM (({raw}) EXCEPT ALL ({rollup})) b", [workspace_id, workspace_id])
            found[name] = one + cursor.fetchone()[0]
    return found


ROLLUPS_VS_RAW = [
    (
        "SELECT day, crm_user_id, feature_id, action, detail, events FROM events_userfeatureday WHERE workspace_id = %s",
        "SELECT (occurred_at AT TIME ZONE 'UTC')::date, crm_user_id, feature_id, action, detail, COUNT(*) "
        "FROM events_event WHERE workspace_id = %s GROUP BY 1, 2, 3, 4, 5",
    ),
    (
        "SELECT day, crm_user_id, events FROM events_userday WHERE workspace_id = %s",
        "SELECT (occurred_at AT TIME ZONE 'UTC')::date, crm_user_id, COUNT(*) FROM events_event "
        "WHERE workspace_id = %s GROUP BY 1, 2",
    ),
    (
        "SELECT day, events, users FROM events_workspaceday WHERE workspace_id = %s",
        "SELECT (occurred_at AT TIME ZONE 'UTC')::date, COUNT(*), COUNT(DISTINCT crm_user_id) FROM events_event "
        "WHERE workspace_id = %s GROUP BY 1",
    ),
]


@pytest.mark.timeout(1200)
def test_an_import_killed_half_way_then_run_again_stores_the_file_once(transactional_db, tmp_path: Path) -> None:
    workspace, _key = workspace_create(slug="killed")
    path = tmp_path / "events.csv"
    write_file(path)

    first = import_command(path)
    deadline = time.monotonic() + WAIT_SECONDS
    while stored(workspace.pk) < TOTAL * 0.4:  # half-way, in the middle of its batches
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "the import did not get half-way"
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL
    partial = stored(workspace.pk)
    assert 0 < partial < TOTAL
    # What the killed run committed is marked for the refresh it never reached.
    stored_days = set(
        Event.objects.filter(workspace=workspace)
        .annotate(day=TruncDate("occurred_at", tzinfo=UTC))
        .values_list("day", flat=True)
    )
    assert set(DirtyDay.objects.filter(workspace=workspace).values_list("day", flat=True)) == stored_days

    second = import_command(path)
    out, err = second.communicate(timeout=WAIT_SECONDS)
    assert second.returncode == 0, err.decode()
    last = out.decode().splitlines()[-1]
    assert last == f"imported={TOTAL - partial} duplicates={partial} rejected=0"

    assert stored(workspace.pk) == TOTAL
    assert Event.objects.filter(workspace=workspace).values("uuid").distinct().count() == TOTAL
    assert not DirtyDay.objects.filter(workspace=workspace).exists()
    assert differences(ROLLUPS_VS_RAW, workspace.pk) == {"user_feature_day": 0, "user_day": 0, "workspace_day": 0}
