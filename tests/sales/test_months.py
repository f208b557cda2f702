"""Pipeline generation (deals created per local month against target, per rep, coverage) and the
forecast (won + weighted open deals per close month, by category, against quota)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import crm_records
from tests.sales.builders import account, deal, get, seed

pytestmark = pytest.mark.django_db


def target(external_id: str, month: str, owner: str | None = None, pipeline=None, quota=None, **extra):
    return {"external_id": external_id, "month": month, "owner": owner, "pipeline_target": pipeline,
            "revenue_quota": quota, **extra}  # fmt: skip


@pytest.fixture
def generation(make_workspace):
    workspace = make_workspace("acme", tz="Asia/Shanghai")[0]
    seed(
        workspace,
        ["r1", "r2"],
        accounts=[account("A1")],
        deals=[
            deal("G1", "open", "100.00", "2025-03-31", "r1", created_at="2025-01-31T23:30:00+08:00"),  # January
            deal("G2", "won", "200.00", "2025-02-20", "r1", created_at="2025-02-01T00:30:00+08:00"),  # local Feb 1
            deal("G3", "lost", None, "2025-02-25", "r2", created_at="2025-02-15"),  # a deal adding 0
            deal("G4", "open", "300.00", "2025-03-15", "r2", created_at="2024-12-31T23:59:00+08:00"),  # December
            deal("G5", "open", "50.00", "2025-04-10", "r2", created_at="2025-03-31"),  # March, after end's day
            deal("G6", "open", "70.00", "2025-04-10", "r2", created_at="2025-04-01"),  # April: outside
        ],
        targets=[
            target("T1", "2025-01", pipeline="1000.00", quota="500.00"),  # the team row wins…
            target("T2", "2025-01", "r1", pipeline="300.00"),  # …over the reps' rows
            target("T2b", "2025-01", "r2", pipeline="400.00"),
            target("T3", "2025-02", "r1", pipeline="100.00"),  # two rows of r1: they add up
            target("T4", "2025-02", "r1", pipeline="50.00"),
            target("T5", "2025-02", "r2", pipeline="250.00", quota="100.00"),
            target("T6", "2025-03", quota="600.00"),  # a team quota only: no pipeline target for March
            target("T7", "2025-03", "r1", pipeline="999.00", deleted=True),
        ],
    )
    return workspace


RANGE = {"start": "2025-01-15", "end": "2025-03-10"}  # months: January, February, March


def test_generated_per_month_against_the_team_else_the_reps_target(generation, member_client):
    answer = get(member_client(generation), generation, "pipeline-generation", **RANGE)
    assert answer["months"] == [
        # G1 (local Jan 31) against the team's 1000.00: 10.0 %.
        {"month": "2025-01-01", "deals": 1, "generated": "100.00", "target": "1000.00", "attainment_pct": 10.0},
        # G2 (local Feb 1), G3 (no amount) against r1 100 + 50 + r2 250 = 400.00: 50.0 %.
        {"month": "2025-02-01", "deals": 2, "generated": "200.00", "target": "400.00", "attainment_pct": 50.0},
        # G5; the team row has no pipeline target, the deleted rep row does not count.
        {"month": "2025-03-01", "deals": 1, "generated": "50.00", "target": None, "attainment_pct": None},
    ]


def test_a_rep_s_target_is_the_sum_of_their_rows(generation, member_client):
    answer = get(member_client(generation), generation, "pipeline-generation", **RANGE)
    assert answer["reps"] == [
        # r1: G1 + G2 = 300.00 against 300 + 100 + 50 = 450.00: 66.7 %.
        {"rep": "r1", "deals": 2, "generated": "300.00", "target": "450.00", "attainment_pct": 66.7},
        # r2: G3 + G5 = 50.00 against 400 + 250 = 650.00: 7.7 %.
        {"rep": "r2", "deals": 2, "generated": "50.00", "target": "650.00", "attainment_pct": 7.7},
    ]


def test_coverage_is_open_pipeline_over_what_is_left_of_the_quota(generation, member_client):
    answer = get(member_client(generation), generation, "pipeline-generation", **RANGE)
    # Quota 500 + 100 + 600 = 1200.00; won closing Jan–Mar: G2 200.00; open closing then: G1 100 + G4 300.
    # 400 / (1200 − 200) = 0.4
    assert answer["coverage"] == {"quota": "1200.00", "revenue": "200.00", "open_pipeline": "400.00", "ratio": 0.4}
    # February alone: quota 100.00 − won 200.00 ≤ 0: no ratio.
    february = get(member_client(generation), generation, "pipeline-generation", start="2025-02-01", end="2025-02-28")
    assert february["coverage"] == {"quota": "100.00", "revenue": "200.00", "open_pipeline": "0.00", "ratio": None}
    # April: no target row at all.
    april = get(member_client(generation), generation, "pipeline-generation", start="2025-04-01", end="2025-04-30")
    assert april["coverage"] == {"quota": None, "revenue": "0.00", "open_pipeline": "120.00", "ratio": None}
    assert april["months"] == [
        {"month": "2025-04-01", "deals": 1, "generated": "70.00", "target": None, "attainment_pct": None}
    ]


@pytest.fixture
def forecasting(make_workspace):
    workspace = make_workspace("fc", tz="Asia/Shanghai")[0]
    seed(
        workspace,
        ["r1", "r2"],
        accounts=[account("A1"), account("A2", status="dormant")],  # dormant accounts' deals count here
        deals=[
            deal("F1", "won", "1000.00", "2025-03-31", "r1"),  # March's last day
            deal("F2", "won", "500.00", "2025-04-01", "r1"),
            deal("F3", "open", "200.00", "2025-03-15", "r1", forecast_category="commit", probability=90),
            deal("F4", "open", "100.00", "2025-03-20", "r2", forecast_category="best_case", probability=33),
            deal("F5", "open", "0.10", "2025-03-01", "r2", forecast_category="pipeline", probability=15),
            deal(
                "F6", "open", "0.10", "2025-03-02", "r2", forecast_category="best_case", probability=15, account_id="A2"
            ),
            deal("F7", "open", "50.00", "2025-03-05", "r2", forecast_category="omitted", probability=10),
            deal("F8", "lost", "999.00", "2025-03-06", "r2"),
            deal("F9", "won", "300.00", "2025-03-10", "r1", probability=100),  # re-opened below
        ],  # fmt: skip
        targets=[
            target("Q1", "2025-03", quota="2000.00"),
            target("Q2", "2025-02", "r1", quota="500.00"),
            target("Q3", "2025-02", "r2", quota="250.50"),
        ],
    )
    crm_records(workspace, "deals", [{"external_id": "F9", "state": "open", "probability": 0}])
    return workspace


def test_the_forecast_per_close_month(forecasting, member_client):
    answer = get(member_client(forecasting), forecasting, "forecast", start="2025-02-10", end="2025-04-05")
    february, march, april = answer["months"]
    zero = {"deals": 0, "amount": "0.00", "weighted": "0.00"}
    assert february == {
        "month": "2025-02-01", "won": "0.00", "weighted_open": "0.00", "forecast": "0.00",
        "quota": "750.50", "quota_pct": 0.0,  # no team row: r1 500.00 + r2 250.50
        "categories": [{"category": c, **zero} for c in ("pipeline", "best_case", "commit", "omitted")],
    }  # fmt: skip
    # Weighted, in cents × percent: F3 20000 × 90, F4 10000 × 33, F5 and F6 10 × 15, F7 5000 × 10, F9 × 0.
    # Month: (1 800 000 + 330 000 + 150 + 150 + 50 000) / 100 = 21 803 cents → 218.03 (the categories
    # rounded one by one would add up to 218.04). Forecast 1000.00 + 218.03 = 1218.03 of 2000.00: 60.9 %.
    assert march == {
        "month": "2025-03-01", "won": "1000.00", "weighted_open": "218.03", "forecast": "1218.03",
        "quota": "2000.00", "quota_pct": 60.9,
        "categories": [
            {"category": "pipeline", "deals": 2, "amount": "300.10", "weighted": "0.02"},  # F5 1.5 + F9 0
            {"category": "best_case", "deals": 2, "amount": "100.10", "weighted": "33.02"},  # 33 + 0.015
            {"category": "commit", "deals": 1, "amount": "200.00", "weighted": "180.00"},
            {"category": "omitted", "deals": 1, "amount": "50.00", "weighted": "5.00"},
        ],
    }  # fmt: skip
    assert (april["won"], april["forecast"], april["quota"], april["quota_pct"]) == ("500.00", "500.00", None, None)


def test_forecast_csv_by_month_and_by_category(forecasting, member_client):
    client = member_client(forecasting)
    url = f"/api/v1/workspaces/{forecasting.slug}/sales/forecast"
    lines = client.get(url, {"start": "2025-03-01", "end": "2025-03-31", "format": "csv"}).content.decode().splitlines()
    assert lines[0] == (
        "month,won,weighted_open,forecast,quota,quota_pct,pipeline_deals,pipeline_amount,pipeline_weighted,"
        "best_case_deals,best_case_amount,best_case_weighted,commit_deals,commit_amount,commit_weighted,"
        "omitted_deals,omitted_amount,omitted_weighted"
    )
    assert (
        lines[1]
        == "2025-03-01,1000.00,218.03,1218.03,2000.00,60.9,2,300.10,0.02,2,100.10,33.02,1,200.00,180.00,1,50.00,5.00"
    )
    params = {"start": "2025-03-01", "end": "2025-03-31", "format": "csv", "table": "categories"}
    lines = client.get(url, params).content.decode().splitlines()
    assert lines == [
        "month,category,deals,amount,weighted",
        "2025-03-01,pipeline,2,300.10,0.02",
        "2025-03-01,best_case,2,100.10,33.02",
        "2025-03-01,commit,1,200.00,180.00",
        "2025-03-01,omitted,1,50.00,5.00",
    ]


def test_the_month_dashboards_may_look_ahead(forecasting, member_client):
    client = member_client(forecasting)
    ahead = (forecasting.today() + timedelta(days=60)).isoformat()
    start = forecasting.today().isoformat()
    for name in ("forecast", "pipeline-generation"):
        response = client.get(f"/api/v1/workspaces/{forecasting.slug}/sales/{name}", {"start": start, "end": ahead})
        assert response.status_code == 200, response.content
    # The period dashboards count what happened: their end is never after today.
    response = client.get(f"/api/v1/workspaces/{forecasting.slug}/sales/state-of-the-union", {"end": ahead})
    assert response.status_code == 400 and "end" in response.json()
