"""Home selectors against the worked examples of docs/metrics.md."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from events.models import CrmUser
from events.periods import Period
from tests.conftest import crm_users, journeys
from views_home import selectors
from views_home.queries import HomeQuery, TopUsersQuery, WeeksQuery

pytestmark = pytest.mark.django_db


def period(workspace, as_of, days=30):
    return Period.ending(as_of, days, workspace.tzinfo)


def active_on(user, days, hour=10):
    return [(user, f"{d.isoformat()}T{hour:02d}:00:00+08:00", "Leads", "view") for d in days]


@pytest.fixture
def shanghai(make_workspace):
    return make_workspace("sh", tz="Asia/Shanghai")[0]


def test_attendance_of_a_user_active_on_four_days(shanghai):
    """Created Oct 1, active Oct 4, 8, 12 and 14 → attendance 4 for the 30 days ending Oct 31."""
    crm_users(shanghai, [{"external_id": "u1", "created_at": "2025-10-01T09:00:00+08:00"}])
    journeys(shanghai, active_on("u1", [date(2025, 10, d) for d in (4, 8, 12, 14)]))
    summary = selectors.home_summary(HomeQuery.over(shanghai, period(shanghai, date(2025, 10, 31))))
    assert summary.attendance_days.value == 4
    assert summary.active_users.value == 1
    assert summary.interactions.value == 4
    assert summary.features_used.value == 1
    top = selectors.top_users(TopUsersQuery.over(shanghai, period(shanghai, date(2025, 10, 31)), by="attendance"))
    assert [(u.external_id, u.value) for u in top] == [("u1", 4)]


@pytest.mark.parametrize(("before", "after", "change"), [(10, 15, 50.0), (30, 15, -50.0)])
def test_attendance_change(shanghai, before, after, change):
    """15 active days in the period after 10 in the previous one: +50.0; after 30: −50.0."""
    current = period(shanghai, date(2025, 10, 31))  # Oct 2 – Oct 31
    previous = current.previous()  # Sep 2 – Oct 1
    days = [previous.start + timedelta(days=n) for n in range(before)]
    days += [current.start + timedelta(days=n) for n in range(after)]
    journeys(shanghai, active_on("u1", days))
    summary = selectors.home_summary(HomeQuery.over(shanghai, current))
    assert (summary.attendance_days.value, summary.attendance_days.previous) == (after, before)
    assert summary.attendance_days.change_pct == change


def test_change_is_null_when_the_previous_period_is_empty(shanghai):
    journeys(shanghai, active_on("u1", [date(2025, 10, 20)]))
    summary = selectors.home_summary(HomeQuery.over(shanghai, period(shanghai, date(2025, 10, 31))))
    assert (summary.interactions.value, summary.interactions.previous, summary.interactions.change_pct) == (1, 0, None)


def test_inactive_users(shanghai):
    crm_users(
        shanghai,
        [
            {"external_id": "active", "created_at": "2025-01-01"},
            {"external_id": "idle", "created_at": "2025-01-01"},
            {"external_id": "gone", "status": "deactivated", "created_at": "2025-01-01"},
            {"external_id": "later", "created_at": "2025-11-01"},  # registered after the period
            {"external_id": "last-day", "created_at": "2025-10-31T23:59:00+08:00"},
            {"external_id": "unknown-registration"},
        ],
    )
    journeys(shanghai, active_on("active", [date(2025, 10, 10)]))
    summary = selectors.home_summary(HomeQuery.over(shanghai, period(shanghai, date(2025, 10, 31))))
    assert summary.active_users.value == 1
    assert summary.inactive_users.value == 3  # idle, last-day, unknown-registration
    assert summary.inactive_users.previous == 3  # all but "later" and "gone"; last-day not yet registered
    assert CrmUser.objects.count() == 6


def test_weekly_interactions_start_on_monday_and_stop_at_as_of(shanghai):
    as_of = date(2025, 10, 29)  # a Wednesday
    journeys(
        shanghai,
        [
            ("u1", "2025-09-22T00:30:00+08:00", "Leads", "view"),  # Monday of the oldest week, early
            ("u1", "2025-09-21T23:30:00+08:00", "Leads", "view"),  # the Sunday before: outside
            ("u1", "2025-10-27T09:00:00+08:00", "Leads", "view"),
            ("u1", "2025-10-29T23:59:00+08:00", "Leads", "view"),  # end of as_of: inside
            ("u1", "2025-10-30T00:00:00+08:00", "Leads", "view"),  # after as_of: outside
        ],
    )
    weeks = selectors.weekly_interactions(WeeksQuery.over(shanghai, Period.ending(as_of, 1, shanghai.tzinfo), weeks=6))
    assert [(w.week_start.isoformat(), w.interactions) for w in weeks] == [
        ("2025-09-22", 1),
        ("2025-09-29", 0),
        ("2025-10-06", 0),
        ("2025-10-13", 0),
        ("2025-10-20", 0),
        ("2025-10-27", 2),
    ]


def test_attendance_calendar_covers_weeks_times_seven_days(shanghai):
    journeys(shanghai, active_on("u1", [date(2025, 10, 31), date(2025, 9, 27)]) + active_on("u2", [date(2025, 10, 31)]))
    days = selectors.attendance_calendar(
        WeeksQuery.over(shanghai, Period.ending(date(2025, 10, 31), 1, shanghai.tzinfo), weeks=5)
    )
    assert len(days) == 35
    assert (days[0].date, days[-1].date) == (date(2025, 9, 27), date(2025, 10, 31))
    assert (days[0].active_users, days[-1].active_users) == (1, 2)
    assert sum(d.active_users for d in days) == 3


def test_top_users_ordering_ties_and_limit(shanghai):
    journeys(
        shanghai,
        active_on("b", [date(2025, 10, 20)] * 3)
        + active_on("a", [date(2025, 10, 20), date(2025, 10, 21), date(2025, 10, 22)])
        + active_on("c", [date(2025, 10, 20)]),
    )
    p = period(shanghai, date(2025, 10, 31))
    by_interactions = selectors.top_users(TopUsersQuery.over(shanghai, p, by="interactions", limit=2))
    assert [(u.external_id, u.value) for u in by_interactions] == [("a", 3), ("b", 3)]
    by_attendance = selectors.top_users(TopUsersQuery.over(shanghai, p, by="attendance"))
    assert [(u.external_id, u.value) for u in by_attendance] == [("a", 3), ("b", 1), ("c", 1)]


def test_user_filters_narrow_every_figure(shanghai):
    crm_users(
        shanghai,
        [{"external_id": "cn", "country": "CN", "language": "zh"}, {"external_id": "in", "country": "IN"}],
    )
    journeys(
        shanghai, active_on("cn", [date(2025, 10, 20)]) + active_on("in", [date(2025, 10, 20), date(2025, 10, 21)])
    )
    p = period(shanghai, date(2025, 10, 31))
    summary = selectors.home_summary(HomeQuery.over(shanghai, p, {"country": ["CN"]}))
    assert (summary.interactions.value, summary.active_users.value, summary.attendance_days.value) == (1, 1, 1)
    both = selectors.home_summary(HomeQuery.over(shanghai, p, {"country": ["CN", "IN"]}))
    assert both.interactions.value == 3
    none = selectors.home_summary(HomeQuery.over(shanghai, p, {"language": ["fr"]}))
    assert (none.interactions.value, none.inactive_users.value) == (0, 0)
