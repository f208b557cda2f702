"""PostgreSQL computes rollups in SQL (window functions, a chunk at a time); SQLite streams events in
Python. On PostgreSQL both paths run here on the same random events and must give identical rows."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from events import rollups
from events.models import FeatureActionDay, FeatureActionHour, Session, UserDay, UserFeatureDay
from tests.conftest import journeys

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL path runs on PostgreSQL only"),
]


def snapshot(workspace):
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
        # The behaviour grains: width_bucket over the hour starts against bisect in Python.
        sorted(
            FeatureActionHour.objects.filter(workspace=workspace).values_list(
                "day", "hour", "feature_id", "action", "events", "outcomes", "failures"
            )
        ),
        sorted(
            FeatureActionDay.objects.filter(workspace=workspace).values_list(
                "day", "feature_id", "action", "events", "outcomes", "failures", "durations"
            )
        ),
    )


def random_events(rng: random.Random, tz: ZoneInfo, timeout: int) -> list[tuple]:
    events = []
    for n in range(6):
        moment = datetime(2025, 3, 27, 20, tzinfo=tz) + timedelta(hours=rng.uniform(0, 30))
        for _ in range(rng.randint(20, 120)):
            moment += rng.choice(
                [
                    timedelta(0),
                    timedelta(microseconds=rng.randint(1, 999_999)),
                    timedelta(minutes=rng.uniform(0, timeout)),
                    timedelta(minutes=timeout),
                    timedelta(minutes=timeout, microseconds=1),
                    timedelta(hours=rng.uniform(0.5, 20)),
                    timedelta(days=rng.uniform(1, 4)),
                ]
            )
            if rng.random() < 0.15:
                moment = moment.replace(hour=23, minute=rng.randint(30, 59))
            action = rng.choice(["view", "view", "click", "logout", "login", "create"])
            events.append((f"u{n}", moment, rng.choice(["Leads", "Deals", "Home"]), action, rng.choice(["", "x"])))
    # One user active without a pause for longer than a chunk of days: a session that runs on.
    moment = datetime(2025, 3, 29, 12, tzinfo=tz)
    for _ in range(int(9 * 24 * 60 / timeout) + 5):
        events.append(("marathon", moment, "Home", "view"))
        moment += timedelta(minutes=timeout)
    return events


@pytest.mark.parametrize(("seed", "tz", "timeout"), [(1, "Europe/Berlin", 15), (2, "Asia/Kolkata", 30), (3, "UTC", 5)])
def test_sql_path_equals_python_path(make_workspace, monkeypatch, seed, tz, timeout):
    rng = random.Random(seed)
    workspace = make_workspace("w", tz=tz, timeout=timeout)[0]
    events = random_events(rng, ZoneInfo(tz), timeout)
    rng.shuffle(events)
    for start in range(0, len(events), 97):
        journeys(workspace, events[start : start + 97], refresh=False)
    rollups.rollups_rebuild(workspace=workspace)
    sql = snapshot(workspace)
    assert sql[2], "the data set has sessions"

    monkeypatch.setattr(rollups, "_rebuild_sessions", rollups._rebuild_sessions_python)
    monkeypatch.setattr(rollups.connection, "vendor", "python-path")  # the per-day feature statements
    rollups.rollups_rebuild(workspace=workspace)
    python = snapshot(workspace)
    assert sql == python

    # The incremental path (dirty days and their neighbours) agrees too.
    monkeypatch.undo()
    rollups.rollups_recompute_days(workspace=workspace, days=[date(2025, 3, 30), date(2025, 4, 2), date(2025, 4, 3)])
    assert snapshot(workspace) == python
