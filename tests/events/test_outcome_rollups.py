"""The behaviour grains (events.rollups_outcomes): local hours found exactly in zones with DST,
half-hour and odd offsets; the hour and day rows equal a count over the raw events done here in
Python, after a refresh, an incremental refresh, a full rebuild and an erasure; the duration
histogram's percentiles within 5 % of the exact nearest-rank ones. Both backends."""

from __future__ import annotations

import bisect
import math
import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from events.durations import LOWS, VALUES, bucket_of, bucket_value, histogram_merge, histogram_quantile, nearest_rank
from events.models import CrmUser, Event, Feature, FeatureActionDay, FeatureActionHour, WorkspaceHour
from events.privacy import crm_user_erase
from events.rollups import rollups_rebuild
from events.rollups_outcomes import hour_starts
from tests.conftest import journeys


@pytest.mark.parametrize(
    ("zone", "first", "last"),
    [
        ("America/New_York", date(2025, 1, 1), date(2025, 12, 31)),
        ("Australia/Lord_Howe", date(2025, 1, 1), date(2025, 12, 31)),  # DST of 30 minutes
        ("Asia/Kolkata", date(2025, 3, 1), date(2025, 3, 31)),  # +05:30: hours begin at :30 UTC
        ("Pacific/Chatham", date(2025, 1, 1), date(2025, 12, 31)),  # +12:45 / +13:45
        ("Africa/Monrovia", date(1971, 12, 1), date(1972, 2, 28)),  # −00:44:30 until 1972-01-07
    ],
)
def test_each_instant_falls_in_the_hour_its_local_clock_shows(zone: str, first: date, last: date) -> None:
    tz = ZoneInfo(zone)
    starts = hour_starts(tz, first, last)
    moments = [s.at for s in starts]
    assert moments == sorted(moments) and len(set(moments)) == len(moments)
    begin, end = moments[0], datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    rng = random.Random(zone)
    span = (end.astimezone(UTC) - begin).total_seconds()
    probes = [begin + timedelta(seconds=rng.random() * span) for _ in range(4000)]
    probes += [s.at for s in starts] + [s.at - timedelta(microseconds=1) for s in starts[1:]]
    for moment in probes:
        start = starts[bisect.bisect_right(moments, moment) - 1]
        local = moment.astimezone(tz)
        assert (start.day, start.hour) == (local.date(), local.hour), moment


def test_dst_days_have_their_hours() -> None:
    new_york = ZoneInfo("America/New_York")
    spring = hour_starts(new_york, date(2025, 3, 9), date(2025, 3, 9))
    assert [s.hour for s in spring] == [0, 1, *range(3, 24)]
    autumn = hour_starts(new_york, date(2025, 11, 2), date(2025, 11, 2))
    assert [s.hour for s in autumn] == [0, 1, 1, *range(2, 24)]  # the repeated hour counts in its hour
    lord_howe = hour_starts(ZoneInfo("Australia/Lord_Howe"), date(2025, 10, 5), date(2025, 10, 5))
    assert [s.hour for s in lord_howe] == list(range(24))  # 02:00 → 02:30: hour 2 lasts half an hour
    two = lord_howe[2].at.astimezone(ZoneInfo("Australia/Lord_Howe"))
    assert (two.hour, two.minute) == (2, 30)


def test_every_duration_reads_back_within_five_percent() -> None:
    assert LOWS[0] == 0 and bucket_value(bucket_of(0)) == 0
    assert all(bucket_value(bucket_of(d)) == d for d in range(20))  # one bucket per millisecond there
    rng = random.Random(7)
    for d in [*range(1, 5000), *(rng.randint(1, 86_400_000) for _ in range(20_000)), 86_400_000]:
        assert abs(bucket_value(bucket_of(d)) - d) <= 0.05 * d, d
    assert len(LOWS) == len(VALUES) < 200


def test_histogram_percentiles_are_within_five_percent_of_the_exact_nearest_rank() -> None:
    rng = random.Random(11)
    for _ in range(300):
        n = rng.randint(1, 400)
        durations = [int(rng.lognormvariate(math.log(rng.choice([40, 900, 20_000])), 1.2)) for _ in range(n)]
        durations = [min(d, 86_400_000) for d in durations]
        ordered = sorted(durations)
        buckets = histogram_merge([{str(b): c for b, c in Counter(map(bucket_of, durations)).items()}])
        for q in (0.5, 0.9):
            exact = ordered[nearest_rank(n, q) - 1]
            assert abs(histogram_quantile(buckets, q) - exact) <= 0.05 * exact
    assert histogram_quantile(Counter(), 0.5) is None
    assert nearest_rank(10, 0.5) == 5 and nearest_rank(10, 0.9) == 9 and nearest_rank(1, 0.9) == 1


# --- the rows ----------------------------------------------------------------------------------------


ZONE = "America/New_York"
FEATURES = ["Leads", "Deals", "Reports"]
ACTIONS = ["view", "edit", "export"]


def random_events(rng: random.Random, count: int, users: int, prefix: str) -> list[tuple]:
    """Events around the autumn DST change (2025-11-02) of New York, many in the repeated hour."""
    base = datetime(2025, 10, 30, tzinfo=UTC)
    events = []
    for _ in range(count):
        if rng.random() < 0.25:  # 01:00–02:00 EDT and EST on Nov 2: 05:00–07:00 UTC
            moment = datetime(2025, 11, 2, 5, tzinfo=UTC) + timedelta(seconds=rng.randrange(7200))
        else:
            moment = base + timedelta(seconds=rng.randrange(6 * 86400))
        extra: dict = {}
        roll = rng.random()
        if roll < 0.6:
            extra["outcome"] = "success"
        elif roll < 0.8:
            extra = {"outcome": "failure", "error_code": rng.choice(["E1", "E2"])}
        if rng.random() < 0.7:
            extra["duration_ms"] = rng.choice([0, rng.randint(1, 30), rng.randint(100, 90_000)])
        events.append(
            (f"{prefix}{rng.randrange(users)}", moment.isoformat(), rng.choice(FEATURES), rng.choice(ACTIONS), extra)
        )
    return events


def brute_force(workspace) -> dict:
    """The three grains, counted here from the raw events."""
    tz = workspace.tzinfo
    keys = dict(Feature.objects.filter(workspace=workspace).values_list("id", "key"))
    hours: dict = defaultdict(lambda: [0, 0, 0])
    durations: dict = defaultdict(list)
    for occurred_at, feature_id, action, outcome, duration in Event.objects.filter(workspace=workspace).values_list(
        "occurred_at", "feature_id", "action", "outcome", "duration_ms"
    ):
        local = occurred_at.astimezone(tz)
        counts = hours[(local.date(), local.hour, keys[feature_id], action)]
        counts[0] += 1
        counts[1] += outcome != ""
        counts[2] += outcome == "failure"
        if duration is not None:
            durations[(local.date(), keys[feature_id], action)].append(duration)
    days: dict = defaultdict(lambda: [0, 0, 0])
    workspace_hours: dict = defaultdict(lambda: [0, 0, 0])
    for (day, hour, feature, action), counts in hours.items():
        for target in (days[(day, feature, action)], workspace_hours[(day, hour)]):
            for i in range(3):
                target[i] += counts[i]
    return {
        "hours": sorted((*key, *counts) for key, counts in hours.items()),
        "workspace_hours": sorted((*key, *counts) for key, counts in workspace_hours.items()),
        "days": sorted(
            (*key, *counts, len(durations[key]), tuple(sorted(Counter(map(bucket_of, durations[key])).items())))
            for key, counts in days.items()
        ),
    }


def stored(workspace) -> dict:
    keys = dict(Feature.objects.filter(workspace=workspace).values_list("id", "key"))
    hours = FeatureActionHour.objects.filter(workspace=workspace)
    days = FeatureActionDay.objects.filter(workspace=workspace)
    return {
        "hours": sorted(
            (d, h, keys[f], a, e, o, fl)
            for d, h, f, a, e, o, fl in hours.values_list(
                "day", "hour", "feature_id", "action", "events", "outcomes", "failures"
            )
        ),
        "workspace_hours": sorted(
            WorkspaceHour.objects.filter(workspace=workspace).values_list(
                "day", "hour", "events", "outcomes", "failures"
            )
        ),
        "days": sorted(
            (d, keys[f], a, e, o, fl, n, tuple(sorted((int(k), v) for k, v in b.items())))
            for d, f, a, e, o, fl, n, b in days.values_list(
                "day", "feature_id", "action", "events", "outcomes", "failures", "durations", "duration_buckets"
            )
        ),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2])
def test_the_rows_equal_a_count_over_the_raw_events(make_workspace, seed: int) -> None:
    rng = random.Random(seed)
    workspace, _ = make_workspace("ny", tz=ZONE)
    other, _ = make_workspace("other", tz="Asia/Shanghai")
    journeys(workspace, random_events(rng, 600, 12, "u"))
    journeys(other, random_events(rng, 200, 5, "o"))  # never counted in the first workspace
    expected = brute_force(workspace)
    assert stored(workspace) == expected
    repeated = [row for row in expected["hours"] if row[:2] == (date(2025, 11, 2), 1)]
    assert repeated and sum(row[4] for row in repeated) > 100  # both runs of the repeated hour in one row each
    assert stored(other) == brute_force(other)

    # More events on some of the days: the incremental refresh of the dirty days.
    journeys(workspace, random_events(rng, 150, 12, "u"))
    assert stored(workspace) == brute_force(workspace)
    # A full rebuild gives the same rows.
    rollups_rebuild(workspace=workspace)
    assert stored(workspace) == brute_force(workspace)
    # An erased user is no longer counted in any hour or day.
    crm_user_erase(workspace=workspace, crm_user=CrmUser.objects.get(workspace=workspace, external_id="u3"))
    assert stored(workspace) == brute_force(workspace)
    assert stored(other) == brute_force(other)
