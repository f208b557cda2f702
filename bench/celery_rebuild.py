"""``make bench``: one full rollup rebuild through the Celery workers that are running, timed from the
moment the task is sent until its chord's callback has finished. Called by ``bench/run.py``; needs
CELERY_BROKER_URL and CELERY_RESULT_BACKEND (the chord and this wait read results from it); prints
one JSON object on its last line.

    python bench/celery_rebuild.py SLUG
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_usage.settings")

import django  # noqa: E402

django.setup()

from celery.result import AsyncResult  # noqa: E402

from events.tasks import rebuild_rollups_task  # noqa: E402
from tenancy.models import Workspace  # noqa: E402

TIMEOUT = 4 * 3600


def main(slug: str) -> dict:
    assert os.environ.get("CELERY_BROKER_URL") and os.environ.get("CELERY_RESULT_BACKEND"), "needs a broker and results"
    workspace = Workspace.objects.get(slug=slug)
    started = time.perf_counter()
    plan = rebuild_rollups_task.delay(workspace.pk).get(timeout=TIMEOUT)
    dispatched = time.perf_counter() - started
    if plan["finish_task_id"] is None:
        raise RuntimeError(f"the rebuild did not fan out: {plan}")
    AsyncResult(plan["finish_task_id"]).get(timeout=TIMEOUT)
    return {
        "seconds": time.perf_counter() - started,
        "dispatch_seconds": dispatched,
        "days": plan["days"],
        "chunks": plan["chunks"],
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
