"""``sales/adoption-outcome`` against a plain-Python recomputation from the raw records and events, on
random data in two workspaces (time zones with and without a DST change inside the period) that share
external ids: usage as DESIGN.md section 3 defines it (as ``tests/useranalysis/test_bruteforce.py``
recomputes the users table), results from the deals and activities themselves, Spearman through the
standard library's ranked correlation (an independent implementation), quartiles and feature shares
by their definitions (API.md "Adoption")."""

from __future__ import annotations

import math
import random
import statistics
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from events.models import CrmUser, Event, Feature
from records.models import Activity, Deal
from tenancy.models import Workspace
from tests.conftest import crm_records, crm_users, journeys

pytestmark = pytest.mark.django_db

START, END = date(2026, 10, 10), date(2026, 11, 5)  # Europe/Berlin leaves DST on Oct 25
PERIOD = {"start": START.isoformat(), "end": END.isoformat()}
TIMEOUT = timedelta(minutes=15)
FIGURES = ("attendance_days", "session_minutes", "features_used", "interactions")
FEATURES = [("Leads", "create"), ("Leads", "view"), ("Deals", "edit"), ("Reports", "view"), ("Calendar", "view"),
            ("Home", "logout")]  # fmt: skip


def dataset(workspace: Workspace, rng: random.Random) -> None:
    tz = workspace.tzinfo
    users = [f"u{n:02d}" for n in range(14)]
    crm_users(workspace, [{"external_id": u, "name": u.upper(), "country": rng.choice(["DE", "CN"])} for u in users])
    crm_records(workspace, "accounts", [
        {"external_id": f"A{n}", "name": f"Account {n}", "created_at": "2026-01-01", "deleted": n == 3}
        for n in range(4)
    ])  # fmt: skip

    def moment(first: date, last: date) -> datetime:
        day = first + timedelta(days=rng.randint(0, (last - first).days))
        return datetime(day.year, day.month, day.day, rng.randint(0, 23), rng.randint(0, 59), tzinfo=tz)

    deals = []
    for n in range(60):
        state = rng.choice(["won", "won", "won", "lost", "open"])
        close = moment(date(2026, 10, 5), date(2026, 11, 8)).date() if rng.random() < 0.9 else None
        deals.append({
            "external_id": f"D{n}", "account": f"A{rng.randrange(4)}", "name": f"Deal {n}",
            "owner": rng.choice([*users[:10], None]),
            "amount": rng.choice([None, rng.randint(0, 500), *[f"{rng.randint(0, 99999)}.{rng.randint(0, 99):02d}"] * 3]),
            "stage": "Stage", "created_at": moment(date(2026, 8, 1), date(2026, 10, 1)).isoformat(),
            "close_date": close.isoformat() if close else None, "state": state, "deleted": rng.random() < 0.1,
        })  # fmt: skip
    crm_records(workspace, "deals", deals)
    crm_records(workspace, "activities", [
        {"external_id": f"C{n}", "kind": rng.choice(["call", "email", "meeting"]), "owner": rng.choice(users[4:13]),
         "occurred_at": moment(date(2026, 10, 5), date(2026, 11, 10)).isoformat(),
         "completed": rng.random() < 0.8, "deleted": rng.random() < 0.1}
        for n in range(30)
    ])  # fmt: skip

    events = []
    for user in users[1:]:  # u00 never uses the CRM
        at = datetime(2026, 9, 25, 8, tzinfo=tz) + timedelta(hours=rng.uniform(0, 300))
        for _ in range(rng.randint(0, 60)):
            at += rng.choice(
                [timedelta(minutes=rng.uniform(0, 15)), timedelta(minutes=16), timedelta(hours=rng.uniform(1, 60))]
            )
            feature, action = rng.choice(FEATURES[: rng.randint(2, len(FEATURES))])
            events.append((user, at.isoformat(), feature, action))
    rng.shuffle(events)
    for first in range(0, len(events), 200):
        journeys(workspace, events[first : first + 200])


def brute(workspace: Workspace, country: str | None = None) -> dict:
    tz = ZoneInfo(workspace.timezone)
    users = {u.id: u for u in CrmUser.objects.filter(workspace=workspace)}
    visible = [
        d for d in Deal.objects.filter(workspace=workspace).select_related("account")
        if not d.deleted and not d.account.deleted
    ]  # fmt: skip
    counted = [a for a in Activity.objects.filter(workspace=workspace) if a.completed and not a.deleted]
    rep_ids = {d.owner_id for d in visible if d.owner_id} | {a.owner_id for a in counted}
    if country:
        rep_ids = {pk for pk in rep_ids if users[pk].country == country}
    keys = dict(Feature.objects.filter(workspace=workspace).values_list("id", "key"))
    events = list(Event.objects.filter(workspace=workspace).order_by("crm_user_id", "occurred_at", "id").values())
    day = lambda moment: moment.astimezone(tz).date()  # noqa: E731
    inside = lambda d: d is not None and START <= d <= END  # noqa: E731

    rows, used = [], {}
    for pk in rep_ids:
        mine = [e for e in events if e["crm_user_id"] == pk]
        current = [e for e in mine if inside(day(e["occurred_at"]))]
        sessions, last = [], None
        for e in mine:
            if last is None or e["occurred_at"] - last["occurred_at"] > TIMEOUT or last["action"] == "logout":
                sessions.append([e["occurred_at"], e["occurred_at"]])
            else:
                sessions[-1][1] = e["occurred_at"]
            last = e
        seconds = sum((b - a).total_seconds() for a, b in sessions if inside(day(a)))
        won = [d for d in visible if d.owner_id == pk and d.state == "won" and inside(d.close_date)]
        used[pk] = {keys[e["feature_id"]] for e in current}
        rows.append({
            "rep": users[pk].external_id,
            "attendance_days": len({day(e["occurred_at"]) for e in current}),
            "session_minutes": round(seconds / 60, 1),
            "features_used": len(used[pk]),
            "interactions": len(current),
            "revenue": sum(d.amount_cents or 0 for d in won),
            "deals_won": len(won),
            "activities": sum(1 for a in counted if a.owner_id == pk and inside(day(a.occurred_at))),
            "_id": pk,
        })  # fmt: skip
    rows.sort(key=lambda r: (-r["revenue"], r["rep"]))

    def rho(figure: str) -> float | None:
        if len(rows) < 3:
            return None
        try:
            value = statistics.correlation([r[figure] for r in rows], [r["revenue"] for r in rows], method="ranked")
        except statistics.StatisticsError:  # a constant series
            return None
        return round(value, 3) + 0.0

    n = len(rows)
    k = math.ceil(n / 4)
    top = [r for r in rows if r["revenue"] >= sorted((r["revenue"] for r in rows), reverse=True)[k - 1]] if n else []
    bottom = [r for r in rows if r["revenue"] <= sorted(r["revenue"] for r in rows)[k - 1]] if n else []
    features = []
    for key in sorted({key for r in top + bottom for key in used[r["_id"]]}):
        top_pct = round(sum(key in used[r["_id"]] for r in top) / len(top) * 100, 1)
        bottom_pct = round(sum(key in used[r["_id"]] for r in bottom) / len(bottom) * 100, 1)
        features.append({"feature": key, "top_pct": top_pct, "bottom_pct": bottom_pct,
                         "gap_pts": round(top_pct - bottom_pct, 1) + 0.0})  # fmt: skip
    features.sort(key=lambda f: (-f["gap_pts"], f["feature"]))
    money = lambda cents: f"{cents // 100}.{cents % 100:02d}"  # noqa: E731
    return {
        "reps": [{**{k: v for k, v in r.items() if k != "_id"}, "revenue": money(r["revenue"])} for r in rows],
        "spearman": {figure: rho(figure) for figure in FIGURES},
        "top_quartile": [{"rep": r["rep"]} for r in top],
        "bottom_quartile": [{"rep": r["rep"]} for r in bottom],
        "features": features,
    }


@pytest.mark.parametrize("seed", [11, 12])
def test_adoption_outcome_agrees_with_brute_force(make_workspace, member_client, seed):
    berlin = make_workspace("berlin", tz="Europe/Berlin")[0]
    shanghai = make_workspace("shanghai", tz="Asia/Shanghai")[0]
    dataset(berlin, random.Random(seed))
    dataset(shanghai, random.Random(seed + 100))
    for workspace in (berlin, shanghai):
        client = member_client(workspace, username=f"m-{workspace.slug}")
        for country in (None, "DE"):
            params = {**PERIOD, **({"country": country} if country else {})}
            body = client.get(f"/api/v1/workspaces/{workspace.slug}/sales/adoption-outcome", params).json()
            body.pop("period"), body.pop("currency")
            expected = brute(workspace, country)
            assert body == expected, (workspace.slug, country)
        # The data exercises what matters: several reps, revenue and no revenue, ties, correlations.
        full = brute(workspace)
        assert len(full["reps"]) >= 8
        assert any(r["revenue"] == "0.00" for r in full["reps"]) and full["reps"][0]["revenue"] != "0.00"
        assert any(v is not None for v in full["spearman"].values())
        assert full["features"]
