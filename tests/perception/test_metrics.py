"""Customer perception metrics (API.md "Customer perception", docs/perception.md#metrics) over HTTP through
the real routes: hand-checked figures for every metric, the previous period, the filters, the trend's
months, the breakdown's groups, the accounts lists; two workspaces holding the same external ids; and a
brute-force comparison with a day-by-day recomputation from the definitions."""

from __future__ import annotations

import random
from datetime import date, timedelta
from fractions import Fraction
from math import floor

import pytest

from tests.conftest import crm_records, crm_users

pytestmark = pytest.mark.django_db

API = "/api/v1/workspaces/{slug}/perception/{name}"
PERIOD = {"start": "2026-03-17", "end": "2026-03-31"}  # 15 days; previous: 2026-03-02 … 2026-03-16


def get(client, workspace, name, **params):
    response = client.get(API.format(slug=workspace.slug, name=name), params)
    assert response.status_code == 200, response.content
    return response.json()


def account(external_id, name, industry="", owner=None, **extra):
    return {"external_id": external_id, "name": name, "industry": industry, "owner": owner,
            "created_at": "2025-01-01T00:00:00+08:00", **extra}  # fmt: skip


def contract(external_id, account_id, start, end, value, status, **extra):
    return {"external_id": external_id, "account": account_id, "start": start, "end": end,
            "monthly_value": value, "status": status, **extra}  # fmt: skip


def survey(external_id, account_id, kind, score, at, **extra):
    return {"external_id": external_id, "account": account_id, "kind": kind, "score": score, "responded_at": at,
            **extra}  # fmt: skip


def spend(external_id, month, amount, account_id=None, **extra):
    return {"external_id": external_id, "period": month, "amount": amount, "account": account_id, **extra}


def seed_scenario(workspace, renewal_of_k3="active", r1_amount="310.00"):
    crm_users(workspace, [{"external_id": "rep1"}, {"external_id": "rep2"}, {"external_id": "rep3"}])
    crm_records(
        workspace,
        "accounts",
        [
            account("A1", "Alpha", "Tech", "rep1"),
            account("A2", "Beta", "Tech", "rep2"),
            account("A3", "Gamma", "Retail", "rep1"),
            account("A4", "Delta"),  # no industry, no owner
            account("A5", "Epsilon", "Retail", "rep2"),
            account("A6", "Zeta", "Tech", "rep1"),  # deleted below: counts nowhere
        ],
    )
    crm_records(
        workspace,
        "contracts",
        [
            # A1: two contracts, the first renewed in the period, its successor starting in it.
            contract("K1", "A1", "2025-04-01", "2026-03-20", "1000.00", "renewed"),
            contract("K2", "A1", "2026-03-21", "2027-03-20", "1200.00", "active"),
            # A2: ends on the period's last day, unrenewed ("active" past its end is not renewed).
            contract("K3", "A2", "2025-04-01", "2026-03-31", "600.00", renewal_of_k3),
            contract("K4", "A3", "2025-01-01", "2026-12-31", "310.00", "active"),
            contract("K5", "A4", "2025-10-01", "2026-03-25", "500.00", "churned"),
            # A5: starts mid-period: not at start.
            contract("K6", "A5", "2026-03-20", "2026-09-30", "900.00", "active"),
            contract("K7", "A6", "2025-01-01", "2026-03-20", "999.00", "active"),
            contract("K8", "A3", "2025-01-01", "2026-03-18", "5000.00", "churned", deleted=True),
        ],
    )
    crm_records(
        workspace,
        "surveys",
        [
            survey("S1", "A1", "nps", 10, "2026-03-17T09:00:00+08:00"),
            survey("S2", "A1", "nps", 9, "2026-03-16T17:00:00+00:00"),  # 01:00 on the 17th in Shanghai
            survey("S3", "A2", "nps", 7, "2026-03-20T10:00:00+08:00"),
            survey("S4", "A3", "nps", 3, "2026-03-31T23:30:00+08:00"),
            survey("S5", "A5", "nps", 9, "2026-03-25T10:00:00+08:00"),
            survey("S6", "A6", "nps", 0, "2026-03-25T10:00:00+08:00"),  # deleted account
            survey("S7", "A2", "nps", 8, "2026-03-10T10:00:00+08:00"),  # previous period
            survey("S8", "A3", "nps", 7, "2026-03-16T23:59:00+08:00"),  # previous period's last day
            survey("S9", "A1", "nps", 10, "2026-04-01T00:00:00+08:00"),  # after
            survey("C1", "A1", "ces", 5, "2026-03-18T10:00:00+08:00"),
            survey("C2", "A2", "ces", 6, "2026-03-19T10:00:00+08:00"),
            survey("C3", "A3", "ces", 2, "2026-03-30T10:00:00+08:00"),
            survey("C4", "A1", "ces", 7, "2026-03-05T10:00:00+08:00"),  # previous
            survey("T1", "A1", "csat", 5, "2026-03-18T10:00:00+08:00"),
            survey("T2", "A2", "csat", 4, "2026-03-18T10:00:00+08:00"),
            survey("T3", "A3", "csat", 3, "2026-03-18T10:00:00+08:00"),
            survey("T4", "A4", "csat", 1, "2026-03-18T10:00:00+08:00"),
            survey("T5", "A4", "csat", 1, "2026-03-18T10:00:00+08:00", deleted=True),
            survey("T6", "A1", "csat", 4, "2026-03-03T10:00:00+08:00"),  # previous
        ],
    )
    crm_records(
        workspace,
        "retention-spend",
        [
            spend("R1", "2026-03", r1_amount),  # no account: counts only without a filter
            spend("R2", "2026-03", "62.00", "A1"),
            spend("R3", "2026-02", "280.00", "A2"),  # a month outside both periods
            spend("R4", "2026-03", "31.00", "A6"),  # deleted account
            spend("R5", "2026-04", "300.00"),
        ],
    )
    crm_records(workspace, "accounts", [{"external_id": "A6", "deleted": True}])


@pytest.fixture
def two(make_workspace):
    """The scenario in two workspaces with the same external ids; the other's K3 renewed and R1 doubled."""
    acme = make_workspace("acme", tz="Asia/Shanghai")[0]
    other = make_workspace("other", tz="Asia/Shanghai")[0]
    seed_scenario(acme)
    seed_scenario(other, renewal_of_k3="renewed", r1_amount="620.00")
    return acme, other


@pytest.fixture
def acme(two):
    return two[0]


def test_the_summary_hand_checked(acme, member_client):
    answer = get(member_client(acme), acme, "summary", **PERIOD)
    assert answer["period"] == {"start": "2026-03-17", "end": "2026-03-31"}
    assert answer["previous"] == {"start": "2026-03-02", "end": "2026-03-16"}
    assert answer["currency"] == "USD"
    m = answer["metrics"]
    # Now: promoters S1, S2 (local 17th), S5; passive S3; detractor S4 → (3 − 1) ÷ 5 = 40.0. Before: S7, S8
    # passives only → 0.0 with no promoter; change 40.0, change_pct null (÷ 0).
    assert m["nps"] == {"value": 40.0, "previous": 0.0, "change": 40.0, "change_pct": None,
                        "promoters": 3, "passives": 1, "detractors": 1}  # fmt: skip
    # CES: (5 + 6 + 2) ÷ 3 = 4.333… → 4.33; before 7 → 7.0; change −2.67; (4.333 − 7) ÷ 7 = −38.1 %.
    assert m["ces"] == {"value": 4.33, "previous": 7.0, "change": -2.67, "change_pct": -38.1}
    # CSAT: 5 and 4 of 5, 4, 3, 1 (T5 deleted) = 50.0; before 4 → 100.0.
    assert m["csat_pct"] == {"value": 50.0, "previous": 100.0, "change": -50.0, "change_pct": -50.0}
    # At start (17th): A1 (K1), A2 (K3), A3 (K4), A4 (K5); A5 starts on the 20th; A6 deleted.
    # Churned: A2 (K3 ends on the 31st unrenewed), A4 (K5); A1's K1 renewed. 2 ÷ 4. Before: none end.
    assert m["customer_churn_pct"] == {"value": 50.0, "previous": 0.0, "change": 50.0, "change_pct": None}
    # Lost 600 + 500 of 1000 + 600 + 310 + 500 = 2410 → 45.6; before 0 of 2410.
    assert m["revenue_churn_pct"] == {"value": 45.6, "previous": 0.0, "change": 45.6, "change_pct": None}
    # Ending: K1 (renewed), K3, K5 → 1 ÷ 3; before none ends: null.
    assert m["renewal_rate_pct"] == {"value": 33.3, "previous": None, "change": None, "change_pct": None}
    # Spend: R1 310.00 × 15/31 = 150.00 + R2 62.00 × 15/31 = 30.00 = 180.00 ÷ 2 retained (A1, A3) = 90.00;
    # before the same 180.00 ÷ 4 retained (nobody churned) = 45.00.
    assert m["retention_cost"] == {"value": "90.00", "previous": "45.00", "change": "45.00", "change_pct": 100.0}
    # Retained A1: K1 1000 × 4/31 + K2 1200 × 11/31 = 17200/31; A3: K4 310 × 15/31 = 150.00;
    # (554.8387… + 150) ÷ 2 = 352.419… → 352.42. Before: 15/31 × (1000 + 600 + 500) + 150 = 1166.129… ÷ 4
    # = 291.532… → 291.53; change_pct from the unrounded figures: 20.885… → 20.9.
    assert m["revenue_per_retained"] == {
        "value": "352.42", "previous": "291.53", "change": "60.89", "change_pct": 20.9,
    }  # fmt: skip


def test_filters_by_industry_owner_and_account(acme, member_client):
    client = member_client(acme)
    tech = get(client, acme, "summary", industry="Tech", **PERIOD)["metrics"]
    values = {name: metric["value"] for name, metric in tech.items()}
    # A1, A2: NPS 10, 9, 7 → 66.7; CES 5, 6 → 5.5; CSAT 5, 4 → 100.0; churned A2 of 2; lost 600 of 1600;
    # ending K1 renewed, K3 → 50.0. Spend: only R2 (R1 has no account) 30.00 ÷ 1 retained; revenue 17200/31.
    assert values == {
        "nps": 66.7, "ces": 5.5, "csat_pct": 100.0, "customer_churn_pct": 50.0, "revenue_churn_pct": 37.5,
        "renewal_rate_pct": 50.0, "retention_cost": "30.00", "revenue_per_retained": "554.84",
    }  # fmt: skip
    rep2 = get(client, acme, "summary", owner="rep2", **PERIOD)["metrics"]
    # A2, A5: A2 at start and churned; nobody retained: both money metrics null (0 divisor).
    assert {name: metric["value"] for name, metric in rep2.items()} == {
        "nps": 50.0, "ces": 6.0, "csat_pct": 100.0, "customer_churn_pct": 100.0, "revenue_churn_pct": 100.0,
        "renewal_rate_pct": 0.0, "retention_cost": None, "revenue_per_retained": None,
    }  # fmt: skip
    # Before, A2 was retained and no spend was on rep2's accounts: 0.00; no change against a null.
    assert rep2["retention_cost"] == {"value": None, "previous": "0.00", "change": None, "change_pct": None}
    one = get(client, acme, "summary", account="A1", **PERIOD)["metrics"]
    assert one["retention_cost"]["value"] == "30.00" and one["customer_churn_pct"]["value"] == 0.0
    # Filters combine: Tech and rep1 is A1 alone.
    both = get(client, acme, "summary", industry="Tech", owner="rep1", **PERIOD)["metrics"]
    assert both["revenue_per_retained"]["value"] == "554.84" and both["nps"]["promoters"] == 2
    # A CRM user owning no account: every metric null.
    none = get(client, acme, "summary", owner="rep3", **PERIOD)["metrics"]
    assert all(metric["value"] is None for metric in none.values())


def test_an_empty_workspace_answers_nulls(make_workspace, member_client):
    workspace = make_workspace("empty")[0]
    metrics = get(member_client(workspace), workspace, "summary", **PERIOD)["metrics"]
    assert metrics["nps"] == {"value": None, "previous": None, "change": None, "change_pct": None,
                              "promoters": 0, "passives": 0, "detractors": 0}  # fmt: skip
    assert all(metric["value"] is None for metric in metrics.values())


def test_spend_of_a_month_is_spread_over_its_days(make_workspace, member_client):
    workspace = make_workspace("spread")[0]
    crm_records(workspace, "accounts", [account("A1", "Alpha")])
    crm_records(workspace, "contracts", [contract("K1", "A1", "2026-01-01", "2026-12-31", "100.00", "active")])
    crm_records(workspace, "retention-spend", [spend("R1", "2026-02", "280.00"), spend("R2", "2026-03", "310.00")])
    client = member_client(workspace)
    # Feb 20–Mar 5: 9 days × 280/28 = 90.00 + 5 days × 310/31 = 50.00; one retained account.
    answer = get(client, workspace, "summary", start="2026-02-20", end="2026-03-05")["metrics"]
    assert answer["retention_cost"]["value"] == "140.00"
    # Revenue: 9 × 100/28 + 5 × 100/31 = 32.142857… + 16.129032… = 48.271889… → 48.27.
    assert answer["revenue_per_retained"]["value"] == "48.27"
    # One day: 310/31 = 10.00; 100/31 = 3.2258… → 3.23.
    day = get(client, workspace, "summary", start="2026-03-01", end="2026-03-01")["metrics"]
    assert (day["retention_cost"]["value"], day["revenue_per_retained"]["value"]) == ("10.00", "3.23")


def test_the_trend_cuts_each_month_to_the_period(acme, member_client):
    client = member_client(acme)
    answer = get(client, acme, "trend", start="2026-03-17", end="2026-04-10")
    march = {
        "month": "2026-03-01",
        **{k: v["value"] for k, v in get(client, acme, "summary", **PERIOD)["metrics"].items()},
    }
    # April 1–10: at start A1 (K2), A3 (K4), A5 (K6); none ends; revenue 10/30 × (1200 + 310 + 900) ÷ 3 =
    # 267.777… → 267.78; spend R5 300.00 × 10/30 = 100.00 ÷ 3 = 33.33; NPS S9 alone.
    april = {
        "month": "2026-04-01", "nps": 100.0, "ces": None, "csat_pct": None, "customer_churn_pct": 0.0,
        "revenue_churn_pct": 0.0, "renewal_rate_pct": None, "retention_cost": "33.33",
        "revenue_per_retained": "267.78",
    }  # fmt: skip
    assert answer == {"months": [march, april]}
    text = client.get(API.format(slug=acme.slug, name="trend"), {**PERIOD, "format": "csv"}).content.decode()
    assert text.splitlines() == [
        "month,nps,ces,csat_pct,customer_churn_pct,revenue_churn_pct,renewal_rate_pct,retention_cost,"
        "revenue_per_retained",
        "2026-03-01,40.0,4.33,50.0,50.0,45.6,33.3,90.00,352.42",
    ]


def test_the_breakdown_by_industry_and_owner_null_last(acme, member_client):
    client = member_client(acme)
    groups = get(client, acme, "breakdown", by="industry", **PERIOD)["groups"]
    assert groups == [
        # Retail: A3 at start and retained (A5 starts later); K4 150.00; no spend on Retail accounts.
        {"group": "Retail", "nps": 0.0, "ces": 2.0, "csat_pct": 0.0, "customer_churn_pct": 0.0,
         "revenue_churn_pct": 0.0, "renewal_rate_pct": None, "retention_cost": "0.00",
         "revenue_per_retained": "150.00"},
        {"group": "Tech", "nps": 66.7, "ces": 5.5, "csat_pct": 100.0, "customer_churn_pct": 50.0,
         "revenue_churn_pct": 37.5, "renewal_rate_pct": 50.0, "retention_cost": "30.00",
         "revenue_per_retained": "554.84"},
        # No industry: A4 churned; its CSAT 1.
        {"group": None, "nps": None, "ces": None, "csat_pct": 0.0, "customer_churn_pct": 100.0,
         "revenue_churn_pct": 100.0, "renewal_rate_pct": 0.0, "retention_cost": None,
         "revenue_per_retained": None},
    ]  # fmt: skip
    owners = get(client, acme, "breakdown", by="owner", **PERIOD)["groups"]
    assert [g["group"] for g in owners] == ["rep1", "rep2", None]
    # Each group as its filter.
    rep1 = {k: v["value"] for k, v in get(client, acme, "summary", owner="rep1", **PERIOD)["metrics"].items()}
    assert owners[0] == {"group": "rep1", **rep1}


def test_the_accounts_per_status_paginated_and_as_csv(acme, member_client):
    client = member_client(acme)
    url = API.format(slug=acme.slug, name="accounts")

    def names(status, **params):
        return [row["name"] for row in get(client, acme, "accounts", status=status, **PERIOD, **params)["results"]]

    assert names("at_start") == ["Alpha", "Beta", "Delta", "Gamma"]
    assert names("churned") == ["Beta", "Delta"]
    assert names("retained") == ["Alpha", "Gamma"]
    assert names("retained", industry="Retail") == ["Gamma"]
    page = get(client, acme, "accounts", status="at_start", page=2, page_size=1, **PERIOD)
    assert page["count"] == 4 and page["previous"] is not None and page["next"] is not None
    assert page["results"] == [
        {
            "external_id": "A2",
            "name": "Beta",
            "industry": "Tech",
            "owner": "rep2",
            "contracts": 1,
            "monthly_value": "600.00",
            "last_end": "2026-03-31",
            "revenue": "290.32",
        },
    ]  # fmt: skip  (600 × 15/31 = 290.3225…)
    text = client.get(url, {"status": "retained", "format": "csv", "page_size": 1, **PERIOD}).content.decode()
    assert text.splitlines() == [
        "external_id,name,industry,owner,contracts,monthly_value,last_end,revenue",
        "A1,Alpha,Tech,rep1,2,1000.00,2027-03-20,554.84",
        "A3,Gamma,Retail,rep1,1,310.00,2026-12-31,150.00",
    ]
    assert client.get(url, {"status": "retained", "page": 9, **PERIOD}).status_code == 404


def test_two_workspaces_with_the_same_ids_never_mix(two, member_client):
    acme, other = two
    a = get(member_client(acme), acme, "summary", **PERIOD)["metrics"]
    b = get(member_client(other, username="b"), other, "summary", **PERIOD)["metrics"]
    assert (a["customer_churn_pct"]["value"], a["retention_cost"]["value"]) == (50.0, "90.00")
    # Other: K3 renewed → only A4 churned (1 of 4), 3 retained; spend 300.00 + 30.00 = 330.00 ÷ 3 = 110.00.
    assert (b["customer_churn_pct"]["value"], b["retention_cost"]["value"]) == (25.0, "110.00")
    assert member_client(acme).get(API.format(slug=other.slug, name="summary")).status_code == 404
    for name in ("summary", "trend", "breakdown", "accounts"):
        assert member_client(acme).get(API.format(slug=other.slug, name=name), PERIOD).status_code == 404


@pytest.mark.parametrize(
    "name, params, field",
    [
        ("breakdown", {"by": "country"}, "by"),
        ("accounts", {"status": "lost"}, "status"),
        ("summary", {"owner": "nobody"}, "owner"),
        ("trend", {"account": "A6"}, "account"),  # deleted: as if unknown
        ("accounts", {"account": "A99"}, "account"),
        ("summary", {"start": "2026-04-01", "end": "2026-03-01"}, "start"),
        ("summary", {"end": "2999-01-01"}, "end"),
        ("trend", {"start": "2020-01-01", "end": "2026-01-01"}, "end"),  # more than 731 days
        ("accounts", {"page_size": "0"}, "page_size"),
        ("summary", {"industry": "x" * 101}, "industry"),
        ("summary", {"language": "\x00"}, "language"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(acme, member_client, name, params, field):
    response = member_client(acme).get(API.format(slug=acme.slug, name=name), params)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_summary_csv_lists_the_metrics(acme, member_client):
    text = member_client(acme).get(API.format(slug=acme.slug, name="summary"), {**PERIOD, "format": "csv"})
    lines = text.content.decode().splitlines()
    assert lines[0] == "metric,value,previous,change,change_pct"
    assert lines[1] == "nps,40.0,0.0,40.0," and lines[-1] == "revenue_per_retained,352.42,291.53,60.89,20.9"
    assert lines[2] == "ces,4.33,7.0,-2.67,-38.1"


def test_a_negative_money_change_is_a_number_in_csv(acme, member_client):
    # April 1–10: 100.00 ÷ 3 retained = 33.33. Before, March 22–31: (310 + 62) × 10/31 = 120.00 ÷ 3 retained
    # (A1, A3, A5: A2 and A4 churned) = 40.00. Change −6.67; (33.33… − 40) ÷ 40 = −16.7 %.
    params = {"start": "2026-04-01", "end": "2026-04-10", "format": "csv"}
    lines = member_client(acme).get(API.format(slug=acme.slug, name="summary"), params).content.decode().splitlines()
    assert "retention_cost,33.33,40.00,-6.67,-16.7" in lines


# --- brute force -------------------------------------------------------------------------------------------


def _half_up_cents(value: Fraction) -> int:
    return floor(value + Fraction(1, 2))


def _month_days(day: date) -> int:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (following - timedelta(days=1)).day


def _days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _expected(data, first: date, last: date, keep, narrowed: bool) -> dict:
    """Every metric from the definitions, day by day (``keep``: the accounts the filters leave; ``narrowed``:
    a filter is given, so spend without an account does not count)."""
    accounts = {a for a in data["accounts"] if keep(a)}
    contracts = [c for c in data["contracts"] if c["account"] in accounts and not c["deleted"]]
    in_force = [c for c in contracts if c["start"] <= last and c["end"] >= first]
    at_start = {c["account"] for c in contracts if c["start"] <= first <= c["end"]}
    churned = {
        a for a in at_start
        if all(c["end"] <= last and c["status"] != "renewed" for c in in_force if c["account"] == a)
    }  # fmt: skip
    retained = at_start - churned
    base = sum(c["cents"] for c in contracts if c["start"] <= first <= c["end"])
    lost = sum(c["cents"] for c in contracts if c["start"] <= first <= c["end"] <= last and c["status"] != "renewed")
    ending = [c for c in contracts if first <= c["end"] <= last]
    revenue = sum(
        (Fraction(c["cents"], _month_days(d)) for c in in_force if c["account"] in retained
         for d in _days(max(c["start"], first), min(c["end"], last))),
        Fraction(0),
    )  # fmt: skip
    spent = sum(
        (Fraction(s["cents"], _month_days(d)) for s in data["spend"]
         if (s["account"] in accounts if (narrowed or s["account"] is not None) else True)
         for d in _days(s["month"], s["month"].replace(day=_month_days(s["month"]))) if first <= d <= last),
        Fraction(0),
    )  # fmt: skip
    surveys = [s for s in data["surveys"] if s["account"] in accounts and first <= s["day"] <= last]

    def scores(kind):
        return [s["score"] for s in surveys if s["kind"] == kind]

    nps, ces, csat = scores("nps"), scores("ces"), scores("csat")

    def share(part, whole):
        return round(part / whole * 100, 1) if whole else None

    return {
        "nps": share(sum(s >= 9 for s in nps) - sum(s <= 6 for s in nps), len(nps)),
        "ces": round(sum(ces) / len(ces), 2) if ces else None,
        "csat_pct": share(sum(s >= 4 for s in csat), len(csat)),
        "customer_churn_pct": share(len(churned), len(at_start)),
        "revenue_churn_pct": share(lost, base),
        "renewal_rate_pct": share(sum(c["status"] == "renewed" for c in ending), len(ending)),
        "retention_cost": _half_up_cents(spent / len(retained)) if retained else None,
        "revenue_per_retained": _half_up_cents(revenue / len(retained)) if retained else None,
        "_counts": (len(at_start), len(churned), len(retained)),
    }


def _text(name, value):
    if value is None or name not in ("retention_cost", "revenue_per_retained"):
        return value
    return f"{'-' if value < 0 else ''}{abs(value) // 100}.{abs(value) % 100:02d}"


def _check_breakdowns(client, workspace, data, first: date, last: date) -> None:
    """Each group: one with a contract in force, a response or spend on its accounts in the period, by
    name, null last; its metrics as the definitions give them for its accounts."""
    for by in ("industry", "owner"):

        def key(a, by=by):
            return data["accounts"][a][by] or None

        groups = (
            {key(c["account"]) for c in data["contracts"] if c["account"] in data["accounts"] and not c["deleted"]
             and c["start"] <= last and c["end"] >= first}
            | {key(s["account"]) for s in data["surveys"] if s["account"] in data["accounts"] and first <= s["day"] <= last}
            | {key(s["account"]) for s in data["spend"] if s["account"] is not None
               and s["month"] <= last and s["month"].replace(day=_month_days(s["month"])) >= first}
        )  # fmt: skip
        ordered = sorted(groups, key=lambda g: (g is None, g or ""))
        rows = get(client, workspace, "breakdown", by=by, start=first.isoformat(), end=last.isoformat())["groups"]
        expected = []
        for group in ordered:
            figures = _expected(data, first, last, lambda a, g=group, key=key: key(a) == g, True)
            expected.append({"group": group, **{k: _text(k, v) for k, v in figures.items() if k != "_counts"}})
        assert rows == expected, (by, first, last)


def test_brute_force_against_the_definitions_day_by_day(make_workspace, member_client):
    rng = random.Random(20260317)
    workspace = make_workspace("brute", tz="Asia/Shanghai")[0]
    client = member_client(workspace)
    crm_users(workspace, [{"external_id": "rep1"}, {"external_id": "rep2"}])
    industries, owners = ["Tech", "Retail", ""], ["rep1", "rep2", None]
    base = date(2025, 6, 1)
    data: dict = {"accounts": {}, "contracts": [], "surveys": [], "spend": []}
    items = []
    for n in range(14):
        a = {"industry": rng.choice(industries), "owner": rng.choice(owners), "deleted": n == 13}
        data["accounts"][f"A{n}"] = a
        items.append(account(f"A{n}", f"Account {n:02d}", a["industry"], a["owner"]))
    crm_records(workspace, "accounts", items)
    items = []
    for n in range(36):
        start = base + timedelta(days=rng.randrange(0, 360))
        end = start + timedelta(days=rng.choice([0, 5, 20, 40, 90, 180, 365]) + rng.randrange(0, 20))
        c = {"account": f"A{rng.randrange(14)}", "start": start, "end": end, "cents": rng.randrange(1, 300_000),
             "status": rng.choice(["active", "renewed", "churned"]), "deleted": rng.random() < 0.1}  # fmt: skip
        data["contracts"].append(c)
        items.append(contract(f"K{n}", c["account"], start.isoformat(), end.isoformat(),
                              f"{c['cents'] // 100}.{c['cents'] % 100:02d}", c["status"], deleted=c["deleted"]))  # fmt: skip
    crm_records(workspace, "contracts", items)
    items = []
    for n in range(60):
        kind = rng.choice(["nps", "ces", "csat"])
        low, high = {"nps": (0, 10), "ces": (1, 7), "csat": (1, 5)}[kind]
        day = base + timedelta(days=rng.randrange(60, 400))
        hour = rng.randrange(0, 24)
        s = {"account": f"A{rng.randrange(14)}", "kind": kind, "score": rng.randint(low, high), "day": day}
        data["surveys"].append(s)
        items.append(survey(f"S{n}", s["account"], kind, s["score"], f"{day.isoformat()}T{hour:02d}:30:00+08:00"))
    crm_records(workspace, "surveys", items)
    items = []
    for n in range(12):
        month = date(2025, 9 + n % 4, 1) if n % 2 else date(2026, 1 + n % 5, 1)
        s = {"month": month, "cents": rng.randrange(1, 100_000), "account": rng.choice([None, f"A{rng.randrange(14)}"])}
        data["spend"].append(s)
        items.append(spend(f"R{n}", month.strftime("%Y-%m"), f"{s['cents'] / 100:.2f}", s["account"]))
    crm_records(workspace, "retention-spend", items)
    data["accounts"] = {k: v for k, v in data["accounts"].items() if not v["deleted"]}
    crm_records(workspace, "accounts", [{"external_id": "A13", "deleted": True}])
    data["spend"] = [s for s in data["spend"] if s["account"] in (None, *data["accounts"])]

    filters = [({}, lambda a: True), ({"industry": "Tech"}, lambda a: data["accounts"][a]["industry"] == "Tech"),
               ({"owner": "rep1"}, lambda a: data["accounts"][a]["owner"] == "rep1"),
               ({"account": "A3"}, lambda a: a == "A3")]  # fmt: skip
    seen: set[str] = set()  # the metrics met with a value (not null): the data exercise each of them
    for round_ in range(12):
        first = date(2025, 9, 1) + timedelta(days=rng.randrange(0, 240))
        last = first + timedelta(days=rng.choice([0, 6, 29, 30, 61, 119]))
        params, keep = filters[round_ % len(filters)]
        answer = get(client, workspace, "summary", start=first.isoformat(), end=last.isoformat(), **params)
        days = (last - first).days + 1
        now = _expected(data, first, last, keep, bool(params))
        before = _expected(data, first - timedelta(days=days), first - timedelta(days=1), keep, bool(params))
        for name, metric in answer["metrics"].items():
            seen |= {name} if metric["value"] not in (None, 0.0, "0.00") else set()
            assert metric["value"] == _text(name, now[name]), (round_, name, params)
            assert metric["previous"] == _text(name, before[name]), (round_, name, params)
        months = get(client, workspace, "trend", start=first.isoformat(), end=last.isoformat(), **params)["months"]
        month_first = first
        for row in months:
            month_last = min(last, month_first.replace(day=_month_days(month_first)))
            expected = _expected(data, month_first, month_last, keep, bool(params))
            assert row == {"month": month_first.replace(day=1).isoformat(),
                           **{k: _text(k, v) for k, v in expected.items() if k != "_counts"}}, round_  # fmt: skip
            month_first = month_last + timedelta(days=1)
        assert month_first == last + timedelta(days=1)
        counts = tuple(
            get(client, workspace, "accounts", status=status, start=first.isoformat(), end=last.isoformat(),
                **params)["count"]
            for status in ("at_start", "churned", "retained")
        )  # fmt: skip
        assert counts == now["_counts"], round_
        if not params:
            _check_breakdowns(client, workspace, data, first, last)
    assert seen == set(answer["metrics"])
