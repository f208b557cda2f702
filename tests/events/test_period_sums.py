"""Per-user sums over a period read month totals plus the fewest daily rows (``periods.month_split``).
Hand-checked splits first, then every kind of period over random data against plain sums of the
daily rows."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from events.models import CrmUser, Event, Feature, UserDay, UserFeatureDayTotal
from events.periods import MonthSplit, Period, month_split
from events.selectors import active_days_by_user, feature_events_by_user, last_seen_at, user_period_totals
from tests.conftest import journeys

D = date


def test_a_whole_month_is_one_total():
    assert month_split(D(2025, 6, 1), D(2025, 6, 30), D(2025, 3, 3), D(2025, 6, 30)) == MonthSplit(
        [D(2025, 6, 1)], [], []
    )


def test_days_after_the_data_cost_nothing():
    # Nov 1–22 with data up to the 22nd: the month total is exact.
    assert month_split(D(2026, 11, 1), D(2026, 11, 22), D(2026, 1, 1), D(2026, 11, 22)) == MonthSplit(
        [D(2026, 11, 1)], [], []
    )


def test_a_month_cut_near_its_end_is_its_total_less_the_days_outside():
    # May 2–31: the May total less May 1 (1 day), not the 30 days inside.
    assert month_split(D(2025, 5, 2), D(2025, 5, 31), D(2025, 1, 1), D(2025, 12, 31)) == MonthSplit(
        [D(2025, 5, 1)], [], [(D(2025, 5, 1), D(2025, 5, 1))]
    )


def test_a_month_cut_near_its_start_is_the_days_inside():
    # Oct 24–Nov 22 with data to Dec: Oct 24–31 (8 days) as days; Nov total less Nov 23–30 (8 days)
    # ties with the 22 days inside, so the 8 outside are read.
    assert month_split(D(2025, 10, 24), D(2025, 11, 22), D(2025, 1, 1), D(2025, 12, 31)) == MonthSplit(
        [D(2025, 11, 1)], [(D(2025, 10, 24), D(2025, 10, 31))], [(D(2025, 11, 23), D(2025, 11, 30))]
    )


def test_two_months_cut_near_their_middles_read_one_run_of_days():
    # May 17–Jun 15 with data to Jun 30: 15 days inside May (16 outside), 15 inside June (15 after):
    # both by their days, one run.
    assert month_split(D(2025, 5, 17), D(2025, 6, 15), D(2025, 1, 1), D(2025, 6, 30)) == MonthSplit(
        [], [(D(2025, 5, 17), D(2025, 6, 15))], []
    )


def test_days_before_the_data_and_months_without_any():
    # Data from Mar 3: Feb has none; Mar 1–2 cost nothing, so March is its total.
    assert month_split(D(2025, 2, 10), D(2025, 3, 31), D(2025, 3, 3), D(2025, 6, 30)) == MonthSplit(
        [D(2025, 3, 1)], [], []
    )


def _direct(workspace, period):
    """Per user: active days, events, sessions, seconds, straight from UserDay rows."""
    totals: dict = defaultdict(lambda: [0, 0, 0, 0.0])
    for user_id, events, sessions, seconds in UserDay.objects.filter(
        workspace=workspace, day__range=(period.start, period.end)
    ).values_list("crm_user_id", "events", "sessions", "session_seconds"):
        figures = totals[user_id]
        figures[0] += 1
        figures[1] += events
        figures[2] += sessions
        figures[3] += seconds
    return {u: (a, e, s, round(sec, 6)) for u, (a, e, s, sec) in totals.items()}


@pytest.mark.django_db
@pytest.mark.parametrize(("seed", "tz"), [(1, "UTC"), (2, "Europe/Berlin"), (3, "America/New_York")])
def test_every_period_agrees_with_the_daily_rows(make_workspace, seed, tz):
    rng = random.Random(seed)
    workspace = make_workspace("w", tz=tz)[0]
    zone = ZoneInfo(tz)
    start = datetime(2025, 1, 20, tzinfo=zone)  # four month ends and a DST change
    journeys(
        workspace,
        [
            (
                rng.choice(["a", "b", "c", "d", "e"]),
                start + timedelta(minutes=rng.uniform(0, 60 * 24 * 100)),
                rng.choice(["Leads", "Deals"]),
                rng.choice(["view", "create", "logout"]),
            )
            for _ in range(600)
        ],
    )
    leads = Feature.objects.get(workspace=workspace, key="Leads")
    users = list(CrmUser.objects.filter(workspace=workspace).values_list("id", flat=True))
    per_feature: Counter = Counter()
    for user_id, day, n in UserFeatureDayTotal.objects.filter(workspace=workspace, feature=leads).values_list(
        "crm_user_id", "day", "events"
    ):
        per_feature[(user_id, day)] += n
    first_day = date(2025, 1, 10)
    for _ in range(60):
        a = first_day + timedelta(days=rng.randrange(0, 120))
        period = Period(a, a + timedelta(days=rng.choice([0, 1, 6, 13, 29, 30, 59, 89])), zone)
        expected = _direct(workspace, period)
        got = user_period_totals(workspace=workspace, period=period)
        assert {u: (t.active_days, t.events, t.sessions, t.session_seconds) for u, t in got.items()} == expected
        (active,) = active_days_by_user(workspace=workspace, periods=[period])
        assert active == {u: figures[0] for u, figures in expected.items()}
        leads_expected = Counter()
        for (user_id, day), n in per_feature.items():
            if period.start <= day <= period.end:
                leads_expected[user_id] += n
        assert feature_events_by_user(workspace=workspace, period=period, feature=leads) == dict(leads_expected)
        # Last seen: the latest event up to the end of the period, from the events themselves.
        end_utc = period.end_utc
        seen = {
            user_id: max(e.occurred_at for e in Event.objects.filter(crm_user_id=user_id, occurred_at__lt=end_utc))
            for user_id in users
            if Event.objects.filter(crm_user_id=user_id, occurred_at__lt=end_utc).exists()
        }
        assert last_seen_at(workspace=workspace, as_of=period.end, user_ids=users) == seen
