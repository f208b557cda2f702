"""The hand-made accounts, products, deals and activities of the Accounts tests.

``ledger(ws)`` builds the scenario below in a workspace (Asia/Shanghai for the month-end cases); every
test file states its hand calculation from it. As of 2026-02-28 (a month end):

| account | created (local)            | status  | industry | deals |
| A1 Alpha  | 2025-03-10                | active  | Retail   | D1 won 1000.00 Jan 31 · D2 won 500.00 Feb 1 · D8 won→re-opened 800.00 Feb 12 · D13 won 40.00 no close date |
| A2 Beta   | 2025-09-01                | active  | Retail   | D3 won 20000.00 2025-11-15 · D4 won 300.00 Mar 2 · D9 open 250.00 Feb 25 · D10 open (no amount) Feb 3 |
| A3 Gamma  | 2026-01-31T20:00Z = Feb 1 | active  | Finance  | D5 won 700.00 Feb 10 |
| A4 Delta  | 2026-03-05                | active  | Energy   | D6 won 5000.00 Feb 20 (the account is created after as_of) |
| A5 Dormant| 2025-01-01                | dormant | Retail   | D7 won 9999.00 Feb 5 |
| A6 Epsilon| 2025-12-15                | active  | (none)   | D11 open 100.00 Mar 1 · D14 lost 600.00 Feb 14 |
| A7 Gone   | 2025-05-05                | deleted | Retail   | D12 won 100000.00 Feb 2 |

Line items: D1 P2 ×3 1000.00 · D2 P1 ×2 500.00 · D5 P2 ×1 400.00 + P1 ×1 300.00 · D3 P1 ×10 20000.00 ·
D6 P3 ×5 5000.00 · D7 P1 ×1 9999.00.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import crm_records, crm_users

AS_OF = "2026-02-28"

ACCOUNTS = [
    {"external_id": "A1", "name": "Alpha", "industry": "Retail", "country": "CN", "owner": "rep1",
     "created_at": "2025-03-10"},
    {"external_id": "A2", "name": "Beta", "industry": "Retail", "country": "US", "owner": "rep2",
     "created_at": "2025-09-01"},
    {"external_id": "A3", "name": "Gamma", "industry": "Finance", "country": "CN", "owner": "rep1",
     "created_at": "2026-01-31T20:00:00+00:00"},
    {"external_id": "A4", "name": "Delta", "industry": "Energy", "country": "DE", "owner": "rep2",
     "created_at": "2026-03-05"},
    {"external_id": "A5", "name": "Dormant Co", "industry": "Retail", "country": "CN", "owner": "rep1",
     "created_at": "2025-01-01", "status": "dormant"},
    {"external_id": "A6", "name": "Epsilon", "country": "US", "created_at": "2025-12-15"},
    {"external_id": "A7", "name": "Gone", "industry": "Retail", "country": "CN", "created_at": "2025-05-05",
     "deleted": True},
]  # fmt: skip
PRODUCTS = [
    {"external_id": "P1", "name": "Widget"},
    {"external_id": "P2", "name": "Gadget"},
    {"external_id": "P3", "name": "Doohickey"},
]


def deal(external_id: str, account: str, state: str, amount: Any, close: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "external_id": external_id, "account": account, "name": f"Deal {external_id}", "owner": "rep1",
        "amount": amount, "stage": "Closed" if state != "open" else "Proposal", "state": state,
        "created_at": "2025-01-02", "close_date": close, **extra,
    }  # fmt: skip


def line(product: str, quantity: int, amount: str) -> dict[str, Any]:
    return {"product": product, "quantity": quantity, "amount": amount}


DEALS = [
    deal("D1", "A1", "won", "1000.00", "2026-01-31", line_items=[line("P2", 3, "1000.00")]),
    deal("D2", "A1", "won", "500.00", "2026-02-01", line_items=[line("P1", 2, "500.00")]),
    deal("D3", "A2", "won", "20000.00", "2025-11-15", line_items=[line("P1", 10, "20000.00")]),
    deal("D4", "A2", "won", "300.00", "2026-03-02"),
    deal("D5", "A3", "won", "700.00", "2026-02-10", line_items=[line("P2", 1, "400.00"), line("P1", 1, "300.00")]),
    deal("D6", "A4", "won", "5000.00", "2026-02-20", line_items=[line("P3", 5, "5000.00")]),
    deal("D7", "A5", "won", "9999.00", "2026-02-05", line_items=[line("P1", 1, "9999.00")]),
    deal("D8", "A1", "won", "800.00", "2026-02-12"),
    deal("D9", "A2", "open", "250.00", "2026-02-25"),
    deal("D10", "A2", "open", None, "2026-02-03"),
    deal("D11", "A6", "open", "100.00", "2026-03-01"),
    deal("D12", "A7", "won", "100000.00", "2026-02-02"),
    deal("D13", "A1", "won", "40.00", None),
    deal("D14", "A6", "lost", "600.00", "2026-02-14"),
]
REOPENED = [{"external_id": "D8", "state": "open"}]  # a won deal re-sent open: no revenue any more


def ledger(workspace: Any) -> Any:
    crm_users(workspace, [{"external_id": "rep1", "name": "Rita"}, {"external_id": "rep2", "name": "Raj"}])
    crm_records(workspace, "accounts", ACCOUNTS)
    crm_records(workspace, "products", PRODUCTS)
    crm_records(workspace, "deals", DEALS)
    crm_records(workspace, "deals", REOPENED)
    return workspace


@pytest.fixture
def shanghai(make_workspace: Any) -> Any:
    return ledger(make_workspace("sh", tz="Asia/Shanghai")[0])


@pytest.fixture
def other(make_workspace: Any) -> Any:
    """Another workspace (UTC) with the same external ids: nothing may cross."""
    return ledger(make_workspace("other", tz="UTC")[0])


# Activities (for the list's last activity and "active since"): X2 is not completed.
ACTIVITIES = [
    {"external_id": "X1", "kind": "call", "owner": "rep1", "account": "A1", "deal": "D8",
     "occurred_at": "2026-02-10T10:00:00+08:00"},
    {"external_id": "X2", "kind": "email", "owner": "rep2", "account": "A2", "occurred_at": "2026-02-20",
     "completed": False},
    {"external_id": "X3", "kind": "meeting", "owner": "rep1", "account": "A3", "occurred_at": "2026-01-05"},
    {"external_id": "X4", "kind": "call", "owner": "rep2", "account": "A2", "deal": "D9", "occurred_at": "2026-01-15"},
]  # fmt: skip


@pytest.fixture
def busy(shanghai: Any) -> Any:
    """The ledger with its activities."""
    crm_records(shanghai, "activities", ACTIVITIES)
    return shanghai
