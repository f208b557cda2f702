"""The Perception tab at size (issue 20): N accounts, their contracts and survey responses, and M labelled
feedback texts, in a fresh PostgreSQL (the bench's settings, ``run.Services``); then the p50/p95 of each
perception endpoint through gunicorn (4 workers, a personal token), as ``bench/records_bench.py`` reads
the Accounts and Sales endpoints.

    .venv/bin/python bench/perception_bench.py [--accounts 100000] [--feedback 1000000] [--reads 20]

The records go in with ``import_records`` (CSV files written first). The feedback's labels are the
analysis' own (``records.text_analysis.label_many``) of the labelled set's texts, which the feedback
repeats; they are written with two statements (the labels of 327 texts joined on the text), since
labelling a million texts one by one measures the labelling (``bench/label_bench.py`` does), not the
reads. Results: ``bench/results/perception.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

SLUG = "perception-bench"
TZ = "Asia/Shanghai"
AS_OF = date(2026, 6, 30)
INDUSTRIES = ["Retail", "Software", "Finance", "Manufacturing", "Education", "Healthcare", "Logistics", ""]
CHANNELS = ["email", "survey", "case", "call", "chat", "note"]


def log(message: str) -> None:
    print(f"[perception {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the load step (inside Django) -------------------------------------------------------------------------


def write_files(folder: Path, accounts: int, feedback: int, seed: int = 20) -> dict[str, Path]:
    rng = random.Random(seed)
    reps = [str(n) for n in range(1, 2001)]  # the users main() sets up: external ids 1…2000
    texts = [json.loads(line)["text"] for line in (ROOT / "tests/records/data/labelled_feedback.jsonl").open()]
    files = {kind: folder / f"{kind}.csv" for kind in ("accounts", "contracts", "surveys", "feedback")}
    first = AS_OF - timedelta(days=730)

    def day(low: date, high: date) -> date:
        return low + timedelta(days=rng.randrange((high - low).days + 1))

    with (
        files["accounts"].open("w", newline="") as a,
        files["contracts"].open("w", newline="") as c,
        files["surveys"].open("w", newline="") as s,
    ):
        accounts_csv, contracts_csv, surveys_csv = csv.writer(a), csv.writer(c), csv.writer(s)
        accounts_csv.writerow(["external_id", "name", "industry", "country", "owner", "created_at"])
        contracts_csv.writerow(["external_id", "account", "start", "end", "monthly_value", "status"])
        surveys_csv.writerow(["external_id", "account", "contact", "kind", "score", "responded_at"])
        survey = 0
        for n in range(1, accounts + 1):
            account = f"A{n:07d}"
            accounts_csv.writerow(
                [account, f"Account {n}", rng.choice(INDUSTRIES), "CN", rng.choice(reps), "2023-01-01"]
            )
            start = day(first, AS_OF - timedelta(days=30))
            for term in range(1, 4):
                end = start + timedelta(days=rng.choice([182, 364, 729]))
                status = "active" if end >= AS_OF else rng.choice(["renewed", "renewed", "churned"])
                contracts_csv.writerow([f"K{n:07d}-{term}", account, start, end, rng.randrange(100, 5000), status])
                if status != "renewed":
                    break
                start = end + timedelta(days=1)
            for _ in range(rng.randrange(0, 7)):
                survey += 1
                kind = rng.choice(["nps", "nps", "ces", "csat"])
                score = {"nps": rng.randrange(11), "ces": rng.randrange(1, 8), "csat": rng.randrange(1, 6)}[kind]
                surveys_csv.writerow([f"S{survey:08d}", account, f"C{n}-{rng.randrange(3)}", kind, score,
                                      day(AS_OF - timedelta(days=365), AS_OF)])  # fmt: skip
    with files["feedback"].open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["external_id", "account", "contact", "channel", "text", "received_at"])
        for n in range(1, feedback + 1):
            account = rng.randrange(1, accounts + 1)
            moment = f"{day(AS_OF - timedelta(days=365), AS_OF)}T{rng.randrange(9, 18):02d}:00:00+08:00"
            writer.writerow([f"F{n:08d}", f"A{account:07d}", f"C{account}-{rng.randrange(3)}", rng.choice(CHANNELS),
                             rng.choice(texts), moment])  # fmt: skip
    return files


def copy_feedback(workspace: Any, path: Path) -> None:
    """The feedback file's rows into the feedback table, unlabelled, with one COPY."""
    from datetime import datetime

    from django.db import connection

    from records.models import Account, Feedback

    ids = dict(Account.objects.filter(workspace=workspace).values_list("external_id", "id"))
    tz = workspace.tzinfo
    columns = "workspace_id, external_id, account_id, contact, channel, text, received_at, received_on, deleted, " \
        "language, sentiment, intents, competitors, keywords"  # fmt: skip
    table = Feedback._meta.db_table
    with (
        path.open() as handle,
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in csv.DictReader(handle):
            moment = datetime.fromisoformat(row["received_at"])
            copy.write_row([workspace.pk, row["external_id"], ids[row["account"]], row["contact"], row["channel"],
                                row["text"], moment, moment.astimezone(tz).date(), False, "", "", "[]", "[]", "[]"])  # fmt: skip


def load(slug: str, accounts: int, feedback: int) -> dict[str, Any]:
    _django()
    import io

    from django.core.management import call_command
    from django.db import connection, transaction

    from records.aggregates import feedback_day_figures
    from records.labelling import vocabulary_for
    from records.models import (
        Feedback,
        FeedbackDayFigures,
        FeedbackTerm,
        FeedbackTermDayFigures,
        FeedbackTermMonthFigures,
    )
    from records.text_analysis import label_many
    from tenancy.models import Workspace

    workspace = Workspace.objects.get(slug=slug)
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        files = write_files(Path(folder), accounts, feedback)
        for kind in ("accounts", "contracts", "surveys"):
            started = time.perf_counter()
            call_command("import_records", kind, str(files[kind]), workspace=slug, no_refresh=True,
                         stdout=io.StringIO(), stderr=io.StringIO())  # fmt: skip
            seconds[kind] = time.perf_counter() - started
        # The feedback goes in with one COPY: import_records would also label it (without a broker the
        # task it enqueues runs in the process), and labelling is measured apart (bench/label_bench.py).
        started = time.perf_counter()
        copy_feedback(workspace, files["feedback"])
        seconds["feedback (COPY)"] = time.perf_counter() - started
    started = time.perf_counter()
    texts = sorted({json.loads(line)["text"] for line in (ROOT / "tests/records/data/labelled_feedback.jsonl").open()})
    labels = label_many(texts, vocabulary_for(workspace))
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE pool (text text, language text, sentiment text, intents jsonb, "
                       "competitors jsonb, keywords jsonb)")  # fmt: skip
        with cursor.copy("COPY pool FROM STDIN") as copy:
            for text, label in zip(texts, labels, strict=True):
                copy.write_row([text, label.language, label.sentiment, json.dumps(label.intents),
                                json.dumps(label.competitors), json.dumps(label.keywords)])  # fmt: skip
        cursor.execute(
            f"UPDATE {Feedback._meta.db_table} f SET language = p.language, sentiment = p.sentiment, "
            "intents = p.intents, competitors = p.competitors, keywords = p.keywords, labelled_at = now() "
            "FROM pool p WHERE f.text = p.text AND f.workspace_id = %s",
            [workspace.pk],
        )
        for kind, column in (("intent", "intents"), ("competitor", "competitors"), ("keyword", "keywords")):
            cursor.execute(
                f"INSERT INTO {FeedbackTerm._meta.db_table} (feedback_id, workspace_id, kind, term, received_on, "
                "channel, sentiment, contact, account_id, deleted) "
                f"SELECT f.id, f.workspace_id, %s, left(t.term, 100), f.received_on, f.channel, f.sentiment, "
                f"f.contact, f.account_id, f.deleted FROM {Feedback._meta.db_table} f, "
                f"jsonb_array_elements_text(f.{column}) AS t(term) WHERE f.workspace_id = %s",
                [kind, workspace.pk],
            )
    seconds["labels"] = time.perf_counter() - started
    # The labels went in with SQL, marking nothing: the voice's day and month aggregates from scratch, as
    # ``figures_rebuild`` builds them.
    started = time.perf_counter()
    with transaction.atomic():
        feedback_day_figures(workspace, None)
    seconds["day aggregates"] = time.perf_counter() - started
    # What autovacuum does after a bulk load, done now so that the reads do not depend on when it wakes
    # (as bench/records_bench.py does): statistics, and the visibility map the covering indexes'
    # index-only scans need.
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    seconds["vacuum analyze"] = time.perf_counter() - started
    return {
        "seconds": seconds,
        "terms": FeedbackTerm.objects.filter(workspace=workspace).count(),
        "aggregate rows": {
            model.__name__: model.objects.filter(workspace=workspace).count()
            for model in (FeedbackDayFigures, FeedbackTermDayFigures, FeedbackTermMonthFigures)
        },
    }


def _django() -> None:
    """Django set up in this process (the bench's subcommands run against the bench's database)."""
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_usage.settings")
    import django

    django.setup()


def explain(slug: str) -> None:
    """``--explain``: the plan of every statement the voice's reads run (June), as PostgreSQL ran it."""
    _django()
    from django.db import connection

    from events.periods import Period
    from perception.selectors.voice import competitor_mentions, keywords, voice
    from perception.voice_queries import KeywordQuery, VoiceQuery, VoiceUnitQuery
    from tenancy.models import Workspace

    workspace = Workspace.objects.get(slug=slug)
    june = Period(date(2026, 6, 1), date(2026, 6, 30), workspace.tzinfo)
    reads = [(f"voice by {by}", lambda by=by: voice(VoiceUnitQuery.over(workspace, june, by=by)))
             for by in ("responses", "contacts", "accounts")]  # fmt: skip
    reads += [("keywords", lambda: keywords(KeywordQuery.over(workspace, june))),
              ("competitor mentions", lambda: competitor_mentions(VoiceQuery.over(workspace, june)))]  # fmt: skip
    for name, read in reads:
        statements: list[tuple[str, Any]] = []

        def capture(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            statements.append((sql, params))  # noqa: B023 (used at once)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(capture):
            read()
        for sql, params in statements:
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            print(f"--- {name}: {sql[:300]}\n{plan}\n", flush=True)


def warm_up(slug: str) -> float:
    """Seconds the worker's warm-up after a write takes (``perception.services.default_views_warm``),
    every answer computed: the records version renewed first, as the write did."""
    _django()
    from perception.services import default_views_warm
    from records.versions import records_changed
    from tenancy.models import Workspace

    workspace = Workspace.objects.get(slug=slug)
    records_changed(workspace.pk)
    started = time.perf_counter()
    default_views_warm(workspace=workspace)
    return time.perf_counter() - started


# --- the reads (through gunicorn) --------------------------------------------------------------------------


def endpoints() -> list[tuple[str, str]]:
    month = "start=2026-06-01&end=2026-06-30"
    year = "start=2025-07-01&end=2026-06-30"
    return [
        ("summary (June)", f"perception/summary?{month}"),
        ("summary (June, one industry)", f"perception/summary?{month}&industry=Retail"),
        ("trend (a year)", f"perception/trend?{year}"),
        ("breakdown by industry (June)", f"perception/breakdown?{month}"),
        ("accounts churned (June), page 1", f"perception/accounts?{month}&status=churned"),
        ("voice by responses (June)", f"perception/voice?{month}"),
        ("voice by contacts (June)", f"perception/voice?{month}&by=contacts"),
        ("voice by accounts (June)", f"perception/voice?{month}&by=accounts"),
        ("keywords (June)", f"perception/keywords?{month}"),
        ("competitor mentions (June)", f"perception/competitor-mentions?{month}"),
        ("feedback page 1 (June)", f"perception/feedback?{month}"),
        ("feedback by intent (June)", f"perception/feedback?{month}&intent=complaint"),
    ]


def measure(port: int, token: str, count: int, warmup: int, renew: Any) -> dict[str, dict[str, Any]]:
    """Per endpoint: ``count`` reads after ``warmup`` ("warm": answers cached since the last write are
    served from the cache, records/versions.py), then ``count`` reads each after ``renew()`` gave the
    workspace a new records version, as a write does ("cold": every read computes)."""
    import run

    headers = {"Authorization": f"Token {token}"}
    results: dict[str, dict[str, Any]] = {}
    for name, path in endpoints():
        url = f"/api/v1/workspaces/{SLUG}/{path}"
        status, body = run.request(port, "GET", url, None, headers)
        if status != 200:
            results[name] = {"status": status, "error": body[:300].decode(errors="replace")}
            log(f"  {name}: {status} {body[:200]!r}")
            continue
        times, cold = [], []
        for i in range(count + warmup - 1):
            started = time.perf_counter()
            run.request(port, "GET", url, None, headers)
            if i >= warmup - 1:
                times.append(time.perf_counter() - started)
        for _ in range(count):
            renew()
            started = time.perf_counter()
            run.request(port, "GET", url, None, headers)
            cold.append(time.perf_counter() - started)
        results[name] = {"bytes": len(body), "p50_ms": statistics.median(times) * 1000,
                         "p95_ms": run.percentile(times, 95) * 1000,
                         "cold_p50_ms": statistics.median(cold) * 1000,
                         "cold_p95_ms": run.percentile(cold, 95) * 1000}  # fmt: skip
        log(f"  {name}: p95 {results[name]['p95_ms']:.1f} ms, cold {results[name]['cold_p95_ms']:.1f} ms "
            f"({len(body):,} bytes)")  # fmt: skip
    return results


def version_renewer(database_url: str) -> Any:
    """A function giving the bench workspace new records versions, every kind (what a records write does
    to the kinds it writes)."""
    import psycopg

    connection = psycopg.connect(database_url, autocommit=True)

    def renew() -> None:
        connection.execute(
            "UPDATE records_recordsversion SET version = gen_random_uuid() "
            "WHERE workspace_id = (SELECT id FROM events_workspace WHERE slug = %s)",
            [SLUG],
        )

    return renew


def main() -> int:
    import run

    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--feedback", type=int, default=1_000_000)
    parser.add_argument("--reads", type=int, default=20)
    parser.add_argument("--explain", action="store_true", help="print the voice's query plans after the reads")
    parser.add_argument("--results", type=Path, default=BENCH / "results" / "perception.md", help="where to write")
    args = parser.parse_args()
    services = run.Services()
    services.start()
    try:
        env = run.django_env(services.env["DATABASE_URL"])
        # The cache shared by gunicorn's workers, as deployed (README: REDIS_CACHE_URL): with each worker's
        # own local memory, a worker the warm-up reads missed computed its first read ("warm" p95 of 1.3 s).
        env["REDIS_CACHE_URL"] = services.env["CELERY_BROKER_URL"].rsplit("/", 1)[0] + "/1"
        run.manage(env, "migrate", "--noinput")
        users = Path(tempfile.mkdtemp()) / "users.csv"  # the owners, external ids 1…2000 (write_files)
        users.write_text("external_id,status\n" + "".join(f"{n},active\n" for n in range(1, 2001)))
        setup = run.step(env, "setup", SLUG, TZ, str(users))
        log(f"loading {args.accounts:,} accounts and {args.feedback:,} feedback texts")
        out, wall, _ = run.run_rss([str(BENCH / "perception_bench.py"), "load", SLUG, str(args.accounts),
                                    str(args.feedback)], env)  # fmt: skip
        loaded = json.loads(out.strip().splitlines()[-1])
        log(f"  loaded in {wall:.0f} s: {loaded}")
        gunicorn = run.Gunicorn(env)
        try:
            log(f"reads through gunicorn: {args.reads} requests per endpoint")
            renew = version_renewer(services.env["DATABASE_URL"])
            reads = measure(gunicorn.port, setup["token"], args.reads, 2 * gunicorn.workers, renew)
        finally:
            gunicorn.stop()
        warm_ups = []
        for _ in range(3):
            out, _wall, _ = run.run_rss([str(BENCH / "perception_bench.py"), "warm-up", SLUG], env)
            warm_ups.append(float(out.strip().splitlines()[-1]))
        log(f"  the worker's warm-up after a write: {warm_ups} s")
        if args.explain:
            out, _wall, _ = run.run_rss([str(BENCH / "perception_bench.py"), "explain", SLUG], env)
            print(out)
    finally:
        services.stop()
    machine = run.machine()
    lines = [
        f"## Perception at {args.accounts:,} accounts and {args.feedback:,} feedback texts "
        f"({time.strftime('%Y-%m-%d %H:%M')})",
        "",
        f"Machine: {machine}. Loaded: {loaded}.",
        "",
        "Warm: reads between two records writes (cached answers served); cold: the records version renewed",
        "before each read, as after a write (every read computes). ≤ 150 ms: the issue's target, p95.",
        "",
        f"After each write a worker computes the tab's default and preset views (`default_views_warm`): "
        f"{statistics.median(warm_ups):.2f} s (median of 3, in a fresh process).",
        "",
        "| endpoint | warm p50 ms | warm p95 ms | cold p50 ms | cold p95 ms | bytes | warm ≤ 150 | cold ≤ 150 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | :---: | :---: |",
    ]
    for name, result in reads.items():
        if "p95_ms" in result:
            warm = "yes" if result["p95_ms"] <= 150 else "**no**"
            cold = "yes" if result["cold_p95_ms"] <= 150 else "**no**"
            lines.append(f"| {name} | {result['p50_ms']:.0f} | {result['p95_ms']:.0f} | {result['cold_p50_ms']:.0f} "
                         f"| {result['cold_p95_ms']:.0f} | {result['bytes']:,} | {warm} | {cold} |")  # fmt: skip
        else:
            lines.append(f"| {name} | – | – | – | – | status {result['status']} | – |  – |")
    args.results.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "load":
        print(json.dumps(load(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "warm-up":
        print(warm_up(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "explain":
        explain(sys.argv[2])
    else:
        sys.exit(main())
