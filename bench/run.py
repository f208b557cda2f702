"""``make bench``: load N generated events through the product's own paths and report every figure as
a ratio to a reference measured in the same run, on the same data, on the same machine.

    python bench/run.py [--rows N] [--http-events N] [--http-seconds S] [--reads N] [--no-columnar] [--keep]
                        [--records | --records-only] [--records-scale S]

Steps (see bench/README.md for what each figure means and the targets):

1. data: ``../shared/bench/gen_events.py`` (deterministic, seed 42) writes ``bench/data/events_N.parquet``;
   its columns are mapped to the import format (event_uuid→uuid, user_id→user, feature, action,
   attribute→detail, timestamp). All 40 orgs go into ONE workspace (the worst case for the tabs: every
   read covers all N events' rollups), time zone UTC. "One more day" is the last day's events moved
   one day later with new uuids.
2. a throwaway PostgreSQL + Redis (tests/services.sh), given a production-like configuration.
3. bulk import: ``manage.py import_events`` vs ``COPY`` of the same rows (ids resolved) into a table
   created ``LIKE events_event INCLUDING ALL`` (same columns and indexes, not partitioned) plus the
   issue's unique ``(workspace_id, uuid)`` index (the product keeps it in ``events_eventkey``).
4. SQLite import: ``import_events`` into a fresh SQLite database vs ``executemany`` of the same rows
   into a copy of the events table's DDL (same indexes, plus the unique uuid index), one
   transaction, same PRAGMAs.
5. rollups: ``rollups_rebuild`` vs plain ``INSERT … SELECT … GROUP BY`` / window statements building
   the same twelve tables (five from events, seven coarser ones from them); the product's rows
   are checked equal to the reference's. Then one more day is imported and ``rollups_refresh_dirty`` is timed against the full rebuild.
5b. scale-out: the same full rebuild through Celery (``rebuild_rollups_task``: a chord of one task per
   7 days) with 1 worker process, then 2; rows checked equal to a serial rebuild; the speed-up.
6. HTTP: gunicorn (4 sync workers) on 127.0.0.1; 4 client threads post 1000-event batches of a second
   workspace, bounded in count and time; every event must be accepted and stored.
7. reads: p50/p95 over ``--reads`` requests of every read endpoint through gunicorn, after 2 warm-up
   requests per gunicorn worker; the 10M run also divides by the p95 of the last 1M run
   (bench/results/run_1000000.json).
8. funnel: ``funnels/query`` (3 steps, 14-day window, 30-day range) vs one hand-written SQL query.
8b. columnar (``--no-columnar`` leaves it out): paths (30 days, 5 steps) and every funnel view (steps
   ordered, with an exclusion, any order; time to convert; trends; people) through gunicorn vs the
   same query in DuckDB on the same events, exported from this run's PostgreSQL (bench/columnar.py);
   the figures of both must be equal.

10. records (opt-in: ``--records`` after step 8b on the same servers and workspace, ``--records-only``
   alone): CRM records imports vs COPY, their aggregates' rebuild, the Accounts and Sales reads
   (bench/records_bench.py, bench/README.md "CRM records").

Writes bench/results/latest.md and bench/results/run_N.json (and records_S.md/.json). Stops every server it started.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import columnar  # bench/columnar.py: the DuckDB comparison (step 8b)

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = BENCH / "data"
RESULTS = BENCH / "results"
GENERATOR = Path(os.environ.get("BENCH_GENERATOR", ROOT.parent / "shared" / "bench" / "gen_events.py"))
PY = sys.executable
SLUG, HTTP_SLUG, TZ = "bench", "bench-http", "UTC"
AS_OF = "2025-06-30"  # the generator's last day
LATE_DAY = "2025-06-15"  # a day in the middle of a month, refreshed again as late events would have it
MIB = 1024 * 1024


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- 1. data ----------------------------------------------------------------------------------------


def prepare_data(rows: int) -> dict[str, Path]:
    """Generate (once) and convert the data set: import CSV, reference CSV, extra day, users."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    DATA.mkdir(parents=True, exist_ok=True)
    parquet = DATA / f"events_{rows}.parquet"
    if not parquet.exists():
        log(f"generating {rows:,} events with {GENERATOR}")
        subprocess.run([PY, str(GENERATOR), "--rows", str(rows), "--out", str(DATA), "--no-csv"], check=True, cwd=DATA)
    files = {
        "import": DATA / f"import_{rows}.csv",
        "ref": DATA / f"ref_{rows}.csv",
        "extra": DATA / f"extra_{rows}.csv",
        "users": DATA / "users_import.csv",
    }
    if all(p.exists() for p in files.values()):
        return files
    log("converting to the import format")
    received = "2025-07-01 00:00:00+00"
    features = None
    opts = pacsv.WriteOptions(include_header=True, quoting_style="none")
    last_day = None
    with (
        pacsv.CSVWriter(files["import"], _import_schema(pa), write_options=opts) as out_import,
        pacsv.CSVWriter(files["ref"], _ref_schema(pa), write_options=opts) as out_ref,
    ):
        source = pq.ParquetFile(parquet)
        for index in range(source.num_row_groups):
            t = source.read_row_group(index)
            ts = t.column("timestamp")
            iso = pc.strftime(ts, format="%Y-%m-%dT%H:%M:%S+00:00")
            feature = t.column("feature").cast(pa.string())
            action = t.column("action").cast(pa.string())
            detail = pc.fill_null(t.column("attribute").cast(pa.string()), "")
            user = t.column("user_id").cast(pa.string())
            out_import.write_table(
                pa.table(
                    [t.column("event_uuid"), user, feature, action, detail, iso],
                    schema=_import_schema(pa),
                )
            )
            if features is None:
                features = t.column("feature").chunk(0).dictionary.to_pylist()
            n = len(t)
            feature_id = pc.add(t.column("feature").combine_chunks().indices.cast(pa.int64()), 1)
            out_ref.write_table(
                pa.table(
                    [
                        pa.array([0] * n, pa.int64()),
                        t.column("event_uuid"),
                        t.column("user_id").cast(pa.int64()),
                        feature_id,
                        action,
                        detail,
                        pa.array([""] * n, pa.string()),
                        pc.strftime(ts, format="%Y-%m-%d %H:%M:%S+00"),
                        pa.array([received] * n, pa.string()),
                    ],
                    schema=_ref_schema(pa),
                )
            )
            last_day = pc.max(ts).as_py().date()
    # One more day: the last day's events, one day later, with new uuids.
    assert last_day is not None
    day_start = datetime(last_day.year, last_day.month, last_day.day, tzinfo=UTC)
    t = pq.read_table(parquet, filters=[("timestamp", ">=", day_start)])
    shifted = pc.add(t.column("timestamp"), pa.scalar(86_400_000_000, pa.duration("us")))
    extra = pa.table(
        [
            pc.binary_join_element_wise("d1-", t.column("event_uuid"), ""),
            t.column("user_id").cast(pa.string()),
            t.column("feature").cast(pa.string()),
            t.column("action").cast(pa.string()),
            pc.fill_null(t.column("attribute").cast(pa.string()), ""),
            pc.strftime(shifted.cast(pa.timestamp("us", tz="UTC")), format="%Y-%m-%dT%H:%M:%S+00:00"),
        ],
        schema=_import_schema(pa),
    )
    pacsv.write_csv(extra, files["extra"], opts)
    users = pq.read_table(DATA / "users.parquet")
    pacsv.write_csv(
        pa.table(
            {
                "external_id": users.column("user_id").cast(pa.string()),
                "language": users.column("language"),
                "country": users.column("country"),
                "timezone": users.column("timezone"),
                "status": users.column("status"),
                "created_at": pc.strftime(users.column("signup_date").cast(pa.timestamp("s")), format="%Y-%m-%d"),
            }
        ),
        files["users"],
        opts,
    )
    return files


def _import_schema(pa: Any) -> Any:
    return pa.schema([(n, pa.string()) for n in ("uuid", "user", "feature", "action", "detail", "timestamp")])


def _ref_schema(pa: Any) -> Any:
    return pa.schema(
        [
            ("workspace_id", pa.int64()),
            ("uuid", pa.string()),
            ("crm_user_id", pa.int64()),
            ("feature_id", pa.int64()),
            ("action", pa.string()),
            ("detail", pa.string()),
            ("record_id", pa.string()),
            ("occurred_at", pa.string()),
            ("received_at", pa.string()),
        ]
    )


def csv_rows(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for _ in f) - 1


# --- 2. services ------------------------------------------------------------------------------------

PG_SETTINGS = {
    "shared_buffers": "2GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "1GB",
    "effective_cache_size": "8GB",
    "max_wal_size": "8GB",
    "random_page_cost": "1.1",
    "checkpoint_timeout": "30min",
}


class Services:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="crm-bench."))
        self.env: dict[str, str] = {}

    def start(self) -> None:
        log(f"starting PostgreSQL and Redis in {self.dir}")
        subprocess.run(
            ["bash", str(ROOT / "tests/services.sh"), "start", str(self.dir)], check=True, stdout=subprocess.DEVNULL
        )
        for line in (self.dir / "env").read_text().splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            self.env[key] = value
        state = dict(line.split("=", 1) for line in (self.dir / "state.pg").read_text().splitlines() if "=" in line)
        import psycopg

        with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as conn:
            for name, value in PG_SETTINGS.items():
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        restart = [state["PG_BIN"] + "/pg_ctl", "-D", state["PG_DATA"], "-w", "-t", "60", "restart", "-m", "fast"]
        if os.geteuid() == 0:
            restart = ["runuser", "-u", "postgres", "--", *restart]
        subprocess.run(restart, check=True, stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        subprocess.run(["bash", str(ROOT / "tests/services.sh"), "stop", str(self.dir)], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


# --- helpers ------------------------------------------------------------------------------------------


def django_env(database_url: str, broker: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "REDIS_"))}
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="crm_usage.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="bench-" + "x" * 60,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_LOG_LEVEL="WARNING",
        # The per-key and per-token rate limits would turn the load into 429s: lift them for the bench.
        INGEST_RATE_LIMIT="1000000/min",
        API_RATE_LIMIT="1000000/min",
        PYTHONUNBUFFERED="1",
    )
    if broker:
        env["CELERY_BROKER_URL"] = broker
    return env


def run_rss(script: list[str], env: dict[str, str]) -> tuple[str, float, float]:
    """Run a Python script; return its stdout, wall seconds and its own peak RSS in MiB (bench/peak_rss.py)."""
    with (
        tempfile.NamedTemporaryFile("w+") as rss,
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
    ):
        cmd = [PY, str(BENCH / "peak_rss.py"), rss.name, *script]
        started = time.perf_counter()
        code = subprocess.run(cmd, env=env, cwd=ROOT, stdout=out, stderr=err, text=True).returncode
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
        peak = int(Path(rss.name).read_text() or 0) / 1024
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({code}):\n{errors[-4000:]}\n{text[-2000:]}")
    return text, wall, peak


def step(env: dict[str, str], *args: str) -> dict[str, Any]:
    out, _, rss = run_rss([str(BENCH / "django_steps.py"), *args], env)
    result = json.loads(out.strip().splitlines()[-1])
    result.setdefault("process_peak_rss_mib", rss)
    return result


def manage(env: dict[str, str], *args: str) -> tuple[str, float, float]:
    return run_rss([str(ROOT / "manage.py"), *args], env)


def stored_seconds(output: str) -> float:
    """The import's own timing line ('Read N valid row(s) in X s …'; before issue 17 'Stored N row(s)
    in X s'), without interpreter start-up."""
    match = re.search(r"(?:Read (\d+) valid|Stored (\d+)) row\(s\) in ([\d.]+) s", output)
    assert match, output
    return float(match.group(3))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- 3. PostgreSQL import ---------------------------------------------------------------------------


def clone_table(conn: Any, source: str, target: str, *, foreign_keys: bool) -> None:
    """An empty copy of ``source``: same columns, defaults, constraints and indexes (``LIKE … INCLUDING
    ALL``), and with ``foreign_keys`` its foreign keys too (LIKE leaves them out)."""
    conn.execute(f"DROP TABLE IF EXISTS {target}")
    conn.execute(f"CREATE TABLE {target} (LIKE {source} INCLUDING ALL)")
    if foreign_keys:
        for (definition,) in conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
            [source],
        ).fetchall():
            conn.execute(f"ALTER TABLE {target} ADD {definition}")


def pg_reference_copy(conn: Any, ref_csv: Path) -> float:
    """COPY of the same rows (ids resolved) into an identically indexed clone of events_event: the
    issue's reference. Its indexes, unpartitioned, and the unique ``(workspace_id, uuid)`` that the
    product enforces through ``events_eventkey`` (a partitioned table cannot); no foreign keys."""
    clone_table(conn, "events_event", "bench_ref_events", foreign_keys=False)
    conn.execute("ALTER TABLE bench_ref_events ADD UNIQUE (workspace_id, uuid)")
    conn.execute("CHECKPOINT")
    started = time.perf_counter()
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY bench_ref_events (workspace_id, uuid, crm_user_id, feature_id, action, detail, record_id, "
            "occurred_at, received_at) FROM STDIN (FORMAT csv, HEADER true, FORCE_NOT_NULL (detail, record_id))"
        ) as copy,
        open(ref_csv, "rb") as f,
    ):
        while block := f.read(MIB):
            copy.write(block)
    seconds = time.perf_counter() - started
    conn.execute("DROP TABLE bench_ref_events")
    conn.execute("CHECKPOINT")
    return seconds


# --- 4. SQLite import -------------------------------------------------------------------------------


def sqlite_reference(db_path: Path, ref_csv: Path) -> float:
    """executemany of the same rows into a copy of events_event's DDL (same indexes), one transaction."""
    src = sqlite3.connect(db_path)
    ddl = [
        sql
        for (sql,) in src.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'events_event' AND sql IS NOT NULL ORDER BY type DESC"
        )
    ]
    src.close()
    ref_path = db_path.with_name(db_path.stem + "_ref.sqlite3")
    for suffix in ("", "-wal", "-shm"):
        Path(str(ref_path) + suffix).unlink(missing_ok=True)
    conn = sqlite3.connect(ref_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    for sql in ddl:
        sql = sql.replace('"events_event"', '"ref_event"').replace("events_event", "ref_event")
        sql = re.sub(r'(CREATE (?:UNIQUE )?INDEX ")', r"\1ref_", sql)
        sql = re.sub(r'REFERENCES "[^"]+" \("id"\) DEFERRABLE INITIALLY DEFERRED', "", sql)
        conn.execute(sql)
    # The uniqueness the product keeps in events_eventkey (the reference has it on the table).
    conn.execute('CREATE UNIQUE INDEX ref_event_uuid ON ref_event ("workspace_id", "uuid")')

    def rows() -> Iterator[list[Any]]:
        with open(ref_csv, newline="") as f:
            reader = csv.reader(f)
            next(reader)
            for r in reader:
                # Django's SQLite text form of a UTC datetime
                yield [1, r[1], int(r[2]), int(r[3]), r[4], r[5], r[6], r[7][:-3], r[8][:-3]]

    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO ref_event (workspace_id, uuid, crm_user_id, feature_id, action, detail, record_id, "
        "occurred_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows(),
    )
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(ref_path) + suffix).unlink(missing_ok=True)
    return seconds


# --- 5. rollups -------------------------------------------------------------------------------------


# UserFeatureMonth's and UserMonth's events per day of the month.
UFM_DAYS = ", ".join(f"events_{d:02}" for d in range(1, 32))
# Their sums, over rows that carry ``d0``, the day of the month less one.
UFM_DAY_SUMS = ", ".join(f"coalesce(sum(events) FILTER (WHERE d0 = {d - 1}), 0)" for d in range(1, 32))

REFERENCE_TABLES = (
    ("ufd", "userfeatureday"),
    ("ufdt", "userfeaturedaytotal"),
    ("featureday", "featureday"),
    ("ufm", "userfeaturemonth"),
    ("featuremonth", "featuremonth"),
    ("userday", "userday"),
    ("session", "session"),
    ("usermonth", "usermonth"),
    ("workspaceday", "workspaceday"),
    ("fah", "featureactionhour"),
    ("wh", "workspacehour"),
    ("fad", "featureactionday"),
)


def pg_reference_rollups(conn: Any, workspace_id: int, tz: str, lows: list[int], timeout_minutes: int = 15) -> float:
    """The same twelve tables built with plain INSERT … SELECT statements, one per table (the coarse
    grains from the finest, as the product builds them); ``lows``: the duration histogram's bucket
    bounds (``events.durations.LOWS``)."""
    for name, model in REFERENCE_TABLES:
        # "The same tables": same indexes and the same (deferred) foreign keys, checked at commit.
        clone_table(conn, f"events_{model}", f"bench_ref_{name}", foreign_keys=True)
    conn.execute("CHECKPOINT")
    params = {"w": workspace_id, "tz": tz, "timeout": f"{timeout_minutes} minutes", "lows": lows}
    started = time.perf_counter()
    with conn.transaction():
        conn.execute(
            "INSERT INTO bench_ref_ufd (workspace_id, day, crm_user_id, feature_id, action, detail, events) "
            "SELECT workspace_id, (occurred_at AT TIME ZONE %(tz)s)::date, crm_user_id, feature_id, action, "
            "detail, count(*) FROM events_event WHERE workspace_id = %(w)s GROUP BY 1, 2, 3, 4, 5, 6",
            params,
        )
        conn.execute(
            "INSERT INTO bench_ref_ufdt (workspace_id, day, crm_user_id, feature_id, events) "
            "SELECT workspace_id, day, crm_user_id, feature_id, sum(events) FROM bench_ref_ufd GROUP BY 1, 2, 3, 4"
        )
        # Users numbered 0, 1, 2… in id order, as the product numbers them (a no-op once numbered).
        conn.execute(
            "UPDATE events_crmuser AS c SET bit_index = n.n FROM ("
            "  SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM events_crmuser WHERE workspace_id = %(w)s"
            ") AS n WHERE c.id = n.id AND c.bit_index IS DISTINCT FROM n.n",
            params,
        )
        # Each feature-day's users as a bitmap (bit n = byte n / 8, bit n % 8, as get_bit numbers
        # them): OR-ed per byte, then the bytes joined in order with zero bytes for the gaps.
        conn.execute(
            "INSERT INTO bench_ref_featureday (workspace_id, day, feature_id, events, users, user_bits) "
            "SELECT workspace_id, day, feature_id, sum(events), sum(users),"
            "  string_agg(decode(repeat('00', slot - coalesce(previous, -1) - 1), 'hex')"
            "    || set_byte('\\x00'::bytea, 0, bits), ''::bytea ORDER BY slot) FROM ("
            "  SELECT *, lag(slot) OVER (PARTITION BY day, feature_id ORDER BY slot) AS previous FROM ("
            "    SELECT t.workspace_id, t.day, t.feature_id, u.bit_index / 8 AS slot, sum(t.events) AS events,"
            "      count(*) AS users, bit_or(1 << (u.bit_index % 8)) AS bits"
            "    FROM bench_ref_ufdt AS t JOIN events_crmuser AS u ON u.id = t.crm_user_id GROUP BY 1, 2, 3, 4"
            "  ) AS per_byte) AS b GROUP BY 1, 2, 3"
        )
        # The day of the month worked out once per row (OFFSET 0 keeps the planner from folding it
        # into each of the 31 sums, which takes twice as long).
        conn.execute(
            f"INSERT INTO bench_ref_ufm (workspace_id, month, crm_user_id, feature_id, days, events, {UFM_DAYS}) "
            f"SELECT workspace_id, month, crm_user_id, feature_id, bit_or(1 << d0), sum(events), {UFM_DAY_SUMS}"
            " FROM (SELECT workspace_id, crm_user_id, feature_id, events, date_trunc('month', day)::date AS month,"
            "  extract(day FROM day)::int - 1 AS d0 FROM bench_ref_ufdt OFFSET 0) AS d GROUP BY 1, 2, 3, 4"
        )
        conn.execute(
            "INSERT INTO bench_ref_featuremonth (workspace_id, month, feature_id, users, events) "
            "SELECT workspace_id, month, feature_id, count(*), sum(events) FROM bench_ref_ufm GROUP BY 1, 2, 3"
        )
        conn.execute(
            "INSERT INTO bench_ref_session (workspace_id, crm_user_id, day, started_at, ended_at, events) "
            "SELECT %(w)s, u, (min(t) AT TIME ZONE %(tz)s)::date, min(t), max(t), count(*) FROM ("
            "  SELECT u, t, sum(new) OVER (PARTITION BY u ORDER BY t, id ROWS UNBOUNDED PRECEDING) AS sn FROM ("
            "    SELECT crm_user_id AS u, occurred_at AS t, id,"
            "      CASE WHEN lag(action) OVER w IS NULL OR lag(action) OVER w = 'logout'"
            "        OR occurred_at - lag(occurred_at) OVER w > %(timeout)s::interval THEN 1 ELSE 0 END AS new"
            "    FROM events_event WHERE workspace_id = %(w)s"
            "    WINDOW w AS (PARTITION BY crm_user_id ORDER BY occurred_at, id)) f) s "
            "GROUP BY u, sn",
            params,
        )
        conn.execute(
            "INSERT INTO bench_ref_userday (workspace_id, day, crm_user_id, events, first_event_at, "
            "last_event_at, sessions, session_seconds) "
            "SELECT %(w)s, d.day, d.u, d.n, d.f, d.l, coalesce(s.n, 0), coalesce(s.secs, 0) FROM ("
            "  SELECT crm_user_id AS u, (occurred_at AT TIME ZONE %(tz)s)::date AS day, count(*) AS n,"
            "    min(occurred_at) AS f, max(occurred_at) AS l"
            "  FROM events_event WHERE workspace_id = %(w)s GROUP BY 1, 2) d "
            "LEFT JOIN ("
            "  SELECT crm_user_id AS u, day, count(*) AS n,"
            "    sum(extract(epoch FROM ended_at - started_at)::float8 ORDER BY started_at) AS secs"
            "  FROM bench_ref_session GROUP BY 1, 2) s ON s.u = d.u AND s.day = d.day",
            params,
        )
        conn.execute(
            "INSERT INTO bench_ref_usermonth (workspace_id, month, crm_user_id, days, events, sessions, "
            f"session_seconds, last_event_at, {UFM_DAYS}) "
            "SELECT workspace_id, month, crm_user_id, bit_or(1 << d0), sum(events), sum(sessions),"
            f"  sum(session_seconds), max(last_event_at), {UFM_DAY_SUMS}"
            " FROM (SELECT workspace_id, crm_user_id, events, sessions, session_seconds, last_event_at,"
            "  date_trunc('month', day)::date AS month, extract(day FROM day)::int - 1 AS d0"
            "  FROM bench_ref_userday OFFSET 0) AS d GROUP BY 1, 2, 3"
        )
        conn.execute(
            "INSERT INTO bench_ref_workspaceday (workspace_id, day, events, users) "
            "SELECT workspace_id, day, sum(events), count(*) FROM bench_ref_userday GROUP BY 1, 2"
        )
        # The behaviour grains: events, known outcomes and failures per local day·hour·feature·action,
        # per day·hour, and per day·feature·action with the durations' histogram (the bucket of a
        # duration: width_bucket over the bucket bounds).
        conn.execute(
            "INSERT INTO bench_ref_fah (workspace_id, day, hour, feature_id, action, events, outcomes, failures) "
            "SELECT workspace_id, local::date, extract(hour FROM local)::int, feature_id, action, count(*),"
            "  count(*) FILTER (WHERE outcome <> ''), count(*) FILTER (WHERE outcome = 'failure')"
            " FROM (SELECT workspace_id, occurred_at AT TIME ZONE %(tz)s AS local, feature_id, action, outcome"
            "  FROM events_event WHERE workspace_id = %(w)s OFFSET 0) AS e GROUP BY 1, 2, 3, 4, 5",
            params,
        )
        conn.execute(
            "INSERT INTO bench_ref_wh (workspace_id, day, hour, events, outcomes, failures) "
            "SELECT workspace_id, day, hour, sum(events), sum(outcomes), sum(failures) FROM bench_ref_fah GROUP BY 1, 2, 3"
        )
        conn.execute(
            "INSERT INTO bench_ref_fad (workspace_id, day, feature_id, action, events, outcomes, failures, "
            "durations, duration_buckets) "
            "SELECT c.workspace_id, c.day, c.feature_id, c.action, c.events, c.outcomes, c.failures,"
            "  coalesce(d.n, 0), coalesce(d.buckets, '{}'::jsonb) FROM ("
            "  SELECT workspace_id, day, feature_id, action, sum(events) AS events, sum(outcomes) AS outcomes,"
            "    sum(failures) AS failures FROM bench_ref_fah GROUP BY 1, 2, 3, 4) AS c "
            "LEFT JOIN ("
            "  SELECT day, feature_id, action, sum(n) AS n, jsonb_object_agg(bucket::text, n) AS buckets FROM ("
            "    SELECT (occurred_at AT TIME ZONE %(tz)s)::date AS day, feature_id, action,"
            "      width_bucket(duration_ms, %(lows)s::int[]) AS bucket, count(*) AS n FROM events_event"
            "    WHERE workspace_id = %(w)s AND duration_ms IS NOT NULL GROUP BY 1, 2, 3, 4) AS b"
            "  GROUP BY 1, 2, 3) AS d USING (day, feature_id, action)",
            params,
        )
    return time.perf_counter() - started


COMPARE = {
    "ufd": ("events_userfeatureday", "day, crm_user_id, feature_id, action, detail, events"),
    "ufdt": ("events_userfeaturedaytotal", "day, crm_user_id, feature_id, events"),
    "featureday": ("events_featureday", "day, feature_id, events, users, user_bits"),
    "ufm": ("events_userfeaturemonth", f"month, crm_user_id, feature_id, days, events, {UFM_DAYS}"),
    "featuremonth": ("events_featuremonth", "month, feature_id, users, events"),
    "userday": (
        "events_userday",
        "day, crm_user_id, events, first_event_at, last_event_at, sessions, session_seconds",
    ),
    "session": ("events_session", "crm_user_id, day, started_at, ended_at, events"),
    # Seconds summed in another order can differ in the last bits: compared to the microsecond.
    "usermonth": (
        "events_usermonth",
        "month, crm_user_id, days, events, sessions, round(session_seconds::numeric, 6) AS session_seconds, "
        f"last_event_at, {UFM_DAYS}",
    ),
    "workspaceday": ("events_workspaceday", "day, events, users"),
    "fah": ("events_featureactionhour", "day, hour, feature_id, action, events, outcomes, failures"),
    "wh": ("events_workspacehour", "day, hour, events, outcomes, failures"),
    "fad": (
        "events_featureactionday",
        "day, feature_id, action, events, outcomes, failures, durations, duration_buckets",
    ),
}


def compare_rollups(conn: Any, workspace_id: int, prefix: str = "bench_ref_") -> dict[str, int]:
    """Rows that differ between the product's rollups and the tables ``prefix + name`` (the plain-SQL
    reference, or a snapshot of the serial rebuild); 0 = identical."""
    diff = {}
    for name, (table, columns) in COMPARE.items():
        product = f"SELECT {columns} FROM {table} WHERE workspace_id = {workspace_id}"
        reference = f"SELECT {columns} FROM {prefix}{name}"
        n = conn.execute(
            f"SELECT (SELECT count(*) FROM ({product} EXCEPT ALL {reference}) a)"
            f" + (SELECT count(*) FROM ({reference} EXCEPT ALL {product}) b)"
        ).fetchone()[0]
        diff[name] = int(n)
    return diff


# --- 5b. scale-out: the full rebuild through Celery, 1 worker process vs 2 -------------------------


class CeleryWorkers:
    """``count`` worker processes, each ``--pool=solo`` (one task at a time, like ``-c 1``), on the
    bench's PostgreSQL and Redis; their logs are kept to count who ran which chunk."""

    def __init__(self, env: dict[str, str], count: int) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        for index in range(count):
            log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - the worker's log, read after the run
                prefix=f"crm-bench-worker{index}.", suffix=".log", delete=False
            )
            self.logs.append(Path(log_file.name))
            args = [PY, "-m", "celery", "-A", "crm_usage", "worker", "--pool=solo", "--concurrency=1",
                    "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info",
                    "-n", f"bench{index}-{os.getpid()}@%h"]  # fmt: skip
            self.procs.append(
                subprocess.Popen(
                    args, env=env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        deadline = time.monotonic() + 120
        for proc, path in zip(self.procs, self.logs, strict=True):
            while " ready." not in path.read_text(errors="replace"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"celery worker did not start:\n{path.read_text(errors='replace')[-3000:]}")
                time.sleep(0.2)

    def chunks_run(self) -> list[int]:
        pattern = r"Task events\.tasks\.rebuild_rollup_chunk_task\[[^\]]+\] succeeded"
        return [len(re.findall(pattern, path.read_text(errors="replace"))) for path in self.logs]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # warm shutdown: finishes the task in hand
        for proc in self.procs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def empty_rollups(conn: Any) -> None:
    """Every rebuild measured here starts from empty rollup tables (only the bench workspace has
    rollups at this point), after a checkpoint."""
    conn.execute(f"TRUNCATE {', '.join(table for table, _ in COMPARE.values())}")
    conn.execute("CHECKPOINT")


def measure_celery_rebuild(conn: Any, env: dict[str, str], workspace_id: int, rounds: int) -> dict[str, Any]:
    """The full rebuild as ``rebuild_rollups_task`` runs it (one chunk task per 7 days, spread over
    the workers by a chord): with 1 worker process, then with 2 (solo pool each), alternated,
    ``rounds`` times, best of; each from empty tables, each checked row for row against a serial
    in-process ``rollups_rebuild`` of the same data."""
    broker = env["CELERY_BROKER_URL"]
    celery_env = {**env, "CELERY_RESULT_BACKEND": broker.rsplit("/", 1)[0] + "/1"}
    empty_rollups(conn)
    serial = step(env, "rebuild", SLUG)
    for name, (table, columns) in COMPARE.items():
        conn.execute(f"DROP TABLE IF EXISTS bench_serial_{name}")
        conn.execute(
            f"CREATE TABLE bench_serial_{name} AS SELECT {columns} FROM {table} WHERE workspace_id = {workspace_id}"
        )
    log(f"  serial in-process rebuild (the rows to match): {serial['seconds']:.2f} s")
    times: dict[int, list[float]] = {1: [], 2: []}
    chunks: dict[int, list[int]] = {}
    differing = 0
    plan: dict[str, Any] = {}
    for _ in range(rounds):
        for count in (1, 2):
            subprocess.run([PY, "-m", "celery", "-A", "crm_usage", "purge", "-f"], env=celery_env, cwd=ROOT,
                           check=True, capture_output=True)  # fmt: skip
            workers = CeleryWorkers(celery_env, count)
            try:
                empty_rollups(conn)
                out, _, _ = run_rss([str(BENCH / "celery_rebuild.py"), SLUG], celery_env)
                plan = json.loads(out.strip().splitlines()[-1])
                times[count].append(plan["seconds"])
                chunks[count] = workers.chunks_run()
            finally:
                workers.stop()
            diff = sum(compare_rollups(conn, workspace_id, prefix="bench_serial_").values())
            differing += diff
            log(f"  {count} Celery worker(s): {plan['seconds']:.2f} s, chunks per worker {chunks[count]}, "
                f"rows differing from the serial rebuild: {diff}")  # fmt: skip
    for name in COMPARE:
        conn.execute(f"DROP TABLE bench_serial_{name}")
    return {
        "serial_seconds": serial["seconds"],
        "one_worker_seconds": min(times[1]),
        "two_workers_seconds": min(times[2]),
        "all_seconds": times,
        "chunks": plan.get("chunks"),
        "days": plan.get("days"),
        "chunks_per_worker": chunks,
        "differing_rows": differing,
        "rounds": rounds,
    }


# --- 6. HTTP ingestion ------------------------------------------------------------------------------


class Gunicorn:
    def __init__(self, env: dict[str, str], workers: int = 4) -> None:
        self.port = free_port()
        self.workers = workers
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - gunicorn's log, kept after the run
            prefix="crm-bench-gunicorn.", suffix=".log", delete=False
        )
        self.proc = subprocess.Popen(
            [
                str(Path(PY).with_name("gunicorn")),
                "crm_usage.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--timeout",
                "120",
            ],
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _ = request(self.port, "GET", "/api/v1/schema/", headers={})
                if status in (200, 401, 403):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start (log: {self.log.name})")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def request(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def http_ingest(port: int, key: str, import_csv: Path, events: int, seconds: float, clients: int = 4) -> dict:
    """4 client threads post pre-encoded 1000-event batches until the batches or the time run out."""
    batches: list[bytes] = []
    with open(import_csv, newline="") as f:
        reader = csv.DictReader(f)
        batch: list[dict[str, str]] = []
        for row in reader:
            batch.append({k: v for k, v in row.items() if v})
            if len(batch) == 1000:
                batches.append(json.dumps({"events": batch}).encode())
                batch = []
                if len(batches) * 1000 >= events:
                    break
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    lock = threading.Lock()
    queue = iter(range(len(batches)))
    totals: dict[str, Any] = {"batches": 0, "sent": 0, "accepted": 0, "duplicates": 0, "rejected": 0, "errors": 0}
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < deadline:
            with lock:
                index = next(queue, None)
            if index is None:
                return
            t0 = time.perf_counter()
            status, body = request(port, "POST", "/api/v1/events/batch", batches[index], headers)
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                totals["batches"] += 1
                totals["sent"] += 1000
                if status != 200:
                    totals["errors"] += 1
                    totals.setdefault("error_samples", []).append(f"{status} {body[:200]!r}")  # type: ignore[attr-defined]
                    continue
                answer = json.loads(body)
                totals["accepted"] += answer["accepted"]
                totals["duplicates"] += answer["duplicates"]
                totals["rejected"] += len(answer["rejected"])

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    totals["seconds"] = time.perf_counter() - started
    totals["p95_batch_ms"] = percentile(latencies, 95) * 1000 if latencies else float("nan")
    return totals


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# --- 7. reads ---------------------------------------------------------------------------------------


MID_MONTH = "2025-06-15"
FILTER_SET = {
    "conditions": {
        "activity": [{"metric": "session_minutes", "op": ">", "value": 60}],
        "features": [{"feature": "Leads", "action": "create", "used": True, "min_count": 1}],
        "users": {"status": ["active"]},
    },
    "group_by": "country",
}


def read_endpoints() -> list[tuple[str, str, str, dict | None]]:
    base = f"/api/v1/workspaces/{SLUG}/"
    month = "start=2025-06-01&end=2025-06-30"
    whole = "start=2025-03-03&end=2025-06-30"
    endpoints: list[tuple[str, str, str, dict | None]] = [
        ("home/summary", "GET", f"home/summary?as_of={AS_OF}&days=30", None),
        ("home/weekly-interactions", "GET", f"home/weekly-interactions?as_of={AS_OF}&weeks=5", None),
        ("home/attendance-calendar", "GET", f"home/attendance-calendar?as_of={AS_OF}&weeks=5", None),
        ("home/top-users (interactions)", "GET", f"home/top-users?as_of={AS_OF}&days=30&by=interactions", None),
        ("home/top-users (attendance)", "GET", f"home/top-users?as_of={AS_OF}&days=30&by=attendance", None),
        ("activity/features (60 days)", "GET", f"activity/features?as_of={AS_OF}&days=60", None),
        ("trends Leads, 120 days, day", "GET", f"trends?feature=Leads&{whole}&interval=day", None),
        ("trends Leads, 120 days, week", "GET", f"trends?feature=Leads&{whole}&interval=week", None),
        ("trends Leads, 120 days, month", "GET", f"trends?feature=Leads&{whole}&interval=month", None),
        ("hub/popularity (30 days)", "GET", f"hub/popularity?{month}", None),
        ("hub/frequency Leads (30 days)", "GET", f"hub/frequency?{month}&feature=Leads", None),
        ("users page 1 (30 days)", "GET", f"users?as_of={AS_OF}&days=30&page=1", None),
        ("filter-sets/query page 1 (30 days)", "POST", f"filter-sets/query?as_of={AS_OF}&days=30&page=1", FILTER_SET),
        ("filter-sets/query, every matched user (30 days)", "POST", f"filter-sets/query?as_of={AS_OF}&days=30",
         FILTER_SET),
        # A period ending mid-month cuts two months near their middles: the most daily rows the
        # month-total reads take (periods.month_split).
        ("home/summary (30 days to mid-month)", "GET", f"home/summary?as_of={MID_MONTH}&days=30", None),
        ("home/top-users (interactions, 30 days to mid-month)", "GET",
         f"home/top-users?as_of={MID_MONTH}&days=30&by=interactions", None),
        ("users page 1 (30 days to mid-month)", "GET", f"users?as_of={MID_MONTH}&days=30&page=1", None),
        ("hub/frequency Leads (30 days to mid-month)", "GET",
         "hub/frequency?start=2025-05-17&end=2025-06-15&feature=Leads", None),
        # The Hub's default period (30 days ending today) is not a calendar month: users per feature
        # are counted from the pairs of two months, not read from FeatureMonth.
        ("hub/popularity (30 days to mid-month)", "GET", "hub/popularity?start=2025-05-17&end=2025-06-15", None),
        # The Behaviour tab (issue 18): rollups and bitmaps only, but paths, which walk sessions' events.
        ("behaviour/retention (weekly, 12 cohorts)", "GET",
         "behaviour/retention?start=2025-04-07&end=2025-06-29&interval=week&periods=12", None),
        ("behaviour/lifecycle (weekly, 90 days)", "GET", "behaviour/lifecycle?start=2025-04-02&end=2025-06-30", None),
        ("behaviour/stickiness (30 days)", "GET", f"behaviour/stickiness?{month}", None),
        ("behaviour/heatmap (90 days)", "GET", "behaviour/heatmap?start=2025-04-02&end=2025-06-30", None),
        ("behaviour/failures (30 days)", "GET", f"behaviour/failures?{month}", None),
        ("behaviour/anomalies (30 days, every feature)", "GET", f"behaviour/anomalies?{month}", None),
        ("behaviour/paths (30 days, 5 steps)", "GET", f"behaviour/paths?{month}&steps=5", None),
    ]  # fmt: skip
    return [(name, method, base + path, body) for name, method, path, body in endpoints]


def measure_reads(port: int, token: str, count: int, warmup: int) -> dict[str, dict[str, float]]:
    """p50, p95 and the slowest of ``count`` requests of every read endpoint, after ``warmup``
    requests of it. Sequential requests are spread over gunicorn's workers, and each worker's first
    request of an endpoint is slower (its PostgreSQL connection loads the tables' catalog entries,
    Python its lazy imports): the warm-up gives every worker two of them."""
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    results = {}
    for name, method, path, body in read_endpoints():
        payload = json.dumps(body).encode() if body is not None else None
        times = []
        for i in range(count + warmup):
            t0 = time.perf_counter()
            status, answer = request(port, method, path, payload, headers)
            elapsed = time.perf_counter() - t0
            if status != 200:
                raise RuntimeError(f"{method} {path}: {status} {answer[:300]!r}")
            if i >= warmup:
                times.append(elapsed)
        results[name] = {
            "p50_ms": statistics.median(times) * 1000,
            "p95_ms": percentile(times, 95) * 1000,
            "max_ms": max(times) * 1000,
        }
        log(f"  {name}: p95 {results[name]['p95_ms']:.1f} ms")
    return results


# --- 8. funnel --------------------------------------------------------------------------------------

FUNNEL_START, FUNNEL_END, FUNNEL_WINDOW_DAYS = "2025-06-01", "2025-06-30", 14
FUNNEL_SQL = """
WITH e AS (
  SELECT crm_user_id AS u, occurred_at AS ts, action FROM events_event
  WHERE workspace_id = %(w)s AND feature_id = %(f)s AND action IN ('create', 'view', 'convert')
    AND occurred_at >= %(start)s AND occurred_at < %(end)s + %(window)s::interval),
s1 AS (
  SELECT u, ts, action,
         max(CASE WHEN action = 'create' AND ts < %(end)s THEN ts END) OVER w AS last_create
  FROM e WINDOW w AS (PARTITION BY u ORDER BY ts)),
s2 AS (
  SELECT u, ts, action, last_create,
         max(CASE WHEN action = 'view' AND ts <= last_create + %(window)s::interval THEN last_create END)
           OVER w AS chain_start
  FROM s1 WINDOW w AS (PARTITION BY u ORDER BY ts))
SELECT count(DISTINCT u) FILTER (WHERE action = 'create' AND ts < %(end)s),
       count(DISTINCT u) FILTER (WHERE action = 'view' AND ts <= last_create + %(window)s::interval),
       count(DISTINCT u) FILTER (WHERE action = 'convert' AND ts <= chain_start + %(window)s::interval)
FROM s2"""


def measure_funnel(port: int, token: str, conn: Any, workspace_id: int, count: int, warmup: int) -> dict[str, Any]:
    """funnels/query p95 vs the best-of-N time of one hand-written SQL query with the same semantics:
    an attempt starts at a Leads/create inside the range; view then convert, each at or after the
    previous step, all within 14 days of the create; users per step."""
    body = {
        "steps": [
            {"feature": "Leads", "action": "create"},
            {"feature": "Leads", "action": "view"},
            {"feature": "Leads", "action": "convert"},
        ],
        "unit": "user",
        "window_days": FUNNEL_WINDOW_DAYS,
        "start": FUNNEL_START,
        "end": FUNNEL_END,
    }
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    path = f"/api/v1/workspaces/{SLUG}/funnels/query"
    status, answer = request(port, "POST", path, json.dumps(body).encode(), headers)
    if status != 200:
        return {"measured": False, "why": f"funnels/query answered {status}: {answer[:200]!r}"}
    product_counts = [s.get("count") for s in json.loads(answer).get("steps", [])]
    for _ in range(warmup - 1):  # as the reads: every gunicorn worker's first requests are not timed
        request(port, "POST", path, json.dumps(body).encode(), headers)
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        request(port, "POST", path, json.dumps(body).encode(), headers)
        times.append(time.perf_counter() - t0)
    feature_id = conn.execute(
        "SELECT id FROM events_feature WHERE workspace_id = %s AND key = 'Leads'", [workspace_id]
    ).fetchone()[0]
    params = {
        "w": workspace_id,
        "f": feature_id,
        "start": datetime.fromisoformat(FUNNEL_START).replace(tzinfo=UTC),
        "end": datetime.fromisoformat(FUNNEL_END).replace(tzinfo=UTC) + timedelta(days=1),
        "window": f"{FUNNEL_WINDOW_DAYS} days",
    }
    sql_times = []
    sql_counts = None
    for _ in range(max(3, min(count, 10))):
        t0 = time.perf_counter()
        sql_counts = list(conn.execute(FUNNEL_SQL, params).fetchone())
        sql_times.append(time.perf_counter() - t0)
    return {
        "measured": True,
        "p95_ms": percentile(times, 95) * 1000,
        "sql_best_ms": min(sql_times) * 1000,
        "product_counts": product_counts,
        "sql_counts": sql_counts,
    }


# --- 9. retention -----------------------------------------------------------------------------------


def measure_retention(conn: Any, env: dict[str, str]) -> dict[str, Any]:
    """Both workspaces keep raw events from the second month of the data on. Reference: ``DELETE`` of
    the oldest month's events (what retention did before partitions; rolled back). Then the
    product's retention, which drops that month's partition."""
    (oldest,) = conn.execute("SELECT min(occurred_at) FROM events_event").fetchone()
    month = f"{oldest:%Y-%m}"
    start = f"{month}-01 00:00+00"
    rows = conn.execute(
        "SELECT count(*) FROM events_event WHERE occurred_at >= %s AND occurred_at < %s::timestamptz + interval '1 month'",
        [start, start],
    ).fetchone()[0]
    conn.execute("CHECKPOINT")
    with conn.transaction(force_rollback=True):
        started = time.perf_counter()
        deleted = conn.execute(
            "DELETE FROM events_event WHERE occurred_at >= %s AND occurred_at < %s::timestamptz + interval '1 month'",
            [start, start],
        ).rowcount
        ref_seconds = time.perf_counter() - started
    conn.execute("CHECKPOINT")
    product = step(env, "retention", month, SLUG, HTTP_SLUG)
    return {"month": month, "rows": rows, "ref_deleted": deleted, "ref_seconds": ref_seconds, **product}


# --- the report -------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    mem_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "load_avg_at_start": os.getloadavg()[0],
    }


def fmt(value: float, digits: int = 2) -> str:
    if value != value:  # nan
        return "–"
    return f"{value:,.{digits}f}"


def build_report(r: dict[str, Any], previous_1m: dict[str, Any] | None) -> str:
    n = r["rows"]
    lines = [
        f"# make bench: N = {n:,} events ({r['finished']})",
        "",
        f"Machine: {r['machine']['cores']} cores, {r['machine']['memory_gib']} GiB ({r['machine']['cpu']}), "
        f"PostgreSQL {r['pg_version']}, SQLite {sqlite3.sqlite_version}, Python {r['machine']['python']}; "
        f"load average at start {r['machine']['load_avg_at_start']:.2f} (the machine is shared: absolute "
        "times are noisy, ratios are what counts). One workspace holds all events (time zone UTC).",
        "",
        "| figure | product | reference (same run) | ratio | target | met |",
        "| --- | ---: | ---: | ---: | ---: | :---: |",
    ]

    def row(name: str, product: str, reference: str, ratio: float, target: str, ok: bool | None) -> None:
        mark = "–" if ok is None else ("yes" if ok else "**no**")
        lines.append(f"| {name} | {product} | {reference} | {fmt(ratio)} | {target} | {mark} |")

    pg = r["pg_import"]
    ratio = pg["rows_per_s"] / pg["ref_rows_per_s"]
    row(
        "bulk import, PostgreSQL (`import_events`) vs `COPY` into an identically indexed table",
        f"{pg['rows_per_s']:,.0f} rows/s ({pg['seconds']:.1f} s)",
        f"{pg['ref_rows_per_s']:,.0f} rows/s ({pg['ref_seconds']:.1f} s)",
        ratio,
        "≥ 0.70",
        ratio >= 0.7,
    )
    if "sqlite_import" in r:
        sq = r["sqlite_import"]
        ratio = sq["rows_per_s"] / sq["ref_rows_per_s"]
        row(
            f"SQLite import ({sq['rows']:,} rows) vs `executemany`, one transaction, same indexes",
            f"{sq['rows_per_s']:,.0f} rows/s ({sq['seconds']:.1f} s)",
            f"{sq['ref_rows_per_s']:,.0f} rows/s ({sq['ref_seconds']:.1f} s)",
            ratio,
            "≥ 0.60",
            ratio >= 0.6,
        )
    h = r["http"]
    ratio = h["events_per_s"] / pg["rows_per_s"]
    clean = h["rejected"] == 0 and h["errors"] == 0 and h["lost"] == 0
    row(
        f"HTTP ingestion, 4 clients × 1000-event batches, gunicorn 4 workers ({h['accepted']:,} events; "
        f"rejected {h['rejected']}, errors {h['errors']}, lost {h['lost']}) vs bulk import",
        f"{h['events_per_s']:,.0f} events/s",
        f"{pg['rows_per_s']:,.0f} rows/s",
        ratio,
        "≥ 0.40, none lost",
        ratio >= 0.4 and clean,
    )
    ro = r["rollups"]
    ratio = ro["full_seconds"] / ro["ref_seconds"]
    row(
        "full rollup rebuild (`rollups_rebuild`) vs plain INSERT…SELECT…GROUP BY / window statements "
        f"(rows differing from the reference: {sum(ro['diff'].values())})",
        f"{ro['full_seconds']:.2f} s",
        f"{ro['ref_seconds']:.2f} s",
        ratio,
        "≤ 1.30",
        ratio <= 1.3 and sum(ro["diff"].values()) == 0,
    )
    ratio = ro["incremental_seconds"] / ro["full_seconds"]
    row(
        f"incremental refresh after one more day ({ro['extra_events']:,} events) vs the full rebuild",
        f"{ro['incremental_seconds']:.3f} s",
        f"{ro['full_seconds']:.2f} s",
        ratio,
        "≤ 0.02",
        ratio <= 0.02,
    )
    if "late_day_seconds" in ro:
        ratio = ro["late_day_seconds"] / ro["full_seconds"]
        row(
            f"incremental refresh of a day in the middle of a month ({LATE_DAY}, re-opened as late events "
            "would) vs the full rebuild",
            f"{ro['late_day_seconds']:.3f} s",
            f"{ro['full_seconds']:.2f} s",
            ratio,
            "≤ 0.02",
            ratio <= 0.02,
        )
    for name, figures in r["reads"].items():
        before = (previous_1m or {}).get("reads", {}).get(name) if n != 1_000_000 else None
        vs_1m = figures["p95_ms"] / before["p95_ms"] if before else float("nan")
        ok = figures["p95_ms"] <= 150 and (before is None or vs_1m <= 1.5)
        row(
            f"p95 of {r['read_count']} × {name} (p50 {figures['p50_ms']:.1f} ms)",
            f"{figures['p95_ms']:.1f} ms",
            f"{before['p95_ms']:.1f} ms at 1M" if before else "150 ms (absolute)",
            vs_1m if before else figures["p95_ms"] / 150,
            "≤ 150 ms; ≤ 1.5× its 1M p95",
            ok,
        )
    f = r["funnel"]
    if f.get("measured"):
        ratio = f["p95_ms"] / f["sql_best_ms"]
        same = f["product_counts"] == f["sql_counts"]
        row(
            f"ad-hoc funnel (3 steps, 14-day window, 30 days) p95 vs one hand-written SQL query "
            f"(users per step: product {f['product_counts']}, SQL {f['sql_counts']})",
            f"{f['p95_ms']:.0f} ms",
            f"{f['sql_best_ms']:.0f} ms",
            ratio,
            "≤ 1.50, same counts",
            ratio <= 1.5 and same,
        )
    else:
        lines.append(f"| ad-hoc funnel vs hand-written SQL | not measured yet: {f['why']} | | | ≤ 1.50 | – |")
    if "columnar" in r:
        columnar.report_rows(r["columnar"], row, lines)
    if "retention" in r:
        t = r["retention"]
        row(
            f"retention of the oldest month ({t['month']}, {t['rows']:,} events): partition dropped "
            f"({', '.join(t['dropped_partitions']) or 'none'}; then {t['deleted_after']:,} rows left to delete "
            f"and the keys pruned in {t['rest_seconds']:.2f} s) vs `DELETE` of the same rows",
            f"{t['drop_seconds'] * 1000:.0f} ms ({t['dropped_events']:,} events)",
            f"{t['ref_seconds'] * 1000:.0f} ms ({t['ref_deleted']:,} rows)",
            t["drop_seconds"] / t["ref_seconds"],
            "partition-wise retention",
            None,
        )
    limit = 1024
    row(
        "peak RSS of `import_events` (PostgreSQL / SQLite)",
        f"{pg['peak_rss_mib']:.0f} / {r.get('sqlite_import', {}).get('peak_rss_mib', float('nan')):.0f} MiB",
        "1024 MiB",
        max(pg["peak_rss_mib"], r.get("sqlite_import", {}).get("peak_rss_mib", 0)) / limit,
        "≤ 1 GiB",
        max(pg["peak_rss_mib"], r.get("sqlite_import", {}).get("peak_rss_mib", 0)) <= limit,
    )
    row(
        "peak RSS of the full rollup rebuild",
        f"{ro['full_peak_rss_mib']:.0f} MiB",
        "1024 MiB",
        ro["full_peak_rss_mib"] / limit,
        "≤ 1 GiB",
        ro["full_peak_rss_mib"] <= limit,
    )
    if "celery_rebuild" in r:
        c = r["celery_rebuild"]
        speedup = c["one_worker_seconds"] / c["two_workers_seconds"]
        per_worker = c["chunks_per_worker"].get(2) or c["chunks_per_worker"].get("2")
        row(
            f"rollup rebuild with 2 Celery workers vs 1: speed-up (`rebuild_rollups_task`, a chord of "
            f"{c['chunks']} chunk tasks of 7 days; one solo-pool process per worker; chunks run per worker "
            f"{per_worker}; serial in-process {c['serial_seconds']:.2f} s; best of {c['rounds']}; rows "
            f"differing from the serial rebuild: {c['differing_rows']})",
            f"{c['two_workers_seconds']:.2f} s",
            f"{c['one_worker_seconds']:.2f} s",
            speedup,
            "> 1 (≤ 2 on 2 cores)",
            speedup > 1 and c["differing_rows"] == 0,
        )
    lines += [
        "",
        f"Rollup rows: {ro['counts']['user_feature_days']:,} user·feature·action·detail·day, "
        f"{ro['counts'].get('user_feature_day_totals', 0):,} user·feature·day, "
        f"{ro['counts'].get('feature_days', 0):,} feature·day, {ro['counts'].get('user_feature_months', 0):,} "
        f"user·feature·month, {ro['counts']['user_days']:,} user·day, {ro['counts']['sessions']:,} sessions. HTTP: {h['batches']} batches in {h['seconds']:.1f} s, "
        f"p95 batch latency {h['p95_batch_ms']:.0f} ms. Whole run: {r['total_seconds'] / 60:.1f} min.",
        "",
    ]
    return "\n".join(lines)


# --- main -------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=int(os.environ.get("N", 10_000_000)))
    parser.add_argument("--http-events", type=int, default=200_000, help="at most this many events over HTTP")
    parser.add_argument("--http-seconds", type=float, default=90, help="and for at most this long")
    parser.add_argument("--reads", type=int, default=50, help="requests per read endpoint")
    parser.add_argument(
        "--sqlite-rows", type=int, default=-1, help="SQLite import of the first N rows (default: all up to 1M)"
    )
    parser.add_argument("--rounds", type=int, default=0, help="rollup rounds, best of (default: 2 up to 2M, else 1)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-celery", action="store_true", help="skip the 1-vs-2 Celery worker rebuild")
    parser.add_argument(
        "--columnar",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="paths and the funnel views vs the same queries in DuckDB (bench/columnar.py; default on)",
    )
    parser.add_argument(
        "--columnar-threads", type=int, default=1, help="DuckDB's threads (default 1: one core per query, as a backend)"
    )
    parser.add_argument("--keep", action="store_true", help="leave the servers running (prints where)")
    parser.add_argument(
        "--records", action="store_true",
        help="also the CRM records benchmark (bench/records_bench.py) on the same servers, after the reads",
    )  # fmt: skip
    parser.add_argument(
        "--records-only", action="store_true", help="only the CRM records benchmark, on servers of its own"
    )
    parser.add_argument(
        "--records-scale", type=float, default=1.0,
        help="records at this scale (1.0: 100k accounts, 1M deals, 5M activities; 0.01 for a quick run)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.records_only:
        import records_bench  # bench/records_bench.py

        return records_bench.standalone(args.records_scale, args.reads, args.keep)
    n = args.rows
    started = time.perf_counter()
    r: dict[str, Any] = {"rows": n, "machine": machine(), "read_count": args.reads}
    files = prepare_data(n)
    extra_rows = csv_rows(files["extra"])

    services = Services()
    gunicorn: Gunicorn | None = None
    try:
        services.start()
        import psycopg

        url, broker = services.env["DATABASE_URL"], services.env["CELERY_BROKER_URL"]
        env = django_env(url, broker)
        conn = psycopg.connect(url, autocommit=True)
        r["pg_version"] = conn.execute("SHOW server_version").fetchone()[0]
        manage(env, "migrate", "--noinput")
        setup = step(env, "setup", SLUG, TZ, str(files["users"]))
        http_setup = step(env, "setup", HTTP_SLUG, TZ, str(files["users"]))
        workspace_id = setup["workspace_id"]

        # 3. PostgreSQL: reference COPY, then the product's import (both into empty tables).
        log(f"PostgreSQL: COPY reference of {n:,} rows")
        ref_seconds = pg_reference_copy(conn, files["ref"])
        log(f"  {n / ref_seconds:,.0f} rows/s; now import_events")
        out, wall, rss = manage(env, "import_events", str(files["import"]), "--workspace", SLUG, "--no-refresh")
        seconds = stored_seconds(out)
        r["pg_import"] = {
            "seconds": seconds,
            "wall_seconds": wall,
            "rows_per_s": n / seconds,
            "ref_seconds": ref_seconds,
            "ref_rows_per_s": n / ref_seconds,
            "peak_rss_mib": rss,
            "output": out.strip().splitlines()[-1],
        }
        log(f"  {n / seconds:,.0f} rows/s, peak RSS {rss:.0f} MiB ({out.strip().splitlines()[-1]})")
        conn.execute("VACUUM ANALYZE events_event")

        # 5. rollups: the plain-SQL reference, then the product's full rebuild; then one more day.
        log("rollups: plain-SQL reference")
        lows = step(env, "lows")["lows"]
        ref_times = [pg_reference_rollups(conn, workspace_id, TZ, lows)]
        log(f"  {ref_times[-1]:.2f} s; now rollups_rebuild")
        full = step(env, "rebuild", SLUG)
        diff = compare_rollups(conn, workspace_id)
        log(f"  {full['seconds']:.2f} s, peak RSS {full['process_peak_rss_mib']:.0f} MiB, differences {diff}")
        # More rounds of both, best of: the machine is shared. (The product's later rounds replace
        # existing rows; the reference always builds empty tables.)
        rebuilds = [full]
        for _ in range(1, args.rounds or (2 if n <= 2_000_000 else 1)):
            ref_times.append(pg_reference_rollups(conn, workspace_id, TZ, lows))
            rebuilds.append(step(env, "rebuild", SLUG))
            log(f"  another round: reference {ref_times[-1]:.2f} s, rebuild {rebuilds[-1]['seconds']:.2f} s")
        counts = step(env, "count", SLUG)
        out, _, _ = manage(env, "import_events", str(files["extra"]), "--workspace", SLUG, "--no-refresh")
        incremental = step(env, "refresh", SLUG)
        log(f"  one more day ({extra_rows:,} events): refresh {incremental['seconds']:.3f} s {incremental['days']}")
        late = step(env, "refresh_day", SLUG, LATE_DAY)
        log(f"  a mid-month day re-opened ({LATE_DAY}): refresh {late['seconds']:.3f} s {late['days']}")
        for name in COMPARE:
            conn.execute(f"DROP TABLE IF EXISTS bench_ref_{name}")
        r["rollups"] = {
            "ref_seconds": min(ref_times),
            "full_seconds": min(b["seconds"] for b in rebuilds),
            "full_peak_rss_mib": max(b["process_peak_rss_mib"] for b in rebuilds),
            "diff": diff,
            "counts": counts,
            "extra_events": extra_rows,
            "incremental_seconds": incremental["seconds"],
            "incremental_days": incremental["days"],
            "late_day_seconds": late["seconds"],
        }

        # 5b. scale-out: the same full rebuild through Celery, 1 worker process vs 2.
        if not args.skip_celery:
            log("rollups through Celery: 1 worker process vs 2")
            r["celery_rebuild"] = measure_celery_rebuild(conn, env, workspace_id, 2 if n <= 2_000_000 else 1)

        # 6 + 7 + 8: through gunicorn.
        gunicorn = Gunicorn(env)
        log(f"HTTP ingestion: gunicorn on 127.0.0.1:{gunicorn.port}")
        h = http_ingest(gunicorn.port, http_setup["ingest_key"], files["import"], args.http_events, args.http_seconds)
        stored = conn.execute(
            "SELECT count(*) FROM events_event WHERE workspace_id = %s", [http_setup["workspace_id"]]
        ).fetchone()[0]
        h["stored"] = stored
        h["lost"] = h["accepted"] - stored
        h["events_per_s"] = h["accepted"] / h["seconds"]
        r["http"] = h
        log(f"  {h['events_per_s']:,.0f} events/s, {h}")
        conn.execute("ANALYZE")
        log(f"reads: {args.reads} requests per endpoint")
        r["reads"] = measure_reads(gunicorn.port, setup["token"], args.reads, warmup=2 * gunicorn.workers)
        log("funnel")
        r["funnel"] = measure_funnel(
            gunicorn.port, setup["token"], conn, workspace_id, args.reads, 2 * gunicorn.workers
        )
        log(f"  {r['funnel']}")
        if args.columnar:
            log("paths and funnel views vs the same queries in DuckDB")
            r["columnar"] = columnar.measure(
                gunicorn.port,
                setup["token"],
                conn,
                workspace_id,
                args.reads,
                2 * gunicorn.workers,
                args.columnar_threads,
            )
        gunicorn.stop()
        gunicorn = None

        # The CRM records (opt-in): imports vs COPY, the aggregates' rebuild, the Accounts and Sales reads.
        if args.records:
            import records_bench  # bench/records_bench.py

            r["records"] = records_bench.measure(conn, env, args.records_scale, args.reads, setup["token"])

        # 9. retention: the oldest month dropped as a partition vs a DELETE of the same rows.
        log("retention: the oldest month")
        r["retention"] = measure_retention(conn, env)
        log(f"  {r['retention']}")
        conn.close()

        # 4. SQLite (last: it needs neither server).
        if not args.skip_sqlite:
            sqlite_rows = min(n, 1_000_000) if args.sqlite_rows < 0 else (args.sqlite_rows or n)
            sqlite_import, sqlite_ref = files["import"], files["ref"]
            if sqlite_rows < n:
                sqlite_import, sqlite_ref = head(files["import"], sqlite_rows), head(files["ref"], sqlite_rows)
            db_path = DATA / f"bench_{n}.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                Path(str(db_path) + suffix).unlink(missing_ok=True)
            sqlite_env = django_env(f"sqlite:///{db_path}")
            manage(sqlite_env, "migrate", "--noinput")
            step(sqlite_env, "setup", SLUG, TZ, str(files["users"]))
            log(f"SQLite: executemany reference of {sqlite_rows:,} rows")
            ref_seconds = sqlite_reference(db_path, sqlite_ref)
            log(f"  {sqlite_rows / ref_seconds:,.0f} rows/s; now import_events")
            out, wall, rss = manage(
                sqlite_env, "import_events", str(sqlite_import), "--workspace", SLUG, "--no-refresh"
            )
            seconds = stored_seconds(out)
            r["sqlite_import"] = {
                "rows": sqlite_rows,
                "seconds": seconds,
                "rows_per_s": sqlite_rows / seconds,
                "ref_seconds": ref_seconds,
                "ref_rows_per_s": sqlite_rows / ref_seconds,
                "peak_rss_mib": rss,
            }
            log(f"  {sqlite_rows / seconds:,.0f} rows/s, peak RSS {rss:.0f} MiB")
            for suffix in ("", "-wal", "-shm"):
                Path(str(db_path) + suffix).unlink(missing_ok=True)
    finally:
        if gunicorn is not None:
            gunicorn.stop()
        if args.keep:
            log(f"servers left running: {services.env} (stop: bash tests/services.sh stop {services.dir})")
        else:
            services.stop()

    r["total_seconds"] = time.perf_counter() - started
    r["finished"] = time.strftime("%Y-%m-%d %H:%M")
    RESULTS.mkdir(parents=True, exist_ok=True)
    previous_path = RESULTS / "run_1000000.json"
    previous = json.loads(previous_path.read_text()) if previous_path.exists() and n != 1_000_000 else None
    (RESULTS / f"run_{n}.json").write_text(json.dumps(r, indent=1, default=str) + "\n")
    report = build_report(r, previous)
    if "records" in r:
        import records_bench

        r["records"]["finished"] = r["finished"]
        report += "\n" + records_bench.save(r["records"])
    (RESULTS / "latest.md").write_text(report)
    (RESULTS / f"run_{n}.md").write_text(report)
    print(report)
    return 0


def head(path: Path, rows: int) -> Path:
    target = path.with_name(f"{path.stem}_head{rows}.csv")
    if not target.exists():
        with open(path) as src, open(target, "w") as dst:
            for i, line in enumerate(src):
                if i > rows:
                    break
                dst.write(line)
    return target


if __name__ == "__main__":
    sys.exit(main())
