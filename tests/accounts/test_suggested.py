"""Suggested segments (API ``accounts/suggested-segments`` and the list's ``suggested`` filter): the stated
rules on the hand-made ledger (tests/accounts/conftest.py), today being 2026-03-20 in Shanghai.

Expansion: active accounts A1, A2, A3, A4, A6 (n = 5, ⌈5/4⌉ = 2); all-time revenues 1540, 20300, 700, 5000,
0 → the 2nd highest is 5000: A2 and A4 are the top quartile. A2 bought P1 and (D4, added here) P2: two
products; A4 one (P3) → Expansion = [A4]. A5 (dormant, 9999, one product) is not active.

At risk: idle window Mar 7–20. Open deals: D8 (A1; a completed call on Mar 15 → not idle), D9 and D10 (A2;
last completed activity Jan 15 → idle), D11 (A6, no owner). Usage (attendance days): rep2 3 days in
Jan 20–Feb 18, 1 day in Feb 19–Mar 20 → falling; rep1 1 then 2 → rising. At risk = [A2].

Churn risk: no survey, feedback or contract yet, so only the falling usage counts: rep2's active accounts,
A2 and A4 (``test_churn_risk_follows_each_sign`` adds the other signs).
"""

from __future__ import annotations

import pytest

from tests.conftest import crm_records, journeys

pytestmark = pytest.mark.django_db

URL = "/api/v1/workspaces/sh/accounts/suggested-segments"


@pytest.fixture
def today(time_machine):
    time_machine.move_to("2026-03-20T12:00:00+08:00")


@pytest.fixture
def api(today, busy, member_client):
    crm_records(busy, "deals", [{"external_id": "D4", "line_items": [{"product": "P2", "amount": "300.00"}]}])
    crm_records(busy, "activities", [
        {"external_id": "X5", "kind": "call", "owner": "rep1", "account": "A1", "deal": "D8", "occurred_at": "2026-03-15"},
        {"external_id": "X6", "kind": "task", "owner": "rep2", "account": "A2", "deal": "D9", "occurred_at": "2026-03-18",
         "completed": False},
    ])  # fmt: skip
    journeys(busy, [
        ("rep2", "2026-01-25T10:00:00+08:00", "Leads", "view"),
        ("rep2", "2026-02-01T10:00:00+08:00", "Leads", "view"),
        ("rep2", "2026-02-18T10:00:00+08:00", "Leads", "view"),
        ("rep2", "2026-03-01T10:00:00+08:00", "Leads", "view"),
        ("rep1", "2026-02-10T10:00:00+08:00", "Leads", "view"),
        ("rep1", "2026-03-02T10:00:00+08:00", "Leads", "view"),
        ("rep1", "2026-03-19T10:00:00+08:00", "Leads", "view"),
    ])  # fmt: skip
    return member_client(busy)


def listed(api, key):
    response = api.get("/api/v1/workspaces/sh/accounts/", {"suggested": key})
    assert response.status_code == 200, response.content
    return [row["external_id"] for row in response.json()["results"]]


def test_the_rules_and_their_counts(api):
    response = api.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert [(s["key"], s["accounts"]) for s in body] == [("expansion", 1), ("at_risk", 1), ("churn_risk", 2)]
    assert body[0]["name"] == "Expansion" and "top quartile" in body[0]["rule"]
    assert body[1]["accounts_url"].endswith("/api/v1/workspaces/sh/accounts/?suggested=at_risk")
    assert listed(api, "expansion") == ["A4"]
    assert listed(api, "at_risk") == ["A2"]
    assert listed(api, "churn_risk") == ["A2", "A4"]
    csv = api.get(URL, {"format": "csv"}).content.decode().lstrip("\ufeff").splitlines()
    assert csv[0] == "key,name,rule,accounts" and csv[1].startswith("expansion,Expansion,")


def test_expansion_follows_the_quartile(api, busy):
    # A6 (no revenue yet) wins 30000 of one product: revenues 1540, 20300, 700, 5000, 30000 → the 2nd highest is
    # 20300: A6 and A2 are the top quartile; A2 has two products, A4 (5000) drops out → [A6].
    crm_records(busy, "deals", [{"external_id": "D15", "account": "A6", "name": "Big", "amount": "30000", "stage": "Won",
                                 "state": "won", "created_at": "2026-03-01", "close_date": "2026-03-10",
                                 "line_items": [{"product": "P3", "amount": "30000"}]}])  # fmt: skip
    assert listed(api, "expansion") == ["A6"]
    # Without any revenue no account is "top": a workspace of zero-revenue accounts suggests none.
    crm_records(
        busy, "deals", [{"external_id": k, "state": "lost"} for k in ("D1", "D2", "D3", "D4", "D5", "D6", "D13", "D15")]
    )
    assert listed(api, "expansion") == []


def test_at_risk_needs_both_an_idle_deal_and_falling_usage(api, busy):
    # A completed activity on D9 and on D10 today: A2 has no idle deal any more.
    crm_records(busy, "activities", [
        {"external_id": "X7", "kind": "call", "owner": "rep2", "account": "A2", "deal": "D9", "occurred_at": "2026-03-20"},
        {"external_id": "X8", "kind": "call", "owner": "rep2", "account": "A2", "deal": "D10", "occurred_at": "2026-03-07"},
    ])  # fmt: skip
    assert listed(api, "at_risk") == []
    # D10's activity 14 days back (Mar 6) no longer counts: D10 is idle again.
    crm_records(busy, "activities", [{"external_id": "X8", "occurred_at": "2026-03-06"}])
    assert listed(api, "at_risk") == ["A2"]
    assert listed(api, "churn_risk") == ["A2", "A4"]
    # rep2 used the CRM on 2 more days: 3 and 3, not falling.
    journeys(busy, [("rep2", "2026-03-10T10:00:00+08:00", "Leads", "view"),
                    ("rep2", "2026-03-11T10:00:00+08:00", "Leads", "view")])  # fmt: skip
    assert listed(api, "at_risk") == []


def test_a_suggestion_saved_as_a_segment_keeps_the_rule(api, busy, member_client):
    analyst = member_client(busy, "analyst", "ana")
    seg = analyst.post(
        "/api/v1/workspaces/sh/segments/", {"name": "At risk", "filters": {"suggested": "at_risk"}}, format="json"
    ).json()
    assert seg["filters"] == {"suggested": "at_risk"}
    found = analyst.get(f"/api/v1/workspaces/sh/segments/{seg['id']}/accounts").json()
    assert [r["external_id"] for r in found["results"]] == ["A2"]


def test_churn_risk_follows_each_sign(api, busy):
    """A1 (rep1, rising usage): NPS 10 on Mar 1, then 5 on Mar 10 — the latest is a detractor's. A3 (rep1):
    its one active contract ends Apr 30, within 60 days of Mar 20. A6 (no owner): three positive texts, then
    three of which two negative — negatives rose. A2 and A4: rep2's usage falls. A5 is dormant: never."""
    from records.aggregates import figures_refresh_dirty
    from records.labelling import feedback_label_pending

    crm_records(busy, "surveys", [
        {"external_id": "S1", "account": "A1", "kind": "nps", "score": 10, "responded_at": "2026-03-01"},
        {"external_id": "S2", "account": "A1", "kind": "nps", "score": 5, "responded_at": "2026-03-10"},
        {"external_id": "S3", "account": "A5", "kind": "nps", "score": 0, "responded_at": "2026-03-10"},
    ])  # fmt: skip
    crm_records(busy, "contracts", [
        {"external_id": "K1", "account": "A3", "start": "2025-05-01", "end": "2026-04-30", "monthly_value": 100,
         "status": "active"},
    ])  # fmt: skip
    texts = ["Great support, thank you so much!", "Very happy with the new dashboard.", "Excellent training."]
    texts += ["The export fails again, very disappointed.", "Still waiting for a reply, this is unacceptable.",
              "Thanks for the call."]  # fmt: skip
    crm_records(busy, "feedback", [
        {"external_id": f"F{n}", "account": "A6", "channel": "email", "text": text,
         "received_at": f"2026-03-{10 + n:02d}T10:00:00+08:00"}
        for n, text in enumerate(texts)
    ])  # fmt: skip
    feedback_label_pending(workspace=busy)
    figures_refresh_dirty(workspace=busy)
    assert listed(api, "churn_risk") == ["A1", "A2", "A4", "A6", "A3"]  # Alpha, Beta, Delta, Epsilon, Gamma
    rows = {r["external_id"]: r for r in api.get("/api/v1/workspaces/sh/accounts/").json()["results"]}
    assert (rows["A1"]["nps"], rows["A1"]["churn_risk"]) == (0.0, True)  # one promoter, one detractor
    assert (rows["A6"]["last_sentiment"], rows["A6"]["nps"]) == ("positive", None)  # "Thanks for the call."
    assert (rows["A5"]["nps"], rows["A5"]["churn_risk"]) == (-100.0, False)  # dormant
    account = api.get("/api/v1/workspaces/sh/accounts/A1").json()
    assert account["churn_risk"] is True
    # A longer contract of A3 runs past the 60 days: no longer a sign.
    crm_records(busy, "contracts", [
        {"external_id": "K2", "account": "A3", "start": "2026-05-01", "end": "2027-04-30", "monthly_value": 100,
         "status": "active"},
    ])  # fmt: skip
    assert listed(api, "churn_risk") == ["A1", "A2", "A4", "A6"]
