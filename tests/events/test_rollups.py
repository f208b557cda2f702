"""Rollups: the session rule, time-zone day boundaries, idempotence and incremental refresh."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from events import rollups as rollups_module
from events.models import DirtyDay, Session, UserDay, UserFeatureDay
from events.rollups import rollups_rebuild, rollups_recompute_days, rollups_refresh_dirty
from events.selectors import last_seen_by_user
from events.services import mark_days_dirty
from tests.conftest import journeys

pytestmark = pytest.mark.django_db


def user_days(workspace):
    return {
        (r.crm_user.external_id, r.day): (r.events, r.sessions, r.session_seconds)
        for r in UserDay.objects.filter(workspace=workspace).select_related("crm_user")
    }


def snapshot(workspace):
    """Every rollup row of the workspace, comparable across recomputes."""
    return (
        sorted(
            UserFeatureDay.objects.filter(workspace=workspace).values_list(
                "day", "crm_user_id", "feature_id", "action", "detail", "events"
            )
        ),
        sorted(
            UserDay.objects.filter(workspace=workspace).values_list(
                "day", "crm_user_id", "events", "sessions", "session_seconds", "first_event_at", "last_event_at"
            )
        ),
        sorted(
            Session.objects.filter(workspace=workspace).values_list(
                "crm_user_id", "day", "started_at", "ended_at", "events"
            )
        ),
    )


def test_two_sessions_of_180_minutes(workspace):
    """docs/metrics.md: activity 09:00–10:00 and 20:00–22:00 with no gap over 15 min is 2 sessions, 180.0 min."""
    morning = [f"2025-10-06T09:{m:02d}:00+00:00" for m in range(0, 60, 10)] + ["2025-10-06T10:00:00+00:00"]
    evening = [f"2025-10-06T{h}:{m:02d}:00+00:00" for h in (20, 21) for m in range(0, 60, 15)] + [
        "2025-10-06T22:00:00+00:00"
    ]
    journeys(workspace, [("u1", t, "Leads", "view") for t in morning + evening])
    assert user_days(workspace) == {("u1", date(2025, 10, 6)): (16, 2, 180 * 60.0)}
    assert round(UserDay.objects.get().session_seconds / 60, 1) == 180.0


@pytest.mark.parametrize(
    ("second_event", "sessions", "seconds"),
    [
        ("2025-10-06T09:15:00+00:00", 1, 900.0),  # exactly the timeout: same session
        ("2025-10-06T09:15:00.000001+00:00", 2, 0.0),  # a microsecond longer: a new one
        ("2025-10-06T09:16:00+00:00", 2, 0.0),  # 16 minutes: a new one
    ],
)
def test_fifteen_minute_gap_rule(workspace, second_event, sessions, seconds):
    journeys(workspace, [("u1", "2025-10-06T09:00:00+00:00", "Leads", "view"), ("u1", second_event, "Leads", "edit")])
    assert user_days(workspace)[("u1", date(2025, 10, 6))] == (2, sessions, seconds)


def test_logout_ends_a_session(workspace):
    journeys(
        workspace,
        [
            ("u1", "2025-10-06T09:00:00+00:00", "Home", "login"),
            ("u1", "2025-10-06T09:05:00+00:00", "Home", "logout"),
            ("u1", "2025-10-06T09:06:00+00:00", "Home", "login"),
            ("u1", "2025-10-06T09:10:00+00:00", "Leads", "view"),
        ],
    )
    sessions = list(Session.objects.order_by("started_at").values_list("started_at", "ended_at", "events"))
    assert sessions == [
        (datetime(2025, 10, 6, 9, 0, tzinfo=UTC), datetime(2025, 10, 6, 9, 5, tzinfo=UTC), 2),
        (datetime(2025, 10, 6, 9, 6, tzinfo=UTC), datetime(2025, 10, 6, 9, 10, tzinfo=UTC), 2),
    ]
    assert user_days(workspace)[("u1", date(2025, 10, 6))] == (4, 2, 540.0)


def test_a_lone_logout_and_the_next_event_in_the_same_instant_are_two_sessions(workspace):
    journeys(
        workspace,
        [
            ("u1", "2025-10-06T09:00:00+00:00", "Home", "logout"),
            ("u1", "2025-10-06T09:00:00+00:00", "Leads", "view"),
            ("u1", "2025-10-06T09:05:00+00:00", "Leads", "view"),
        ],
    )
    assert user_days(workspace)[("u1", date(2025, 10, 6))] == (3, 2, 300.0)
    assert Session.objects.filter(started_at=datetime(2025, 10, 6, 9, tzinfo=UTC)).count() == 2


def test_days_are_local_to_the_workspace_time_zone(make_workspace):
    """Asia/Shanghai is UTC+8: 2025-10-04 15:59Z is still Oct 4 there, 16:00Z is already Oct 5."""
    workspace, _ = make_workspace("sh", tz="Asia/Shanghai")
    journeys(
        workspace,
        [
            ("u1", "2025-10-04T00:30:00+08:00", "Leads", "view"),  # Oct 3 16:30 UTC, Oct 4 in Shanghai
            ("u1", "2025-10-04T15:59:00+00:00", "Leads", "view"),  # 23:59 Oct 4 local
            ("u1", "2025-10-04T16:00:00+00:00", "Leads", "view"),  # 00:00 Oct 5 local
        ],
    )
    days = user_days(workspace)
    assert days[("u1", date(2025, 10, 4))][0] == 2
    assert days[("u1", date(2025, 10, 5))][0] == 1
    assert set(UserFeatureDay.objects.values_list("day", "events")) == {(date(2025, 10, 4), 2), (date(2025, 10, 5), 1)}


def test_a_session_crossing_midnight_belongs_to_the_day_it_starts(make_workspace):
    workspace, _ = make_workspace("sh", tz="Asia/Shanghai")
    journeys(
        workspace,
        [
            ("u1", "2025-10-04T23:50:00+08:00", "Leads", "view"),
            ("u1", "2025-10-05T00:04:00+08:00", "Leads", "view"),
            ("u1", "2025-10-05T00:10:00+08:00", "Leads", "edit"),
        ],
    )
    days = user_days(workspace)
    assert days[("u1", date(2025, 10, 4))] == (1, 1, 20 * 60.0)
    assert days[("u1", date(2025, 10, 5))] == (2, 0, 0.0)


def test_a_late_event_reopens_an_old_day_and_its_neighbours(workspace):
    journeys(
        workspace,
        [
            ("u1", "2025-10-04T23:50:00+00:00", "Leads", "view"),
            ("u1", "2025-10-05T00:10:00+00:00", "Leads", "view"),  # 20 min later: a new session on Oct 5
        ],
    )
    assert user_days(workspace)[("u1", date(2025, 10, 5))] == (1, 1, 0.0)
    # Weeks later an event for 23:59 on Oct 4 arrives: it bridges the gap, so Oct 5 loses its session.
    journeys(workspace, [("u1", "2025-10-04T23:59:00+00:00", "Leads", "view")])
    days = user_days(workspace)
    assert days[("u1", date(2025, 10, 4))] == (2, 1, 20 * 60.0)
    assert days[("u1", date(2025, 10, 5))] == (1, 0, 0.0)
    assert DirtyDay.objects.count() == 0


def test_last_seen_is_the_time_of_the_last_event(workspace):
    """docs/metrics.md: active Oct 2, 5 and 8 and never after → last seen Oct 8 at that event's time."""
    journeys(
        workspace,
        [
            ("u1", "2025-10-02T10:00:00+00:00", "Leads", "view"),
            ("u1", "2025-10-05T11:00:00+00:00", "Leads", "view"),
            ("u1", "2025-10-08T16:42:00+00:00", "Leads", "view"),
            ("u1", "2025-10-08T09:00:00+00:00", "Leads", "view"),
        ],
    )
    seen = last_seen_by_user(workspace=workspace, as_of=date(2025, 10, 31))
    assert list(seen.values()) == [datetime(2025, 10, 8, 16, 42, tzinfo=UTC)]
    # At the end of Oct 5 the user had last been seen on Oct 5.
    assert list(last_seen_by_user(workspace=workspace, as_of=date(2025, 10, 5)).values()) == [
        datetime(2025, 10, 5, 11, 0, tzinfo=UTC)
    ]


def test_recompute_is_idempotent_and_equals_a_full_rebuild(make_workspace):
    workspace, _ = make_workspace("sh", tz="Asia/Shanghai")
    # Arrive in three separate batches, out of order, so the incremental path does the work.
    journeys(workspace, [("u1", "2025-10-05T00:05:00+08:00", "Leads", "view", "kanban_view")])
    journeys(
        workspace,
        [("u2", "2025-10-03T12:00:00+08:00", "Deals", "create"), ("u1", "2025-10-04T23:58:00+08:00", "Leads", "view")],
    )
    journeys(workspace, [("u1", "2025-10-05T00:14:00+08:00", "Leads", "convert", "", "L-1")])
    incremental = snapshot(workspace)
    rollups_recompute_days(workspace=workspace, days=[date(2025, 10, 3), date(2025, 10, 4), date(2025, 10, 5)])
    assert snapshot(workspace) == incremental
    assert rollups_rebuild(workspace=workspace) == 3
    assert snapshot(workspace) == incremental
    # u1's session started at 23:58 on Oct 4 and ran to 00:14: 16 minutes, on Oct 4.
    assert user_days(workspace)[("u1", date(2025, 10, 4))] == (1, 1, 16 * 60.0)


def test_a_mark_made_during_a_refresh_survives_it(workspace, monkeypatch):
    journeys(workspace, [("u1", "2025-10-06T09:00:00+00:00", "Leads", "view")], refresh=False)
    original = rollups_module.rollups_recompute_days

    def recompute_while_events_arrive(**kwargs):
        original(**kwargs)
        # Events for the same day arrive after the recompute read them: the mark gets a new token.
        mark_days_dirty(workspace_id=workspace.id, days=[date(2025, 10, 6)])

    monkeypatch.setattr(rollups_module, "rollups_recompute_days", recompute_while_events_arrive)
    assert rollups_refresh_dirty(workspace=workspace) == [date(2025, 10, 6)]
    assert DirtyDay.objects.count() == 1  # still marked: the next refresh will include those events
    monkeypatch.undo()
    rollups_refresh_dirty(workspace=workspace)
    assert DirtyDay.objects.count() == 0


def test_rebuild_of_an_empty_workspace_clears_everything(workspace):
    journeys(workspace, [("u1", "2025-10-06T09:00:00+00:00", "Leads", "view")])
    from events.models import Event

    Event.objects.all().delete()
    assert rollups_rebuild(workspace=workspace) == 0
    assert snapshot(workspace) == ([], [], [])
