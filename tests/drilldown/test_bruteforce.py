"""The users behind a figure agree with users found naively from the raw events, on seeded random
data in a workspace with a change of offset (America/New_York): trends (every interval, an action,
group-by, a user filter), retention (first-time and recurring cohorts, by week and month) and funnels
(against tests/funnels/reference.py). And their number is the figure."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from events.models import Event
from events.periods import Interval, bucket_start, next_bucket
from tests.conftest import crm_users, journeys
from tests.funnels.reference import reference_people
from tests.funnels.test_growup_bruteforce import SEASONS, random_spec
from tests.funnels.test_growup_bruteforce import random_workspace as random_funnel_workspace

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("America/New_York")
FEATURES = {"Leads": ["view", "create"], "Deals": ["view", "edit"]}
START, END = date(2025, 10, 6), date(2025, 11, 23)  # the fall-back of Nov 2 inside


def load(make_workspace, rng: random.Random):
    workspace = make_workspace(tz="America/New_York")[0]
    crm_users(workspace, [{"external_id": f"u{n}", "country": rng.choice(["CN", "US"])} for n in range(10)])
    events = []
    first = datetime(2025, 9, 20, tzinfo=TZ)
    for _ in range(160):
        feature = rng.choice(list(FEATURES))
        moment = first + timedelta(minutes=rng.randint(0, 75 * 24 * 60))
        if rng.random() < 0.2:
            moment = moment.replace(hour=23, minute=59)
        events.append((f"u{rng.randrange(10)}", moment.isoformat(), feature, rng.choice(FEATURES[feature])))
    journeys(workspace, events)
    return workspace


def raw(workspace):
    return [
        (e.crm_user.external_id, e.crm_user.country, e.feature.key, e.action, e.occurred_at.astimezone(TZ).date())
        for e in Event.objects.filter(workspace=workspace).select_related("crm_user", "feature")
    ]


def drill(client, slug, endpoint, **params):
    response = client.get(f"/api/v1/workspaces/{slug}/{endpoint}", {**params, "page_size": 500})
    assert response.status_code == 200, response.content
    body = response.json()
    ids = [r["external_id"] for r in body["results"]]
    assert body["count"] == len(ids)
    return ids


@pytest.mark.parametrize("seed", range(3))
def test_trends_points(make_workspace, member_client, seed):
    rng = random.Random(seed)
    workspace = load(make_workspace, rng)
    client = member_client(workspace)
    events = raw(workspace)
    for interval in ("day", "week", "month"):
        for group_by, action, country in (("", "", ""), ("country", "", ""), ("", "view", ""), ("", "", "CN")):
            params = {"feature": "Leads", "measure": "users", "interval": interval, "start": START, "end": END}
            params |= {k: v for k, v in (("group_by", group_by), ("action", action), ("country", country)) if v}
            answer = client.get(f"/api/v1/workspaces/{workspace.slug}/trends", params).json()
            expected: dict[tuple[str | None, date], set[str]] = defaultdict(set)
            for user, user_country, feature, event_action, day in events:
                if feature != "Leads" or not START <= day <= END or (action and event_action != action):
                    continue
                if country and user_country != country:
                    continue
                expected[(user_country if group_by else None, bucket_start(day, Interval(interval)))].add(user)
            for series in answer["series"]:
                points = [p for p in series["points"] if p["value"]] + rng.sample(series["points"], 2)
                for point in points:
                    extra = {"people_group": series["group"]} if group_by else {}
                    ids = drill(client, workspace.slug, "trends", **params, people=point["bucket"], **extra)
                    want = sorted(expected[(series["group"], date.fromisoformat(point["bucket"]))])
                    assert ids == want, (params, series["group"], point)
                    assert len(ids) == point["value"]


def shift(bucket: date, interval: Interval, k: int) -> date:
    for _ in range(k):
        bucket = next_bucket(bucket, interval)
    return bucket


@pytest.mark.parametrize("seed", range(3))
def test_retention_cells(make_workspace, member_client, seed):
    rng = random.Random(100 + seed)
    workspace = load(make_workspace, rng)
    client = member_client(workspace)
    days: dict[str, set[date]] = defaultdict(set)
    for user, _country, _feature, _action, day in raw(workspace):
        days[user].add(day)
    for interval, mode in (("week", "first_time"), ("week", "recurring"), ("month", "first_time")):
        step = Interval(interval)
        params = {"interval": interval, "mode": mode, "periods": 4, "start": START, "end": END}
        answer = client.get(f"/api/v1/workspaces/{workspace.slug}/behaviour/retention", params).json()
        assert answer["cohorts"]
        for cohort in answer["cohorts"]:
            start = date.fromisoformat(cohort["start"])
            if mode == "first_time":
                members = {u for u, d in days.items() if bucket_start(min(d), step) == start}
            else:
                members = {u for u, d in days.items() if any(bucket_start(x, step) == start for x in d)}
            for value in cohort["values"]:
                if value["users"] is None:
                    continue
                target = shift(start, step, value["offset"])
                want = {
                    u for u in members if value["offset"] == 0 or any(bucket_start(x, step) == target for x in days[u])
                }
                ids = drill(
                    client,
                    workspace.slug,
                    "behaviour/retention",
                    **params,
                    people=f"{cohort['start']}:{value['offset']}",
                )
                assert ids == sorted(want), (params, cohort["start"], value)
                assert len(ids) == value["users"]


@pytest.mark.parametrize("season", SEASONS)
@pytest.mark.parametrize("seed", range(3))
def test_funnel_steps(make_workspace, member_client, season, seed):
    rng = random.Random(f"drill-{season}-{seed}")
    workspace = random_funnel_workspace(make_workspace, rng, season)
    client = member_client(workspace)
    start, end = SEASONS[season]
    for order in ("ordered", "strict", "any"):
        spec = {**random_spec(rng, order), "unit": "user", "breakdown": ""}
        body = {**spec, "start": start.isoformat(), "end": end.isoformat(), "filters": spec["filters"] or {}}
        body["exclusions"] = [{**x, "between": list(x["between"])} for x in spec["exclusions"]]
        url = f"/api/v1/workspaces/{workspace.slug}/funnels/query"
        steps = client.post(url, body, format="json").json()["steps"]
        for step in range(1, len(spec["steps"]) + 1):
            for status in ("reached", "dropped") if step > 1 else ("reached",):
                answer = client.post(f"{url}?page_size=1000", {**body, "people": f"{step}:{status}"}, format="json")
                assert answer.status_code == 200, answer.content
                ids = [r["external_id"] for r in answer.json()["results"]]
                want = reference_people(workspace=workspace, start=start, end=end, step=step, status=status, **spec)
                assert ids == [unit for unit, _level in want], (spec, step, status)
                figure = (
                    steps[step - 1]["count"]
                    if status == "reached"
                    else steps[step - 2]["count"] - steps[step - 1]["count"]
                )
                assert answer.json()["count"] == figure
