"""Open pipeline: the open deals by stage (weighted sums rounded once), the stuck deals (days in the
current stage, from the last stage-history entry, local dates) and the idle ones (no completed
activity in the 14 days to as_of)."""

from __future__ import annotations

import pytest

from tests.sales.builders import account, activity, deal, get, seed

pytestmark = pytest.mark.django_db

AS_OF = "2025-06-30"  # the idle window: 2025-06-17 … 2025-06-30


def history(*entries: tuple[str, str]) -> list[dict[str, str]]:
    return [{"stage": stage, "entered_at": at} for stage, at in entries]


@pytest.fixture
def pipeline(make_workspace):
    workspace = make_workspace("acme", tz="Asia/Shanghai")[0]
    seed(
        workspace,
        ["r1", "r2"],
        accounts=[account("A1"), account("A9", deleted=True)],
        deals=[
            # Moved twice (sent out of order): in Negotiation since local 2025-05-30 → 31 days: stuck.
            deal(
                "S1",
                "open",
                "1000.00",
                "2025-07-31",
                "r1",
                stage="Negotiation",
                probability=0,
                stage_history=history(
                    ("Proposal", "2025-05-01T10:00:00+08:00"),
                    ("Negotiation", "2025-05-30T23:30:00+08:00"),
                    ("Qualify", "2025-04-01T10:00:00+08:00"),
                ),
            ),
            # Local 2025-05-31 (UTC 05-30): 30 days, not stuck.
            deal(
                "S2",
                "open",
                "333.33",
                "2025-07-01",
                "r2",
                stage="Proposal",
                probability=100,
                stage_history=history(("Proposal", "2025-05-31T00:30:00+08:00")),
            ),
            # No history: in its stage since creation, 2025-01-15 → 166 days.
            deal("S3", "open", "0.05", None, "r1", stage="Qualify", probability=50, created_at="2025-01-15"),
            deal("S5", "open", "0.05", "2025-08-01", None, stage="Qualify", probability=50, created_at="2025-06-20"),
            deal("S4", "won", "50.00", "2025-06-01", "r1", stage="Qualify", created_at="2024-01-01"),
            deal("S7", "open", "70.00", "2025-07-02", "r1", deleted=True, created_at="2024-01-01"),
            deal("S8", "open", "80.00", "2025-07-02", "r1", account_id="A9", created_at="2024-01-01"),
        ],  # fmt: skip
        activities=[
            activity("x1", "call", "r1", "2025-06-16T12:00:00+08:00", deal="S1"),  # 14 days before: idle
            activity("x2", "call", "r1", "2025-06-25T12:00:00+08:00", deal="S1", deleted=True),
            activity("x3", "email", "r2", "2025-06-17T09:00:00+08:00", deal="S2"),  # 13 days: not idle
            activity("x4", "meeting", "r1", "2025-06-20T09:00:00+08:00", deal="S5", completed=False),
            activity("x5", "meeting", "r1", "2025-06-01T09:00:00+08:00", deal="S5"),
            activity("x6", "meeting", "r1", "2025-07-05T09:00:00+08:00", deal="S5"),  # after as_of
        ],
    )
    return workspace


def test_totals_and_stages_round_weighted_sums_once(pipeline, member_client):
    answer = get(member_client(pipeline), pipeline, "open-pipeline", as_of=AS_OF)
    # Weighted: S1 1000.00 × 0 % = 0; S2 333.33 × 100 % = 333.33; S3 and S5 0.05 × 50 % = 2.5 cents each.
    # Qualify: 2.5 + 2.5 = 5 cents (rounding each first would give 6); total 33333 + 5 = 33338 cents.
    assert answer["total"] == {"deals": 4, "amount": "1333.43", "weighted": "333.38"}
    assert answer["by_stage"] == [
        {"stage": "Negotiation", "deals": 1, "amount": "1000.00", "weighted": "0.00"},
        {"stage": "Proposal", "deals": 1, "amount": "333.33", "weighted": "333.33"},
        {"stage": "Qualify", "deals": 2, "amount": "0.10", "weighted": "0.05"},
    ]


def test_stuck_counts_days_from_the_last_stage_entry(pipeline, member_client):
    answer = get(member_client(pipeline), pipeline, "open-pipeline", as_of=AS_OF)
    assert answer["stuck"] == [
        {"external_id": "S3", "name": "Deal S3", "account": "A1", "rep": "r1", "stage": "Qualify", "amount": "0.05",
         "days_in_stage": 166},  # 2025-01-15 → 06-30
        {"external_id": "S1", "name": "Deal S1", "account": "A1", "rep": "r1", "stage": "Negotiation",
         "amount": "1000.00", "days_in_stage": 31},
    ]  # fmt: skip
    # A day earlier S1 has 30 days in its stage: not stuck any more.
    earlier = get(member_client(pipeline), pipeline, "open-pipeline", as_of="2025-06-29")
    assert [d["external_id"] for d in earlier["stuck"]] == ["S3"]


def test_stuck_uses_each_stage_s_threshold(pipeline, make_workspace, member_client):
    from records.models import StageThreshold

    StageThreshold.objects.create(workspace=pipeline, stage="Proposal", days=29)
    StageThreshold.objects.create(workspace=pipeline, stage="Qualify", days=166)
    other = make_workspace("other")[0]
    StageThreshold.objects.create(workspace=other, stage="Negotiation", days=400)  # not this workspace's
    answer = get(member_client(pipeline), pipeline, "open-pipeline", as_of=AS_OF)
    # S1 Negotiation (no row here: 30): 31 days > 30, stuck. S2 Proposal (29): 30 days > 29, stuck.
    # S3 Qualify (166): 166 days, not more: not stuck; S5 Qualify: 10 days.
    # Longest first, by the moment entered: S1 at 05-30 15:30 UTC (local 05-30), S2 at 05-30 16:30 UTC
    # (local 05-31).
    assert [(d["external_id"], d["stage"], d["days_in_stage"]) for d in answer["stuck"]] == [
        ("S1", "Negotiation", 31),
        ("S2", "Proposal", 30),
    ]
    # A day later S3 has 167 days in Qualify: stuck, and first (in its stage since 01-15).
    later = get(member_client(pipeline), pipeline, "open-pipeline", as_of="2025-07-01")
    assert [(d["external_id"], d["days_in_stage"]) for d in later["stuck"]] == [("S3", 167), ("S1", 32), ("S2", 31)]
    # A threshold of 0 days: every deal in the stage since before as_of (S3 since 01-15, S5 since 06-20).
    StageThreshold.objects.filter(workspace=pipeline, stage="Qualify").update(days=0)
    answer = get(member_client(pipeline), pipeline, "open-pipeline", as_of=AS_OF)
    assert [(d["external_id"], d["days_in_stage"]) for d in answer["stuck"]] == [
        ("S3", 166), ("S1", 31), ("S2", 30), ("S5", 10)
    ]  # fmt: skip


def test_idle_never_worked_on_first_then_the_longest(pipeline, member_client):
    answer = get(member_client(pipeline), pipeline, "open-pipeline", as_of=AS_OF)
    assert [(d["external_id"], d["days_idle"]) for d in answer["idle"]] == [
        ("S3", None),  # no activity at all
        ("S5", 29),  # 06-01 (06-20 not completed, 07-05 after as_of)
        ("S1", 14),  # 06-16, exactly 14 days before: outside the 14 days ending on as_of
    ]
    assert answer["idle"][1] == {"external_id": "S5", "name": "Deal S5", "account": "A1", "rep": None,
                                 "amount": "0.05", "days_idle": 29}  # fmt: skip
    assert answer["truncated"] == {"stuck": False, "idle": False}
    # One day later S2's email (06-17) is 14 days old too.
    later = get(member_client(pipeline), pipeline, "open-pipeline", as_of="2025-07-01")
    assert ("S2", 14) in [(d["external_id"], d["days_idle"]) for d in later["idle"]]


def test_idle_as_of_a_past_day_counts_only_the_activities_up_to_it(pipeline, member_client):
    client = member_client(pipeline)
    # On 06-14 every open deal has been worked on since (S1 06-16, S2 06-17, S5 07-05): what counts is
    # the last completed activity up to 06-14. S1, S2: none then (never worked on, by external id), S3:
    # none at all; S5: 06-01 = as_of − 13, inside the 14 days (06-01 … 06-14): not idle.
    answer = get(client, pipeline, "open-pipeline", as_of="2025-06-14")
    assert [(d["external_id"], d["days_idle"]) for d in answer["idle"]] == [("S1", None), ("S2", None), ("S3", None)]
    url = f"/api/v1/workspaces/{pipeline.slug}/sales/open-pipeline"
    csv = client.get(url, {"as_of": "2025-06-14", "format": "csv", "table": "idle"}).content.decode().splitlines()
    assert [line.split(",")[0] for line in csv[1:]] == ["S1", "S2", "S3"]
    # A day later S5's 06-01 is 14 days old: idle, after the never-worked-on ones.
    answer = get(client, pipeline, "open-pipeline", as_of="2025-06-15")
    assert [(d["external_id"], d["days_idle"]) for d in answer["idle"]] == [
        ("S1", None), ("S2", None), ("S3", None), ("S5", 14)
    ]  # fmt: skip


def test_start_and_end_filter_the_close_date(pipeline, member_client):
    answer = get(member_client(pipeline), pipeline, "open-pipeline", as_of=AS_OF, start="2025-07-01", end="2025-07-31")
    # S1 (07-31) and S2 (07-01); not S3 (no close date) nor S5 (08-01).
    assert answer["total"] == {"deals": 2, "amount": "1333.33", "weighted": "333.33"}
    assert [d["external_id"] for d in answer["stuck"]] == ["S1"]
    assert [d["external_id"] for d in answer["idle"]] == ["S1"]
    only_start = get(member_client(pipeline), pipeline, "open-pipeline", as_of=AS_OF, start="2025-07-02")
    assert only_start["total"]["deals"] == 2  # S1, S5


def test_csv_lists_every_row_of_the_list_asked_for(pipeline, member_client, monkeypatch):
    from sales.api import views

    monkeypatch.setattr(views, "LIST_CAP", 1)  # JSON shows one row of each list, CSV all of them
    client = member_client(pipeline)
    answer = get(client, pipeline, "open-pipeline", as_of=AS_OF)
    assert [d["external_id"] for d in answer["idle"]] == ["S3"] and answer["truncated"] == {"stuck": True, "idle": True}
    url = f"/api/v1/workspaces/{pipeline.slug}/sales/open-pipeline"
    lines = client.get(url, {"as_of": AS_OF, "format": "csv", "table": "idle"}).content.decode().splitlines()
    assert lines == [
        "external_id,name,account,rep,amount,days_idle",
        "S3,Deal S3,A1,r1,0.05,",
        "S5,Deal S5,A1,,0.05,29",
        "S1,Deal S1,A1,r1,1000.00,14",
    ]
    lines = client.get(url, {"as_of": AS_OF, "format": "csv", "table": "stuck"}).content.decode().splitlines()
    assert lines[0] == "external_id,name,account,rep,stage,amount,days_in_stage" and len(lines) == 3
    lines = client.get(url, {"as_of": AS_OF, "format": "csv"}).content.decode().splitlines()
    assert lines == ["stage,deals,amount,weighted", "Negotiation,1,1000.00,0.00", "Proposal,1,333.33,333.33",
                     "Qualify,2,0.10,0.05"]  # fmt: skip
