"""Anomalies (docs/metrics.md#anomalies): the worked edge cases (a spike against a MAD of 1, a MAD of
0 with a mean deviation, a flat baseline, too short a baseline, missing days as 0, days before the
first event left out), the API and its CSV, and a recomputation from the raw events on random data.
Both backends."""

from __future__ import annotations

import csv
import io
import random
import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest

from behaviour.queries import AnomaliesQuery
from behaviour.selectors import anomalies
from events.models import Event, Feature
from events.periods import period_between
from tests.conftest import crm_users, journeys

pytestmark = pytest.mark.django_db


def at(day: int, n: int, month: int = 3) -> str:
    return datetime(2025, month, day, 8, n % 60, n // 60).isoformat() + "+00:00"


@pytest.fixture
def ws(make_workspace):
    workspace, _ = make_workspace("an", tz="UTC")
    events = []
    for day in range(1, 31):
        leads = {29: 40, 30: 11}.get(day, 10 if day % 2 else 12)  # 10, 12, 10, … then a spike
        events += [(f"u{n % 4}", at(day, n), "Leads", "view") for n in range(leads)]
        deals = 6 if day == 30 else 5  # flat, then one more
        events += [(f"u{n}", at(day, n), "Deals", "edit") for n in range(deals)]
        tasks = {10: 9, 29: 6}.get(day, 5)  # a MAD of 0, with one day apart
        events += [("u1", at(day, n), "Tasks", "view") for n in range(tasks)]
    events += [("u2", at(20, n), "Reports", "view") for n in range(3)]  # one day only: the others count 0
    journeys(workspace, events)
    return workspace


def found(workspace, start: date, end: date, **values) -> list[tuple]:
    query = AnomaliesQuery.over(workspace, period_between(start, end, workspace.tzinfo), **values)
    return [(a.date.day, a.feature, a.value, a.median, a.z, a.direction) for a in anomalies(query)]


def test_the_worked_edge_cases(ws) -> None:
    assert found(ws, date(2025, 3, 29), date(2025, 3, 30)) == [
        # median 11 of fourteen 10s and fourteen 12s; MAD 1: z = 0.6745 × 29 = 19.56
        (29, "Leads", 40, 11, 19.56, "spike"),
        # median 5, MAD 0, mean deviation 4/28: z = 1 / (1.253314 × 4/28) = 5.59
        (29, "Tasks", 6, 5, 5.59, "spike"),
        # a flat baseline of 5: no z, and any other value is an anomaly
        (30, "Deals", 6, 5, None, "spike"),
    ]
    # Reports used on March 20 only: its other days count 0, so that day stands out from a flat 0.
    assert (20, "Reports", 3, 0, None, "spike") in found(ws, date(2025, 3, 20), date(2025, 3, 20))
    # The first event was on March 1: March 7 has 6 baseline days (not judged), March 8 seven.
    early = found(ws, date(2025, 3, 1), date(2025, 3, 8), feature=Feature.objects.get(workspace=ws, key="Leads"))
    assert early == []  # 10, 12, … is its own normal
    judged_days = {
        a[0]
        for a in found(ws, date(2025, 3, 1), date(2025, 3, 10), feature=Feature.objects.get(workspace=ws, key="Tasks"))
    }
    assert judged_days == {10}  # the 9 on March 10 against a flat 5 (its first 7+ days of baseline)
    # The workspace total: 40 + 5 + 6 on March 29 against about 27.
    total = found(ws, date(2025, 3, 29), date(2025, 3, 29), feature="*")
    assert [(a[0], a[1], a[2], a[5]) for a in total] == [(29, None, 51, "spike")]


def test_the_api_and_its_csv(ws, member_client) -> None:
    client = member_client(ws)
    url = "/api/v1/workspaces/an/behaviour/anomalies"
    answer = client.get(url, {"start": "2025-03-29", "end": "2025-03-30"}).json()
    assert answer["anomalies"][0] == {
        "date": "2025-03-29",
        "feature": "Leads",
        "value": 40,
        "median": 11,
        "z": 19.56,
        "direction": "spike",
    }
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(url, {"start": "2025-03-29", "end": "2025-03-30", "format": "csv"}).content.decode())
        )
    )
    assert [r["feature"] for r in rows] == ["Leads", "Tasks", "Deals"] and rows[2]["z"] == ""
    total = client.get(url, {"start": "2025-03-29", "end": "2025-03-29", "feature": "*"}).json()["anomalies"]
    assert total[0]["feature"] is None
    for params, field in (({"metric": "clicks"}, "metric"), ({"feature": "Nope"}, "feature")):
        response = client.get(url, params)
        assert response.status_code == 400 and field in response.json()


def reference(
    workspace, start: date, end: date, metric: str, feature: str | None, countries: list[str] | None
) -> list[tuple]:
    """Daily values from the raw events, judged as docs/metrics.md#anomalies says."""
    tz = workspace.tzinfo
    every = Event.objects.filter(workspace=workspace).select_related("feature", "crm_user")
    first_day = min(e.occurred_at.astimezone(tz).date() for e in every)
    events = every.filter(crm_user__country__in=countries) if countries else every
    values: dict = defaultdict(lambda: defaultdict(set))
    for e in events:
        if metric == "failures" and e.outcome != "failure":
            continue
        key = None if feature == "*" else e.feature.key
        if feature not in (None, "*") and e.feature.key != feature:
            continue
        values[key][e.occurred_at.astimezone(tz).date()].add(e.crm_user_id if metric == "users" else e.id)
    result = []
    day = start
    while day <= end:
        for key, per_day in values.items():
            baseline = [
                len(per_day.get(day - timedelta(days=n), ()))
                for n in range(1, 29)
                if day - timedelta(days=n) >= first_day
            ]
            if len(baseline) < 7:
                continue
            x = len(per_day.get(day, ()))
            med = statistics.median(baseline)
            mad = statistics.median([abs(v - med) for v in baseline])
            mean = sum(abs(v - med) for v in baseline) / len(baseline)
            z = 0.6745 * (x - med) / mad if mad else ((x - med) / (1.253314 * mean) if mean else None)
            if (z is None and x != med) or (z is not None and abs(z) > 3.5):
                result.append(
                    (day, key, x, med, round(z, 2) if z is not None else None, "spike" if x > med else "drop")
                )
        day += timedelta(days=1)
    result.sort(key=lambda r: (r[0], -(abs(r[4]) if r[4] is not None else -1), r[1] or ""))
    return result


@pytest.mark.parametrize("seed", [8, 9])
def test_random_days_equal_a_recomputation_from_the_raw_events(make_workspace, seed: int) -> None:
    rng = random.Random(seed)
    workspace, _ = make_workspace("an", tz="America/New_York")
    crm_users(workspace, [{"external_id": f"u{n}", "country": ("CN", "US")[n % 2]} for n in range(10)])
    events = []
    for day in range(45):
        burst = rng.random() < 0.1
        for _ in range(rng.randint(0, 6) * (5 if burst else 1)):
            moment = datetime(2025, 10, 1, 12) + timedelta(days=day, minutes=rng.randrange(600))
            extra = {"outcome": "failure"} if rng.random() < (0.6 if burst else 0.1) else {}
            events.append(
                (f"u{rng.randrange(10)}", moment.isoformat() + "-04:00", rng.choice(["Leads", "Deals"]), "view", extra)
            )
    journeys(workspace, events)
    start, end = date(2025, 10, 20), date(2025, 11, 14)  # across the autumn change
    seen = 0
    for metric in ("events", "users", "failures"):
        for feature in (None, "*", "Leads"):
            for countries in (None, ["CN"]):
                value = Feature.objects.get(workspace=workspace, key=feature) if feature not in (None, "*") else feature
                query = AnomaliesQuery.over(
                    workspace, period_between(start, end, workspace.tzinfo), {"country": countries} if countries else {},
                    metric=metric, feature=value,
                )  # fmt: skip
                got = [(a.date, a.feature, a.value, a.median, a.z, a.direction) for a in anomalies(query)]
                assert got == reference(workspace, start, end, metric, feature, countries), (metric, feature, countries)
                seen += len(got)
    assert seen  # the data has anomalies to find


def test_the_page_and_its_chart(ws) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from tenancy.models import Membership

    user = get_user_model().objects.create_user("ana")
    Membership.objects.create(workspace=ws, user=user, role=Membership.Role.VIEWER)
    client = Client()
    client.force_login(user)
    params = {"start": "2025-03-29", "end": "2025-03-30"}
    page = client.get("/w/an/behaviour/anomalies/", params)
    assert page.status_code == 200
    assert [a.feature for a, _url in page.context["anomalies"]] == ["Leads", "Tasks", "Deals"]
    assert "feature=Leads" in page.context["anomalies"][0][1]
    chart = client.get("/w/an/charts/anomaly.json", {**params, "feature": "Leads"}).json()
    assert chart["labels"] == ["2025-03-29", "2025-03-30"]
    assert [d["data"] for d in chart["datasets"]] == [[40, 11], [11, 12], [40, None]]
    total = client.get("/w/an/charts/anomaly.json", params).json()  # no feature: the workspace total
    assert total["datasets"][0]["data"] == [51, 22]
    assert client.get("/w/an/behaviour/anomalies/", {"metric": "x"}).status_code == 400
