"""Every time-axis answer carries the workspace-wide annotations overlapping its range; a board's own
notes and another workspace's never show there."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model

from dashboards.models import Annotation, Dashboard
from tests.conftest import journeys

pytestmark = pytest.mark.django_db

PERIOD = {"start": "2025-10-08", "end": "2025-10-21"}


@pytest.fixture
def notes(make_workspace):
    acme, other = make_workspace("acme")[0], make_workspace("other")[0]
    journeys(acme, [("ana", "2025-10-20T09:00:00+00:00", "Leads", "view")])
    owner = get_user_model().objects.create(username="owner")
    board = Dashboard.objects.create(workspace=acme, owner=owner, name="Board")
    Annotation.objects.create(workspace=acme, date=date(2025, 10, 10), text="release", author=owner)
    Annotation.objects.create(workspace=acme, date=date(2025, 9, 25), end_date=date(2025, 10, 8), text="campaign")
    Annotation.objects.create(workspace=acme, date=date(2025, 10, 7), text="the day before")
    Annotation.objects.create(workspace=acme, date=date(2025, 10, 22), text="the day after")
    Annotation.objects.create(workspace=acme, dashboard=board, date=date(2025, 10, 10), text="the board's own")
    Annotation.objects.create(workspace=other, date=date(2025, 10, 10), text="elsewhere")
    return acme


@pytest.mark.parametrize(
    "endpoint, params, keys",
    [
        ("activity/features", {}, {"features"}),
        ("trends", {"feature": "Leads"}, {"interval", "measure", "start", "end", "series"}),
        ("behaviour/retention", {}, {"interval", "cohorts"}),
        ("behaviour/lifecycle", {}, {"interval", "buckets"}),
        ("behaviour/anomalies", {}, {"anomalies"}),
        ("home/attendance-calendar", {}, {"days"}),
    ],
)
def test_time_axes_carry_the_workspaces_notes_in_their_range(notes, member_client, endpoint, params, keys):
    answer = member_client(notes).get(f"/api/v1/workspaces/acme/{endpoint}", {**PERIOD, **params})
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert set(body) == keys | {"annotations"}
    assert [(a["text"], a["date"], a["end_date"]) for a in body["annotations"]] == [
        ("campaign", "2025-09-25", "2025-10-08"),
        ("release", "2025-10-10", None),
    ]
    assert body["annotations"][1]["author"] == "owner" and body["annotations"][1]["dashboard"] is None


def test_home_weeks_start_on_the_monday_of_the_first_week(notes, member_client):
    client = member_client(notes)
    weeks = client.get("/api/v1/workspaces/acme/home/weekly-interactions", {"as_of": "2025-10-21", "weeks": 2}).json()
    # Two whole weeks: Monday 13 to Tuesday 21 (the week of as_of, cut at as_of).
    assert [w["week_start"] for w in weeks["weeks"]] == ["2025-10-13", "2025-10-20"]
    assert weeks["annotations"] == []
    weeks = client.get("/api/v1/workspaces/acme/home/weekly-interactions", {"as_of": "2025-10-21", "weeks": 3}).json()
    assert [a["text"] for a in weeks["annotations"]] == ["campaign", "the day before", "release"]
