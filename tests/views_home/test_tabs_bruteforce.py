"""activity/features, trends (every interval, both measures, group-by) and hub/* agree with a
brute-force computation over the raw events on randomized data in a UTC−5/−4 (DST) workspace."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from events.models import CrmUser, Event
from tests.conftest import crm_users, journeys

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("America/New_York")  # DST ends on 2025-11-02 inside the data
FEATURES = {"Leads": ["view", "create", "convert"], "Deals": ["view", "edit"], "Calendar": ["view"]}
DETAILS = ["", "kanban_view", "list_view"]


def load(workspace, rng):
    crm_users(
        workspace,
        [
            {"external_id": f"u{n}", "country": rng.choice(["CN", "US", ""]), "language": rng.choice(["en", "zh"])}
            for n in range(12)
        ],
    )
    events = []
    start = datetime(2025, 9, 1, tzinfo=TZ)
    for _ in range(700):
        feature = rng.choice(list(FEATURES))
        moment = start + timedelta(minutes=rng.randint(0, 100 * 24 * 60))
        if rng.random() < 0.15:
            moment = moment.replace(hour=23, minute=59)
        user = f"u{min(int(rng.paretovariate(1.0)) - 1, 11)}"
        events.append((user, moment.isoformat(), feature, rng.choice(FEATURES[feature]), rng.choice(DETAILS)))
    rng.shuffle(events)
    for n in range(0, len(events), 100):
        journeys(workspace, events[n : n + 100])


def raw(workspace):
    users = {u.id: u for u in CrmUser.objects.filter(workspace=workspace)}
    return [
        {
            "user": users[e["crm_user_id"]],
            "feature": e["feature__key"],
            "action": e["action"],
            "detail": e["detail"],
            "day": e["occurred_at"].astimezone(TZ).date(),
        }
        for e in Event.objects.filter(workspace=workspace).values(
            "crm_user_id", "feature__key", "action", "detail", "occurred_at"
        )
    ]


def bucket(day: date, interval: str) -> date:
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def all_buckets(start: date, end: date, interval: str) -> list[str]:
    seen, day = [], start
    while day <= end:
        if bucket(day, interval) not in seen:
            seen.append(bucket(day, interval))
        day += timedelta(days=1)
    return [b.isoformat() for b in seen]


@pytest.mark.parametrize("seed", [11, 12])
def test_tab_endpoints_agree_with_brute_force(make_workspace, member_client, seed):
    rng = random.Random(seed)
    workspace = make_workspace("zylker", tz="America/New_York")[0]
    load(workspace, rng)
    events = raw(workspace)
    client = member_client(workspace)

    def get(endpoint, **params):
        response = client.get(f"/api/v1/workspaces/zylker/{endpoint}", params)
        assert response.status_code == 200, response.content
        return response.json()

    # activity/features
    as_of, days = date(2025, 11, 5), 45
    first = as_of - timedelta(days=days - 1)
    per = defaultdict(lambda: defaultdict(int))
    for e in events:
        if first <= e["day"] <= as_of:
            per[e["feature"]][e["day"]] += 1
    expected = sorted(
        (
            {
                "feature": f,
                "interactions": sum(c.values()),
                "series": [
                    {
                        "date": (first + timedelta(days=i)).isoformat(),
                        "interactions": c.get(first + timedelta(days=i), 0),
                    }
                    for i in range(days)
                ],
            }
            for f, c in per.items()
        ),
        key=lambda x: (-x["interactions"], x["feature"]),
    )
    assert get("activity/features", as_of=as_of.isoformat(), days=days)["features"] == expected

    # trends: every interval and measure, with and without group-by, narrowed or not
    start, end = date(2025, 9, 10), date(2025, 11, 20)
    for interval in ("day", "week", "month"):
        for measure in ("events", "users"):
            for group_by in (None, "country"):
                for action, detail in (("", ""), ("view", ""), ("view", "kanban_view")):
                    chosen = [
                        e
                        for e in events
                        if e["feature"] == "Leads"
                        and start <= e["day"] <= end
                        and (not action or e["action"] == action)
                        and (not detail or e["detail"] == detail)
                    ]
                    kind = set if measure == "users" else list
                    cells = defaultdict(lambda kind=kind: defaultdict(kind))
                    for e in chosen:
                        group = e["user"].country if group_by else None
                        key = bucket(e["day"], interval).isoformat()
                        if measure == "users":
                            cells[group][key].add(e["user"].pk)
                        else:
                            cells[group][key].append(1)
                    if not group_by:
                        cells.setdefault(None, defaultdict(list))
                    buckets = all_buckets(start, end, interval)
                    want = {g: [(b, len(c.get(b, ()))) for b in buckets] for g, c in cells.items()}
                    params = {"feature": "Leads", "start": start, "end": end, "interval": interval, "measure": measure}
                    params.update(
                        {k: v for k, v in (("action", action), ("detail", detail), ("group_by", group_by)) if v}
                    )
                    body = get("trends", **params)
                    got = {s["group"]: [(p["bucket"], p["value"]) for p in s["points"]] for s in body["series"]}
                    assert got == want, (interval, measure, group_by, action, detail)

    # hub/popularity: over periods that cut months and over whole calendar months (their own
    # precomputed rows), for everyone and for the users of one country
    for first, last in ((start, end), (date(2025, 10, 1), date(2025, 10, 31)), (date(2025, 11, 1), date(2025, 11, 30))):
        for country in (None, "CN"):
            users, counts = defaultdict(set), defaultdict(int)
            for e in events:
                if first <= e["day"] <= last and country in (None, e["user"].country):
                    users[e["feature"]].add(e["user"].pk)
                    counts[e["feature"]] += 1
            popularity = sorted(
                ({"feature": f, "users": len(users[f]), "interactions": counts[f]} for f in users),
                key=lambda p: (-p["users"], -p["interactions"], p["feature"]),
            )
            params = {"start": first, "end": last, **({"country": country} if country else {})}
            assert get("hub/popularity", **params)["features"] == popularity, (first, last, country)

    # hub/frequency
    inside = [e for e in events if start <= e["day"] <= end]
    per_user = defaultdict(int)
    for e in inside:
        if e["feature"] == "Leads":
            per_user[e["user"].pk] += 1
    for bounds in ((1, 11, 101), (1, 3, 7, 20), (5,)):
        want = []
        for i, low in enumerate(bounds):
            high = bounds[i + 1] - 1 if i + 1 < len(bounds) else None
            want.append(
                {
                    "min": low,
                    "max": high,
                    "users": sum(1 for n in per_user.values() if n >= low and (high is None or n <= high)),
                }
            )
        body = get("hub/frequency", feature="Leads", start=start, end=end, buckets=",".join(map(str, bounds)))
        assert body["buckets"] == want
