"""The overview (API ``accounts/overview``) on the hand-made ledger (tests/accounts/conftest.py), every
figure checked by hand, in a workspace at UTC+8 where an account created 2026-01-31T20:00Z is a Feb 1
account, and in a UTC twin with the same external ids."""

from __future__ import annotations

import pytest

from tests.accounts.conftest import AS_OF
from tests.conftest import crm_records

pytestmark = pytest.mark.django_db


def get(client, slug, **params):
    response = client.get(f"/api/v1/workspaces/{slug}/accounts/overview", params)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def api(shanghai, member_client):
    return member_client(shanghai)


def test_every_figure_as_of_a_month_end(api):
    body = get(api, "sh", as_of=AS_OF, days=28)
    # Overview accounts: A1, A2, A3 (Feb 1 local), A6. Not A4 (created Mar 5), A5 (dormant), A7 (deleted).
    assert body["currency"] == "USD"
    assert body["accounts"] == 4
    # A1: D1 1000 + D2 500 (D8 re-opened, D13 has no close date) · A2: D3 20000 (D4 closes Mar 2) · A3: D5 700.
    assert body["revenue_to_date"] == "22200.00"
    # Created Sep 1 2025 – Feb 28 2026: A2, A6, A3 (A1 was created in March 2025).
    assert body["new_accounts_6m"] == 3
    assert body["top_accounts"] == [
        {"external_id": "A2", "name": "Beta", "revenue": "20000.00"},
        {"external_id": "A1", "name": "Alpha", "revenue": "1500.00"},
        {"external_id": "A3", "name": "Gamma", "revenue": "700.00"},
    ]  # A6 has no revenue: not a top account
    # Open deals closing in February: A2 D10 (Feb 3, no amount) + D9 (250) · A1 D8 (Feb 12, re-opened, 800).
    assert body["closing_this_month"] == [
        {"external_id": "A2", "name": "Beta", "close_date": "2026-02-03", "deals": 2, "amount": "250.00"},
        {"external_id": "A1", "name": "Alpha", "close_date": "2026-02-12", "deals": 1, "amount": "800.00"},
    ]
    months = {row["month"]: row["revenue"] for row in body["revenue_by_month"]}
    assert list(months)[0] == "2025-03-01" and list(months)[-1] == "2026-02-01" and len(months) == 12
    # Nov: D3 · Jan: D1 (closing Jan 31) · Feb: D2 (Feb 1) + D5; not D6 (A4 created after as_of), D7, D12.
    assert {m: r for m, r in months.items() if r != "0.00"} == {
        "2025-11-01": "20000.00",
        "2026-01-01": "1000.00",
        "2026-02-01": "1200.00",
    }
    acquisition = {row["month"]: row["accounts"] for row in body["acquisition"]}
    assert {m: n for m, n in acquisition.items() if n} == {
        "2025-03-01": 1,  # A1
        "2025-09-01": 1,  # A2
        "2025-12-01": 1,  # A6
        "2026-02-01": 1,  # A3: Jan 31 20:00 UTC is Feb 1 in Shanghai
    }
    assert body["top_industries"] == [
        {"industry": "Retail", "accounts": 2},  # A1, A2 (A5 dormant, A7 deleted)
        {"industry": "Finance", "accounts": 1},  # A6 has no industry
    ]
    # Revenues 1500, 20000, 700, 0 in [0, 10000) [10000, 100000) [100000, 1000000) [1000000, ∞).
    assert body["revenue_bands"] == [
        {"min": "0.00", "max": "10000.00", "accounts": 3},
        {"min": "10000.00", "max": "100000.00", "accounts": 1},
        {"min": "100000.00", "max": "1000000.00", "accounts": 0},
        {"min": "1000000.00", "max": None, "accounts": 0},
    ]
    # 28 days: Feb 1–28, before: Jan 4–31. P1: D2 500 + D5 300 (×3) · P2: D5 400 (×1), before D1 1000.
    assert body["period"] == {"start": "2026-02-01", "end": "2026-02-28"}
    assert body["previous"] == {"start": "2026-01-04", "end": "2026-01-31"}
    assert body["top_products"] == [
        {"product": "P1", "name": "Widget", "amount": "800.00", "quantity": 3},
        {"product": "P2", "name": "Gadget", "amount": "400.00", "quantity": 1},
    ]
    assert body["rising_products"] == [
        {"product": "P1", "name": "Widget", "amount": "800.00", "previous": "0.00", "increase": "800.00"}
    ]  # P2 fell from 1000 to 400


def test_the_day_before_the_month_turns(api):
    """As of Jan 31 in Shanghai: A3 is not created yet (Feb 1 local); D1 (Jan 31) is revenue, D2 (Feb 1) not."""
    body = get(api, "sh", as_of="2026-01-31", days=31)
    assert (body["accounts"], body["revenue_to_date"], body["new_accounts_6m"]) == (3, "21000.00", 2)
    assert body["revenue_by_month"][-1] == {"month": "2026-01-01", "revenue": "1000.00"}
    assert body["acquisition"][-1] == {"month": "2026-01-01", "accounts": 0}
    assert body["closing_this_month"] == []
    # Jan 1–31: D1 (P2 ×3 1000); Dec 1–31 before: nothing.
    assert body["top_products"] == [{"product": "P2", "name": "Gadget", "amount": "1000.00", "quantity": 3}]
    assert [p["product"] for p in body["rising_products"]] == ["P2"]


def test_the_utc_twin_counts_its_own_calendar(api, other, member_client):
    """The same ledger in UTC: A3 is created on Jan 31, so as of Jan 31 it counts (4 accounts). The person
    is a member of both workspaces: each answers with its own records."""
    body = get(member_client(other, username="member"), "other", as_of="2026-01-31")
    assert (body["accounts"], body["revenue_to_date"], body["new_accounts_6m"]) == (4, "21000.00", 3)
    assert body["acquisition"][-1] == {"month": "2026-01-01", "accounts": 1}
    assert get(api, "sh", as_of="2026-01-31")["accounts"] == 3


def test_band_edges_are_min_inclusive_and_as_of_corrected(api):
    # Revenues as of Feb 28: A1 1500, A2 20000, A3 700, A6 0.
    body = get(api, "sh", as_of=AS_OF, bands="0,1500,20000")
    assert [(b["min"], b["max"], b["accounts"]) for b in body["revenue_bands"]] == [
        ("0.00", "1500.00", 2),  # A3, A6
        ("1500.00", "20000.00", 1),  # A1 exactly at the edge
        ("20000.00", None, 1),  # A2 exactly at the edge
    ]
    # A2's won deals total 20300 (D4 closes Mar 2): as of Feb 28 it is below 20000.01.
    body = get(api, "sh", as_of=AS_OF, bands="0,20000.01")
    assert [b["accounts"] for b in body["revenue_bands"]] == [4, 0]
    # A band above 0 first: accounts below it are in no band.
    body = get(api, "sh", as_of=AS_OF, bands="1000")
    assert body["revenue_bands"] == [{"min": "1000.00", "max": None, "accounts": 2}]


def test_as_of_moves_revenue_between_months_exactly(api):
    """As of Mar 3: D4 (Mar 2) and D6 (A4, created Mar 5: still excluded) — Feb and Mar figures."""
    body = get(api, "sh", as_of="2026-03-03")
    assert body["revenue_to_date"] == "22500.00"  # 22200 + D4 300
    assert body["revenue_by_month"][-2:] == [
        {"month": "2026-02-01", "revenue": "1200.00"},
        {"month": "2026-03-01", "revenue": "300.00"},
    ]
    # Closing in March: A6 D11 (Mar 1).
    assert [row["external_id"] for row in body["closing_this_month"]] == ["A6"]
    body = get(api, "sh", as_of="2026-03-05")  # A4 is created: its February deal counts now
    assert body["accounts"] == 5
    assert body["revenue_by_month"][-2]["revenue"] == "6200.00"


def test_a_won_deal_re_opened_and_deleted_records_never_count(api, shanghai):
    crm_records(shanghai, "deals", [{"external_id": "D3", "state": "open"}, {"external_id": "D5", "deleted": True}])
    body = get(api, "sh", as_of=AS_OF)
    assert body["revenue_to_date"] == "1500.00"  # A1 only
    assert body["top_accounts"] == [{"external_id": "A1", "name": "Alpha", "revenue": "1500.00"}]
    crm_records(shanghai, "accounts", [{"external_id": "A2", "status": "dormant"}])
    body = get(api, "sh", as_of=AS_OF)
    assert body["accounts"] == 3
    assert body["top_industries"] == [{"industry": "Finance", "accounts": 1}, {"industry": "Retail", "accounts": 1}]


def test_csv_of_each_list(api):
    response = api.get("/api/v1/workspaces/sh/accounts/overview", {"as_of": AS_OF, "format": "csv"})
    assert response.status_code == 200
    lines = response.content.decode().splitlines()
    assert lines[0].lstrip("\ufeff") == "external_id,name,revenue"
    assert lines[1:] == ["A2,Beta,20000.00", "A1,Alpha,1500.00", "A3,Gamma,700.00"]
    response = api.get(
        "/api/v1/workspaces/sh/accounts/overview", {"as_of": AS_OF, "format": "csv", "table": "revenue_bands"}
    )
    assert response.content.decode().splitlines()[1] == "0.00,10000.00,3"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"as_of": "2026-02-30"}, "as_of"),
        ({"as_of": "2999-01-01"}, "as_of"),
        ({"days": "0"}, "days"),
        ({"days": "x"}, "days"),
        ({"bands": "10,5"}, "bands"),
        ({"bands": "0,1.234"}, "bands"),
        ({"bands": "-1"}, "bands"),
        ({"table": "nope"}, "table"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(api, params, field):
    response = api.get("/api/v1/workspaces/sh/accounts/overview", params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_a_non_member_gets_404(shanghai, member_client):
    client = member_client(None, username="stranger")
    assert client.get("/api/v1/workspaces/sh/accounts/overview").status_code == 404


def test_a_long_closing_list_is_cut_in_json_and_whole_in_csv(api, monkeypatch):
    """At a million deals some 20,000 accounts close a deal in a month: JSON lists the first ``LIST_CAP``
    in order and says so; the CSV of that list has every account."""
    import accounts.api.views

    monkeypatch.setattr(accounts.api.views, "LIST_CAP", 1)
    body = get(api, "sh", as_of=AS_OF, days=28)
    assert [row["external_id"] for row in body["closing_this_month"]] == ["A2"]  # Feb 3 before A1's Feb 12
    assert body["truncated"] == {"closing_this_month": True}
    response = api.get(
        "/api/v1/workspaces/sh/accounts/overview", {"as_of": AS_OF, "format": "csv", "table": "closing_this_month"}
    )
    assert [line.split(",")[0] for line in response.content.decode().splitlines()[1:]] == ["A2", "A1"]
    monkeypatch.setattr(accounts.api.views, "LIST_CAP", 2)
    assert get(api, "sh", as_of=AS_OF, days=28)["truncated"] == {"closing_this_month": False}
