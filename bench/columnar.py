"""Step 8b of ``make bench``: paths and every funnel view against the same query in an embedded
columnar engine (DuckDB), on the same events, in the same run (``--no-columnar`` leaves it out).

The workspace's events are exported from the run's PostgreSQL (ids, users, feature keys, actions and
times as epoch microseconds: exactly the rows the endpoints read, the extra day included) and loaded
into an in-process DuckDB table sorted by time. Each case is then asked of the product through
gunicorn (as the other reads: a personal token, 2 warm-up requests per worker, p95 of ``--reads``
requests) and of DuckDB as one SQL statement (the same number of repetitions after 2 warm-up runs).
The figures of the two answers must be equal (counts per step, the time-to-convert histogram and
median, the trend buckets, the people's count and first page, the paths' nodes and top edges); any
difference is printed loudly and written into the results.

The SQL follows docs/metrics.md (#funnels, #paths), with ClickHouse ``windowFunnel`` semantics:
an attempt starts at each step-1 event in the range; step k is the first step-k event at or after
step k−1's time (ASOF join), within the window; an attempt an exclusion step voids is dropped; a
unit's level is the maximum over its attempts, count(k) = units with level ≥ k. Any order: an
attempt starts at each event of any step in the range, its level is the number of steps with an
event in [start, start + window] (the steps benched match disjoint events). Paths: sessions cut by
the session rule (gap > timeout, or after a logout; ties by id) with ``LAG`` and a running ``SUM``.

Stand-alone, on a database kept by ``bench/run.py --keep`` (starts its own gunicorn)::

    python bench/columnar.py --database-url postgres://postgres@127.0.0.1:PORT/crm_usage [--reads 20]
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
DATA = BENCH / "data"
SLUG = "bench"
START, END = "2025-06-01", "2025-06-30"  # June, the data's last whole month (UTC workspace)
WINDOW_DAYS = 14
STEPS = [("Leads", "create"), ("Leads", "view"), ("Leads", "convert")]
EXCLUSION = {"feature": "Leads", "action": "delete", "between": [1, 3]}  # a lead deleted before converting
PATH_STEPS = 5
TARGET = 3.0  # ours / DuckDB, p95


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def request(port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --- the data ----------------------------------------------------------------------------------------

EXPORT_SQL = """
COPY (SELECT e.id, e.crm_user_id, f.key, e.action,
             CAST(ROUND(EXTRACT(EPOCH FROM e.occurred_at) * 1000000) AS BIGINT)
      FROM events_event e JOIN events_feature f ON f.id = e.feature_id
      WHERE e.workspace_id = %s) TO STDOUT (FORMAT csv)"""


def load(conn: Any, workspace_id: int, threads: int) -> tuple[Any, dict[str, Any]]:
    """A DuckDB connection holding ``ev(id, u, feature, action, t)`` (t: epoch µs; sorted by t, id)
    and ``users(id, external_id)``: the workspace's events and users as PostgreSQL has them.

    Feature keys and actions are ENUMs (a columnar engine's dictionary encoding, ClickHouse's
    ``LowCardinality``; 10× faster to filter than VARCHAR here), their values in string order, so
    that ``ORDER BY`` sorts them as Python sorts the strings."""
    import duckdb

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"columnar_export_{os.getpid()}.csv"
    started = time.perf_counter()
    try:
        with open(path, "wb") as out, conn.cursor() as cur, cur.copy(EXPORT_SQL, [workspace_id]) as copy:
            for chunk in copy:
                out.write(chunk)
        exported = time.perf_counter() - started
        db = duckdb.connect()
        db.execute(f"SET threads = {threads}")
        started = time.perf_counter()
        db.execute(
            f"""CREATE TEMP TABLE raw AS SELECT * FROM read_csv('{path}', header = false,
                columns = {{'id': 'BIGINT', 'u': 'BIGINT', 'feature': 'VARCHAR', 'action': 'VARCHAR', 't': 'BIGINT'}})"""
        )
    finally:
        path.unlink(missing_ok=True)
    db.execute("CREATE TYPE feature_key AS ENUM (SELECT DISTINCT feature FROM raw ORDER BY feature)")
    db.execute("CREATE TYPE action_name AS ENUM (SELECT DISTINCT action FROM raw ORDER BY action)")
    db.execute(
        "CREATE TABLE ev AS SELECT id, u, feature::feature_key AS feature, action::action_name AS action, t "
        "FROM raw ORDER BY t, id"
    )
    db.execute("DROP TABLE raw")
    loaded = time.perf_counter() - started
    users = conn.execute(
        "SELECT id, external_id FROM events_crmuser WHERE workspace_id = %s", [workspace_id]
    ).fetchall()
    db.execute("CREATE TABLE users (id BIGINT, external_id VARCHAR)")
    db.executemany("INSERT INTO users VALUES (?, ?)", users)
    rows = db.execute("SELECT count(*) FROM ev").fetchall()[0][0]
    return db, {
        "duckdb_version": duckdb.__version__,
        "threads": threads,
        "rows": rows,
        "export_seconds": exported,
        "load_seconds": loaded,
    }


# --- the SQL -----------------------------------------------------------------------------------------

DAY_US = 86_400_000_000


def us(day: str) -> int:
    """00:00 UTC of ``day`` in epoch microseconds (the bench's workspace is in UTC)."""
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()) * 1_000_000


START_US, END_US, WINDOW_US = us(START), us(END) + DAY_US, WINDOW_DAYS * DAY_US


def step_sql(feature: str, action: str) -> str:
    return f"feature = '{feature}' AND action = '{action}'"


def ordered_attempts(steps: list[tuple[str, str]], exclusions: tuple[dict[str, Any], ...] = ()) -> str:
    """CTEs ending in ``att(u, t1, …, tn, level)``: every attempt (a step-1 event in the range), its
    greedy step times by ASOF joins (step k: the first step-k event at or after step k−1's), its
    level; attempts an exclusion voids left out."""
    n = len(steps)
    ctes = [f"s1 AS (SELECT u, t AS t1 FROM ev WHERE {step_sql(*steps[0])} AND t >= {START_US} AND t < {END_US})"]
    for k in range(2, n + 1):
        ctes.append(
            f"s{k} AS (SELECT u, t FROM ev WHERE {step_sql(*steps[k - 1])} "
            f"AND t >= {START_US} AND t < {END_US + WINDOW_US})"
        )
    previous = "s1"
    for k in range(2, n + 1):
        ctes.append(
            f"a{k} AS (SELECT {previous}.*, s{k}.t AS t{k} FROM {previous} "
            f"ASOF LEFT JOIN s{k} ON {previous}.u = s{k}.u AND {previous}.t{k - 1} <= s{k}.t)"
        )
        previous = f"a{k}"
    level = " ".join(f"WHEN t{k} <= t1 + {WINDOW_US} THEN {k}" for k in range(n, 1, -1))
    ctes.append(f"lv AS (SELECT *, CASE {level} ELSE 1 END AS level FROM {previous})")
    previous = "lv"
    for j, x in enumerate(exclusions):
        a, b = x["between"]
        ctes.append(
            f"x{j} AS (SELECT u, t FROM ev WHERE {step_sql(x['feature'], x['action'])} "
            f"AND t >= {START_US} AND t < {END_US + WINDOW_US})"
        )
        ctes.append(
            f"v{j} AS (SELECT {previous}.* FROM {previous} ASOF LEFT JOIN x{j} "
            f"ON {previous}.u = x{j}.u AND {previous}.t{a} <= x{j}.t "
            f"WHERE NOT coalesce(level >= {a} AND x{j}.t <= CASE WHEN level >= {b} THEN t{b} "
            f"ELSE t1 + {WINDOW_US} END, false))"
        )
        previous = f"v{j}"
    ctes.append(f"att AS (SELECT * FROM {previous})")
    return "WITH " + ",\n".join(ctes)


def counts_sql(attempts: str, n: int) -> str:
    per_step = ", ".join(f"count(*) FILTER (WHERE level >= {k})" for k in range(1, n + 1))
    return f"{attempts},\nunits AS (SELECT u, max(level) AS level FROM att GROUP BY u)\nSELECT {per_step} FROM units"


def any_order_sql(steps: list[tuple[str, str]]) -> str:
    """Any order, steps matching disjoint events: an attempt starts at each step event in the range;
    its level is the number of steps with an event in [start, start + window] (the next event of
    each step at or after the start, ties included, by one window pass)."""
    n = len(steps)
    which = " ".join(f"WHEN {step_sql(*s)} THEN {k}" for k, s in enumerate(steps, start=1))
    nexts = ", ".join(f"min(t) FILTER (WHERE k = {k}) OVER w AS n{k}" for k in range(1, n + 1))
    level = " + ".join(f"coalesce(n{k} <= t + {WINDOW_US}, false)::INT" for k in range(1, n + 1))
    per_step = ", ".join(f"count(*) FILTER (WHERE level >= {k})" for k in range(1, n + 1))
    anyof = " OR ".join(f"({step_sql(*s)})" for s in steps)
    return f"""WITH e AS (SELECT u, t, CASE {which} END AS k FROM ev
  WHERE ({anyof}) AND t >= {START_US} AND t < {END_US + WINDOW_US}),
nx AS (SELECT u, t, {nexts} FROM e
  WINDOW w AS (PARTITION BY u ORDER BY t RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)),
att AS (SELECT u, {level} AS level FROM nx WHERE t < {END_US}),
units AS (SELECT u, max(level) AS level FROM att GROUP BY u)
SELECT {per_step} FROM units"""


def time_to_convert_sql(attempts: str, a: int, b: int, bins: list[tuple[int, int]]) -> str:
    """Per unit that reached step b, t(b) − t(a) of its earliest attempt reaching its level (b = n:
    the earliest complete attempt; attempts starting at one instant have the same step times)."""
    lows = ", ".join(str(low) for low, _high in bins)
    return f"""{attempts},
units AS (SELECT u, max(level) AS level FROM att GROUP BY u),
best AS (SELECT att.u, arg_min((t{b} - t{a}) / 1000000.0, t1) AS seconds FROM att JOIN units USING (u)
  WHERE att.level = units.level AND units.level >= {b} GROUP BY att.u),
edges AS (SELECT i, low, lead(low) OVER (ORDER BY i) AS high
  FROM (SELECT unnest([{lows}]) AS low, generate_subscripts([{lows}], 1) AS i)),
binned AS (SELECT i, count(seconds) AS units FROM edges LEFT JOIN best
  ON seconds >= low AND (high IS NULL OR seconds < high) GROUP BY i)
SELECT (SELECT count(*) FROM best), (SELECT median(seconds) FROM best), (SELECT list(units ORDER BY i) FROM binned)"""


def trends_sql(attempts: str, n: int, interval: str) -> str:
    return f"""{attempts},
b AS (SELECT date_trunc('{interval}', make_timestamp(t1))::DATE AS bucket, u, max(level) AS level FROM att GROUP BY ALL)
SELECT bucket, count(*), count(*) FILTER (WHERE level = {n}) FROM b GROUP BY bucket ORDER BY bucket"""


def people_sql(attempts: str, step: int, status: str, page_size: int) -> str:
    condition = f"level = {step - 1}" if status == "dropped" else f"level >= {step}"
    return f"""{attempts},
units AS (SELECT u, max(level) AS level FROM att GROUP BY u),
p AS (SELECT users.external_id AS unit FROM units JOIN users ON users.id = units.u WHERE {condition})
SELECT (SELECT count(*) FROM p), (SELECT list(unit ORDER BY unit) FROM (SELECT unit FROM p ORDER BY unit LIMIT {page_size}))"""


def paths_sql(timeout_us: int, steps: int, limit: int) -> str:
    """Sessions (the session rule, over the events from one timeout before the period on) that
    start in the period; each one's features in (time, id) order, consecutive repeats collapsed,
    cut to ``steps``; nodes (step, node, sessions, dropoff) and the ``limit`` largest edges.
    Three window passes: the gaps, then the running session number and start, then the steps."""
    return f"""WITH e AS (SELECT u, t, id, feature, action FROM ev WHERE t >= {START_US - timeout_us}),
g AS (SELECT u, t, id, feature,
        CASE WHEN lag(t) OVER w IS NULL OR t - lag(t) OVER w > {timeout_us} OR lag(action) OVER w = 'logout'
             THEN 1 ELSE 0 END AS new,
        lag(feature) OVER w AS before
      FROM e WINDOW w AS (PARTITION BY u ORDER BY t, id)),
s AS (SELECT u, t, id, feature, new, before,
        sum(new) OVER w AS session, max(CASE WHEN new = 1 THEN t END) OVER w AS began
      FROM g WINDOW w AS (PARTITION BY u ORDER BY t, id ROWS UNBOUNDED PRECEDING)),
k AS (SELECT feature AS node, row_number() OVER w AS step, lead(feature) OVER w AS target
      FROM s WHERE began >= {START_US} AND began < {END_US} AND (new = 1 OR before <> feature)
      WINDOW w AS (PARTITION BY u, session ORDER BY t, id)),
tally AS (SELECT step, node, CASE WHEN step < {steps} THEN target END AS target, count(*) AS n
          FROM k WHERE step <= {steps} GROUP BY ALL)
SELECT 'node', step, node::VARCHAR, NULL, sum(n)::BIGINT, (sum(n) FILTER (WHERE target IS NULL))::BIGINT
FROM tally GROUP BY step, node
UNION ALL
(SELECT 'edge', step, node::VARCHAR, target::VARCHAR, n, NULL FROM tally WHERE target IS NOT NULL
 ORDER BY n DESC, step, node, target LIMIT {limit})"""


# --- the cases ---------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    method: str
    path: str  # under /api/v1/workspaces/<slug>/
    body: dict[str, Any] | None
    sql: Callable[[dict[str, Any]], str]  # from the product's answer: only the time-to-convert bins
    ours: Callable[[dict[str, Any]], Any]  # the figures compared, from the product's answer
    theirs: Callable[[list[tuple[Any, ...]]], Any]  # the same, from DuckDB's rows


def funnel_body(**extra: Any) -> dict[str, Any]:
    return {
        "steps": [{"feature": f, "action": a} for f, a in STEPS],
        "start": START,
        "end": END,
        "window_days": WINDOW_DAYS,
        **extra,
    }


def step_counts(answer: dict[str, Any]) -> list[int]:
    return [s["count"] for s in answer["steps"]]


def paths_ours(answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "sessions": answer["sessions"],
        "nodes": sorted((n["step"], n["node"], n["sessions"], n["dropoff"]) for n in answer["nodes"]),
        "edges": [(e["step"], e["source"], e["target"], e["sessions"]) for e in answer["edges"]],
    }


def paths_theirs(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    nodes = sorted((step, node, n, dropoff or 0) for kind, step, node, _t, n, dropoff in rows if kind == "node")
    return {
        "sessions": sum(n for step, _node, n, _d in nodes if step == 1),
        "nodes": nodes,
        "edges": [(step, node, target, n) for kind, step, node, target, n, _d in rows if kind == "edge"],
    }


def ttc_ours(answer: dict[str, Any]) -> tuple[Any, ...]:
    return answer["units"], answer["median_seconds"], [b["units"] for b in answer["bins"]]


def ttc_theirs(rows: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    units, median, bins = rows[0]
    return units, None if median is None else round(median, 1), list(bins)


def trends_ours(answer: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {b["bucket"]: (b["entered"], b["completed"]) for b in answer["buckets"] if b["entered"]}


def trends_theirs(rows: list[tuple[Any, ...]]) -> dict[str, tuple[int, int]]:
    return {bucket.isoformat(): (entered, completed) for bucket, entered, completed in rows}


def cases(timeout_us: int) -> list[Case]:
    n = len(STEPS)
    ordered = ordered_attempts(STEPS)
    excluded = ordered_attempts(STEPS, (EXCLUSION,))
    label = " → ".join(a for _f, a in STEPS)
    return [
        Case(
            f"behaviour/paths (30 days, {PATH_STEPS} steps)",
            "GET",
            f"behaviour/paths?start={START}&end={END}&steps={PATH_STEPS}",
            None,
            lambda answer: paths_sql(timeout_us, PATH_STEPS, 50),
            paths_ours,
            paths_theirs,
        ),
        Case(
            f"funnel steps, ordered (Leads {label}, {WINDOW_DAYS} days, 30 days)",
            "POST",
            "funnels/query",
            funnel_body(order="ordered", view="steps"),
            lambda answer: counts_sql(ordered, n),
            step_counts,
            lambda rows: list(rows[0]),
        ),
        Case(
            "funnel steps, ordered, excluding Leads delete between steps 1 and 3",
            "POST",
            "funnels/query",
            funnel_body(order="ordered", view="steps", exclusions=[EXCLUSION]),
            lambda answer: counts_sql(excluded, n),
            step_counts,
            lambda rows: list(rows[0]),
        ),
        Case(
            "funnel steps, any order",
            "POST",
            "funnels/query",
            funnel_body(order="any", view="steps"),
            lambda answer: any_order_sql(STEPS),
            step_counts,
            lambda rows: list(rows[0]),
        ),
        Case(
            "funnel time to convert, steps 1 → 3",
            "POST",
            "funnels/query",
            funnel_body(view="time_to_convert", from_step=1, to_step=3),
            lambda answer: time_to_convert_sql(
                ordered, 1, 3, [(b["from_seconds"], b["to_seconds"]) for b in answer["bins"]]
            ),
            ttc_ours,
            ttc_theirs,
        ),
        Case(
            "funnel trends by week of attempt start",
            "POST",
            "funnels/query",
            funnel_body(view="trends", interval="week"),
            lambda answer: trends_sql(ordered, n, "week"),
            trends_ours,
            trends_theirs,
        ),
        Case(
            "funnel people dropped at step 2 (page 1 of 50)",
            "POST",
            "funnels/query?page_size=50",
            funnel_body(people={"step": 2, "status": "dropped"}),
            lambda answer: people_sql(ordered, 2, "dropped", 50),
            lambda answer: (answer["count"], [p["unit"] for p in answer["results"]]),
            lambda rows: (rows[0][0], list(rows[0][1] or [])),
        ),
    ]


# --- measuring ---------------------------------------------------------------------------------------


def measure_case(case: Case, port: int, headers: dict[str, str], db: Any, count: int, warmup: int) -> dict[str, Any]:
    """One case: the product's answer and p95 through HTTP, then DuckDB's rows and p95; their figures."""
    path = f"/api/v1/workspaces/{SLUG}/{case.path}"
    payload = json.dumps(case.body).encode() if case.body is not None else None
    status, raw = request(port, case.method, path, payload, headers)
    if status != 200:
        return {"measured": False, "why": f"{case.method} {case.path} answered {status}: {raw[:300]!r}"}
    answer = json.loads(raw)
    for _ in range(warmup - 1):  # as the reads: every gunicorn worker's first requests are not timed
        request(port, case.method, path, payload, headers)
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        status, raw = request(port, case.method, path, payload, headers)
        times.append(time.perf_counter() - t0)
        if status != 200:
            return {"measured": False, "why": f"{case.method} {case.path} answered {status}: {raw[:300]!r}"}
    sql = case.sql(answer)
    rows = db.execute(sql).fetchall()
    db.execute(sql).fetchall()  # warm-up: 2 runs
    sql_times = []
    for _ in range(count):
        t0 = time.perf_counter()
        db.execute(sql).fetchall()
        sql_times.append(time.perf_counter() - t0)
    ours, theirs = case.ours(answer), case.theirs(rows)
    return {
        "measured": True,
        "p50_ms": statistics.median(times) * 1000,
        "p95_ms": percentile(times, 95) * 1000,
        "duckdb_p50_ms": statistics.median(sql_times) * 1000,
        "duckdb_p95_ms": percentile(sql_times, 95) * 1000,
        "same": ours == theirs,
        "ours": ours if len(repr(ours)) < 2000 else repr(ours)[:2000],
        "duckdb": theirs if len(repr(theirs)) < 2000 else repr(theirs)[:2000],
    }


def measure(
    port: int, token: str, conn: Any, workspace_id: int, count: int, warmup: int, threads: int
) -> dict[str, Any]:
    """Every case: the product's p95 through HTTP, DuckDB's p95 of the same query, both answers'
    figures (``mismatches``: how many cases differ). A case that fails is recorded as not measured."""
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return {"measured": False, "why": "duckdb is not installed (pip install -r bench/requirements.txt)"}
    timeout_minutes = conn.execute(
        "SELECT session_timeout_minutes FROM events_workspace WHERE id = %s", [workspace_id]
    ).fetchall()[0][0]
    try:
        db, about = load(conn, workspace_id, threads)
    except Exception as exc:  # the rest of the bench goes on
        log(f"  DuckDB: loading the events failed: {exc}")
        return {"measured": False, "why": f"loading the events into DuckDB failed: {type(exc).__name__}: {exc}"}
    log(
        f"  DuckDB {about['duckdb_version']} ({threads} thread{'' if threads == 1 else 's'}): {about['rows']:,} events exported in "
        f"{about['export_seconds']:.1f} s, loaded in {about['load_seconds']:.1f} s"
    )
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    results: dict[str, Any] = {}
    mismatches = 0
    for case in cases(timeout_minutes * 60_000_000):
        try:
            results[case.name] = measure_case(case, port, headers, db, count, warmup)
        except Exception as exc:  # one case failing (an answer's shape, an SQL error) leaves the others
            results[case.name] = {"measured": False, "why": f"{type(exc).__name__}: {str(exc)[:300]}"}
        r = results[case.name]
        if not r["measured"]:
            log(f"  {case.name}: NOT MEASURED, {r['why']}")
            continue
        log(
            f"  {case.name}: p95 {r['p95_ms']:.1f} ms, DuckDB {r['duckdb_p95_ms']:.1f} ms "
            f"({r['p95_ms'] / r['duckdb_p95_ms']:.2f}×); {'same figures' if r['same'] else 'FIGURES DIFFER'}"
        )
        if not r["same"]:
            mismatches += 1
            bar = "!" * 100
            log(f"{bar}\n  MISMATCH in {case.name}\n  product: {r['ours']}\n  DuckDB:  {r['duckdb']}\n{bar}")
    db.close()
    return {"measured": True, **about, "reads": count, "mismatches": mismatches, "cases": results}


def report_rows(c: dict[str, Any], row: Callable[..., None], lines: list[str]) -> None:
    """The report's rows (``bench/run.py: build_report``'s ``row``)."""
    if not c.get("measured"):
        lines.append(
            f"| paths and funnel views vs DuckDB | not measured: {c.get('why', '')} | | | ≤ {TARGET:.2f} | – |"
        )
        return
    threads = f"{c['threads']} thread{'' if c['threads'] == 1 else 's'}"
    engine = f"DuckDB {c['duckdb_version']} ({threads}, in-process) on the same {c['rows']:,} events"
    for name, r in c["cases"].items():
        if not r.get("measured"):
            lines.append(f"| {name} vs the same query in DuckDB | not measured: {r['why']} | | | ≤ {TARGET:.2f} | – |")
            continue
        ratio = r["p95_ms"] / r["duckdb_p95_ms"]
        figures = "same figures" if r["same"] else f"**FIGURES DIFFER**: product {r['ours']}, DuckDB {r['duckdb']}"
        row(
            f"{name}: p95 of {c['reads']} (p50 {r['p50_ms']:.1f} ms) vs the same query in {engine} "
            f"(p50 {r['duckdb_p50_ms']:.1f} ms; {figures})",
            f"{r['p95_ms']:.1f} ms",
            f"{r['duckdb_p95_ms']:.1f} ms",
            ratio,
            f"≤ {TARGET:.2f}, same figures",
            ratio <= TARGET and r["same"],
        )


# --- stand-alone -------------------------------------------------------------------------------------


def main() -> int:
    import argparse

    import psycopg

    sys.path.insert(0, str(BENCH))
    import run  # the bench's gunicorn and Django environment

    parser = argparse.ArgumentParser(description="paths and funnel views vs DuckDB on a kept bench database")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--reads", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--port", type=int, default=0, help="a gunicorn already serving this database")
    parser.add_argument("--token", default="")
    args = parser.parse_args()
    env = run.django_env(args.database_url)
    conn = psycopg.connect(args.database_url, autocommit=True)
    workspace_id = conn.execute("SELECT id FROM events_workspace WHERE slug = %s", [SLUG]).fetchall()[0][0]
    token = args.token or run.step(env, "token")["token"]
    gunicorn = None
    try:
        if args.port:
            port, warmup = args.port, 8
        else:
            gunicorn = run.Gunicorn(env)
            port, warmup = gunicorn.port, 2 * gunicorn.workers
        result = measure(port, token, conn, workspace_id, args.reads, warmup, args.threads)
    finally:
        if gunicorn is not None:
            gunicorn.stop()
    lines: list[str] = []

    def row(name: str, ours: str, ref: str, ratio: float, target: str, ok: bool | None) -> None:
        lines.append(f"| {name} | {ours} | {ref} | {ratio:.2f} | {target} | {'yes' if ok else 'NO'} |")

    report_rows(result, row, lines)
    print("\n".join(lines))
    return 1 if result.get("mismatches") else 0


if __name__ == "__main__":
    sys.exit(main())
