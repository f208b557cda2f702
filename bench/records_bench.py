"""The records benchmark (issue 19): CRM records from ``bench/records_gen.py`` through the product's own
paths on the bench's PostgreSQL, every figure beside a reference measured in the same run.

    python bench/records_bench.py [--scale 1.0] [--reads 30] [--keep]       standalone (own servers)
    python bench/run.py --records [--records-scale S]                       after the events benchmark
    python bench/run.py --records-only [--records-scale S]                  the records part alone

1. import: ``manage.py import_records KIND FILE --no-refresh`` for products, accounts, deals (with their
   line items and stage history), activities and targets, timed inside the process; reference: a plain
   ``COPY`` of the same rows (ids resolved, every stored column filled as the product fills it) into
   ``LIKE … INCLUDING ALL`` clones of the tables with the same foreign keys (a deal's lines and
   history point at the cloned deals). Reported as rows/s of each, and their ratio (target ≥ 0.5).
2. aggregates: ``records.aggregates.figures_rebuild`` vs one plain ``INSERT … SELECT … GROUP BY`` per
   aggregate table into clones of the six tables; the product's rows are checked equal to the
   reference's (``EXCEPT ALL`` both ways).
3. reads: p50/p95 through gunicorn (4 workers, a personal token) of the Accounts and Sales endpoints of
   API.md, after 2 warm-up requests per worker; an endpoint answering 404 is reported "not built",
   any other error by its status, never failing the run. At a scale other than 0.1 each p95 is also
   divided by the same endpoint's p95 in the last 0.1 run (``bench/results/records_0.1.json``).

Writes ``bench/results/records_<scale>.json`` and ``.md``, and ``records_latest.md``. In-process
steps run as ``python bench/records_bench.py step NAME …`` (one process each, so each has its own
peak RSS); they print one JSON object on their last line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = BENCH / "data"
RESULTS = BENCH / "results"
SLUG = "bench"
KINDS = ("products", "accounts", "deals", "activities", "targets")
FILES = {
    "products": "products.csv",
    "accounts": "accounts.csv",
    "deals": "deals.jsonl",
    "activities": "activities.csv",
    "targets": "targets.csv",
}
AS_OF = "2025-06-30"
BASE_SCALE = 0.1  # the reads of other scales are divided by this scale's
IMPORT_TARGET = 0.5  # ≥ 0.5 × COPY's rows/s


def log(message: str) -> None:
    print(f"[records {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- in-process steps (python bench/records_bench.py step NAME …) ----------------------------------


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_usage.settings")
    import django

    django.setup()


def _peak_rss_mib() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def step_import(slug: str, kind: str, path: str, profile: str = "") -> dict[str, Any]:
    """``import_records KIND PATH --workspace SLUG --no-refresh``, timed without the interpreter's start-up
    (``profile``: a file for cProfile's stats, the import profiled)."""
    _django()
    import io

    from django.core.management import call_command

    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    if profile:
        import cProfile

        cProfile.runctx(
            "call_command('import_records', kind, path, workspace=slug, no_refresh=True, stdout=out, stderr=err)",
            globals(),
            {"call_command": call_command, "kind": kind, "path": path, "slug": slug, "out": out, "err": err},
            profile,
        )
    else:
        call_command("import_records", kind, path, workspace=slug, no_refresh=True, stdout=out, stderr=err)
    seconds = time.perf_counter() - started
    last = out.getvalue().strip().splitlines()[-1]
    counts = dict(part.split("=") for part in last.split())
    return {"seconds": seconds, **{k: int(v) for k, v in counts.items()}, "peak_rss_mib": _peak_rss_mib()}


def step_rebuild(slug: str) -> dict[str, Any]:
    """``figures_rebuild`` (every aggregate from scratch), timed; the aggregate rows it wrote."""
    _django()
    from records.aggregates import figures_rebuild
    from records.models import (
        AccountFigures,
        CreatedMonthFigures,
        DealDayFigures,
        DealMonthFigures,
        ProductDayFigures,
        RepDayActivity,
    )
    from tenancy.models import Workspace

    workspace = Workspace.objects.get(slug=slug)
    started = time.perf_counter()
    figures_rebuild(workspace=workspace)
    seconds = time.perf_counter() - started
    rows = {
        model.__name__: model.objects.filter(workspace=workspace).count()
        for model in (
            AccountFigures,
            DealDayFigures,
            ProductDayFigures,
            DealMonthFigures,
            CreatedMonthFigures,
            RepDayActivity,
        )
    }
    return {"seconds": seconds, "rows": rows, "peak_rss_mib": _peak_rss_mib()}


STEPS: dict[str, Callable[..., dict[str, Any]]] = {"import": step_import, "rebuild": step_rebuild}


# --- 1. imports: the product vs COPY ---------------------------------------------------------------


def _ids_by_index(conn: Any, table: str, workspace_id: int, size: int, prefix_len: int = 1) -> Any:
    """The product's ids of ``table``'s records, by the generator's index (external id ``X0000123`` → 122)."""
    import numpy as np

    ids = np.zeros(size, dtype=np.int64)
    with conn.cursor() as cur:
        cur.execute(f"SELECT external_id, id FROM {table} WHERE workspace_id = %s", [workspace_id])
        for external_id, pk in cur:
            ids[int(external_id[prefix_len:]) - 1] = pk
    return ids


def _user_ids(conn: Any, workspace_id: int, users: int) -> Any:
    import numpy as np

    ids = np.zeros(users, dtype=np.int64)
    for external_id, pk in conn.execute(
        "SELECT external_id, id FROM events_crmuser WHERE workspace_id = %s", [workspace_id]
    ).fetchall():
        if external_id.isdigit() and 1 <= int(external_id) <= users:
            ids[int(external_id) - 1] = pk
    return ids


def _clone(conn: Any, source: str, target: str, redirect: dict[str, str] | None = None) -> None:
    """An empty clone of ``source`` (columns, defaults, identity, indexes, checks) with its foreign keys,
    those to a table of ``redirect`` pointing at that table's clone instead."""
    conn.execute(f"DROP TABLE IF EXISTS {target} CASCADE")
    conn.execute(f"CREATE TABLE {target} (LIKE {source} INCLUDING ALL)")
    for (definition,) in conn.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'", [source]
    ).fetchall():
        for old, new in (redirect or {}).items():
            definition = definition.replace(f"REFERENCES {old}(", f"REFERENCES {new}(")
        conn.execute(f"ALTER TABLE {target} ADD {definition}")


def _ts(seconds: Any) -> Any:
    """Epoch seconds as PostgreSQL timestamptz text."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    return pc.binary_join_element_wise(pc.replace_substring(pa.array(text), "T", " "), "+00", "")


def _day(seconds: Any) -> Any:
    import numpy as np

    return np.datetime_as_string(seconds.astype("datetime64[s]").astype("datetime64[D]"), unit="D")


def _external(prefix: str, indices: Any, width: int) -> Any:
    import numpy as np

    return np.char.add(prefix, np.char.zfill((indices + 1).astype(str), width))


def reference_tables(
    kind: str, data: Path, conn: Any, workspace_id: int, meta: dict[str, Any]
) -> list[tuple[str, str, Any]]:
    """The rows a COPY reference writes for ``kind``: ``[(product table, clone, pyarrow table)]`` in
    order, every stored column as the product stores it, ids resolved against what is already imported."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    sys.path.insert(0, str(ROOT))
    from records.names import duplicate_key

    c = np.load(data / "columns.npz")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S+00")
    users = _user_ids(conn, workspace_id, meta["users"])

    def owner(indices: Any) -> Any:
        return pa.array(np.where(indices >= 0, users[np.maximum(indices, 0)], 0), mask=indices < 0)

    def const(value: Any, n: int) -> Any:
        return pa.array([value] * n)

    if kind == "products":
        src = pacsv.read_csv(data / FILES[kind])
        n = len(src)
        return [("records_product", "bench_ref_product", pa.table({
            "workspace_id": const(workspace_id, n), "external_id": src["external_id"], "name": src["name"],
            "category": src["category"], "deleted": const(False, n),
        }))]  # fmt: skip
    if kind == "accounts":
        src = pacsv.read_csv(data / FILES[kind], convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
        n = len(src)
        names = src["name"].to_pylist()
        return [("records_account", "bench_ref_account", pa.table({
            "workspace_id": const(workspace_id, n), "external_id": src["external_id"], "name": src["name"],
            "name_key": pa.array([duplicate_key(name) for name in names]), "industry": src["industry"],
            "country": src["country"], "owner_id": owner(c["account_owner"]),
            "created_at": _ts(c["account_created"]), "created_on": _day(c["account_created"]),
            "status": src["status"], "deleted": const(False, n), "updated_at": const(now, n),
        }))]  # fmt: skip
    if kind == "deals":
        from records_gen import FORECAST, PROBABILITY, STAGES

        D = meta["deals"]
        accounts = _ids_by_index(conn, "records_account", workspace_id, meta["accounts"])
        products = _ids_by_index(conn, "records_product", workspace_id, meta["products"])
        stage, history_deal = c["deal_stage"], c["history_deal"]
        entered = np.zeros(D, dtype=np.int64)
        np.maximum.at(entered, history_deal, c["history_at"])
        close = c["deal_close"]
        amount = c["deal_cents"]
        deal_ids = np.arange(1, D + 1)
        state = np.where(c["deal_won"], "won", np.where(c["deal_closed"], "lost", "open"))
        deals = pa.table({
            "id": deal_ids, "workspace_id": const(workspace_id, D), "external_id": _external("D", np.arange(D), 8),
            "account_id": accounts[c["deal_account"]], "name": pa.array([f"Deal {i + 1}" for i in range(D)]),
            "owner_id": owner(c["deal_owner"]), "amount_cents": pa.array(amount, mask=c["deal_missing"]),
            "stage": np.array(STAGES)[stage], "probability": PROBABILITY[stage],
            "forecast_category": np.array(FORECAST)[c["deal_forecast"]],
            "created_at": _ts(c["deal_created"]), "created_on": _day(c["deal_created"]),
            "close_date": pa.array(_day(close), mask=c["deal_no_close"]), "state": state,
            "stage_entered_at": _ts(entered), "deleted": const(False, D), "updated_at": const(now, D),
        })  # fmt: skip
        L, H = len(c["line_deal"]), len(history_deal)
        lines = pa.table({
            "id": np.arange(1, L + 1), "deal_id": deal_ids[c["line_deal"]], "product_id": products[c["line_product"]],
            "quantity": c["line_quantity"], "amount_cents": c["line_cents"], "position": c["line_position"],
        })  # fmt: skip
        history = pa.table({
            "id": np.arange(1, H + 1), "deal_id": deal_ids[history_deal],
            "stage": np.array(STAGES)[c["history_stage"]], "entered_at": _ts(c["history_at"]),
        })  # fmt: skip
        return [
            ("records_deal", "bench_ref_deal", deals),
            ("records_deallineitem", "bench_ref_deallineitem", lines),
            ("records_dealstagechange", "bench_ref_dealstagechange", history),
        ]
    if kind == "activities":
        from records_gen import KINDS as ACTIVITY_KINDS

        X = meta["activities"]
        accounts = _ids_by_index(conn, "records_account", workspace_id, meta["accounts"])
        deals = _ids_by_index(conn, "records_deal", workspace_id, meta["deals"])
        account, deal = c["activity_account"], c["activity_deal"]
        return [("records_activity", "bench_ref_activity", pa.table({
            "workspace_id": const(workspace_id, X), "external_id": _external("X", np.arange(X), 8),
            "kind": np.array(ACTIVITY_KINDS)[c["activity_kind"]], "owner_id": users[c["activity_owner"]],
            "account_id": pa.array(accounts[np.maximum(account, 0)], mask=account < 0),
            "deal_id": pa.array(deals[np.maximum(deal, 0)], mask=deal < 0),
            "occurred_at": _ts(c["activity_occurred"]), "occurred_on": _day(c["activity_occurred"]),
            "completed": c["activity_completed"], "deleted": const(False, X),
        }))]  # fmt: skip
    src = pacsv.read_csv(data / FILES[kind], convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    n = len(src)
    return [("records_target", "bench_ref_target", pa.table({
        "workspace_id": const(workspace_id, n), "external_id": src["external_id"], "owner_id": owner(c["target_owner"]),
        "month": _day(c["target_month"]), "pipeline_target_cents": c["target_pipeline"],
        "revenue_quota_cents": c["target_quota"], "deleted": const(False, n),
    }))]  # fmt: skip


def copy_reference(conn: Any, tables: list[tuple[str, str, Any]]) -> tuple[float, dict[str, int]]:
    """COPY each table's rows (written to CSV first, untimed) into a fresh clone; the seconds of the COPYs."""
    import pyarrow.csv as pacsv

    nested = {"bench_ref_deallineitem", "bench_ref_dealstagechange"}  # they point at the cloned deals
    files = []
    for source, clone, table in tables:
        _clone(conn, source, clone, {"records_deal": "bench_ref_deal"} if clone in nested else None)
        handle = tempfile.NamedTemporaryFile(prefix=f"{clone}.", suffix=".csv", delete=False)  # noqa: SIM115
        handle.close()
        pacsv.write_csv(table, handle.name)
        files.append((clone, table.column_names, Path(handle.name)))
    conn.execute("CHECKPOINT")
    started = time.perf_counter()
    rows = {}
    for clone, columns, path in files:
        statement = f"COPY {clone} ({', '.join(columns)}) FROM STDIN (FORMAT csv, HEADER true)"
        with conn.cursor() as cur, cur.copy(statement) as copy, open(path, "rb") as f:
            while block := f.read(1 << 20):
                copy.write(block)
        rows[clone] = conn.execute(f"SELECT count(*) FROM {clone}").fetchone()[0]
    seconds = time.perf_counter() - started
    for clone, _columns, path in reversed(files):
        path.unlink(missing_ok=True)
        conn.execute(f"DROP TABLE {clone} CASCADE")
    conn.execute("CHECKPOINT")
    return seconds, rows


# --- 2. aggregates: figures_rebuild vs plain SQL -----------------------------------------------------

AGGREGATES = {
    "accountfigures": (
        "account_id, workspace_id, revenue_cents, won_deals, lost_deals, open_deals, open_pipeline_cents, products, "
        "last_activity, account_active, created_on",
        "SELECT a.id, a.workspace_id, coalesce(d.revenue, 0), coalesce(d.won, 0), coalesce(d.lost, 0),"
        " coalesce(d.open, 0), coalesce(d.pipeline, 0), coalesce(p.n, 0), x.last,"
        " a.status = 'active' AND NOT a.deleted, a.created_on"
        " FROM records_account a"
        " LEFT JOIN (SELECT account_id, sum(coalesce(amount_cents, 0)) FILTER (WHERE state = 'won') AS revenue,"
        "   count(*) FILTER (WHERE state = 'won') AS won, count(*) FILTER (WHERE state = 'lost') AS lost,"
        "   count(*) FILTER (WHERE state = 'open') AS open,"
        "   sum(coalesce(amount_cents, 0)) FILTER (WHERE state = 'open') AS pipeline"
        "   FROM records_deal WHERE workspace_id = %(w)s AND NOT deleted GROUP BY account_id) d ON d.account_id = a.id"
        " LEFT JOIN (SELECT d.account_id, count(DISTINCT l.product_id) AS n FROM records_deallineitem l"
        "   JOIN records_deal d ON d.id = l.deal_id WHERE d.workspace_id = %(w)s AND NOT d.deleted AND d.state = 'won'"
        "   GROUP BY 1) p ON p.account_id = a.id"
        " LEFT JOIN (SELECT account_id, max(occurred_on) AS last FROM records_activity WHERE workspace_id = %(w)s"
        "   AND NOT deleted AND completed AND account_id IS NOT NULL GROUP BY 1) x ON x.account_id = a.id"
        " WHERE a.workspace_id = %(w)s",
    ),
    "dealdayfigures": (
        "workspace_id, day, owner_id, state, deals, amount_cents",
        "SELECT d.workspace_id, d.close_date, d.owner_id, d.state, count(*), sum(coalesce(d.amount_cents, 0))"
        " FROM records_deal d JOIN records_account a ON a.id = d.account_id WHERE d.workspace_id = %(w)s"
        " AND NOT d.deleted AND NOT a.deleted AND d.close_date IS NOT NULL GROUP BY 1, 2, 3, 4",
    ),
    "dealmonthfigures": (
        "workspace_id, month, owner_id, state, forecast_category, account_active, deals, amount_cents, weighted",
        "SELECT d.workspace_id, date_trunc('month', d.close_date)::date, d.owner_id, d.state, d.forecast_category,"
        " a.status = 'active', count(*), sum(coalesce(d.amount_cents, 0)),"
        " sum(coalesce(d.amount_cents, 0) * d.probability)"
        " FROM records_deal d JOIN records_account a ON a.id = d.account_id WHERE d.workspace_id = %(w)s"
        " AND NOT d.deleted AND NOT a.deleted AND d.close_date IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6",
    ),
    "productdayfigures": (
        "workspace_id, day, product_id, account_active, lines, amount_cents, quantity",
        "SELECT d.workspace_id, d.close_date, l.product_id, a.status = 'active', count(*), sum(l.amount_cents),"
        " sum(l.quantity) FROM records_deallineitem l JOIN records_deal d ON d.id = l.deal_id"
        " JOIN records_account a ON a.id = d.account_id WHERE d.workspace_id = %(w)s AND NOT d.deleted"
        " AND NOT a.deleted AND d.state = 'won' AND d.close_date IS NOT NULL GROUP BY 1, 2, 3, 4",
    ),
    "createdmonthfigures": (
        "workspace_id, month, owner_id, deals, amount_cents",
        "SELECT d.workspace_id, date_trunc('month', d.created_on)::date, d.owner_id, count(*),"
        " sum(coalesce(d.amount_cents, 0))"
        " FROM records_deal d JOIN records_account a ON a.id = d.account_id WHERE d.workspace_id = %(w)s"
        " AND NOT d.deleted AND NOT a.deleted GROUP BY 1, 2, 3",
    ),
    "repdayactivity": (
        "workspace_id, day, owner_id, activities, calls, emails, meetings, messages, tasks",
        "SELECT workspace_id, occurred_on, owner_id, count(*), count(*) FILTER (WHERE kind = 'call'),"
        " count(*) FILTER (WHERE kind = 'email'), count(*) FILTER (WHERE kind = 'meeting'),"
        " count(*) FILTER (WHERE kind = 'message'), count(*) FILTER (WHERE kind = 'task') FROM records_activity"
        " WHERE workspace_id = %(w)s AND NOT deleted AND completed GROUP BY 1, 2, 3",
    ),
}


def reference_aggregates(conn: Any, workspace_id: int) -> float:
    """The six aggregate tables built by one INSERT … SELECT each, into clones (same indexes, checks and
    foreign keys), in one transaction."""
    for name in AGGREGATES:
        _clone(conn, f"records_{name}", f"bench_ref_{name}")
    conn.execute("CHECKPOINT")
    started = time.perf_counter()
    with conn.transaction():
        for name, (columns, select) in AGGREGATES.items():
            conn.execute(f"INSERT INTO bench_ref_{name} ({columns}) {select}", {"w": workspace_id})
    return time.perf_counter() - started


def compare_aggregates(conn: Any, workspace_id: int) -> dict[str, int]:
    """Rows differing between the product's aggregates and the reference's (0: identical)."""
    diff = {}
    for name, (columns, _select) in AGGREGATES.items():
        product = f"SELECT {columns} FROM records_{name} WHERE workspace_id = {workspace_id}"
        reference = f"SELECT {columns} FROM bench_ref_{name}"
        diff[name] = int(
            conn.execute(
                f"SELECT (SELECT count(*) FROM ({product} EXCEPT ALL {reference}) a)"
                f" + (SELECT count(*) FROM ({reference} EXCEPT ALL {product}) b)"
            ).fetchone()[0]
        )
        conn.execute(f"DROP TABLE bench_ref_{name}")
    return diff


# --- 3. reads --------------------------------------------------------------------------------------


def read_endpoints(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, path) of the Accounts and Sales reads of API.md, over the data's last month (June 2025)."""
    month = "start=2025-06-01&end=2025-06-30"
    return [
        ("accounts/overview", f"accounts/overview?as_of={AS_OF}"),
        ("accounts/ page 1", "accounts/?page=1"),
        ("accounts/ page 1 by revenue", "accounts/?page=1&ordering=-revenue"),
        ("accounts/ search", "accounts/?search=Northern&page=1"),
        ("accounts/<id> (the account with the most deals)", f"accounts/{meta['heaviest_account']}"),
        ("sales/state-of-the-union (June)", f"sales/state-of-the-union?{month}"),
        ("sales/activity (June)", f"sales/activity?{month}"),
        ("sales/open-pipeline", f"sales/open-pipeline?as_of={AS_OF}"),
        ("sales/pipeline-generation (Q2)", "sales/pipeline-generation?start=2025-04-01&end=2025-06-30"),
        ("sales/forecast (Q3)", "sales/forecast?start=2025-07-01&end=2025-09-30"),
        ("sales/clean-house", f"sales/clean-house?as_of={AS_OF}"),
        ("sales/adoption-outcome (June)", f"sales/adoption-outcome?{month}"),
    ]


def measure_reads(port: int, token: str, meta: dict[str, Any], count: int, warmup: int) -> dict[str, dict[str, Any]]:
    """p50/p95 of ``count`` sequential requests per endpoint after ``warmup``; 404: not built (no timing);
    another status: reported as such."""
    import run  # bench/run.py: request, percentile

    headers = {"Authorization": f"Token {token}"}
    results: dict[str, dict[str, Any]] = {}
    for name, path in read_endpoints(meta):
        url = f"/api/v1/workspaces/{SLUG}/{path}"
        status, body = run.request(port, "GET", url, None, headers)
        if status == 404:
            results[name] = {"status": 404, "built": False}
            log(f"  {name}: not built (404)")
            continue
        if status != 200:
            results[name] = {"status": status, "built": True, "error": body[:300].decode(errors="replace")}
            log(f"  {name}: {status} {body[:200]!r}")
            continue
        times, sizes = [], len(body)
        for i in range(count + warmup - 1):
            t0 = time.perf_counter()
            status, body = run.request(port, "GET", url, None, headers)
            elapsed = time.perf_counter() - t0
            if i >= warmup - 1:
                times.append(elapsed)
        results[name] = {
            "status": 200,
            "built": True,
            "bytes": sizes,
            "p50_ms": statistics.median(times) * 1000,
            "p95_ms": run.percentile(times, 95) * 1000,
            "max_ms": max(times) * 1000,
        }
        log(f"  {name}: p95 {results[name]['p95_ms']:.1f} ms ({sizes:,} bytes)")
    return results


# --- the whole records step ---------------------------------------------------------------------------


def measure(
    conn: Any, env: dict[str, str], scale: float, reads: int, token: str, *, users: int = 2000, profile: bool = False
) -> dict[str, Any]:
    """Steps 1–3 on a migrated database whose workspace ``bench`` has the CRM users ``1`` … ``users``."""
    import records_gen
    import run

    started = time.perf_counter()
    log(f"generating the records at scale {scale:g}")
    data = records_gen.generate(scale, users)
    meta = json.loads((data / "meta.json").read_text())
    log(f"  {meta}")
    workspace_id = conn.execute("SELECT id FROM events_workspace WHERE slug = %s", [SLUG]).fetchone()[0]
    result: dict[str, Any] = {"scale": scale, "meta": meta, "imports": {}}
    for kind in KINDS:
        path = data / FILES[kind]
        tables = reference_tables(kind, data, conn, workspace_id, meta)
        ref_seconds, ref_rows = copy_reference(conn, tables)
        args = [str(BENCH / "records_bench.py"), "step", "import", SLUG, kind, str(path)]
        if profile and kind in ("deals", "activities"):
            args.append(str(RESULTS / f"records_profile_{kind}_{scale:g}.prof"))
        out, wall, rss = run.run_rss(args, env)
        product = json.loads(out.strip().splitlines()[-1])
        rows = meta[kind]
        result["imports"][kind] = {
            "rows": rows,
            "seconds": product["seconds"],
            "rows_per_s": rows / product["seconds"],
            "ref_seconds": ref_seconds,
            "ref_rows_per_s": rows / ref_seconds,
            "ref_rows": ref_rows,
            "created": product["created"],
            "rejected": product["rejected"],
            "peak_rss_mib": rss,
        }
        i = result["imports"][kind]
        log(
            f"  {kind}: import {i['rows_per_s']:,.0f} rows/s ({i['seconds']:.1f} s, created {i['created']:,}, "
            f"rejected {i['rejected']}), COPY {i['ref_rows_per_s']:,.0f} rows/s ({ref_seconds:.2f} s, {ref_rows})"
        )
    conn.execute("VACUUM ANALYZE")

    log("aggregates: plain-SQL reference, then figures_rebuild")
    ref_seconds = reference_aggregates(conn, workspace_id)
    rebuild = json.loads(
        run.run_rss([str(BENCH / "records_bench.py"), "step", "rebuild", SLUG], env)[0].strip().splitlines()[-1]
    )
    diff = compare_aggregates(conn, workspace_id)
    result["aggregates"] = {**rebuild, "ref_seconds": ref_seconds, "diff": diff}
    log(f"  rebuild {rebuild['seconds']:.2f} s, reference {ref_seconds:.2f} s, rows {rebuild['rows']}, diff {diff}")
    # What autovacuum does after a bulk change (the rebuild rewrote every deal's last activity), done
    # now so that the reads do not depend on when it wakes: statistics, and the visibility map the
    # covering indexes' index-only scans need.
    conn.execute("VACUUM ANALYZE")

    if reads:
        gunicorn = run.Gunicorn(env)
        try:
            log(f"reads through gunicorn: {reads} requests per endpoint")
            result["reads"] = measure_reads(gunicorn.port, token, meta, reads, warmup=2 * gunicorn.workers)
        finally:
            gunicorn.stop()
        result["read_count"] = reads
    result["seconds"] = time.perf_counter() - started
    return result


def standalone(
    scale: float, reads: int, keep: bool = False, users: int = 2000, profile: bool = False, services_dir: str = ""
) -> int:
    """The records benchmark on its own: a throwaway PostgreSQL + Redis (or those of ``services_dir``, started
    by ``tests/services.sh start DIR``, left running and without the bench's PostgreSQL settings), a
    workspace ``bench`` with the generator's users, steps 1–3, the report."""
    import psycopg
    import records_gen
    import run

    started = time.perf_counter()
    data = records_gen.generate(scale, users)
    services = run.Services()
    if services_dir:
        os.rmdir(services.dir)  # the empty directory Services() made for servers of its own
        services.dir = Path(services_dir)
        for line in (services.dir / "env").read_text().splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            services.env[key] = value
        keep = True
    try:
        if not services_dir:
            services.start()
        env = run.django_env(services.env["DATABASE_URL"], services.env["CELERY_BROKER_URL"])
        run.manage(env, "migrate", "--noinput")
        setup = run.step(env, "setup", SLUG, "UTC", str(data / "users.csv"))
        with psycopg.connect(services.env["DATABASE_URL"], autocommit=True) as conn:
            result = measure(conn, env, scale, reads, setup["token"], users=users, profile=profile)
            result["pg_version"] = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    finally:
        if keep:
            log(f"servers left running: {services.env} (stop: bash tests/services.sh stop {services.dir})")
        else:
            services.stop()
    result["machine"] = run.machine()
    result["total_seconds"] = time.perf_counter() - started
    print(save(result))
    return 0


# --- the report -------------------------------------------------------------------------------------


def save(result: dict[str, Any]) -> str:
    """Write records_<scale>.json/.md and records_latest.md; return the report."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    scale = result["scale"]
    result.setdefault("finished", time.strftime("%Y-%m-%d %H:%M"))
    base_path = RESULTS / f"records_{BASE_SCALE:g}.json"
    base = json.loads(base_path.read_text()) if base_path.exists() and scale != BASE_SCALE else None
    (RESULTS / f"records_{scale:g}.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    text = report(result, base)
    (RESULTS / f"records_{scale:g}.md").write_text(text)
    (RESULTS / "records_latest.md").write_text(text)
    return text


def _fmt(value: float) -> str:
    return "–" if value != value else f"{value:,.2f}"


def report(result: dict[str, Any], base: dict[str, Any] | None = None) -> str:
    """The records section: one table, every figure beside its reference from the same run."""
    meta = result["meta"]
    lines = [
        f"## Records at scale {result['scale']:g} ({meta['accounts']:,} accounts, {meta['deals']:,} deals with "
        f"{meta['line_items']:,} line items and {meta['stage_changes']:,} stage changes, {meta['activities']:,} "
        f"activities, {meta['targets']:,} targets, {meta['reps']:,} reps; the account with the most deals has "
        f"{meta['heaviest_account_deals']:,}; {result.get('finished', '')})",
        "",
        "| figure | product | reference (same run) | ratio | target | met |",
        "| --- | ---: | ---: | ---: | ---: | :---: |",
    ]

    def row(name: str, product: str, reference: str, ratio: float, target: str, ok: bool | None) -> None:
        mark = "–" if ok is None else ("yes" if ok else "**no**")
        lines.append(f"| {name} | {product} | {reference} | {_fmt(ratio)} | {target} | {mark} |")

    for kind, i in result["imports"].items():
        ratio = i["rows_per_s"] / i["ref_rows_per_s"]
        extra = " (with their line items and stage history)" if kind == "deals" else ""
        row(
            f"`import_records {kind}`{extra} vs `COPY` of the same rows into same-shaped tables "
            f"(rejected: {i['rejected']})",
            f"{i['rows_per_s']:,.0f} rows/s ({i['seconds']:.1f} s)",
            f"{i['ref_rows_per_s']:,.0f} rows/s ({i['ref_seconds']:.2f} s)",
            ratio,
            f"≥ {IMPORT_TARGET:.2f}",
            ratio >= IMPORT_TARGET and i["rejected"] == 0,
        )
    a = result["aggregates"]
    differing = sum(a["diff"].values())
    row(
        f"aggregates' full rebuild (`figures_rebuild`: {', '.join(f'{v:,} {k}' for k, v in a['rows'].items())}) "
        f"vs one `INSERT … SELECT … GROUP BY` per table (rows differing: {differing})",
        f"{a['seconds']:.2f} s",
        f"{a['ref_seconds']:.2f} s",
        a["seconds"] / a["ref_seconds"],
        "–",
        None if differing == 0 else False,
    )
    for name, r in result.get("reads", {}).items():
        if not r["built"]:
            lines.append(f"| p95 of {name} | not built (404) | | | | – |")
            continue
        if r["status"] != 200:
            lines.append(f"| p95 of {name} | answered {r['status']} | | | | **no** |")
            continue
        before = (base or {}).get("reads", {}).get(name)
        if before and before.get("status") == 200:
            row(
                f"p95 of {result['read_count']} × {name} (p50 {r['p50_ms']:.1f} ms, {r['bytes']:,} bytes)",
                f"{r['p95_ms']:.1f} ms",
                f"{before['p95_ms']:.1f} ms at scale {BASE_SCALE:g}",
                r["p95_ms"] / before["p95_ms"],
                "–",
                None,
            )
        else:
            row(
                f"p95 of {result['read_count']} × {name} (p50 {r['p50_ms']:.1f} ms, {r['bytes']:,} bytes)",
                f"{r['p95_ms']:.1f} ms",
                "",
                float("nan"),
                "–",
                None,
            )
    rss = max(i["peak_rss_mib"] for i in result["imports"].values())
    lines += [
        "",
        f"Peak RSS: import {rss:.0f} MiB, rebuild {a['peak_rss_mib']:.0f} MiB. Generation {meta['seconds']} s; "
        f"records step {result['seconds'] / 60:.1f} min.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "step":
        print(json.dumps(STEPS[sys.argv[2]](*sys.argv[3:])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 100k accounts, 1M deals, 5M activities")
    parser.add_argument("--reads", type=int, default=30, help="requests per read endpoint (0: none)")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--profile", action="store_true", help="cProfile the deals and activities imports")
    parser.add_argument("--keep", action="store_true", help="leave the servers running (prints where)")
    parser.add_argument(
        "--services", default="", metavar="DIR",
        help="use the servers of `tests/services.sh start DIR` (a database without a workspace `bench`) as they are",
    )  # fmt: skip
    args = parser.parse_args()
    return standalone(args.scale, args.reads, args.keep, args.users, args.profile, args.services)


if __name__ == "__main__":
    sys.exit(main())
