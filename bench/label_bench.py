"""Feedback labelling end to end: texts stored in the database, then labelled by the worker's own function
(``records.labelling.feedback_label_pending``: read 2,000 waiting texts, label them, store labels and
terms), in one process. Reports texts per second beside ``label_many`` alone on the same texts (the
analysis without the database), so the share the database takes is visible.

Run against a database that has the project's migrations (DATABASE_URL), for instance the one
``tests/services.sh start DIR`` starts::

    DATABASE_URL=postgres://postgres@127.0.0.1:54329/crm_usage .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:54329/crm_usage .venv/bin/python bench/label_bench.py 100000

The texts are the labelled set's (tests/records/data/labelled_feedback.jsonl), repeated with a number
appended so no two are equal, a fifth of them joined into longer emails (as bench/text_bench.py does).
"""

from __future__ import annotations

import json
import os
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_usage.settings")


def texts(count: int, seed: int = 20) -> list[str]:
    pool = [json.loads(line)["text"] for line in (ROOT / "tests/records/data/labelled_feedback.jsonl").open()]
    rng = random.Random(seed)
    result = []
    for number in range(count):
        text = rng.choice(pool)
        if rng.random() < 0.2:
            text = " ".join(rng.choice(pool) for _ in range(rng.randint(2, 5)))
        result.append(f"{text} #{number}")
    return result


def main(count: int) -> None:
    import django

    django.setup()
    from django.db import connection

    from records.labelling import feedback_label_pending, vocabulary_for
    from records.models import Feedback
    from records.services import records_upsert
    from records.text_analysis import label_many, warm_up
    from tenancy.models import Workspace
    from tenancy.services import workspace_create

    slug = f"label-bench-{int(time.time())}"
    workspace, _key = workspace_create(slug=slug, timezone_name="Asia/Shanghai")
    sample = texts(count)
    from django.utils import timezone

    moment = timezone.now()
    started = time.perf_counter()
    for start in range(0, count, 5000):
        chunk = [
            (n, {"external_id": f"F{n}", "channel": "email", "text": sample[n], "received_at": moment,
                 "received_on": moment.date()})
            for n in range(start, min(count, start + 5000))
        ]  # fmt: skip
        records_upsert(workspace=workspace, kind="feedback", items=chunk, enqueue_refresh=False)
    stored = time.perf_counter() - started
    warm_up()
    vocabulary = vocabulary_for(workspace)
    started = time.perf_counter()
    label_many(sample, vocabulary)
    alone = time.perf_counter() - started
    started = time.perf_counter()
    labelled = feedback_label_pending(workspace=workspace)
    end_to_end = time.perf_counter() - started
    assert labelled == count == Feedback.objects.filter(workspace=workspace, labelled_at__isnull=False).count()
    chars = sum(map(len, sample)) / count
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {connection.vendor}"
    )
    print(f"{count:,} texts, {chars:.0f} characters on average; stored in {stored:.1f} s")
    print(f"label_many alone:        {count / alone:,.0f} texts/s ({alone:.1f} s)")
    print(f"feedback_label_pending:  {count / end_to_end:,.0f} texts/s ({end_to_end:.1f} s; labels and terms stored)")
    Workspace.objects.filter(pk=workspace.pk).delete()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
