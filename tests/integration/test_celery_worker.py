"""End to end through a real Celery worker: HTTP ingestion → Redis → worker → rollups in PostgreSQL.

These run in the PostgreSQL pass of ``make test``, which starts a throwaway PostgreSQL and Redis
(``tests/services.sh``) and exports DATABASE_URL and CELERY_BROKER_URL. The worker is a separate
process pointed at pytest-django's test database, so the tests use ``transactional_db``: the rows
the test writes must be committed for the worker to see them, and the rows the worker writes are
read back by polling. Every wait is bounded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from crm_usage.celery import app as celery_app
from events.models import DirtyDay, Event, Session, UserDay, UserFeatureDay
from tenancy.models import Workspace
from tenancy.services import workspace_create
from tests.integration.processes import CeleryProcess, celery, celery_env, needs_services

WORKER_READY_SECONDS = 60
ROLLUP_WAIT_SECONDS = 30

pytestmark = [pytest.mark.integration, needs_services]


@pytest.fixture(scope="module")
def celery_worker(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """A real ``celery worker`` process on the test database; yields the path of its log."""
    with django_db_blocker.unblock():
        env = celery_env()
    # Messages left by the other tests of this pass name workspaces that no longer exist; drop them
    # so the worker starts on an empty queue.
    purged = celery("purge", "-f", env=env)
    assert purged.returncode == 0, f"celery purge failed:\n{purged.stdout}\n{purged.stderr}"
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    worker = CeleryProcess.worker(env, log_path)
    worker.start(timeout=WORKER_READY_SECONDS)
    try:
        yield log_path
    finally:
        worker.stop()


@pytest.fixture
def worker(celery_worker: Path, transactional_db: Any) -> Iterator[Path]:
    """The worker, with a test process that really enqueues (not eager) and commits its writes."""
    assert settings.CELERY_BROKER_URL
    assert not celery_app.conf.task_always_eager, "tasks must go through the broker in this test"
    yield celery_worker


def _wait_for(check: Callable[[], Any], what: str, log_path: Path, timeout: float = ROLLUP_WAIT_SECONDS) -> Any:
    """Poll ``check`` until it returns a truthy value; fail with the worker's log after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout} s waiting for {what} (last: {last!r}). Worker log:\n{log_path.read_text()}")


def _post_events(raw_key: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    response = Client().post(
        "/api/v1/events/batch",
        data={"events": events},
        content_type="application/json",
        headers={"authorization": f"Bearer {raw_key}"},
    )
    assert response.status_code == 200, response.content
    return response.json()


def _user_days(workspace: Workspace) -> dict[tuple[str, str], tuple[int, int, float]]:
    rows = UserDay.objects.filter(workspace=workspace).values_list(
        "crm_user__external_id", "day", "events", "sessions", "session_seconds"
    )
    return {(user, day.isoformat()): (events, sessions, seconds) for user, day, events, sessions, seconds in rows}


# Alice: 09:00 and 09:10 (10 minutes apart: one session of 600 s), then 10:00 (50 minutes later:
# a new session of one event, 0 s). Bob: one event. All on 2025-03-10 in a UTC workspace.
BATCH = [
    {"uuid": "it-1", "user": "alice", "feature": "Leads", "action": "view", "timestamp": "2025-03-10T09:00:00+00:00"},
    {"uuid": "it-2", "user": "alice", "feature": "Leads", "action": "create", "timestamp": "2025-03-10T09:10:00+00:00"},
    {"uuid": "it-3", "user": "alice", "feature": "Deals", "action": "view", "timestamp": "2025-03-10T10:00:00+00:00"},
    {"uuid": "it-4", "user": "bob", "feature": "Leads", "action": "view", "timestamp": "2025-03-10T12:30:00+00:00"},
]
EXPECTED = {("alice", "2025-03-10"): (3, 2, 600.0), ("bob", "2025-03-10"): (1, 1, 0.0)}


def test_worker_rolls_up_a_batch_posted_over_http(worker: Path) -> None:
    workspace, raw_key = workspace_create(slug="it-rollups", timezone_name="UTC", session_timeout_minutes=15)

    assert _post_events(raw_key, BATCH) == {"accepted": 4, "duplicates": 0, "rejected": []}

    _wait_for(lambda: _user_days(workspace) == EXPECTED, "the user-day rollups", worker)
    _wait_for(lambda: not DirtyDay.objects.filter(workspace=workspace).exists(), "the dirty day to clear", worker)

    sessions = sorted(
        Session.objects.filter(workspace=workspace, crm_user__external_id="alice").values_list(
            "started_at", "ended_at", "events"
        )
    )
    assert [(s.isoformat(), e.isoformat(), n) for s, e, n in sessions] == [
        ("2025-03-10T09:00:00+00:00", "2025-03-10T09:10:00+00:00", 2),
        ("2025-03-10T10:00:00+00:00", "2025-03-10T10:00:00+00:00", 1),
    ]
    feature_days = sorted(
        UserFeatureDay.objects.filter(workspace=workspace).values_list(
            "crm_user__external_id", "feature__key", "action", "events"
        )
    )
    assert feature_days == [
        ("alice", "Deals", "view", 1),
        ("alice", "Leads", "create", 1),
        ("alice", "Leads", "view", 1),
        ("bob", "Leads", "view", 1),
    ]
    # The worker did it (the test process is not eager).
    assert "Task events.tasks.refresh_rollups_task[" in worker.read_text()


def test_duplicate_batch_changes_nothing_and_dirty_days_clear(worker: Path) -> None:
    workspace, raw_key = workspace_create(slug="it-duplicates", timezone_name="UTC", session_timeout_minutes=15)
    _post_events(raw_key, BATCH)
    _wait_for(lambda: _user_days(workspace) == EXPECTED, "the first refresh", worker)
    _wait_for(lambda: not DirtyDay.objects.filter(workspace=workspace).exists(), "the dirty day to clear", worker)
    first_rows = set(UserDay.objects.filter(workspace=workspace).values_list("pk", flat=True))

    # The same batch again: counted as duplicates, nothing stored, no day marked dirty.
    assert _post_events(raw_key, BATCH) == {"accepted": 0, "duplicates": 4, "rejected": []}
    assert Event.objects.filter(workspace=workspace).count() == 4
    assert DirtyDay.objects.filter(workspace=workspace).count() == 0
    assert _user_days(workspace) == EXPECTED
    assert set(UserDay.objects.filter(workspace=workspace).values_list("pk", flat=True)) == first_rows

    # Duplicates mixed with one new event (10:05, inside Alice's second session): only the new one
    # is stored, the worker refreshes the day once more, and the duplicates are not counted twice.
    late = {
        "uuid": "it-5",
        "user": "alice",
        "feature": "Deals",
        "action": "edit",
        "timestamp": "2025-03-10T10:05:00+00:00",
    }
    assert _post_events(raw_key, [*BATCH, late]) == {"accepted": 1, "duplicates": 4, "rejected": []}
    expected = {**EXPECTED, ("alice", "2025-03-10"): (4, 2, 900.0)}
    _wait_for(lambda: _user_days(workspace) == expected, "the refresh after the mixed batch", worker)
    _wait_for(lambda: not DirtyDay.objects.filter(workspace=workspace).exists(), "the dirty day to clear", worker)
    assert Event.objects.filter(workspace=workspace).count() == 5


def test_worker_builds_a_long_analysis_report(worker: Path) -> None:
    """A report of more than 92 days is answered 202 and built by the worker; then downloadable."""
    from django.contrib.auth import get_user_model
    from knox.models import AuthToken

    from tenancy.models import Membership

    workspace, raw_key = workspace_create(slug="it-report", timezone_name="UTC", session_timeout_minutes=15)
    _post_events(raw_key, BATCH)
    _wait_for(lambda: _user_days(workspace) == EXPECTED, "the rollups", worker)
    user = get_user_model().objects.create_user("reporter")
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.VIEWER)
    _, token = AuthToken.objects.create(user)
    headers = {"authorization": f"Token {token}"}
    params = {"start": "2024-12-01", "end": "2025-03-20", "format": "pdf"}
    queued = Client().get("/api/v1/workspaces/it-report/reports/analysis", params, headers=headers)
    assert queued.status_code == 202, queued.content
    url = queued.json()["url"]

    def ready() -> bytes | None:
        response = Client().get(url, {"format": "pdf"}, headers=headers)
        return response.content if response.status_code == 200 else None

    pdf = _wait_for(ready, "the report", worker)
    assert pdf.startswith(b"%PDF-")
    assert "Task reports.tasks.build_report_task[" in worker.read_text()


def _post_records(raw_key: str, kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    response = Client().post(
        f"/api/v1/records/{kind}/batch",
        data={"items": items},
        content_type="application/json",
        headers={"authorization": f"Bearer {raw_key}"},
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_worker_keeps_the_record_figures_after_each_batch(worker: Path) -> None:
    """Records batches over HTTP → the worker refreshes the aggregates the tabs read; a second
    workspace with the same external ids is untouched."""
    from records.models import AccountFigures, DealMonthFigures, RecordsDirty

    workspace, raw_key = workspace_create(slug="it-records", timezone_name="Asia/Shanghai")
    other, other_key = workspace_create(slug="it-records-other")
    _post_events(raw_key, [{**BATCH[0], "user": "rep1"}])  # creates the CRM user rep1
    account = {"external_id": "A1", "name": "Acme", "owner": "rep1", "created_at": "2026-01-05"}
    assert _post_records(raw_key, "accounts", [account])["created"] == 1
    deal = {"external_id": "D1", "account": "A1", "name": "Renewal", "owner": "rep1", "amount": "100.25",
            "stage": "Won", "state": "won", "created_at": "2026-01-06", "close_date": "2026-01-31"}  # fmt: skip
    assert (
        _post_records(raw_key, "deals", [deal, {**deal, "external_id": "D2", "state": "open", "amount": 50}])["created"]
        == 2
    )

    def figures() -> tuple[int, int] | None:
        row = AccountFigures.objects.filter(account__workspace=workspace, account__external_id="A1").first()
        return (row.revenue_cents, row.open_pipeline_cents) if row else None

    _wait_for(lambda: figures() == (10025, 5000), "the account figures", worker)
    _wait_for(lambda: not RecordsDirty.objects.filter(workspace=workspace).exists(), "the marks to clear", worker)
    # The won deal re-sent as lost: the worker moves it out of the revenue.
    _post_records(raw_key, "deals", [{"external_id": "D1", "state": "lost"}])
    _wait_for(lambda: figures() == (0, 5000), "the figures after the update", worker)
    months = set(DealMonthFigures.objects.filter(workspace=workspace).values_list("state", "deals", "amount_cents"))
    assert months == {("lost", 1, 10025), ("open", 1, 5000)}
    assert not AccountFigures.objects.filter(workspace=other).exists()
    assert "Task records.tasks.refresh_record_figures_task[" in worker.read_text()
    del other_key
