"""What saved funnels and filter sets cost an ingest request (issue 17): the latency of a one-event
batch through ``POST /api/v1/events/batch`` in-process (no broker: the rollup refresh runs inside
the request), with N saved filter sets (20 activity + 20 feature conditions each, the limit) and N
saved funnels (10 steps each, the limit), as a ratio to the same batch in the same process with
none saved. Then the same with ``PRECOMPUTE_AFTER_REFRESH`` on, which is what a worker pays after
each refresh (at most ``PRECOMPUTE_LIMIT`` of each).

    python bench/ingest_precompute.py [N]          N saved of each (default 300)

A throwaway SQLite database in a temporary directory; prints a small Markdown table.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = tempfile.mkdtemp(prefix="ingest-precompute-")
os.environ["DATABASE_URL"] = f"sqlite:///{TMP}/bench.sqlite3"
os.environ.pop("CELERY_BROKER_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_usage.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from events.rollups import rollups_refresh_dirty  # noqa: E402
from events.services import events_ingest  # noqa: E402
from events.validation import parse_event  # noqa: E402
from funnels.services import funnel_create  # noqa: E402
from tenancy.models import Membership  # noqa: E402
from tenancy.services import workspace_create  # noqa: E402
from useranalysis.models import FilterSet  # noqa: E402

FEATURES = [f"F{n}" for n in range(25)]
REPEATS = 7


def seed(workspace) -> None:
    """20,000 events over the 60 days before today, 300 users, 25 features × 2 actions."""
    now = timezone.now()
    rows = []
    for n in range(20_000):
        moment = now - timezone.timedelta(days=1 + n % 60, minutes=n % 600)
        raw = {
            "uuid": f"seed-{n}",
            "user": f"u{n % 300}",
            "feature": FEATURES[n % 25],
            "action": ("view", "create")[n % 2],
            "timestamp": moment.isoformat(),
        }
        row, errors = parse_event(raw, now=now)
        assert row is not None, errors
        rows.append(row)
    events_ingest(workspace=workspace, rows=rows, enqueue_refresh=False)
    rollups_refresh_dirty(workspace=workspace)


def save_configurations(workspace, owner, count: int) -> None:
    FilterSet.objects.bulk_create(
        FilterSet(
            workspace=workspace,
            owner=owner,
            name=f"filter set {k}",
            default_days=30 + k % 60,  # results of their own
            conditions={
                "activity": [{"metric": "interactions", "op": ">=", "value": j} for j in range(20)],
                "features": [
                    {"feature": FEATURES[j], "action": "view", "used": True, "min_count": 1} for j in range(20)
                ],
            },
        )
        for k in range(count)
    )
    for k in range(count):  # each saved through the service, which computes its result (in-process)
        steps = [{"feature": FEATURES[(k + j) % 25], "action": "view", "detail": ""} for j in range(10)]
        funnel_create(workspace=workspace, owner=owner, data={"name": f"funnel {k}", "steps": steps})


def batch_seconds(client: APIClient, tag: str) -> float:
    """Median latency of REPEATS one-event batches (each a new event of yesterday)."""
    times = []
    for n in range(REPEATS):
        event = {
            "uuid": f"{tag}-{n}",
            "user": "u1",
            "feature": "F1",
            "action": "view",
            "timestamp": (timezone.now() - timezone.timedelta(days=1)).isoformat(),
        }
        started = time.perf_counter()
        response = client.post("/api/v1/events/batch", {"events": [event]}, format="json")
        times.append(time.perf_counter() - started)
        assert response.status_code in (200, 202), response.content
    return statistics.median(times)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    logging.getLogger("celery").setLevel(logging.WARNING)  # one line per in-process task otherwise
    call_command("migrate", verbosity=0)
    workspace, key = workspace_create(slug="bench-precompute")
    owner = get_user_model().objects.create_user("owner")
    Membership.objects.create(workspace=workspace, user=owner, role=Membership.Role.ADMIN)
    seed(workspace)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    batch_seconds(client, "warm-up")
    reference = batch_seconds(client, "none")
    save_configurations(workspace, owner, count)
    settings.PRECOMPUTE_AFTER_REFRESH = False
    in_process = batch_seconds(client, "in-process")
    settings.PRECOMPUTE_AFTER_REFRESH = True
    with_worker_work = batch_seconds(client, "precompute")
    print(
        f"Saved: {count} filter sets (20 + 20 conditions) and {count} funnels (10 steps); PRECOMPUTE_LIMIT = {settings.PRECOMPUTE_LIMIT}; {os.cpu_count()} CPUs\n"
    )
    print("| one-event ingest batch, median of 7 | seconds | ratio to none saved |")
    print("| --- | --- | --- |")
    print(f"| none saved (reference) | {reference:.4f} | 1.00 |")
    print(f"| in-process, no broker (the request) | {in_process:.4f} | {in_process / reference:.2f} |")
    print(f"| precomputing inline (a worker's share) | {with_worker_work:.4f} | {with_worker_work / reference:.2f} |")


if __name__ == "__main__":
    main()
