"""Activity management (AMP): completed calls, emails, meetings and messages per rep and ISO week, only
the days inside the range; meetings per deal won."""

from __future__ import annotations

import pytest

from tests.sales.builders import account, activity, deal, get, seed

pytestmark = pytest.mark.django_db

# Wednesday 2025-03-05 … Tuesday 2025-03-18: the ISO weeks of 03-03, 03-10 and 03-17 touch it.
RANGE = {"start": "2025-03-05", "end": "2025-03-18"}


@pytest.fixture
def busy(make_workspace):
    workspace = make_workspace("acme", tz="Asia/Shanghai")[0]
    seed(
        workspace,
        ["r1", "r2"],
        accounts=[account("A1")],
        deals=[
            deal("D1", "won", "10.00", "2025-03-10", "r1"),
            deal("D2", "won", "10.00", "2025-03-18", "r1"),
            deal("D3", "won", "10.00", "2025-03-19", "r1"),  # after the range
            deal("D4", "lost", "10.00", "2025-03-12", "r2"),
        ],
        activities=[
            activity("a1", "call", "r1", "2025-03-04T09:00:00+08:00"),  # the week of 03-03, before the range
            activity("a2", "call", "r1", "2025-03-05T09:00:00+08:00"),
            activity("a3", "email", "r1", "2025-03-05T18:00:00+08:00"),
            activity("a4", "meeting", "r1", "2025-03-12T10:00:00+08:00"),
            activity("a5", "meeting", "r1", "2025-03-12T15:00:00+08:00"),
            activity("a6", "meeting", "r1", "2025-03-18T23:30:00+08:00"),  # local 03-18: inside
            activity("a7", "meeting", "r1", "2025-03-19T00:30:00+08:00"),  # local 03-19 (UTC 03-18): outside
            activity("a8", "message", "r1", "2025-03-06T10:00:00+08:00", completed=False),  # not done
            activity("a9", "call", "r1", "2025-03-06T10:00:00+08:00", deleted=True),
            activity("a10", "task", "r1", "2025-03-06T10:00:00+08:00"),  # not a conversation
            activity("b1", "message", "r2", "2025-03-17T08:00:00+08:00"),
        ],
    )
    return workspace


def test_rows_are_every_rep_by_every_week_touching_the_range(busy, member_client):
    answer = get(member_client(busy), busy, "activity", **RANGE)
    zero = {"calls": 0, "emails": 0, "meetings": 0, "messages": 0}
    assert answer["rows"] == [
        {"week_start": "2025-03-03", "rep": "r1", **zero, "calls": 1, "emails": 1},  # a2, a3 (not a1: 03-04)
        {"week_start": "2025-03-03", "rep": "r2", **zero},
        {"week_start": "2025-03-10", "rep": "r1", **zero, "meetings": 2},  # a4, a5
        {"week_start": "2025-03-10", "rep": "r2", **zero},
        {"week_start": "2025-03-17", "rep": "r1", **zero, "meetings": 1},  # a6 (not a7: local 03-19)
        {"week_start": "2025-03-17", "rep": "r2", **zero, "messages": 1},
    ]


def test_meetings_per_deal_won(busy, member_client):
    answer = get(member_client(busy), busy, "activity", **RANGE)
    assert answer["reps"] == [
        # r1: 3 meetings, won D1 and D2 (D3 closes after the range): 3 / 2 = 1.5.
        {"rep": "r1", "calls": 1, "emails": 1, "meetings": 3, "messages": 0, "won_deals": 2,
         "meetings_per_won_deal": 1.5},
        {"rep": "r2", "calls": 0, "emails": 0, "meetings": 0, "messages": 1, "won_deals": 0,
         "meetings_per_won_deal": None},
    ]  # fmt: skip


def test_a_one_day_range_has_one_week(busy, member_client):
    answer = get(member_client(busy), busy, "activity", start="2025-03-12", end="2025-03-12")
    assert [(r["week_start"], r["rep"], r["meetings"]) for r in answer["rows"]] == [
        ("2025-03-10", "r1", 2),
        ("2025-03-10", "r2", 0),
    ]


def test_csv_rows_and_reps(busy, member_client):
    client = member_client(busy)
    url = f"/api/v1/workspaces/{busy.slug}/sales/activity"
    lines = client.get(url, {**RANGE, "format": "csv"}).content.decode().splitlines()
    assert lines[0] == "week_start,rep,calls,emails,meetings,messages"
    assert lines[1] == "2025-03-03,r1,1,1,0,0" and len(lines) == 7
    lines = client.get(url, {**RANGE, "format": "csv", "table": "reps"}).content.decode().splitlines()
    assert lines == [
        "rep,calls,emails,meetings,messages,won_deals,meetings_per_won_deal",
        "r1,1,1,3,0,2,1.5",
        "r2,0,0,0,1,0,",
    ]
