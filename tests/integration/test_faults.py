"""No event lost, none stored twice, and rollups that converge, while the parts around the database
fail: concurrent clients post batches over HTTP (re-sending some) while the Celery worker is killed
twice and Redis is restarted once. FAULT_EVENTS sets the size (default 200,000: about a minute on
2 cores); every wait is bounded.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from events.models import DirtyDay, Event, UserDay, UserFeatureDay
from tenancy.services import workspace_create
from tests.integration.processes import CeleryProcess, celery, celery_env, needs_services, restart_redis
from tests.views_home.test_bruteforce import brute_force_sessions

pytestmark = [pytest.mark.integration, needs_services]

TOTAL = int(os.environ.get("FAULT_EVENTS", "200000"))
BATCH = 1000
CLIENTS = 4
RESEND_SHARE = 0.10
TZ = ZoneInfo("Asia/Shanghai")
CONVERGE_SECONDS = 120


def make_batches(rng: random.Random) -> list[list[dict[str, Any]]]:
    start = datetime(2025, 10, 1, tzinfo=TZ)
    events = []
    for n in range(TOTAL):
        user = f"u{int(rng.paretovariate(1.1)) % 60}"
        moment = start + timedelta(seconds=rng.randint(0, 20 * 86400))
        feature, action = rng.choice([("Leads", "view"), ("Leads", "create"), ("Deals", "view"), ("Home", "logout")])
        events.append(
            {"uuid": f"f-{n}", "user": user, "feature": feature, "action": action, "timestamp": moment.isoformat()}
        )
    return [events[i : i + BATCH] for i in range(0, len(events), BATCH)]


def post(url: str, key: str, batch: list[dict[str, Any]]) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps({"events": batch}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        return json.load(response)


def test_ingest_survives_worker_kills_and_a_redis_restart(
    live_server: Any, transactional_db: Any, tmp_path: Any
) -> None:
    env = celery_env(ROLLUP_SWEEP_SECONDS="2")
    assert celery("purge", "-f", env=env).returncode == 0
    worker = CeleryProcess.worker(env, tmp_path / "worker.log")
    beat = CeleryProcess.beat(env, tmp_path / "beat.log")
    worker.start()
    beat.start()
    try:
        workspace, key = workspace_create(slug="faults", timezone_name="Asia/Shanghai")
        rng = random.Random(2025)
        batches = make_batches(rng)
        plan = batches + [batches[i] for i in rng.sample(range(len(batches)), max(1, int(len(batches) * RESEND_SHARE)))]
        rng.shuffle(plan)
        url = f"{live_server.url}/api/v1/events/batch"
        results: list[dict[str, Any]] = []
        errors: list[BaseException] = []
        sent = Counter()
        lock = threading.Lock()
        progress = iter(range(len(plan)))

        def client() -> None:
            try:
                while True:
                    with lock:
                        index = next(progress, None)
                    if index is None:
                        return
                    body = post(url, key, plan[index])
                    with lock:
                        results.append(body)
                        sent[index] += 1
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()

        def wait_for_share(share: float) -> None:
            deadline = time.monotonic() + 300
            while len(results) < len(plan) * share and any(t.is_alive() for t in threads):
                assert time.monotonic() < deadline, "ingestion stalled"
                time.sleep(0.05)

        wait_for_share(0.25)
        worker.kill()  # crash 1, in the middle of ingestion
        worker.start()
        wait_for_share(0.5)
        restart_redis()
        wait_for_share(0.75)
        worker.kill()  # crash 2
        worker.start()
        for thread in threads:
            thread.join(timeout=600)
        assert not errors, errors
        assert len(results) == len(plan)

        # Exactly the sent set is stored, each event once, and the counts add up.
        unique = {e["uuid"] for b in batches for e in b}
        assert sum(r["accepted"] for r in results) == len(unique) == TOTAL
        assert sum(r["accepted"] + r["duplicates"] for r in results) == sum(len(b) for b in plan)
        assert all(not r["rejected"] for r in results)
        stored = set(Event.objects.filter(workspace=workspace).values_list("uuid", flat=True))
        assert stored == unique

        # The rollups converge (the beat sweep re-enqueues whatever the crashes left dirty)…
        deadline = time.monotonic() + CONVERGE_SECONDS
        while DirtyDay.objects.filter(workspace=workspace).exists():
            assert time.monotonic() < deadline, (
                f"rollups did not converge in {CONVERGE_SECONDS} s; worker log:\n"
                + (tmp_path / "worker.log").read_text()[-4000:]
            )
            time.sleep(0.5)
        # …to exactly a GROUP BY over the raw events.
        raw = defaultdict(int)
        for user_id, feature_id, action, detail, moment in Event.objects.filter(workspace=workspace).values_list(
            "crm_user_id", "feature_id", "action", "detail", "occurred_at"
        ):
            raw[(moment.astimezone(TZ).date(), user_id, feature_id, action, detail)] += 1
        rolled = {
            (r.day, r.crm_user_id, r.feature_id, r.action, r.detail): r.events
            for r in UserFeatureDay.objects.filter(workspace=workspace)
        }
        assert rolled == dict(raw)
        per_user_day = defaultdict(int)
        for (day, user_id, *_), n in raw.items():
            per_user_day[(user_id, day)] += n
        user_days = UserDay.objects.filter(workspace=workspace)
        assert {(r.crm_user_id, r.day): r.events for r in user_days} == dict(per_user_day)
        sessions = {(r.crm_user_id, r.day): (r.sessions, r.session_seconds) for r in user_days if r.sessions}
        assert sessions == brute_force_sessions(workspace)
    finally:
        beat.stop()
        worker.stop()
