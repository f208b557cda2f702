"""Data quality (docs/metrics.md#data-quality) against a brute-force recomputation from the raw events:
random events in America/New_York around its fall-back (2025-11-02, with the repeated 01:00–02:00 hour)
with exact duplicates, near-duplicates at 1.0 s and 1.001 s, a duplicate across the period's start,
sessions of 9.999, 10 and 10.001 s and of exactly 24 h and just over, logouts in the same instant as
another event, late and future events on both sides of their thresholds, users never seen (active,
inactive, deactivated) and auto-created features. Every count must match exactly; the examples must be
as many as the selector may show and each one an item of the reference. Both backends."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db.models import F

from behaviour.queries import QualityQuery
from behaviour.selectors import data_quality
from events.models import CrmUser, Event, Feature
from events.periods import period_between
from tests.conftest import crm_users, journeys

pytestmark = pytest.mark.django_db

TZ = "America/New_York"
SHOWN = 10  # examples per check (docs/metrics.md#data-quality)
MS = timedelta(milliseconds=1)
# Gaps inside a burst of one user's events, in milliseconds (the timeout's are added per workspace).
GAPS = [0, 0, 300, 800, 1000, 1000, 1001, 1500, 5000, 9999, 10000, 10001, 60_000, 240_000]
DELAYS = [  # received_at - occurred_at
    timedelta(minutes=1), timedelta(seconds=3), timedelta(hours=24), timedelta(hours=24, milliseconds=1),
    timedelta(days=3), timedelta(minutes=-5), timedelta(minutes=-5, milliseconds=-1), timedelta(hours=-2),
    timedelta(0),
]  # fmt: skip


def stamp(moment: datetime, tz) -> str:
    return moment.astimezone(tz).isoformat()


def reference(workspace, first: date, last: date, filters: dict) -> dict:
    """Each check recomputed literally from every Event row of the workspace (model instances)."""
    tz = workspace.tzinfo
    timeout = timedelta(minutes=workspace.session_timeout_minutes)
    events = list(Event.objects.filter(workspace=workspace).select_related("crm_user", "feature"))

    def kept(user: CrmUser) -> bool:
        return all(getattr(user, name) in values for name, values in filters.items())

    def in_period(moment: datetime) -> bool:
        return first <= moment.astimezone(tz).date() <= last

    # Suspected duplicates: the previous event of the same user, feature, action, detail and record id,
    # in (time, id) order and wherever it lies, is at most 1 s before.
    same: dict[tuple, list[Event]] = defaultdict(list)
    for e in events:
        same[(e.crm_user_id, e.feature_id, e.action, e.detail, e.record_id)].append(e)
    duplicates = []
    for group in same.values():
        for e in group:
            if not (kept(e.crm_user) and in_period(e.occurred_at)):
                continue
            earlier = [x for x in group if (x.occurred_at, x.id) < (e.occurred_at, e.id)]
            if not earlier:
                continue
            before = max(earlier, key=lambda x: (x.occurred_at, x.id))
            gap = e.occurred_at - before.occurred_at
            if gap <= timedelta(seconds=1):
                duplicates.append(
                    (e.crm_user.external_id, e.feature.key, e.action, stamp(e.occurred_at, tz),
                     round(gap.total_seconds(), 3))
                )  # fmt: skip

    # Sessions (docs/metrics.md#the-session-rule): a user's events in (time, id) order; a new session at
    # the first event, after a gap over the timeout, or after a logout.
    per_user: dict[int, list[Event]] = defaultdict(list)
    for e in events:
        per_user[e.crm_user_id].append(e)
    short, long = [], []
    for user_events in per_user.values():
        user_events.sort(key=lambda x: (x.occurred_at, x.id))
        sessions: list[list[Event]] = []
        for n, e in enumerate(user_events):
            previous = user_events[n - 1] if n else None
            if previous is None or e.occurred_at - previous.occurred_at > timeout or previous.action == "logout":
                sessions.append([])
            sessions[-1].append(e)
        for session in sessions:
            begin, end = session[0].occurred_at, session[-1].occurred_at
            if not (kept(session[0].crm_user) and in_period(begin)):
                continue
            item = (session[0].crm_user.external_id, stamp(begin, tz), round((end - begin).total_seconds(), 3),
                    len(session))  # fmt: skip
            if end - begin < timedelta(seconds=10):
                short.append(item)
            if end - begin > timedelta(hours=24):
                long.append(item)

    late, future = [], []
    for e in events:
        if kept(e.crm_user) and in_period(e.occurred_at):
            item = (e.crm_user.external_id, e.feature.key, e.action, stamp(e.occurred_at, tz),
                    stamp(e.received_at, tz))  # fmt: skip
            if e.received_at - e.occurred_at > timedelta(hours=24):
                late.append(item)
            if e.occurred_at - e.received_at > timedelta(minutes=5):
                future.append(item)

    with_events = {e.crm_user_id for e in events}
    never = [
        (u.external_id, u.name, u.email)
        for u in CrmUser.objects.filter(workspace=workspace)
        if u.status != CrmUser.Status.DEACTIVATED and kept(u) and u.id not in with_events
    ]
    review = sorted(
        (f.key, f.type, stamp(f.created_at, tz), len({e.action for e in events if e.feature_id == f.id}))
        for f in Feature.objects.filter(workspace=workspace)
        if f.auto_created
    )
    return {
        "suspected_duplicates": duplicates, "short_sessions": short, "long_sessions": long, "late_events": late,
        "future_events": future, "users_never_seen": never, "features_to_review": review,
    }  # fmt: skip


def shown(name: str, example: dict) -> tuple:
    """An example of the selector as the reference writes its items."""
    if name == "suspected_duplicates":
        return example["user"], example["feature"], example["action"], example["timestamp"], example["gap_seconds"]
    if name in ("short_sessions", "long_sessions"):
        return example["user"], example["started_at"], example["seconds"], example["events"]
    if name in ("late_events", "future_events"):
        return example["user"], example["feature"], example["action"], example["timestamp"], example["received_at"]
    return example["user"], example["name"], example["email"]


def random_events(rng: random.Random, tz, timeout: int) -> list[tuple]:
    """Bursts of one user's events (often repeating the same feature, action, detail and record) and
    planted cases at every threshold, in a random arrival (id) order."""
    start = datetime(2025, 11, 1, tzinfo=tz).astimezone(UTC)  # the period's first instant
    end = datetime(2025, 11, 4, tzinfo=tz).astimezone(UTC)  # just after the period
    repeated = datetime(2025, 11, 2, 5, tzinfo=UTC)  # 01:00 EDT; 06:00Z is 01:00 EST again
    around = [start, end, repeated, repeated + timedelta(hours=1), datetime(2025, 11, 3, 5, tzinfo=UTC)]
    users = [f"u{n}" for n in range(8)]
    events: list[tuple] = []

    def add(user: str, moment: datetime, key: tuple) -> None:
        events.append((user, moment.astimezone(tz), *key))

    def random_key() -> tuple:
        feature = rng.choice(["Leads", "Leads", "Deals", "Mystery", "Widget"])
        action = rng.choice(["view", "view", "edit", "logout"])
        return feature, action, rng.choice(["", "", "list", "kanban"]), rng.choice(["", "", "R1", "R2"])

    for _ in range(55):
        user = rng.choice(users)
        if rng.random() < 0.4:
            moment = rng.choice(around) + timedelta(milliseconds=rng.randrange(-1_200_000, 1_200_000))
        else:
            moment = start + timedelta(milliseconds=rng.randrange(-86_400_000, 4 * 86_400_000))
        key = random_key()
        for _ in range(rng.randint(1, 6)):
            add(user, moment, key)
            moment += MS * rng.choice([*GAPS, timeout * 60_000, timeout * 60_000 + 1, timeout * 60_000 + 60_000])
            if rng.random() < 0.45:
                key = random_key()
    # Planted: an exact duplicate and near-duplicates (1.0 s, 1.001 s) in the repeated hour, a duplicate
    # whose previous event is just before the period, sessions of 9.999, 10 and 10.001 s, a logout and
    # another event in the same instant.
    twice = repeated + timedelta(hours=rng.choice([0, 1]), minutes=rng.randrange(50))
    for user, offset_ms, key in (
        ("p1", 0, ("Leads", "view", "list", "L1")), ("p1", 0, ("Leads", "view", "list", "L1")),
        ("p1", 1000, ("Leads", "view", "list", "L1")), ("p1", 2001, ("Leads", "view", "list", "L1")),
        ("p1", 2500, ("Leads", "view", "kanban", "L1")),
        ("p2", -400, ("Deals", "edit", "", "D1")), ("p2", 300, ("Deals", "edit", "", "D1")),
    ):  # fmt: skip
        add(user, (twice if user == "p1" else start) + MS * offset_ms, key)
    for n, length in enumerate((9999, 10000, 10001)):
        moment = rng.choice(around) + timedelta(hours=3 + n)
        add("p3", moment, ("Deals", "view", "", ""))
        add("p3", moment + MS * length, ("Deals", "view", "", ""))
    same_instant = rng.choice(around) + timedelta(hours=6)
    add("p4", same_instant, ("Home", "logout", "", ""))
    add("p4", same_instant, ("Leads", "view", "", ""))
    add("p4", same_instant + timedelta(seconds=4), ("Leads", "view", "", ""))
    # Marathons of one event every timeout, then one more at 24 h or 24 h + 1 ms: exactly 24 h (not
    # long) or just over (long), one of them starting late on the period's last day.
    steps = 24 * 60 // timeout
    for user, begin, extra in (
        ("m1", start + timedelta(milliseconds=rng.randrange(2 * 86_400_000)), MS),
        ("m2", end - timedelta(minutes=rng.randrange(1, 30)), MS * rng.choice([0, 1])),
        ("m3", start + timedelta(milliseconds=rng.randrange(-86_400_000, 2 * 86_400_000)), 0 * MS),
    ):
        for k in range(steps + 1):
            add(user, begin + timedelta(minutes=timeout * k), ("Deals", "view", "", ""))
        add(user, begin + timedelta(minutes=timeout * steps) + extra, ("Deals", "edit", "", ""))
    rng.shuffle(events)  # ids no longer follow time: events in the same instant come in either order
    return events


@pytest.mark.parametrize("seed", range(10))
def test_random_events_equal_a_recomputation_from_the_raw_events(make_workspace, seed: int) -> None:
    rng = random.Random(seed)
    timeout = rng.choice([15, 15, 15, 30])
    workspace, _ = make_workspace("dq", tz=TZ, timeout=timeout)
    tz = workspace.tzinfo
    countries = ("US", "CA", "FR")
    crm_users(workspace, [
        *({"external_id": f"u{n}", "country": countries[n % 3]} for n in range(8)),
        {"external_id": "ghost", "name": "Ghost", "email": "ghost@example.com", "country": "US"},
        {"external_id": "idle", "status": "inactive", "country": "CA"},
        {"external_id": "gone", "status": "deactivated", "country": "US"},
        {"external_id": "gone2", "status": "deactivated", "country": "CA"},  # deactivated, with events
        {"external_id": "old", "country": "FR"},  # events in June only
    ])  # fmt: skip
    events = random_events(rng, tz, timeout)
    events += [
        ("gone2", "2025-11-02T01:10:00-05:00", "Leads", "view"),
        ("old", "2025-06-02T10:00:00-04:00", "Leads", "view"),
        ("old", "2025-06-02T10:00:00.500000-04:00", "Leads", "view"),
    ]
    journeys(workspace, events)
    ids = list(Event.objects.filter(workspace=workspace).values_list("id", flat=True))
    by_delay: dict[timedelta, list[int]] = defaultdict(list)
    for pk in ids:
        by_delay[rng.choice(DELAYS)].append(pk)
    for delay, pks in by_delay.items():
        Event.objects.filter(pk__in=pks).update(received_at=F("occurred_at") + delay)
    if seed % 2:
        Feature.objects.filter(workspace=workspace, key="Widget").update(auto_created=False)  # reviewed
    # Another workspace with the same users and every kind of finding: none of it may leak.
    other, _ = make_workspace("other", tz=TZ)
    journeys(other, [
        ("u0", "2025-11-02T01:30:00-04:00", "Leads", "view"), ("u0", "2025-11-02T01:30:00.5-04:00", "Leads", "view"),
        ("ghost", "2025-11-02T01:30:00-05:00", "Mystery", "view"), ("p1", "2025-11-01T09:00:00-04:00", "Deals", "edit"),
    ])  # fmt: skip
    Event.objects.filter(workspace=other).update(received_at=F("occurred_at") + timedelta(days=2))

    found_any = Counter()
    for first, last in ((date(2025, 11, 1), date(2025, 11, 3)), (date(2025, 11, 2), date(2025, 11, 2))):
        for filters in ({}, {"country": ["US", "FR"]}, {"status": ["inactive", "active"]}):
            period = period_between(first, last, tz)
            got = data_quality(QualityQuery.over(workspace, period, filters))
            expected = reference(workspace, first, last, filters)
            where = (seed, first, last, filters)
            for name, items in expected.items():
                if name == "features_to_review":
                    review = [(f["feature"], f["type"], f["created_at"], f["actions"]) for f in got.features_to_review]
                    assert review == items, where
                    continue
                finding = getattr(got, name)
                assert finding.count == len(items), (name, where, finding.count, len(items))
                assert len(finding.examples) == min(len(items), SHOWN), (name, where)
                examples = Counter(shown(name, example) for example in finding.examples)
                assert not examples - Counter(items), (name, where, examples - Counter(items))
                found_any[name] += len(items)
    # The data set finds something in every check.
    assert all(found_any[name] for name in expected if name != "features_to_review"), found_any
