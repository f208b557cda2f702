"""Deterministic CRM records for the records benchmark (``bench/records_bench.py``), in the files
``manage.py import_records`` reads, plus the same rows as flat columns for the plain ``COPY`` reference.

    python bench/records_gen.py [--scale 1.0] [--users 2000] [--seed 42] [--out bench/data]

At scale 1: 100,000 accounts, 200 products, 1,000,000 deals (1.85 line items and ~3.6 stage-history
entries each on average), 5,000,000 activities, and targets (a team row per month over the 30 months
2023-07 … 2025-12 and a row per rep for each of the last 12). Accounts, deals and activities scale
with ``--scale``; products stay 200. Owners are the bench workspace's CRM users, external ids
``"1"`` … ``"N"`` (the events generator's users, ``N = --users``): the first ``max(10, N × scale)``
of them are the sales reps. Dates are UTC (the bench workspace's zone); deals close over the two years
ending 2025-06-30 (the events' last day), open ones up to the end of 2025.

What looks like a CRM rather than uniform noise: heavy-tailed accounts (a few with thousands of
deals), reps of different skill (win rate, deal size, activity), closed deals created a lognormal
cycle before they close, open deals past due, without an amount or a close date, stuck in a stage;
1 % of accounts named like another (likely duplicates), 1 % without an owner, 10 % dormant.

Writes into ``OUT/records_<scale>/``: ``users.csv`` (for a workspace without the events' users),
``products.csv``, ``accounts.csv``, ``deals.jsonl`` (the nested line items and stage history),
``activities.csv``, ``targets.csv``; ``columns.npz`` (the rows as arrays of indices, cents and epoch
seconds, for the reference) and ``meta.json``. Everything comes from one ``numpy`` Generator: the same
seed, scale and users give the same files. Needs numpy and pyarrow (``bench/requirements.txt``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"

AS_OF = date(2025, 6, 30)
HISTORY_START = date(2023, 7, 1)  # closed deals close from here to AS_OF
OPEN_CREATED_DAYS = 270  # open deals were created in the 270 days before AS_OF
OPEN_CLOSE_DAYS = 184  # … and close up to the end of 2025
ACCOUNTS_PER_SCALE = 100_000
DEALS_PER_ACCOUNT = 10
ACTIVITIES_PER_DEAL = 5
PRODUCTS = 200
TARGET_MONTHS = 30  # 2023-07 … 2025-12
REP_TARGET_MONTHS = 12  # 2025-01 … 2025-12

OPEN_STAGES = ["Qualification", "Needs Analysis", "Proposal", "Negotiation"]
STAGES = [*OPEN_STAGES, "Closed Won", "Closed Lost"]
PROBABILITY = np.array([10, 25, 50, 75, 100, 0])
FORECAST = ["pipeline", "best_case", "commit", "omitted"]
STAGE_FORECAST = np.array([0, 0, 1, 2, 2, 3])  # index into FORECAST per stage
KINDS = ["call", "email", "meeting", "message", "task"]
INDUSTRIES = ["Technology", "Financial Services", "Manufacturing", "Healthcare", "Retail", "Education",
              "Logistics", "Energy", "Telecommunications", "Professional Services", "Media", "Government"]  # fmt: skip
COUNTRIES = ["US", "CN", "GB", "DE", "IN", "JP", "SG", "FR", "BR", "AU", "CA", "NL", "ES", "HK", "KR", "IT",
             "SE", "CH", "MX", "ZA"]  # fmt: skip
ADJECTIVES = ["Blue", "Northern", "Silver", "Golden", "Pacific", "Summit", "Pioneer", "Crescent", "Evergreen",
              "Atlas", "Nimbus", "Vertex", "Quantum", "Redwood", "Granite", "Harbor", "Meridian", "Polaris",
              "Zenith", "Solstice", "Cobalt", "Emerald", "Falcon", "Helios", "Indigo", "Juniper", "Kestrel",
              "Lumen", "Orchid", "Sapphire"]  # fmt: skip
NOUNS = ["Systems", "Logistics", "Capital", "Health", "Manufacturing", "Telecom", "Energy", "Learning", "Foods",
         "Analytics", "Retail", "Engineering", "Software", "Devices", "Media", "Insurance", "Pharma", "Robotics",
         "Shipping", "Partners"]  # fmt: skip
SUFFIXES = ["Ltd", "Inc", "LLC", "GmbH", "Corp", "Co Ltd", "Limited", "AG", "plc", ""]
CHINESE = ["华信", "远航", "海润", "金桥", "天成", "瑞康", "星河", "鼎盛", "宏图", "长风", "蓝海", "青松", "博雅", "云帆",
           "恒泰", "新元", "锦程", "安信", "启明", "德润"]  # fmt: skip
CHINESE_TRADES = ["科技", "物流", "能源", "证券", "制造", "医疗", "传媒", "地产", "教育", "汽车"]
CHINESE_SUFFIXES = ["有限公司", "股份有限公司", "集团", ""]
CATEGORIES = ["Courses", "Seats", "Support", "Workshops", "Certification", "Content"]

DAY = 86_400


def sizes(scale: float, users: int) -> dict[str, int]:
    accounts = max(20, round(ACCOUNTS_PER_SCALE * scale))
    reps = min(users, max(10, round(users * scale)))
    return {
        "accounts": accounts,
        "products": PRODUCTS,
        "deals": accounts * DEALS_PER_ACCOUNT,
        "activities": accounts * DEALS_PER_ACCOUNT * ACTIVITIES_PER_DEAL,
        "reps": reps,
        "users": users,
    }


def epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def iso_seconds(seconds: np.ndarray) -> pa.Array:
    """Epoch seconds as ISO 8601 text with the UTC offset (what the import reads)."""
    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    return pc.binary_join_element_wise(pa.array(text), "+00:00", "")


def iso_days(seconds: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(seconds.astype("datetime64[s]").astype("datetime64[D]"), unit="D")


def cents_text(cents: np.ndarray) -> np.ndarray:
    return np.char.add(np.char.add((cents // 100).astype(str), "."), np.char.zfill((cents % 100).astype(str), 2))


def ids(prefix: str, n: int, width: int) -> pa.Array:
    return pa.array(np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width)))


def write_csv(path: Path, columns: dict[str, Any]) -> None:
    """Plain CSV, nothing quoted (no value holds a comma, a quote or a line break); a None cell is empty."""
    table = pa.table(
        {name: value if isinstance(value, pa.Array) else pa.array(value) for name, value in columns.items()}
    )
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="none"))


def generate(scale: float, users: int = 2000, seed: int = 42, out: Path = DATA) -> Path:
    """Write the files (once: an existing complete directory is kept) and return their directory."""
    target = out / f"records_{scale:g}"
    if (target / "meta.json").exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    n = sizes(scale, users)
    A, D, X, R = n["accounts"], n["deals"], n["activities"], n["reps"]
    as_of, start = epoch(AS_OF), epoch(HISTORY_START)

    # users (only for a workspace without the events' users) ---------------------------------------------
    write_csv(target / "users.csv", {"external_id": np.arange(1, users + 1).astype(str), "status": ["active"] * users})

    # reps: user indices 0 … R-1 (external id = index + 1), each with a skill --------------------------
    rep_weight = rng.lognormal(0.0, 0.6, R)
    skill = rng.random(R)
    win_rate = 0.25 + 0.3 * skill
    size = 0.8 + 0.5 * skill
    activity_weight = 0.5 + skill

    # products -----------------------------------------------------------------------------------------
    product_price = np.round(rng.lognormal(np.log(800), 1.0, PRODUCTS) * 100).astype(np.int64)  # cents
    product_weight = 1 / np.arange(1, PRODUCTS + 1) ** 0.9
    product_weight /= product_weight.sum()
    write_csv(
        target / "products.csv",
        {
            "external_id": ids("P", PRODUCTS, 4),
            "name": [f"Product {i + 1}" for i in range(PRODUCTS)],
            "category": [CATEGORIES[i % len(CATEGORIES)] for i in range(PRODUCTS)],
        },
    )

    # accounts -----------------------------------------------------------------------------------------
    base = np.arange(A)
    duplicate = rng.random(A) < 0.01
    base[duplicate] = rng.integers(0, A, duplicate.sum())  # named as another account (a likely duplicate)
    chinese = rng.random(A) < 0.3
    english_name = np.char.add(
        np.char.add(
            np.char.add(np.array(ADJECTIVES)[base % len(ADJECTIVES)], " "), np.array(NOUNS)[base // 30 % len(NOUNS)]
        ),
        np.char.add(" ", (base + 1).astype(str)),
    )
    suffix = np.array(SUFFIXES)[rng.integers(0, len(SUFFIXES), A)]
    english_name = np.char.strip(np.char.add(np.char.add(english_name, " "), suffix))
    chinese_name = np.char.add(
        np.char.add(np.array(CHINESE)[base % len(CHINESE)], np.array(CHINESE_TRADES)[base // 20 % len(CHINESE_TRADES)]),
        np.char.add((base + 1).astype(str), np.array(CHINESE_SUFFIXES)[rng.integers(0, 4, A)]),
    )
    account_name = np.where(chinese, chinese_name, english_name)
    account_owner = rng.choice(R, A, p=rep_weight / rep_weight.sum())
    account_owner[rng.random(A) < 0.01] = -1
    account_created = rng.integers(epoch(date(2019, 1, 1)), as_of - DAY, A)
    account_dormant = rng.random(A) < 0.10
    account_weight = rng.lognormal(0.0, 1.2, A)
    heaviest = int(np.argmax(account_weight))

    # deals --------------------------------------------------------------------------------------------
    deal_account = rng.choice(A, D, p=account_weight / account_weight.sum())
    deal_owner = account_owner[deal_account].copy()
    other = (deal_owner < 0) | (rng.random(D) < 0.15)
    deal_owner[other] = rng.choice(R, other.sum(), p=rep_weight / rep_weight.sum())
    closed = rng.random(D) < 0.7
    won = closed & (rng.random(D) < win_rate[deal_owner])
    close = np.where(
        closed,
        rng.integers(start, as_of + DAY, D) // DAY * DAY,
        (as_of // DAY + rng.integers(1, OPEN_CLOSE_DAYS + 1, D)) * DAY,
    )
    cycle = np.clip(rng.lognormal(np.log(40), 0.6, D), 3, 200).astype(np.int64) * DAY
    created = np.where(
        closed,
        close - cycle + rng.integers(9 * 3600, 18 * 3600, D),
        as_of - rng.integers(1, OPEN_CREATED_DAYS, D) * DAY + rng.integers(9 * 3600, 18 * 3600, D),
    )
    created = np.minimum(created, as_of + DAY - 1)
    past_due = ~closed & (rng.random(D) < 0.10)
    close[past_due] = np.maximum(created[past_due] // DAY, as_of // DAY - rng.integers(1, 60, past_due.sum())) * DAY
    no_close = ~closed & (rng.random(D) < 0.03)
    # the account was created before its first deal
    first_deal = np.full(A, np.iinfo(np.int64).max)
    np.minimum.at(first_deal, deal_account, created)
    account_created = np.minimum(account_created, first_deal - rng.integers(1, 60, A) * DAY)
    # stages: the index reached (open: current; lost: where it was lost), then the final for closed ones
    reached = rng.choice(4, D, p=[0.3, 0.27, 0.24, 0.19])
    reached[won] = 3
    stage = np.where(won, 4, np.where(closed, 5, reached))
    entries = reached + 1 + closed  # stage-history entries
    last_at = np.where(
        closed,
        close + rng.integers(9 * 3600, 18 * 3600, D),
        np.maximum(created, as_of - rng.integers(0, 75, D) * DAY),  # > 30 days: stuck
    )
    last_at = np.maximum(last_at, created)
    forecast = STAGE_FORECAST[stage].copy()
    forecast[(stage < 4) & (rng.random(D) < 0.06)] = 3  # open, left out of the forecast
    # line items
    lines = rng.choice([1, 2, 3], D, p=[0.4, 0.35, 0.25])
    missing = rng.random(D) < 0.02
    lines[missing] = 0
    line_deal = np.repeat(np.arange(D), lines)
    L = len(line_deal)
    line_position = np.arange(L) - np.repeat(np.cumsum(lines) - lines, lines)
    line_product = rng.choice(PRODUCTS, L, p=product_weight)
    line_quantity = np.maximum(1, np.round(rng.lognormal(np.log(8), 0.9, L) * size[deal_owner[line_deal]])).astype(
        np.int64
    )
    line_cents = product_price[line_product] * line_quantity
    deal_cents = np.bincount(line_deal, weights=line_cents, minlength=D).astype(np.int64)
    # stage history: entry k of n evenly from creation to the last change
    history_deal = np.repeat(np.arange(D), entries)
    H = len(history_deal)
    k = np.arange(H) - np.repeat(np.cumsum(entries) - entries, entries)
    span = (last_at - created)[history_deal]
    denominator = np.maximum(1, entries[history_deal] - 1)
    history_at = created[history_deal] + span * k // denominator
    history_stage = np.where(k <= reached[history_deal], k, stage[history_deal])

    stage_names, forecast_names = np.array(STAGES), np.array(FORECAST)
    with open(target / "deals.jsonl", "w", encoding="utf-8") as f:
        deal_ids = np.char.add("D", np.char.zfill(np.arange(1, D + 1).astype(str), 8)).tolist()
        account_ids = np.char.add("A", np.char.zfill((deal_account + 1).astype(str), 7)).tolist()
        owner_ids = (deal_owner + 1).astype(str).tolist()
        amounts = cents_text(deal_cents).tolist()
        created_text = iso_seconds(created).to_pylist()
        close_text = iso_days(close).tolist()
        stage_text, forecast_text = stage_names[stage].tolist(), forecast_names[forecast].tolist()
        probability = PROBABILITY[stage].tolist()
        state = np.where(won, "won", np.where(closed, "lost", "open")).tolist()
        product_ids = np.char.add("P", np.char.zfill((line_product + 1).astype(str), 4)).tolist()
        line_amounts = cents_text(line_cents).tolist()
        line_quantities = line_quantity.tolist()
        history_text = iso_seconds(history_at).to_pylist()
        history_names = stage_names[history_stage].tolist()
        line_start = (np.cumsum(lines) - lines).tolist()
        history_start = (np.cumsum(entries) - entries).tolist()
        lines_l, entries_l, missing_l, no_close_l = (
            lines.tolist(),
            entries.tolist(),
            missing.tolist(),
            no_close.tolist(),
        )
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        for i in range(D):
            a, b = line_start[i], history_start[i]
            row = {
                "external_id": deal_ids[i],
                "account": account_ids[i],
                "name": f"Deal {i + 1}",
                "owner": owner_ids[i],
                "amount": None if missing_l[i] else amounts[i],
                "stage": stage_text[i],
                "probability": probability[i],
                "forecast_category": forecast_text[i],
                "created_at": created_text[i],
                "close_date": None if no_close_l[i] else close_text[i],
                "state": state[i],
                "line_items": [
                    {"product": product_ids[j], "quantity": line_quantities[j], "amount": line_amounts[j]}
                    for j in range(a, a + lines_l[i])
                ],
                "stage_history": [
                    {"stage": history_names[j], "entered_at": history_text[j]} for j in range(b, b + entries_l[i])
                ],
            }
            f.write(dumps(row))
            f.write("\n")

    write_csv(
        target / "accounts.csv",
        {
            "external_id": ids("A", A, 7),
            "name": account_name,
            "industry": np.array(INDUSTRIES)[rng.integers(0, len(INDUSTRIES), A)],
            "country": np.array(COUNTRIES)[np.minimum(rng.geometric(0.25, A) - 1, len(COUNTRIES) - 1)],
            "owner": pa.array((account_owner + 1).astype(str), mask=account_owner < 0),
            "created_at": iso_seconds(account_created),
            "status": np.where(account_dormant, "dormant", "active"),
        },
    )

    # activities ---------------------------------------------------------------------------------------
    kind_of = rng.choice(5, X, p=[0.26, 0.32, 0.18, 0.14, 0.10])
    linked = rng.random(X)
    activity_deal = np.full(X, -1)
    activity_account = np.full(X, -1)
    with_deal = linked < 0.6
    activity_deal[with_deal] = rng.integers(0, D, with_deal.sum())
    activity_account[with_deal] = deal_account[activity_deal[with_deal]]
    with_account = (linked >= 0.6) & (linked < 0.9)
    activity_account[with_account] = rng.choice(A, with_account.sum(), p=account_weight / account_weight.sum())
    activity_owner = rng.choice(R, X, p=activity_weight * rep_weight / (activity_weight * rep_weight).sum())
    activity_owner[with_deal] = deal_owner[activity_deal[with_deal]]
    from_account = with_account & (account_owner[np.maximum(activity_account, 0)] >= 0) & (rng.random(X) < 0.8)
    activity_owner[from_account] = account_owner[activity_account[from_account]]
    lo = np.full(X, start)
    hi = np.full(X, as_of + DAY - 60)
    deal_of = activity_deal[with_deal]
    lo[with_deal] = np.maximum(start, created[deal_of])
    hi[with_deal] = np.where(closed[deal_of], last_at[deal_of], as_of + DAY - 60)
    hi = np.maximum(hi, lo + 1)
    occurred = lo + (rng.random(X) * (hi - lo)).astype(np.int64)
    completed = rng.random(X) < 0.93
    planned = ~completed & (rng.random(X) < 0.4)
    occurred[planned] = as_of + rng.integers(1, 30 * DAY, planned.sum())
    write_csv(
        target / "activities.csv",
        {
            "external_id": ids("X", X, 8),
            "kind": np.array(KINDS)[kind_of],
            "owner": (activity_owner + 1).astype(str),
            "account": pa.array(
                np.char.add("A", np.char.zfill((activity_account + 1).astype(str), 7)), mask=activity_account < 0
            ),
            "deal": pa.array(
                np.char.add("D", np.char.zfill((activity_deal + 1).astype(str), 8)), mask=activity_deal < 0
            ),
            "occurred_at": iso_seconds(occurred),
            "completed": np.where(completed, "true", "false"),
        },
    )

    # targets: a team row per month, a row per rep for each of the last REP_TARGET_MONTHS ---------------
    months = [date(2023 + (6 + m) // 12, (6 + m) % 12 + 1, 1) for m in range(TARGET_MONTHS)]
    monthly_won = deal_cents[won].sum() / 24
    monthly_created = deal_cents[closed].sum() / 24 / 0.7
    target_owner = [-1] * TARGET_MONTHS + [r for _ in range(REP_TARGET_MONTHS) for r in range(R)]
    target_month = months + [m for m in months[-REP_TARGET_MONTHS:] for _ in range(R)]
    expected_share = (rep_weight * win_rate * size) / (rep_weight * win_rate * size).sum()
    pipeline_share = (rep_weight * size) / (rep_weight * size).sum()
    quota = np.array(
        [round(monthly_won * 1.05, -5)] * TARGET_MONTHS
        + [round(monthly_won * 1.05 * s, -3) for _ in range(REP_TARGET_MONTHS) for s in expected_share]
    ).astype(np.int64)
    pipeline = np.array(
        [round(monthly_created * 1.1, -5)] * TARGET_MONTHS
        + [round(monthly_created * 1.1 * s, -3) for _ in range(REP_TARGET_MONTHS) for s in pipeline_share]
    ).astype(np.int64)
    owner_arr = np.array(target_owner)
    write_csv(
        target / "targets.csv",
        {
            "external_id": [
                f"T{m:%Y%m}-{'team' if o < 0 else o + 1}" for o, m in zip(target_owner, target_month, strict=True)
            ],
            "owner": pa.array((owner_arr + 1).astype(str), mask=owner_arr < 0),
            "month": [f"{m:%Y-%m}" for m in target_month],
            "pipeline_target": cents_text(pipeline),
            "revenue_quota": cents_text(quota),
        },
    )

    # the rows as columns, for the COPY reference (ids still external indices) -------------------------
    np.savez(
        target / "columns.npz",
        account_owner=account_owner, account_created=account_created, account_dormant=account_dormant,
        account_name=account_name,
        deal_account=deal_account, deal_owner=deal_owner, deal_cents=deal_cents, deal_missing=missing,
        deal_stage=stage, deal_forecast=forecast, deal_created=created, deal_close=close, deal_no_close=no_close,
        deal_won=won, deal_closed=closed,
        line_deal=line_deal, line_product=line_product, line_quantity=line_quantity, line_cents=line_cents,
        line_position=line_position,
        history_deal=history_deal, history_stage=history_stage, history_at=history_at,
        activity_kind=kind_of, activity_owner=activity_owner, activity_account=activity_account,
        activity_deal=activity_deal, activity_occurred=occurred, activity_completed=completed,
        target_owner=owner_arr, target_month=np.array([epoch(m) for m in target_month]),
        target_quota=quota, target_pipeline=pipeline,
    )  # fmt: skip
    meta = {
        **n,
        "scale": scale,
        "seed": seed,
        "line_items": int(L),
        "stage_changes": int(H),
        "targets": len(target_owner),
        "heaviest_account": f"A{heaviest + 1:07d}",
        "heaviest_account_deals": int((deal_account == heaviest).sum()),
        "as_of": AS_OF.isoformat(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    (target / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 100k accounts, 1M deals, 5M activities")
    parser.add_argument("--users", type=int, default=2000, help="CRM users of the bench workspace (ids 1 … N)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=DATA)
    args = parser.parse_args()
    target = generate(args.scale, args.users, args.seed, args.out)
    print(target / "meta.json")
    print((target / "meta.json").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
