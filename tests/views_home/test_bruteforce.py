"""The Home numbers and the session rollups agree with a brute-force computation over raw events.

Random users (attributes, statuses, registration dates) and random events in a UTC+8 workspace,
clustered near local midnight and around the 15-minute gap, arrive in shuffled batches so that the
incremental refresh (late events re-opening old days) does the work. The reference below reads the
raw Event rows and applies docs/metrics.md directly, sharing no code with the rollups.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from events.models import CrmUser, Event, UserDay
from events.rollups import rollups_rebuild
from tests.conftest import crm_users, journeys

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
FEATURES = ["Leads", "Deals", "Calendar", "Reports"]
ACTIONS = ["view", "view", "create", "edit", "logout"]
COUNTRIES = ["CN", "IN", "US"]
FIRST_DAY = date(2025, 8, 1)


def random_dataset(rng: random.Random) -> tuple[list[dict], list[tuple]]:
    users = []
    for n in range(9):
        registered = FIRST_DAY + timedelta(days=rng.randint(-30, 80))
        users.append(
            {
                "external_id": f"user{n}",
                "email": f"user{n}@zylker.com",
                "country": rng.choice(COUNTRIES),
                "status": rng.choice(["active", "active", "inactive", "deactivated"]),
                "created_at": registered.isoformat() if n % 4 else "",
            }
        )
    events = []
    for user in users[:-1]:  # the last user never does anything
        moment = datetime(2025, 8, 1, tzinfo=TZ) + timedelta(hours=rng.uniform(0, 48))
        for _ in range(rng.randint(10, 90)):
            gap = rng.choice(
                [
                    timedelta(0),  # the same instant as the previous event
                    timedelta(minutes=rng.uniform(0, 14)),
                    timedelta(minutes=15),  # exactly the timeout
                    timedelta(minutes=15, seconds=1),
                    timedelta(hours=rng.uniform(0.3, 30)),
                    timedelta(days=rng.uniform(1, 6)),
                ]
            )
            moment += gap
            if rng.random() < 0.2:  # pull some events to just around local midnight
                moment = moment.replace(hour=23, minute=rng.randint(40, 59))
            events.append((user["external_id"], moment.isoformat(), rng.choice(FEATURES), rng.choice(ACTIONS)))
    return users, events


def brute_force(workspace, as_of: date, days: int, country: str | None = None) -> dict:
    users = {u.id: u for u in CrmUser.objects.filter(workspace=workspace)}
    if country:
        users = {k: u for k, u in users.items() if u.country == country}
    events = [
        (e["crm_user_id"], e["feature_id"], e["occurred_at"].astimezone(TZ).date())
        for e in Event.objects.filter(workspace=workspace).values("crm_user_id", "feature_id", "occurred_at")
        if e["crm_user_id"] in users
    ]

    def figures(start: date, end: date) -> dict:
        inside = [e for e in events if start <= e[2] <= end]
        active = {e[0] for e in inside}
        end_utc = datetime(end.year, end.month, end.day, tzinfo=TZ) + timedelta(days=1)
        inactive = [
            u
            for uid, u in users.items()
            if u.status != "deactivated" and (u.created_at is None or u.created_at < end_utc) and uid not in active
        ]
        return {
            "interactions": len(inside),
            "features_used": len({e[1] for e in inside}),
            "attendance_days": len({(e[0], e[2]) for e in inside}),
            "active_users": len(active),
            "inactive_users": len(inactive),
        }

    start = as_of - timedelta(days=days - 1)
    now, before = figures(start, as_of), figures(start - timedelta(days=days), start - timedelta(days=1))
    metrics = {
        k: {
            "value": now[k],
            "previous": before[k],
            "change_pct": round((now[k] - before[k]) / before[k] * 100, 1) if before[k] else None,
        }
        for k in now
    }
    monday = as_of - timedelta(days=as_of.weekday()) - timedelta(weeks=4)
    weeks = [
        {
            "week_start": (monday + timedelta(weeks=w)).isoformat(),
            "interactions": sum(
                1
                for e in events
                if monday + timedelta(weeks=w) <= e[2] <= min(monday + timedelta(weeks=w, days=6), as_of)
            ),
        }
        for w in range(5)
    ]
    calendar = [
        {"date": d.isoformat(), "active_users": len({e[0] for e in events if e[2] == d})}
        for d in (as_of - timedelta(days=34 - n) for n in range(35))
    ]
    per_user_events, per_user_days = defaultdict(int), defaultdict(set)
    for uid, _, day in events:
        if start <= day <= as_of:
            per_user_events[uid] += 1
            per_user_days[uid].add(day)

    def top(values):
        ranked = sorted(values.items(), key=lambda kv: (-kv[1], users[kv[0]].external_id))[:10]
        return [
            {"external_id": users[uid].external_id, "email": users[uid].email, "name": users[uid].name, "value": v}
            for uid, v in ranked
        ]

    return {
        "metrics": metrics,
        "weeks": weeks,
        "days": calendar,
        "top_interactions": top(per_user_events),
        "top_attendance": top({k: len(v) for k, v in per_user_days.items()}),
    }


def brute_force_sessions(workspace, timeout=timedelta(minutes=15)) -> dict:
    """(user id, local start day) → (sessions, seconds), by the rule of docs/metrics.md#sessions."""
    result: dict = defaultdict(lambda: [0, 0.0])
    rows = Event.objects.filter(workspace=workspace).order_by("crm_user_id", "occurred_at", "id")
    sessions = []
    previous = None
    for e in rows.values("crm_user_id", "occurred_at", "action"):
        new = (
            previous is None
            or previous["crm_user_id"] != e["crm_user_id"]
            or e["occurred_at"] - previous["occurred_at"] > timeout
            or previous["action"] == "logout"
        )
        if new:
            sessions.append([e["crm_user_id"], e["occurred_at"], e["occurred_at"]])
        else:
            sessions[-1][2] = e["occurred_at"]
        previous = e
    for uid, first, last in sessions:
        cell = result[(uid, first.astimezone(TZ).date())]
        cell[0] += 1
        cell[1] += (last - first).total_seconds()
    return {k: tuple(v) for k, v in result.items()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_home_endpoints_agree_with_brute_force(make_workspace, member_client, seed):
    rng = random.Random(seed)
    workspace = make_workspace("zylker", tz="Asia/Shanghai")[0]
    users, events = random_dataset(rng)
    crm_users(workspace, [{k: v for k, v in u.items() if v != ""} for u in users])
    rng.shuffle(events)
    for start in range(0, len(events), 40):  # shuffled batches: late events re-open old days
        journeys(workspace, events[start : start + 40])

    sessions = {
        (r.crm_user_id, r.day): (r.sessions, r.session_seconds)
        for r in UserDay.objects.filter(workspace=workspace)
        if r.sessions
    }
    assert sessions == brute_force_sessions(workspace)

    client = member_client(workspace)
    base = "/api/v1/workspaces/zylker/home/"
    for as_of, days, country in [
        (date(2025, 9, 15), 30, None),
        (date(2025, 10, 20), 7, None),
        (date(2025, 9, 1), 14, "CN"),
    ]:
        expected = brute_force(workspace, as_of, days, country)
        params = {"as_of": as_of.isoformat(), "days": days, **({"country": country} if country else {})}
        assert client.get(base + "summary", params).json()["metrics"] == expected["metrics"]
        assert client.get(base + "weekly-interactions", params).json()["weeks"] == expected["weeks"]
        assert client.get(base + "attendance-calendar", params).json()["days"] == expected["days"]
        top = client.get(base + "top-users", params).json()["users"]
        assert top == expected["top_interactions"]
        top = client.get(base + "top-users", {**params, "by": "attendance"}).json()["users"]
        assert top == expected["top_attendance"]

    before = sorted(
        UserDay.objects.filter(workspace=workspace).values_list(
            "day", "crm_user_id", "events", "sessions", "session_seconds"
        )
    )
    rollups_rebuild(workspace=workspace)
    after = sorted(
        UserDay.objects.filter(workspace=workspace).values_list(
            "day", "crm_user_id", "events", "sessions", "session_seconds"
        )
    )
    assert after == before
