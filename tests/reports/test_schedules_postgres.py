"""Two senders at once on PostgreSQL (API.md: idempotent "even in two processes"): a slot is claimed by
one conditional UPDATE, so of two concurrent runs exactly one emails it. Threads with their own
connections stand for the two processes."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection, connections, transaction

from reports.models import ReportSchedule
from reports.schedules import claim_slot, send_due
from tenancy.models import Membership
from tenancy.services import workspace_create

pytestmark = [
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks and re-checked UPDATEs: PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

SLOT = datetime(2025, 3, 24, 6, tzinfo=UTC)


@pytest.fixture
def schedules() -> list[ReportSchedule]:
    workspace, _key = workspace_create(slug="pg", timezone_name="UTC", session_timeout_minutes=15)
    owner = get_user_model().objects.create_user("olga")
    Membership.objects.create(workspace=workspace, user=owner, role=Membership.Role.ANALYST)
    return [
        ReportSchedule.objects.create(
            workspace=workspace, owner=owner, name=f"S{n}", frequency="daily", hour=6, recipients=[f"r{n}@example.com"]
        )
        for n in range(4)
    ]


def in_thread(target, results: list, *args) -> threading.Thread:
    def work() -> None:
        try:
            results.append(target(*args))
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def test_a_claim_waits_for_the_other_and_then_finds_the_slot_taken(schedules) -> None:
    """A holds the row (claimed, not committed); B's UPDATE waits on the lock, then re-checks
    ``last_slot < slot`` against A's committed row and claims nothing."""
    pk, results = schedules[0].pk, []
    with transaction.atomic():
        assert claim_slot(pk, SLOT)
        waiter = in_thread(claim_slot, results, pk, SLOT)
        deadline = time.monotonic() + 20
        with connection.cursor() as cursor:  # until B is seen blocked on A's row lock (bounded)
            while time.monotonic() < deadline:
                cursor.execute("SELECT pg_stat_clear_snapshot()")  # else one snapshot per transaction
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
                if cursor.fetchone()[0]:
                    break
            else:
                pytest.fail("the second claim never waited for the first")
    waiter.join(timeout=20)
    assert results == [False]
    assert ReportSchedule.objects.get(pk=pk).last_slot == SLOT


def test_two_runs_at_once_send_each_slot_once(schedules) -> None:
    results: list = []
    barrier = threading.Barrier(2)

    def run() -> list:
        barrier.wait(timeout=20)
        return send_due(SLOT)

    threads = [in_thread(run, results) for _ in range(2)]
    for thread in threads:
        thread.join(timeout=120)
    sent = sorted(r.schedule_id for batch in results for r in batch)
    assert sent == sorted(s.pk for s in schedules)  # each schedule by one of the two runs
    assert sorted(m.to[0] for m in mail.outbox) == [f"r{n}@example.com" for n in range(4)]
    assert set(ReportSchedule.objects.values_list("last_slot", flat=True)) == {SLOT}
