"""State of the union (API.md "Accounts and sales"): hand-checked figures against the previous period,
the open pipeline now, the top deals and the leaderboard."""

from __future__ import annotations

import pytest

from tests.conftest import crm_records
from tests.sales.builders import account, activity, deal, get, seed

pytestmark = pytest.mark.django_db

MARCH = {"start": "2025-03-01", "end": "2025-03-31"}  # 31 days; previous: 2025-01-29 … 2025-02-28


@pytest.fixture
def sales(make_workspace):
    workspace = make_workspace("acme", tz="Asia/Shanghai")[0]
    seed(
        workspace,
        ["r1", "r2", "r3", "r4", "u9"],  # u9 owns nothing: not a rep
        accounts=[account("A1", owner="r1"), account("A2"), account("A3")],
        deals=[
            deal("W1", "won", "1000.00", "2025-03-31", "r1"),  # the period's last day
            deal("W2", "won", "500.01", "2025-03-01", "r2"),  # its first day
            deal("W3", "won", None, "2025-03-15", "r1"),  # no amount: a win that adds 0, not a top deal
            deal("W4", "won", "200.00", "2025-04-01", "r2"),  # the day after
            deal("W5", "won", "300.00", "2025-02-28", "r1"),  # previous period
            deal("W6", "won", "700.00", "2025-03-10", "r1"),  # re-opened below
            deal("L1", "lost", "400.00", "2025-03-20", "r1"),
            deal("L2", "lost", "100.00", "2025-02-01", "r2"),  # previous period
            deal("L3", "lost", "100.00", "2025-01-28", "r2"),  # before the previous period
            deal("X1", "won", "5000.00", "2025-03-05", "r1", account_id="A2"),  # its account is deleted below
            deal("X2", "won", "4000.00", "2025-03-05", "r1", deleted=True),
            deal("O1", "open", "250.00", "2025-05-01", "r2"),
            deal("O2", "open", "50.50", None),  # no owner, no close date: still open pipeline
            deal("O3", "open", None, "2025-03-02", "r4", account_id="A3"),
        ],
        activities=[activity("C1", "call", "r3", "2025-03-03T10:00:00+08:00")],  # r3: a rep by activity only
    )
    crm_records(workspace, "deals", [{"external_id": "W6", "state": "open"}])  # snapshot: open, no revenue
    crm_records(workspace, "accounts", [{"external_id": "A2", "deleted": True}])
    return workspace


def test_the_metrics_against_the_previous_period(sales, member_client):
    answer = get(member_client(sales), sales, "state-of-the-union", **MARCH)
    assert answer["period"] == {"start": "2025-03-01", "end": "2025-03-31"}
    assert answer["previous"] == {"start": "2025-01-29", "end": "2025-02-28"}
    assert answer["currency"] == "USD"
    metrics = answer["metrics"]
    # Now: won W1 + W2 + W3 = 1000.00 + 500.01 + 0 = 1500.01; previous: W5 = 300.00.
    # change = (1500.01 − 300) / 300 × 100 = 400.0033… → 400.0
    assert metrics["revenue"] == {"value": "1500.01", "previous": "300.00", "change_pct": 400.0}
    assert metrics["deals_won"] == {"value": 3, "previous": 1, "change_pct": 200.0}
    # Win rate: 3 won of 3 + 1 (L1) closed = 75.0; previous 1 of 2 (W5, L2) = 50.0; change 50.0.
    assert metrics["win_rate_pct"] == {"value": 75.0, "previous": 50.0, "change_pct": 50.0}
    # Average: 150001 / 3 = 50000.33 cents → "500.00"; change from unrounded: (500.0033 − 300) / 300 = 66.67 → 66.7.
    assert metrics["average_deal_size"] == {"value": "500.00", "previous": "300.00", "change_pct": 66.7}
    # Every open deal now: O1 250.00 + O2 50.50 (no close date) + O3 0 + W6 700.00 (re-opened) = 1000.50.
    assert metrics["open_pipeline"] == {"value": "1000.50", "previous": None, "change_pct": None}


def test_top_deals_are_won_with_an_amount_largest_first(sales, member_client):
    client = member_client(sales)
    answer = get(client, sales, "state-of-the-union", **MARCH)
    assert answer["top_deals"] == [
        {"external_id": "W1", "name": "Deal W1", "account": "A1", "rep": "r1", "amount": "1000.00",
         "close_date": "2025-03-31"},
        {"external_id": "W2", "name": "Deal W2", "account": "A1", "rep": "r2", "amount": "500.01",
         "close_date": "2025-03-01"},
    ]  # fmt: skip
    assert [d["external_id"] for d in get(client, sales, "state-of-the-union", limit=1, **MARCH)["top_deals"]] == ["W1"]


def test_the_leaderboard_holds_every_rep_revenue_first_ties_by_rep(sales, member_client):
    answer = get(member_client(sales), sales, "state-of-the-union", **MARCH)
    assert answer["leaderboard"] == [
        # r1: W1 1000.00 + W3 0; won 2, lost 1 (L1): 2 / 3 = 66.7 %.
        {"rep": "r1", "revenue": "1000.00", "won": 2, "lost": 1, "win_rate_pct": 66.7},
        {"rep": "r2", "revenue": "500.01", "won": 1, "lost": 0, "win_rate_pct": 100.0},
        # r3 (an activity) and r4 (an open deal) close nothing: ties at 0 by rep.
        {"rep": "r3", "revenue": "0.00", "won": 0, "lost": 0, "win_rate_pct": None},
        {"rep": "r4", "revenue": "0.00", "won": 0, "lost": 0, "win_rate_pct": None},
    ]


def test_the_average_rounds_half_up_once_after_summing(make_workspace, member_client):
    workspace = make_workspace("halves")[0]
    seed(
        workspace,
        ["r1"],
        accounts=[account("A1")],
        deals=[deal("D1", "won", "0.01", "2025-03-03", "r1"), deal("D2", "won", "0.02", "2025-03-04", "r1")],
    )
    answer = get(member_client(workspace), workspace, "state-of-the-union", **MARCH)
    # 3 cents / 2 deals = 1.5 cents → 2 cents.
    assert answer["metrics"]["average_deal_size"]["value"] == "0.02"
    # Nothing closed before: no previous average, no change; the win rate is 100 % now, undefined before.
    assert answer["metrics"]["average_deal_size"]["previous"] is None
    assert answer["metrics"]["win_rate_pct"] == {"value": 100.0, "previous": None, "change_pct": None}
    assert answer["metrics"]["revenue"] == {"value": "0.03", "previous": "0.00", "change_pct": None}


def test_an_empty_workspace_answers_zeros_and_nulls(make_workspace, member_client):
    workspace = make_workspace("empty")[0]
    answer = get(member_client(workspace), workspace, "state-of-the-union", **MARCH)
    assert answer["metrics"]["revenue"] == {"value": "0.00", "previous": "0.00", "change_pct": None}
    assert answer["metrics"]["average_deal_size"] == {"value": None, "previous": None, "change_pct": None}
    assert answer["metrics"]["open_pipeline"]["value"] == "0.00"
    assert answer["top_deals"] == [] and answer["leaderboard"] == []


def test_csv_gives_the_leaderboard_or_the_top_deals(sales, member_client):
    client = member_client(sales)
    url = f"/api/v1/workspaces/{sales.slug}/sales/state-of-the-union"
    text = client.get(url, {**MARCH, "format": "csv"}).content.decode()
    assert text.splitlines() == [
        "rep,revenue,won,lost,win_rate_pct",
        "r1,1000.00,2,1,66.7",
        "r2,500.01,1,0,100.0",
        "r3,0.00,0,0,",
        "r4,0.00,0,0,",
    ]
    text = client.get(url, {**MARCH, "format": "csv", "table": "top_deals"}).content.decode()
    assert text.splitlines()[0] == "external_id,name,account,rep,amount,close_date"
    assert text.splitlines()[1] == "W1,Deal W1,A1,r1,1000.00,2025-03-31"
