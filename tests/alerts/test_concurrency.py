"""Two evaluations at once on PostgreSQL evaluate an alert once and send once: the (alert, slot)
row is inserted first, in its own transaction, and the unique constraint lets one process own the
slot. (SQLite serialises writers; the simple "running twice sends once" is in test_evaluation.py.)"""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
from django.core import mail
from django.db import connection

from alerts import services
from alerts.models import AlertEvaluation
from tests.alerts.conftest import at, daily, days_from, make_alert

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def run_together(count: int) -> list[Any]:
    """``alerts_evaluate`` in ``count`` threads (each its own database connection), started together."""
    start = threading.Barrier(count)
    results: list[Any] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait(timeout=30)
            results.append(services.alerts_evaluate(now=at("2026-03-02T06:30:00Z")))
        except BaseException as exc:  # surfaced by the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.parametrize("race_the_insert", [False, True])
def test_two_processes_evaluate_once(make_workspace, owner, monkeypatch, race_the_insert):
    workspace, _ = make_workspace("race")
    daily(workspace, days_from(date(2026, 3, 1), [5]))
    alert = make_alert(workspace, owner)
    if race_the_insert:
        # Both pass the cheap look before either inserts: only the constraint can stop the second.
        both_looked = threading.Barrier(2)
        real = services._slot_taken

        def looked(alert: Any, slot: Any) -> bool:
            taken = real(alert, slot)
            both_looked.wait(timeout=30)
            return taken

        monkeypatch.setattr(services, "_slot_taken", looked)
    results = run_together(2)
    assert sorted((r.evaluated, r.skipped) for r in results) == [(0, 1), (1, 0)]
    assert AlertEvaluation.objects.filter(alert=alert).count() == 1
    assert len(mail.outbox) == 1
