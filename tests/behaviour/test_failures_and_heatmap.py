"""The Behaviour tab's failures and durations and its hour × weekday heatmap (docs/metrics.md#behaviour):
a hand-checked scenario through the selectors, the API (JSON and CSV), the chart JSON and the page;
bad parameters; two workspaces; and a brute-force count over random events in a DST zone. Both backends."""

from __future__ import annotations

import csv
import io
import math
import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from behaviour.queries import FailuresQuery, HeatmapQuery
from behaviour.selectors import failures_by_feature, hour_heatmap
from events.durations import bucket_of, bucket_value, nearest_rank
from events.models import Event, Feature
from events.periods import period_between
from tenancy.models import Membership
from tests.conftest import crm_users, journeys

pytestmark = pytest.mark.django_db

ZONE = "America/New_York"
BASE = "/api/v1/workspaces/ny"


def ok(duration: int, **extra) -> dict:
    return {"outcome": "success", "duration_ms": duration, **extra}


def failed(duration: int, code: str = "E1") -> dict:
    return {"outcome": "failure", "error_code": code, "duration_ms": duration}


@pytest.fixture
def ny(make_workspace):
    """Monday 2025-03-03 09:xx and Tuesday 14:xx, New York time; u3 is in the US, the others in China."""
    workspace, _ = make_workspace("ny", tz=ZONE)
    crm_users(workspace, [{"external_id": "u1", "country": "CN"}, {"external_id": "u2", "country": "CN"},
                          {"external_id": "u3", "country": "US"}])  # fmt: skip
    journeys(
        workspace,
        [
            ("u1", "2025-03-03T09:10:00-05:00", "Deals", "edit", ok(100)),
            ("u1", "2025-03-03T09:20:00-05:00", "Deals", "edit", failed(300)),
            ("u2", "2025-03-03T09:40:00-05:00", "Deals", "edit", {"duration_ms": 200}),  # outcome unknown
            ("u2", "2025-03-04T14:00:00-05:00", "Leads", "view", ok(50)),
            ("u3", "2025-03-04T14:30:00-05:00", "Deals", "edit", failed(1000, "E2")),
            ("u3", "2025-03-05T08:00:00-05:00", "Leads", "view"),  # nothing reported
        ],
    )
    other, _ = make_workspace("other", tz="UTC")
    journeys(other, [("x", "2025-03-03T14:10:00+00:00", "Deals", "edit", failed(10))])
    return workspace


def march(workspace, **values):
    return period_between(date(2025, 3, 1), date(2025, 3, 31), workspace.tzinfo), values


def rows_of(report) -> list[tuple]:
    return [
        (r.feature, r.action, r.events, r.known_outcome, r.failures, r.failure_rate_pct, r.median_duration_ms,
         r.p90_duration_ms)
        for r in report.features
    ]  # fmt: skip


def test_failures_and_durations_by_hand(ny) -> None:
    period = period_between(date(2025, 3, 1), date(2025, 3, 31), ny.tzinfo)
    report = failures_by_feature(FailuresQuery.over(ny, period))
    # Deals/edit: 4 events, 3 with an outcome, 2 failed (66.7 %); durations 100, 200, 300, 1000:
    # the median is the value at rank ⌈0.5·4⌉ = 2 (200), the 90th percentile at rank ⌈3.6⌉ = 4 (1000),
    # each read back from its histogram bucket.
    assert report.durations == "histogram"
    assert rows_of(report) == [
        ("Deals", "edit", 4, 3, 2, 66.7, bucket_value(bucket_of(200)), bucket_value(bucket_of(1000))),
        ("Leads", "view", 2, 1, 0, 0.0, 50, 50),
    ]
    assert abs(bucket_value(bucket_of(200)) - 200) <= 10 and abs(bucket_value(bucket_of(1000)) - 1000) <= 50
    # Filtered to the users in China: the raw events, exact durations 100, 200, 300.
    filtered = failures_by_feature(FailuresQuery.over(ny, period, {"country": ["CN"]}))
    assert filtered.durations == "exact"
    assert rows_of(filtered) == [("Deals", "edit", 3, 2, 1, 50.0, 200, 300), ("Leads", "view", 1, 1, 0, 0.0, 50, 50)]


def cells_with_events(cells) -> dict:
    return {(c.weekday, c.hour): (c.events, c.failures, c.failure_rate_pct) for c in cells if c.events}


def test_heatmap_by_hand(ny) -> None:
    period = period_between(date(2025, 3, 1), date(2025, 3, 31), ny.tzinfo)
    cells = hour_heatmap(HeatmapQuery.over(ny, period))
    assert (
        len(cells) == 168
        and (cells[0].weekday, cells[0].hour) == (1, 0)
        and (cells[-1].weekday, cells[-1].hour) == (7, 23)
    )
    # Monday 9h: 3 events, 2 with an outcome, 1 failed; Tuesday 14h: 2 events, both known, 1 failed.
    assert cells_with_events(cells) == {(1, 9): (3, 1, 50.0), (2, 14): (2, 1, 50.0), (3, 8): (1, 0, None)}
    leads = Feature.objects.get(workspace=ny, key="Leads")
    assert cells_with_events(hour_heatmap(HeatmapQuery.over(ny, period, feature=leads))) == {
        (2, 14): (1, 0, 0.0), (3, 8): (1, 0, None)
    }  # fmt: skip
    deals = Feature.objects.get(workspace=ny, key="Deals")
    query = HeatmapQuery.over(ny, period, {"country": ["US"]}, feature=deals, action="edit")
    assert cells_with_events(hour_heatmap(query)) == {(2, 14): (1, 1, 100.0)}


def test_the_repeated_hour_of_a_dst_fall_back_counts_in_its_hour(make_workspace) -> None:
    workspace, _ = make_workspace("ny", tz=ZONE)
    journeys(workspace, [
        ("u1", "2025-11-02T01:30:00-04:00", "Deals", "edit", failed(10)),  # EDT
        ("u1", "2025-11-02T01:30:00-05:00", "Deals", "edit", ok(10)),  # EST, an hour later
        ("u1", "2025-11-02T02:30:00-05:00", "Deals", "edit"),
    ])  # fmt: skip
    period = period_between(date(2025, 11, 2), date(2025, 11, 2), workspace.tzinfo)
    for filters in ({}, {"status": ["active"]}):  # the rollups, and the raw events
        cells = hour_heatmap(HeatmapQuery.over(workspace, period, filters))
        assert cells_with_events(cells) == {(7, 1): (2, 1, 50.0), (7, 2): (1, 0, None)}


@pytest.fixture
def reader(ny, member_client):
    return member_client(ny, role="viewer")


def test_the_api_and_its_csv_give_the_same_figures(ny, reader) -> None:
    answer = reader.get(f"{BASE}/behaviour/failures", {"start": "2025-03-01", "end": "2025-03-31"}).json()
    assert answer["durations"] == "histogram"
    assert answer["features"][0] == {
        "feature": "Deals", "action": "edit", "events": 4, "known_outcome": 3, "failures": 2, "failure_rate_pct": 66.7,
        "median_duration_ms": bucket_value(bucket_of(200)), "p90_duration_ms": bucket_value(bucket_of(1000)),
    }  # fmt: skip
    response = reader.get(f"{BASE}/behaviour/failures", {"start": "2025-03-01", "end": "2025-03-31", "format": "csv"})
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["feature"], r["action"], r["failures"], r["failure_rate_pct"]) for r in table] == [
        ("Deals", "edit", "2", "66.7"), ("Leads", "view", "0", "0.0")
    ]  # fmt: skip
    filtered = reader.get(f"{BASE}/behaviour/failures", {"start": "2025-03-01", "end": "2025-03-31", "country": "CN"})
    assert filtered.json()["durations"] == "exact" and filtered.json()["features"][0]["median_duration_ms"] == 200

    heatmap = reader.get(f"{BASE}/behaviour/heatmap", {"start": "2025-03-01", "end": "2025-03-31"}).json()["cells"]
    assert len(heatmap) == 168 and heatmap[9] == {
        "weekday": 1, "hour": 9, "events": 3, "failures": 1, "failure_rate_pct": 50.0
    }  # fmt: skip
    assert heatmap[0]["failure_rate_pct"] is None
    response = reader.get(
        f"{BASE}/behaviour/heatmap", {"start": "2025-03-01", "end": "2025-03-31", "feature": "Deals", "format": "csv"}
    )
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(table) == 168 and table[24 + 14] == {
        "weekday": "2", "hour": "14", "events": "1", "failures": "1", "failure_rate_pct": "100.0"
    }  # fmt: skip
    # An empty period: every cell, all zero; no feature row.
    empty = {"start": "2025-01-01", "end": "2025-01-31"}
    assert reader.get(f"{BASE}/behaviour/failures", empty).json() == {"features": [], "durations": "histogram"}
    assert {c["events"] for c in reader.get(f"{BASE}/behaviour/heatmap", empty).json()["cells"]} == {0}


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("behaviour/heatmap", {"action": "edit"}, "action"),
        ("behaviour/heatmap", {"feature": "Nope"}, "feature"),
        ("behaviour/heatmap", {"feature": "Deals", "action": "fly"}, "action"),
        ("behaviour/failures", {"start": "2025-03-31", "end": "2025-03-01"}, "start"),
        ("behaviour/failures", {"start": "2025-02-30"}, "start"),
        ("behaviour/heatmap", {"country": [f"X{n}" for n in range(101)]}, "country"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(reader, path: str, params: dict, field: str) -> None:
    response = reader.get(f"{BASE}/{path}", params)
    assert response.status_code == 400 and field in response.json(), response.json()


def test_another_workspace_is_not_found_and_never_counted(ny, member_client, make_workspace) -> None:
    stranger = member_client(None, username="stranger")
    assert stranger.get(f"{BASE}/behaviour/failures").status_code == 404
    assert stranger.get(f"{BASE}/behaviour/heatmap").status_code == 404
    from tenancy.models import Workspace

    other = Workspace.objects.get(slug="other")
    outsider = member_client(other, username="outsider")
    params = {"start": "2025-03-01", "end": "2025-03-31"}
    assert outsider.get(f"{BASE}/behaviour/failures", params).status_code == 404
    rows = outsider.get("/api/v1/workspaces/other/behaviour/failures", params).json()["features"]
    assert [(r["feature"], r["events"], r["failures"]) for r in rows] == [("Deals", 1, 1)]


def test_the_page_and_its_charts_show_the_same_figures(ny) -> None:
    user = get_user_model().objects.create_user("ana")
    Membership.objects.create(workspace=ny, user=user, role=Membership.Role.VIEWER)
    client = Client()
    client.force_login(user)
    params = {"start": "2025-03-01", "end": "2025-03-31"}
    page = client.get("/w/ny/behaviour/", params)
    assert page.status_code == 200
    html = page.content.decode()
    assert "66.7%" in html and "Failures and speed" in html and 'id="heatmap-chart"' in html
    assert page.context["failure_rows"][0].row.failures == 2
    chart = client.get("/w/ny/charts/failure-rate.json", params).json()
    assert chart["labels"] == ["Deals · edit"] and chart["datasets"][0]["data"] == [66.7]
    heatmap = client.get("/w/ny/charts/heatmap.json", {**params, "feature": "Deals"}).json()
    cells = {(c["y"], c["x"]): c["v"] for c in heatmap["datasets"][0]["data"] if c["v"]}
    assert cells == {("Mon", "9"): 3, ("Tue", "14"): 1}
    rates = client.get("/w/ny/charts/failure-heatmap.json", params).json()["datasets"][0]["data"]
    assert {(c["y"], c["x"]): c["v"] for c in rates if c["v"] is not None} == {("Mon", "9"): 50.0, ("Tue", "14"): 50.0}
    # A bad parameter: the page says so next to its field (400), the chart answers its errors (400).
    bad = client.get("/w/ny/behaviour/", {"action": "edit"})
    assert bad.status_code == 400 and "An action needs a feature." in bad.content.decode()
    assert client.get("/w/ny/charts/heatmap.json", {"feature": "Nope"}).json()["errors"]["feature"]
    # In Chinese.
    chinese = client.get("/w/ny/behaviour/", params, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.status_code == 200 and "失败与速度" in chinese.content.decode()
    assert (
        client.get("/w/ny/charts/heatmap.json", params, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["weekdays"][0] == "周一"
    )


# --- brute force ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [3, 4])
def test_random_events_in_a_dst_zone_equal_a_count_over_the_raw_events(make_workspace, seed: int) -> None:
    rng = random.Random(seed)
    workspace, _ = make_workspace("ny", tz=ZONE)
    crm_users(workspace, [{"external_id": f"u{n}", "country": ("CN", "US")[n % 2]} for n in range(8)])
    base = datetime(2025, 10, 27, tzinfo=UTC)  # the week of the autumn change, and the next
    events = []
    for _ in range(500):
        moment = base + timedelta(seconds=rng.randrange(14 * 86400))
        extra: dict = {}
        roll = rng.random()
        if roll < 0.5:
            extra["outcome"] = "success"
        elif roll < 0.7:
            extra = {"outcome": "failure", "error_code": "E"}
        if rng.random() < 0.8:
            extra["duration_ms"] = int(rng.lognormvariate(math.log(rng.choice([30, 800, 9000])), 1.0))
        events.append((f"u{rng.randrange(8)}", moment.isoformat(), rng.choice(["Leads", "Deals"]),
                       rng.choice(["view", "edit"]), extra))  # fmt: skip
    journeys(workspace, events)
    period = period_between(date(2025, 10, 28), date(2025, 11, 6), workspace.tzinfo)
    for filters in ({}, {"country": ["US"]}):
        raw = Event.objects.filter(
            workspace=workspace, occurred_at__gte=period.start_utc, occurred_at__lt=period.end_utc
        ).select_related("feature", "crm_user")
        if filters:
            raw = raw.filter(crm_user__country="US")
        # The heatmap, counted here.
        expected: dict = defaultdict(lambda: [0, 0, 0])
        for event in raw:
            local = event.occurred_at.astimezone(workspace.tzinfo)
            cell = expected[(local.isoweekday(), local.hour)]
            cell[0] += 1
            cell[1] += event.outcome != ""
            cell[2] += event.outcome == "failure"
        cells = hour_heatmap(HeatmapQuery.over(workspace, period, filters))
        assert {(c.weekday, c.hour): [c.events, c.outcomes, c.failures] for c in cells if c.events} == dict(expected)
        # The failures and durations, counted here: counts exact; durations exact when filtered,
        # within 5 % from the histograms otherwise.
        counts: dict = defaultdict(Counter)
        durations: dict = defaultdict(list)
        for event in raw:
            key = (event.feature.key, event.action)
            counts[key][event.outcome] += 1
            if event.duration_ms is not None:
                durations[key].append(event.duration_ms)
        report = failures_by_feature(FailuresQuery.over(workspace, period, filters))
        assert report.durations == ("exact" if filters else "histogram")
        assert {(r.feature, r.action): (r.events, r.known_outcome, r.failures) for r in report.features} == {
            key: (c.total(), c["success"] + c["failure"], c["failure"]) for key, c in counts.items()
        }
        assert [r.failures for r in report.features] == sorted((r.failures for r in report.features), reverse=True)
        for row in report.features:
            ordered = sorted(durations[(row.feature, row.action)])
            for value, q in ((row.median_duration_ms, 0.5), (row.p90_duration_ms, 0.9)):
                exact = ordered[nearest_rank(len(ordered), q) - 1]
                assert value == exact if filters else abs(value - exact) <= 0.05 * exact
