"""Every Sales endpoint against a plain-Python recomputation from the raw records (the batch items as
sent, re-sent changes applied), on random data in two workspaces that share external ids, in time
zones with and without DST. Seeded and small: a failure replays."""

from __future__ import annotations

import random
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from events.periods import change_pct
from records.names import duplicate_key
from tests.conftest import crm_records, crm_users
from tests.sales.builders import get

pytestmark = pytest.mark.django_db

USERS = ["r1", "r2", "r3", "r4", "r5", "u6"]  # u6 owns nothing but may own a deleted deal
NAMES = ["Acme Inc.", "ACME", "Beta 有限公司", "Beta", "Gamma GmbH", "Delta", "ＤＥＬＴＡ", "Omega", "Omega, Ltd."]
STAGES = ["Qualify", "Proposal", "Negotiation", "Review"]
CATEGORIES = ["pipeline", "best_case", "commit", "omitted"]
KINDS = ["call", "email", "meeting", "message", "task"]
COUNTED = ["call", "email", "meeting", "message"]


def cents(text: str | None) -> int | None:
    if text is None:
        return None
    whole, _dot, part = text.partition(".")
    return int(whole) * 100 + int(part.ljust(2, "0"))


def text(value: int | None) -> str | None:
    return None if value is None else f"{value // 100}.{value % 100:02d}"


def half_up(numerator: int, denominator: int) -> int:
    quotient, remainder = divmod(numerator, denominator)
    return quotient + (1 if 2 * remainder >= denominator else 0)


def rounded_pct(part: float, whole: float) -> float | None:
    return round(part / whole * 100, 1) if whole else None


# --- the records, generated and kept as sent -----------------------------------------------------------------


@dataclass
class Records:
    tz: zoneinfo.ZoneInfo
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    deals: dict[str, dict[str, Any]] = field(default_factory=dict)
    activities: dict[str, dict[str, Any]] = field(default_factory=dict)
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)

    def local(self, moment: str) -> date:
        return datetime.fromisoformat(moment).astimezone(self.tz).date()

    def visible(self) -> list[dict[str, Any]]:
        return [
            d for d in self.deals.values() if not d.get("deleted") and not self.accounts[d["account"]].get("deleted")
        ]

    def counted_activities(self) -> list[dict[str, Any]]:
        return [a for a in self.activities.values() if a.get("completed", True) and not a.get("deleted")]

    def reps(self) -> list[str]:
        owners = {d["owner"] for d in self.visible() if d["owner"]} | {a["owner"] for a in self.counted_activities()}
        return sorted(owners)


def moment(rng: random.Random, first: datetime, last: datetime) -> str:
    at = first + timedelta(seconds=rng.randrange(int((last - first).total_seconds())))
    offset = rng.choice([timedelta(hours=8), timedelta(0), timedelta(hours=-5)])
    return at.astimezone(timezone(offset)).isoformat()


def day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def amount(rng: random.Random) -> str | None:
    if rng.random() < 0.15:
        return None
    value = rng.choice([0, 1, 5, 50, 150]) if rng.random() < 0.3 else rng.randrange(0, 500_000)
    return text(value)


def generate(seed: int, tz: str) -> Records:
    rng = random.Random(seed)
    records = Records(zoneinfo.ZoneInfo(tz))
    start, end = datetime(2024, 12, 20, tzinfo=UTC), datetime(2025, 7, 10, tzinfo=UTC)
    for n in range(9):
        records.accounts[f"A{n}"] = {
            "external_id": f"A{n}", "name": NAMES[n], "created_at": "2024-01-01",
            "owner": None if rng.random() < 0.3 else rng.choice(USERS),
            "status": rng.choice(["active", "dormant"]), "deleted": rng.random() < 0.12,
        }  # fmt: skip
    for n in range(70):
        created = moment(rng, start, end)
        history = [
            {"stage": rng.choice(STAGES), "entered_at": moment(rng, start, end)}
            for _ in range(rng.choice([0, 0, 1, 2, 3]))
        ]
        records.deals[f"D{n:02d}"] = {
            "external_id": f"D{n:02d}", "account": f"A{rng.randrange(9)}", "name": f"Deal {n}",
            "owner": None if rng.random() < 0.1 else rng.choice(USERS[:5] + (["u6"] if n % 9 == 0 else [])),
            "amount": amount(rng), "stage": rng.choice(STAGES),
            "probability": rng.choice([0, 100, 10, 15, 33, 50, 67, 90, rng.randrange(101)]),
            "forecast_category": rng.choice(CATEGORIES), "created_at": created,
            "close_date": None if rng.random() < 0.15 else day(rng, date(2025, 1, 1), date(2025, 7, 31)).isoformat(),
            "state": rng.choice(["open", "open", "won", "lost"]), "stage_history": history,
            "deleted": (rng.random() < 0.08) or (n % 9 == 0 and rng.random() < 0.5),
        }  # fmt: skip
    deal_ids = list(records.deals)
    for n in range(120):
        records.activities[f"X{n:02d}"] = {
            "external_id": f"X{n:02d}", "kind": rng.choice(KINDS), "owner": rng.choice(USERS[:5]),
            "deal": rng.choice(deal_ids) if rng.random() < 0.7 else None,
            "occurred_at": moment(rng, datetime(2025, 4, 20, tzinfo=UTC), end),
            "completed": rng.random() < 0.8, "deleted": rng.random() < 0.1,
        }  # fmt: skip
    n = 0
    for month in range(1, 8):
        owners = ([None] if rng.random() < 0.5 else []) + rng.sample(USERS[:5], rng.randrange(4))
        for owner in owners:
            n += 1
            records.targets[f"T{n}"] = {
                "external_id": f"T{n}", "owner": owner, "month": f"2025-{month:02d}",
                "pipeline_target": None if rng.random() < 0.25 else text(rng.randrange(1, 2_000_000)),
                "revenue_quota": None if rng.random() < 0.25 else text(rng.randrange(1, 2_000_000)),
                "deleted": rng.random() < 0.1,
            }  # fmt: skip
    return records


def resend(rng: random.Random, records: Records) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Changes a CRM would send later (the last upsert decides): applied to the records kept here."""
    deals = []
    for external_id in rng.sample(sorted(records.deals), 8):
        change: dict[str, Any] = {"external_id": external_id}
        which = rng.choice(["state", "amount", "deleted", "close_date"])
        if which == "state":
            change["state"] = rng.choice(["open", "won", "lost"])
        elif which == "amount":
            change["amount"] = amount(rng)
        elif which == "deleted":
            change["deleted"] = not records.deals[external_id]["deleted"]
        else:
            change["close_date"] = day(rng, date(2025, 1, 1), date(2025, 7, 31)).isoformat()
        records.deals[external_id].update(change)
        deals.append(change)
    accounts = []
    for external_id in rng.sample(sorted(records.accounts), 2):
        change = {"external_id": external_id, "deleted": not records.accounts[external_id]["deleted"]}
        records.accounts[external_id].update(change)
        accounts.append(change)
    return deals, accounts


# --- the reference: each endpoint from the records -----------------------------------------------------------


def days_of(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def months_of(start: date, end: date) -> list[date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


def closed(records: Records, start: date, end: date) -> dict[str | None, list[int]]:
    """owner → [won, lost, revenue cents] of deals closing in start–end."""
    result: dict[str | None, list[int]] = defaultdict(lambda: [0, 0, 0])
    for d in records.visible():
        if d["close_date"] and start <= date.fromisoformat(d["close_date"]) <= end and d["state"] != "open":
            figures = result[d["owner"]]
            if d["state"] == "won":
                figures[0] += 1
                figures[2] += cents(d["amount"]) or 0
            else:
                figures[1] += 1
    return result


def union(records: Records, start: date, end: date, limit: int) -> dict[str, Any]:
    n = (end - start).days + 1
    before_start, before_end = start - timedelta(days=n), start - timedelta(days=1)
    now, before = closed(records, start, end), closed(records, before_start, before_end)
    won, lost, revenue = (sum(v[i] for v in now.values()) for i in range(3))
    won_b, lost_b, revenue_b = (sum(v[i] for v in before.values()) for i in range(3))
    rate = won / (won + lost) * 100 if won + lost else None
    rate_b = won_b / (won_b + lost_b) * 100 if won_b + lost_b else None
    average = revenue / won if won else None
    average_b = revenue_b / won_b if won_b else None

    def change(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else change_pct(a, b)

    top = sorted(
        (d for d in records.visible() if d["state"] == "won" and d["amount"] is not None and d["close_date"]
         and start <= date.fromisoformat(d["close_date"]) <= end),
        key=lambda d: (-cents(d["amount"]), d["external_id"]),  # type: ignore[operator]
    )[:limit]  # fmt: skip
    board = []
    for rep in records.reps():
        w, lost_, r = now.get(rep, [0, 0, 0])
        board.append(
            {"rep": rep, "revenue": text(r), "won": w, "lost": lost_, "win_rate_pct": rounded_pct(w, w + lost_)}
        )
    board.sort(key=lambda row: (-cents(row["revenue"]), row["rep"]))  # type: ignore[operator]
    open_total = sum(cents(d["amount"]) or 0 for d in records.visible() if d["state"] == "open")
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "previous": {"start": before_start.isoformat(), "end": before_end.isoformat()},
        "currency": "USD",
        "metrics": {
            "revenue": {"value": text(revenue), "previous": text(revenue_b), "change_pct": change(revenue, revenue_b)},
            "deals_won": {"value": won, "previous": won_b, "change_pct": change(won, won_b)},
            "win_rate_pct": {"value": None if rate is None else round(rate, 1),
                             "previous": None if rate_b is None else round(rate_b, 1), "change_pct": change(rate, rate_b)},
            "average_deal_size": {"value": text(half_up(revenue, won)) if won else None,
                                  "previous": text(half_up(revenue_b, won_b)) if won_b else None,
                                  "change_pct": change(average, average_b)},
            "open_pipeline": {"value": text(open_total), "previous": None, "change_pct": None},
        },
        "top_deals": [
            {"external_id": d["external_id"], "name": d["name"], "account": d["account"], "rep": d["owner"],
             "amount": d["amount"] and text(cents(d["amount"])), "close_date": d["close_date"]}
            for d in top
        ],
        "leaderboard": board,
    }  # fmt: skip


def activity(records: Records, start: date, end: date) -> dict[str, Any]:
    weeks, week = [], start - timedelta(days=start.weekday())
    while week <= end:
        weeks.append(week)
        week += timedelta(days=7)
    counts: dict[tuple[date, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTED, 0))
    for a in records.counted_activities():
        local = records.local(a["occurred_at"])
        if a["kind"] in COUNTED and start <= local <= end:
            counts[(local - timedelta(days=local.weekday()), a["owner"])][a["kind"]] += 1
    won = {rep: figures[0] for rep, figures in closed(records, start, end).items()}
    columns = {"call": "calls", "email": "emails", "meeting": "meetings", "message": "messages"}
    rows = [
        {"week_start": w.isoformat(), "rep": rep, **{columns[k]: counts[(w, rep)][k] for k in COUNTED}}
        for w in weeks
        for rep in records.reps()
    ]
    reps = []
    for rep in records.reps():
        totals = {columns[k]: sum(counts[(w, rep)][k] for w in weeks) for k in COUNTED}
        w = won.get(rep, 0)
        reps.append({"rep": rep, **totals, "won_deals": w,
                     "meetings_per_won_deal": round(totals["meetings"] / w, 2) if w else None})  # fmt: skip
    return {"rows": rows, "reps": reps}


def open_pipeline(records: Records, as_of: date, start: date | None, end: date | None) -> dict[str, Any]:
    deals = []
    for d in records.visible():
        close = date.fromisoformat(d["close_date"]) if d["close_date"] else None
        if d["state"] != "open":
            continue
        if (start or end) and close is None:
            continue
        if (start and close < start) or (end and close > end):  # type: ignore[operator]
            continue
        deals.append(d)
    stages: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for d in deals:
        figures = stages[d["stage"]]
        figures[0] += 1
        figures[1] += cents(d["amount"]) or 0
        figures[2] += (cents(d["amount"]) or 0) * d["probability"]
    by_stage = sorted(
        (
            {"stage": s, "deals": f[0], "amount": text(f[1]), "weighted": text(half_up(f[2], 100))}
            for s, f in stages.items()
        ),
        key=lambda row: (-cents(row["amount"]), row["stage"]),  # type: ignore[operator]
    )
    stuck, idle = [], []
    for d in deals:
        entered = max((datetime.fromisoformat(e["entered_at"]) for e in d["stage_history"]), default=None)
        entered = entered or datetime.fromisoformat(d["created_at"])
        days = (as_of - entered.astimezone(records.tz).date()).days
        base = {"external_id": d["external_id"], "name": d["name"], "account": d["account"], "rep": d["owner"]}
        if days > 30:
            stuck.append((entered, d["external_id"], {**base, "stage": d["stage"], "amount": text(cents(d["amount"])),
                                                      "days_in_stage": days}))  # fmt: skip
        dates = [
            records.local(a["occurred_at"])
            for a in records.counted_activities()
            if a["deal"] == d["external_id"] and records.local(a["occurred_at"]) <= as_of
        ]
        last = max(dates, default=None)
        if last is None or (as_of - last).days >= 14:
            key = (0 if last is None else 1, last or date.min, d["external_id"])
            idle.append((key, {**base, "amount": text(cents(d["amount"])),
                               "days_idle": None if last is None else (as_of - last).days}))  # fmt: skip
    stuck.sort(key=lambda item: (item[0], item[1]))
    idle.sort(key=lambda item: item[0])
    return {
        "as_of": as_of.isoformat(),
        "total": {"deals": len(deals), "amount": text(sum(cents(d["amount"]) or 0 for d in deals)),
                  "weighted": text(half_up(sum((cents(d["amount"]) or 0) * d["probability"] for d in deals), 100))},
        "by_stage": by_stage,
        "stuck": [row for _e, _i, row in stuck],
        "idle": [row for _k, row in idle],
        "truncated": {"stuck": False, "idle": False},
    }  # fmt: skip


def targets_of(records: Records, month: date, figure: str) -> tuple[int | None, dict[str, int]]:
    """The month's target (team rows, else Σ rep rows, else None) and each rep's, for one figure."""
    team, reps = None, {}
    for t in records.targets.values():
        if t.get("deleted") or t["month"] != month.strftime("%Y-%m") or t[figure] is None:
            continue
        if t["owner"] is None:
            team = (team or 0) + cents(t[figure])  # type: ignore[operator]
        else:
            reps[t["owner"]] = reps.get(t["owner"], 0) + cents(t[figure])  # type: ignore[operator]
    return (team if team is not None else (sum(reps.values()) if reps else None)), reps


def closing(records: Records, month: date, state: str) -> list[dict[str, Any]]:
    return [
        d for d in records.visible()
        if d["state"] == state and d["close_date"] and date.fromisoformat(d["close_date"]).replace(day=1) == month
    ]  # fmt: skip


def generation(records: Records, start: date, end: date) -> dict[str, Any]:
    months = months_of(start, end)
    created: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for d in records.visible():
        created[records.local(d["created_at"]).replace(day=1)].append(d)
    rows = []
    rep_targets: dict[str, list[int]] = defaultdict(list)
    for month in months:
        target, reps = targets_of(records, month, "pipeline_target")
        for rep, value in reps.items():
            rep_targets[rep].append(value)
        generated = sum(cents(d["amount"]) or 0 for d in created[month])
        rows.append({"month": month.isoformat(), "deals": len(created[month]), "generated": text(generated),
                     "target": text(target), "attainment_pct": None if target is None else rounded_pct(generated, target)})  # fmt: skip
    reps = []
    for rep in records.reps():
        mine = [d for m in months for d in created[m] if d["owner"] == rep]
        generated = sum(cents(d["amount"]) or 0 for d in mine)
        target = sum(rep_targets[rep]) if rep_targets[rep] else None
        reps.append({"rep": rep, "deals": len(mine), "generated": text(generated), "target": text(target),
                     "attainment_pct": None if target is None else rounded_pct(generated, target)})  # fmt: skip
    quotas = [q for q in (targets_of(records, m, "revenue_quota")[0] for m in months) if q is not None]
    quota = sum(quotas) if quotas else None
    won = sum(cents(d["amount"]) or 0 for m in months for d in closing(records, m, "won"))
    open_cents = sum(cents(d["amount"]) or 0 for m in months for d in closing(records, m, "open"))
    left = None if quota is None else quota - won
    return {"months": rows, "reps": reps, "coverage": {
        "quota": text(quota), "revenue": text(won), "open_pipeline": text(open_cents),
        "ratio": round(open_cents / left, 2) if left is not None and left > 0 else None}}  # fmt: skip


def forecast(records: Records, start: date, end: date) -> dict[str, Any]:
    result = []
    for month in months_of(start, end):
        won = sum(cents(d["amount"]) or 0 for d in closing(records, month, "won"))
        open_deals = closing(records, month, "open")
        weighted = half_up(sum((cents(d["amount"]) or 0) * d["probability"] for d in open_deals), 100)
        quota = targets_of(records, month, "revenue_quota")[0]
        categories = []
        for category in CATEGORIES:
            mine = [d for d in open_deals if d["forecast_category"] == category]
            categories.append({"category": category, "deals": len(mine),
                               "amount": text(sum(cents(d["amount"]) or 0 for d in mine)),
                               "weighted": text(half_up(sum((cents(d["amount"]) or 0) * d["probability"] for d in mine), 100))})  # fmt: skip
        result.append({"month": month.isoformat(), "won": text(won), "weighted_open": text(weighted),
                       "forecast": text(won + weighted), "quota": text(quota),
                       "quota_pct": None if quota is None else rounded_pct(won + weighted, quota),
                       "categories": categories})  # fmt: skip
    return {"months": result}


def clean_house(records: Records, as_of: date) -> dict[str, Any]:
    visible = sorted(records.visible(), key=lambda d: d["external_id"])

    def base(d: dict[str, Any]) -> dict[str, Any]:
        return {"external_id": d["external_id"], "name": d["name"], "account": d["account"], "rep": d["owner"]}

    past = sorted(
        (
            d
            for d in visible
            if d["state"] == "open" and d["close_date"] and date.fromisoformat(d["close_date"]) < as_of
        ),
        key=lambda d: (d["close_date"], d["external_id"]),
    )
    accounts = sorted((a for a in records.accounts.values() if not a.get("deleted")), key=lambda a: a["external_id"])
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for a in accounts:
        groups[duplicate_key(a["name"])].append({"external_id": a["external_id"], "name": a["name"]})
    duplicates = [{"key": k, "accounts": v} for k, v in sorted(groups.items()) if len(v) >= 2]

    def missing(d: dict[str, Any]) -> dict[str, Any]:
        return {**base(d), "state": d["state"], "close_date": d["close_date"], "amount": text(cents(d["amount"]))}

    lists = {
        "past_due": [{**base(d), "close_date": d["close_date"],
                      "days_past_due": (as_of - date.fromisoformat(d["close_date"])).days,
                      "amount": text(cents(d["amount"]))} for d in past],
        "missing_amount": [missing(d) for d in visible if d["amount"] is None],
        "missing_close_date": [missing(d) for d in visible if d["close_date"] is None],
        "ownerless_accounts": [{"external_id": a["external_id"], "name": a["name"]} for a in accounts if not a["owner"]],
        "duplicate_accounts": duplicates,
    }  # fmt: skip
    return {"as_of": as_of.isoformat(), **lists, "truncated": dict.fromkeys(lists, False)}


# --- the comparison ---------------------------------------------------------------------------------------------


def load(workspace: Any, records: Records, rng: random.Random) -> None:
    crm_users(workspace, [{"external_id": u} for u in USERS])
    crm_records(workspace, "accounts", list(records.accounts.values()))
    crm_records(workspace, "deals", list(records.deals.values()))
    crm_records(workspace, "activities", list(records.activities.values()))
    crm_records(workspace, "targets", list(records.targets.values()))
    deals, accounts = resend(rng, records)
    crm_records(workspace, "deals", deals)
    crm_records(workspace, "accounts", accounts)


@pytest.mark.parametrize("seed", [7, 19])
def test_every_endpoint_matches_the_records(make_workspace, member_client, seed):
    workspaces = []
    for n, tz in enumerate(("America/New_York", "Asia/Shanghai")):
        workspace = make_workspace(f"ws{seed}-{n}", tz=tz)[0]
        records = generate(seed * 10 + n, tz)
        load(workspace, records, random.Random(seed + n))
        workspaces.append((workspace, records))
    rng = random.Random(seed)
    client = member_client(None)
    for workspace, records in workspaces:
        client = member_client(workspace)
        for _round in range(3):
            first = day(rng, date(2025, 1, 1), date(2025, 6, 30))
            last = min(first + timedelta(days=rng.choice([0, 6, 30, 45, 89])), date(2025, 7, 31))
            period = {"start": first.isoformat(), "end": last.isoformat()}
            limit = rng.choice([1, 3, 10])
            assert get(client, workspace, "state-of-the-union", limit=limit, **period) == union(
                records, first, last, limit
            )
            assert get(client, workspace, "activity", **period) == activity(records, first, last)
            assert get(client, workspace, "pipeline-generation", **period) == generation(records, first, last)
            assert get(client, workspace, "forecast", **period) == forecast(records, first, last)
            as_of = day(rng, date(2025, 5, 15), date(2025, 7, 15))
            bounds = rng.choice([(None, None), (first, last), (first, None), (None, last)])
            params = {k: v.isoformat() for k, v in zip(("start", "end"), bounds, strict=True) if v}
            expected = open_pipeline(records, as_of, *bounds)
            assert get(client, workspace, "open-pipeline", as_of=as_of.isoformat(), **params) == expected
            assert get(client, workspace, "clean-house", as_of=as_of.isoformat()) == clean_house(records, as_of)
