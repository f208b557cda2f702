"""Retention, lifecycle and stickiness (docs/metrics.md#retention and after): a hand-checked scenario
(the worked examples of the docs), through the API and its CSV; the intervals after today; bad
parameters; and a brute-force recomputation from the raw events on random data in a DST zone
(Europe/Berlin around its spring change). Both backends."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from fractions import Fraction

import pytest

from behaviour.queries import LifecycleQuery, RetentionQuery, StickinessQuery, event_spec
from behaviour.selectors import lifecycle, retention, stickiness
from events.models import Event
from events.periods import Interval, bucket_start, next_bucket, period_between
from tests.conftest import crm_users, journeys

pytestmark = pytest.mark.django_db

BASE = "/api/v1/workspaces/be/behaviour"


@pytest.fixture
def be(make_workspace):
    """Weeks W1 = Mar 3, W2 = Mar 10, W3 = Mar 17, W4 = Mar 24 (2025), Berlin time; a and b in China."""
    workspace, _ = make_workspace("be", tz="Europe/Berlin")
    crm_users(workspace, [{"external_id": u, "country": "CN" if u in "ab" else "US"} for u in "abcde"])
    journeys(
        workspace,
        [
            ("a", "2025-03-03T10:00:00+01:00", "Leads", "view"),
            ("a", "2025-03-11T10:00:00+01:00", "Deals", "edit"),
            ("a", "2025-03-25T10:00:00+01:00", "Leads", "view"),
            ("b", "2025-03-04T10:00:00+01:00", "Leads", "view"),
            ("b", "2025-03-19T10:00:00+01:00", "Deals", "edit"),
            ("c", "2025-02-20T10:00:00+01:00", "Leads", "view"),
            ("c", "2025-03-12T10:00:00+01:00", "Leads", "view"),
            ("d", "2025-03-18T10:00:00+01:00", "Leads", "view"),
            ("d", "2025-03-19T10:00:00+01:00", "Leads", "view"),
            ("e", "2025-03-05T10:00:00+01:00", "Leads", "view"),
            ("e", "2025-03-06T23:30:00+01:00", "Leads", "view"),
        ],
    )
    other, _ = make_workspace("other")
    journeys(other, [("a", "2025-03-12T10:00:00+00:00", "Leads", "view")])
    return workspace


def march(workspace, first=date(2025, 3, 3), last=date(2025, 3, 23)):
    return period_between(first, last, workspace.tzinfo)


def table(cohorts) -> list[tuple]:
    return [(c.start.isoformat(), c.size, [(v.users, v.pct) for v in c.values]) for c in cohorts]


def test_retention_by_hand(be) -> None:
    query = RetentionQuery.over(be, march(be), periods=4)
    assert table(retention(query)) == [
        ("2025-03-03", 3, [(3, 100.0), (1, 33.3), (1, 33.3), (1, 33.3)]),  # a, b, e: a in W2, b in W3, a in W4
        ("2025-03-10", 0, [(0, None), (0, None), (0, None), (0, None)]),  # c started in February
        ("2025-03-17", 1, [(1, 100.0), (0, 0.0), (0, 0.0), (0, 0.0)]),  # d
    ]
    recurring = RetentionQuery.over(be, march(be), periods=3, mode="recurring")
    assert table(retention(recurring))[1] == ("2025-03-10", 2, [(2, 100.0), (0, 0.0), (1, 50.0)])  # a, c
    deals = RetentionQuery.over(
        be, march(be), periods=4, start_event=event_spec(be, "Leads", "start_event"),
        return_event=event_spec(be, "Deals/edit", "return_event"),
    )  # fmt: skip
    assert table(retention(deals))[0] == ("2025-03-03", 3, [(3, 100.0), (1, 33.3), (1, 33.3), (0, 0.0)])
    china = RetentionQuery.over(be, march(be), {"country": ["CN"]}, periods=3)
    assert table(retention(china))[0] == ("2025-03-03", 2, [(2, 100.0), (1, 50.0), (1, 50.0)])


def test_lifecycle_by_hand(be) -> None:
    buckets = lifecycle(LifecycleQuery.over(be, march(be)))
    assert [(b.bucket.isoformat(), b.new, b.returning, b.resurrecting, b.dormant) for b in buckets] == [
        ("2025-03-03", 3, 0, 0, 0),
        ("2025-03-10", 0, 1, 1, 2),  # a returns, c comes back after February, b and e go quiet
        ("2025-03-17", 1, 0, 1, 2),  # d is new, b comes back, a and c go quiet
    ]


def test_stickiness_by_hand(be) -> None:
    result = stickiness(StickinessQuery.over(be, march(be, date(2025, 3, 3), date(2025, 3, 9))))
    assert result.days == 7 and result.counts == [(1, 2), (2, 1), (3, 0), (4, 0), (5, 0), (6, 0), (7, 0)]
    # DAU/MAU per day: 1/2 (a; a and c, active Feb 20), 1/3, 1/4, 1/4, then 0/4 three times: the mean
    # is 4/21 = 19.0 %.
    assert result.dau_mau == 19.0
    empty = stickiness(StickinessQuery.over(be, march(be, date(2024, 1, 1), date(2024, 1, 7))))
    assert empty.dau_mau is None and all(users == 0 for _, users in empty.counts)


def test_intervals_after_today_are_null(make_workspace) -> None:
    workspace, _ = make_workspace("now", tz="Asia/Shanghai")
    today = workspace.today()
    journeys(
        workspace,
        [
            (
                "u1",
                datetime.combine(today - timedelta(days=1), datetime.min.time(), tzinfo=workspace.tzinfo)
                + timedelta(hours=12),
                "Leads",
                "view",
            )
        ],
    )
    cohorts = retention(
        RetentionQuery.over(workspace, period_between(today - timedelta(days=13), today, workspace.tzinfo))
    )
    last = cohorts[-1]
    assert last.values[0].users is not None
    for value in last.values[1:]:
        assert (value.users, value.pct) == (None, None)  # every later week starts after today


def test_the_api_and_its_csv(be, member_client) -> None:
    client = member_client(be)
    params = {"start": "2025-03-03", "end": "2025-03-23"}
    answer = client.get(f"{BASE}/retention", {**params, "periods": 2}).json()
    assert answer == {
        "interval": "week",
        "cohorts": [
            {"start": "2025-03-03", "size": 3, "values": [{"offset": 0, "users": 3, "pct": 100.0}, {"offset": 1, "users": 1, "pct": 33.3}]},
            {"start": "2025-03-10", "size": 0, "values": [{"offset": 0, "users": 0, "pct": None}, {"offset": 1, "users": 0, "pct": None}]},
            {"start": "2025-03-17", "size": 1, "values": [{"offset": 0, "users": 1, "pct": 100.0}, {"offset": 1, "users": 0, "pct": 0.0}]},
        ],
        "annotations": [],
    }  # fmt: skip
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(f"{BASE}/retention", {**params, "periods": 2, "format": "csv"}).content.decode())
        )
    )
    assert rows[1] == {"cohort": "2025-03-03", "size": "3", "offset": "1", "users": "1", "pct": "33.3"}
    lifecycle_answer = client.get(f"{BASE}/lifecycle", params).json()
    assert lifecycle_answer["buckets"][1] == {
        "bucket": "2025-03-10",
        "new": 0,
        "returning": 1,
        "resurrecting": 1,
        "dormant": 2,
    }
    sticky = client.get(f"{BASE}/stickiness", {"start": "2025-03-03", "end": "2025-03-09"}).json()
    assert sticky["days"] == 7 and sticky["counts"][:2] == [
        {"active_days": 1, "users": 2},
        {"active_days": 2, "users": 1},
    ]
    assert sticky["dau_mau"] == 19.0
    monthly = client.get(f"{BASE}/lifecycle", {**params, "interval": "month"}).json()
    assert monthly["buckets"] == [{"bucket": "2025-03-01", "new": 4, "returning": 1, "resurrecting": 0, "dormant": 0}]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("retention", {"periods": 37}, "periods"),
        ("retention", {"periods": 0}, "periods"),
        ("retention", {"interval": "year"}, "interval"),
        ("retention", {"mode": "always"}, "mode"),
        ("retention", {"start_event": "Nope"}, "start_event"),
        ("retention", {"return_event": "Leads/fly"}, "return_event"),
        ("lifecycle", {"event": "Nope"}, "event"),
        ("stickiness", {"start": "2025-03-09", "end": "2025-03-01"}, "start"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(be, member_client, path: str, params: dict, field: str) -> None:
    response = member_client(be).get(f"{BASE}/{path}", params)
    assert response.status_code == 400 and field in response.json(), response.json()


def test_another_workspace_is_not_found(be, member_client) -> None:
    assert member_client(None, username="stranger").get(f"{BASE}/retention").status_code == 404


# --- brute force --------------------------------------------------------------------------------------


def brute_force(workspace, filters: dict, start_spec: tuple, return_spec: tuple, interval: Interval, first: date, last: date, periods: int, mode: str):  # fmt: skip
    """Everything recomputed from the raw events (local days)."""
    tz = workspace.tzinfo
    today = workspace.today()
    events = Event.objects.filter(workspace=workspace).select_related("feature", "crm_user")
    if filters:
        events = events.filter(crm_user__country__in=filters["country"])

    def days_of(spec: tuple) -> dict[int, set[date]]:
        result: dict[int, set[date]] = defaultdict(set)
        for e in events:
            if (not spec[0] or e.feature.key == spec[0]) and (not spec[1] or e.action == spec[1]):
                result[e.crm_user_id].add(e.occurred_at.astimezone(tz).date())
        return result

    starts, returns = days_of(start_spec), days_of(return_spec)
    cohorts = []
    bucket = bucket_start(first, interval)
    while bucket <= last:
        cohorts.append(bucket)
        bucket = next_bucket(bucket, interval)
    members = {c: set() for c in cohorts}
    for user, days in starts.items():
        if mode == "first_time":
            cohort = bucket_start(min(days), interval)
            if cohort in members:
                members[cohort].add(user)
        else:
            for day in days:
                if bucket_start(day, interval) in members:
                    members[bucket_start(day, interval)].add(user)
    expected = []
    for cohort in cohorts:
        row, target = [], cohort
        for k in range(periods):
            if k and target > today:
                row.append((None, None))
            else:
                n = (
                    len(members[cohort])
                    if k == 0
                    else sum(
                        1
                        for u in members[cohort]
                        if any(bucket_start(d, interval) == target for d in returns.get(u, ()))
                    )
                )
                size = len(members[cohort])
                row.append((n, round(n / size * 100, 1) if size else None))
            target = next_bucket(target, interval)
        expected.append((cohort.isoformat(), len(members[cohort]), row))
    return expected, starts


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_random_events_equal_a_recomputation_from_the_raw_events(make_workspace, seed: int) -> None:
    rng = random.Random(seed)
    workspace, _ = make_workspace("be", tz="Europe/Berlin")
    crm_users(workspace, [{"external_id": f"u{n}", "country": ("CN", "US", "DE")[n % 3]} for n in range(14)])
    origin = datetime(2025, 2, 10, tzinfo=workspace.tzinfo)
    events = []
    for _ in range(350):
        user = f"u{rng.randrange(14)}"
        moment = origin + timedelta(minutes=rng.randrange(80 * 24 * 60))  # to the end of April, across Mar 30
        events.append((user, moment.isoformat(), rng.choice(["Leads", "Deals"]), rng.choice(["view", "edit"])))
    journeys(workspace, events)
    first, last = date(2025, 3, 1), date(2025, 4, 13)
    period = period_between(first, last, workspace.tzinfo)
    returned_any = False
    for filters in ({}, {"country": ["CN", "DE"]}):
        for interval in (Interval.DAY, Interval.WEEK, Interval.MONTH):
            for mode in ("first_time", "recurring"):
                for start_spec, return_spec in ((("", ""), ("", "")), (("Leads", ""), ("Deals", "edit"))):
                    periods = rng.randint(2, 6)
                    query = RetentionQuery.over(
                        workspace, period, filters, interval=interval, periods=periods, mode=mode,
                        start_event=event_spec(workspace, "/".join(p for p in start_spec if p), "start_event"),
                        return_event=event_spec(workspace, "/".join(p for p in return_spec if p), "return_event"),
                    )  # fmt: skip
                    expected, _ = brute_force(
                        workspace, filters, start_spec, return_spec, interval, first, last, periods, mode
                    )
                    assert table(retention(query)) == expected, (filters, interval, mode, start_spec)
                    returned_any |= any(n for _, _, row in expected for n, _ in row[1:] if n)
            # Lifecycle and stickiness of any event and of Deals/edit.
            for spec in (("", ""), ("Deals", "edit"), ("Leads", "")):
                _, active = brute_force(workspace, filters, spec, spec, interval, first, last, 1, "first_time")
                text = "/".join(p for p in spec if p)
                buckets = lifecycle(
                    LifecycleQuery.over(
                        workspace, period, filters, interval=interval, event=event_spec(workspace, text, "event")
                    )
                )
                firsts = {u: bucket_start(min(d), interval) for u, d in active.items()}
                per_bucket: dict[date, set[int]] = defaultdict(set)
                for u, days in active.items():
                    for d in days:
                        per_bucket[bucket_start(d, interval)].add(u)
                expected_buckets = []
                b = bucket_start(first, interval)
                previous = per_bucket[bucket_start(b - timedelta(days=1), interval)]
                while b <= last:
                    now = per_bucket[b]
                    new = {u for u in now if firsts[u] == b}
                    expected_buckets.append(
                        (b, len(new), len((now & previous) - new), len(now - previous - new), len(previous - now))
                    )
                    previous, b = now, next_bucket(b, interval)
                assert [(x.bucket, x.new, x.returning, x.resurrecting, x.dormant) for x in buckets] == expected_buckets
                if interval is Interval.DAY:
                    result = stickiness(
                        StickinessQuery.over(workspace, period, filters, event=event_spec(workspace, text, "event"))
                    )
                    counts = Counter(sum(1 for d in days if first <= d <= last) for days in active.values())
                    assert result.counts == [(k, counts.get(k, 0)) for k in range(1, period.days + 1)]
                    ratios = []
                    for d in period.dates():
                        mau = {u for u, days in active.items() if any(d - timedelta(days=29) <= x <= d for x in days)}
                        if mau:
                            ratios.append(Fraction(sum(1 for u in mau if d in active[u]), len(mau)))
                    assert result.dau_mau == (round(float(sum(ratios) / len(ratios) * 100), 1) if ratios else None)
    assert returned_any  # the data set has users who come back


def test_the_pages_and_their_charts(be) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from tenancy.models import Membership

    user = get_user_model().objects.create_user("ana")
    Membership.objects.create(workspace=be, user=user, role=Membership.Role.VIEWER)
    client = Client()
    client.force_login(user)
    params = {"start": "2025-03-03", "end": "2025-03-23", "periods": 4}
    page = client.get("/w/be/behaviour/retention/", params)
    assert page.status_code == 200
    first = page.context["cohort_rows"][0]
    assert first.cohort.size == 3 and [shade for _, shade in first.cells] == ["heat-10", "heat-3", "heat-3", "heat-3"]
    assert "33.3%" in page.content.decode()
    chart = client.get("/w/be/charts/retention.json", params).json()
    assert chart["labels"] == ["0", "1", "2", "3"]
    assert [d["data"] for d in chart["datasets"]] == [[100.0, 33.3, 33.3, 33.3], [100.0, 0.0, 0.0, 0.0]]  # W2 is empty

    engagement = client.get("/w/be/behaviour/engagement/", {"start": "2025-03-03", "end": "2025-03-23"})
    assert engagement.status_code == 200
    assert [(b.new, b.dormant) for b in engagement.context["buckets"]] == [(3, 0), (0, 2), (1, 2)]
    lifecycle_chart = client.get("/w/be/charts/lifecycle.json", {"start": "2025-03-03", "end": "2025-03-23"}).json()
    assert [d["data"] for d in lifecycle_chart["datasets"]] == [[3, 0, 1], [0, 1, 0], [0, 1, 1], [0, -2, -2]]
    sticky = client.get("/w/be/behaviour/engagement/", {"start": "2025-03-03", "end": "2025-03-09"})
    assert sticky.context["stickiness"].dau_mau == 19.0 and "19.0%" in sticky.content.decode()
    stickiness_chart = client.get("/w/be/charts/stickiness.json", {"start": "2025-03-03", "end": "2025-03-09"}).json()
    assert stickiness_chart["datasets"][0]["data"] == [2, 1, 0, 0, 0, 0, 0]

    bad = client.get("/w/be/behaviour/retention/", {"start_event": "Nope"})
    assert bad.status_code == 400 and "Unknown feature" in bad.content.decode()
    assert client.get("/w/be/charts/lifecycle.json", {"interval": "year"}).json()["errors"]["interval"]
    chinese = client.get(
        "/w/be/behaviour/engagement/", {"start": "2025-03-03", "end": "2025-03-09"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert "生命周期" in chinese.content.decode()
