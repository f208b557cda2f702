"""The users endpoint and filter-set results agree with a brute-force computation over raw events."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from events.models import CrmUser, Event
from tests.conftest import crm_users, journeys

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Europe/Berlin")  # DST ends 2025-10-26, inside the data
AS_OF, DAYS = date(2025, 11, 10), 30
TIMEOUT = timedelta(minutes=15)


def dataset(workspace, rng):
    crm_users(
        workspace,
        [
            {
                "external_id": f"u{n:02d}",
                "country": rng.choice(["DE", "FR"]),
                "status": rng.choice(["active", "inactive"]),
            }
            for n in range(15)
        ],
    )
    events = []
    for n in range(14):
        moment = datetime(2025, 9, 1, 8, tzinfo=TZ) + timedelta(hours=rng.uniform(0, 500))
        for _ in range(rng.randint(5, 120)):
            moment += rng.choice(
                [timedelta(minutes=rng.uniform(0, 15)), timedelta(minutes=16), timedelta(hours=rng.uniform(1, 70))]
            )
            feature, action = rng.choice(
                [("Leads", "create"), ("Leads", "view"), ("Deals", "view"), ("Home", "logout")]
            )
            events.append((f"u{n:02d}", moment.isoformat(), feature, action))
    rng.shuffle(events)
    for start in range(0, len(events), 150):
        journeys(workspace, events[start : start + 150])


def brute(workspace):
    users = {u.id: u for u in CrmUser.objects.filter(workspace=workspace)}
    rows = list(Event.objects.filter(workspace=workspace).order_by("crm_user_id", "occurred_at", "id").values())
    start, prev_start = AS_OF - timedelta(days=DAYS - 1), AS_OF - timedelta(days=2 * DAYS - 1)
    end_utc = datetime.combine(AS_OF + timedelta(days=1), datetime.min.time(), tzinfo=TZ)
    day = lambda e: e["occurred_at"].astimezone(TZ).date()  # noqa: E731
    result = {}
    for uid, u in users.items():
        mine = [e for e in rows if e["crm_user_id"] == uid]
        cur = [e for e in mine if start <= day(e) <= AS_OF]
        prev_days = {day(e) for e in mine if prev_start <= day(e) < start}
        cur_days = {day(e) for e in cur}
        sessions, last = [], None
        for e in mine:
            if last is None or e["occurred_at"] - last["occurred_at"] > TIMEOUT or last["action"] == "logout":
                sessions.append([e["occurred_at"], e["occurred_at"]])
            else:
                sessions[-1][1] = e["occurred_at"]
            last = e
        in_period = [s for s in sessions if start <= s[0].astimezone(TZ).date() <= AS_OF]
        seen = [e["occurred_at"] for e in mine if e["occurred_at"] < end_utc]
        result[u.external_id] = {
            "attendance_days": len(cur_days),
            "attendance_change_pct": round((len(cur_days) - len(prev_days)) / len(prev_days) * 100, 1)
            if prev_days
            else None,
            "last_seen": max(seen).astimezone(TZ).isoformat() if seen else None,
            "session_count": len(in_period),
            "session_minutes": round(sum((b - a).total_seconds() for a, b in in_period) / 60, 1),
            "interactions": len(cur),
            "features_used": len({e["feature_id"] for e in cur}),
            "_leads_create": sum(
                1 for e in cur if e["feature_id"] == _feature(workspace, "Leads") and e["action"] == "create"
            ),
            "_country": u.country,
        }
    return result


def _feature(workspace, key):
    from events.models import Feature

    return Feature.objects.get(workspace=workspace, key=key).pk


@pytest.mark.parametrize("seed", [5, 6])
def test_users_and_filter_sets_agree_with_brute_force(make_workspace, member_client, seed):
    workspace = make_workspace("ws", tz="Europe/Berlin")[0]
    dataset(workspace, random.Random(seed))
    expected = brute(workspace)
    client = member_client(workspace, role="analyst")

    body = client.get("/api/v1/workspaces/ws/users", {"as_of": AS_OF, "days": DAYS, "page_size": 100}).json()
    got = {r["external_id"]: {k: r[k] for k in expected["u00"] if not k.startswith("_")} for r in body["results"]}
    assert got == {u: {k: v for k, v in row.items() if not k.startswith("_")} for u, row in expected.items()}

    conditions = {
        "activity": [
            {"metric": "session_minutes", "op": ">=", "value": 10},
            {"metric": "last_seen_days", "op": "<=", "value": 20},
        ],
        "features": [{"feature": "Leads", "action": "create", "min_count": 2}],
    }
    result = client.post(
        "/api/v1/workspaces/ws/filter-sets/query?as_of=2025-11-10&days=30",
        {"conditions": conditions, "group_by": "country"},
        format="json",
    ).json()

    def holds(row):
        if row["last_seen"] is None or row["session_minutes"] < 10:
            return False
        last_day = datetime.fromisoformat(row["last_seen"]).astimezone(TZ).date()
        return (AS_OF - last_day).days <= 20 and row["_leads_create"] >= 2

    want = sorted(u for u, row in expected.items() if holds(row))
    assert sorted(u["external_id"] for u in result["users"]) == want
    assert (result["total_users"], result["matched"]) == (len(expected), len(want))
    per_group = defaultdict(lambda: [0, 0])
    for row in expected.values():
        per_group[row["_country"]][1] += 1
        per_group[row["_country"]][0] += holds(row)
    assert {g["group"]: [g["matched"], g["total"]] for g in result["groups"]} == dict(per_group)
    assert 0 < len(want) < len(expected)  # the data exercises both outcomes
