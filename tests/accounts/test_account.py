"""One account (API ``accounts/<external_id>``, the page ``/w/<slug>/accounts/<external_id>/``) on the
hand-made ledger (tests/accounts/conftest.py): its row, all its deals, its products from won lines; 404 for
an unknown or deleted account and for another workspace's."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.conftest import crm_records

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(busy, other, member_client):
    crm_records(other, "accounts", [{"external_id": "B-only", "name": "Only there", "created_at": "2025-01-01"}])
    member_client(other, username="member")  # a member of both workspaces
    return member_client(busy)


def test_an_account_with_its_deals_and_products(api):
    response = api.get("/api/v1/workspaces/sh/accounts/A1")
    assert response.status_code == 200, response.content
    body = response.json()
    assert {k: body[k] for k in ("external_id", "name", "revenue", "open_pipeline", "open_deals", "won_deals")} == {
        "external_id": "A1", "name": "Alpha", "revenue": "1540.00", "open_pipeline": "800.00", "open_deals": 1,
        "won_deals": 3,
    }  # fmt: skip
    # All its deals (same creation time: by external id); D13 has no close date.
    assert [d["external_id"] for d in body["deals"]] == ["D1", "D13", "D2", "D8"]
    assert body["deals"][1] == {
        "external_id": "D13", "name": "Deal D13", "stage": "Closed", "state": "won", "amount": "40.00",
        "close_date": None, "owner": "rep1",
    }  # fmt: skip
    assert body["deals"][3]["state"] == "open"  # D8, re-opened
    # Won lines: D1 P2 ×3 1000, D2 P1 ×2 500 — largest amount first.
    assert body["products"] == [
        {"product": "P2", "name": "Gadget", "quantity": 3, "amount": "1000.00"},
        {"product": "P1", "name": "Widget", "quantity": 2, "amount": "500.00"},
    ]
    missing = api.get("/api/v1/workspaces/sh/accounts/A2").json()["deals"]
    assert {d["external_id"]: d["amount"] for d in missing}["D10"] is None  # a missing amount stays null


def test_csv_of_its_deals_and_products(api):
    deals = api.get("/api/v1/workspaces/sh/accounts/A1", {"format": "csv"}).content.decode().lstrip("\ufeff")
    assert deals.splitlines()[0] == "external_id,name,stage,state,amount,close_date,owner"
    assert len(deals.splitlines()) == 5
    products = api.get("/api/v1/workspaces/sh/accounts/A1", {"format": "csv", "table": "products"}).content.decode()
    assert products.lstrip("\ufeff").splitlines() == [
        "product,name,quantity,amount",
        "P2,Gadget,3,1000.00",
        "P1,Widget,2,500.00",
    ]
    assert api.get("/api/v1/workspaces/sh/accounts/A1", {"table": "x"}).status_code == 400


@pytest.mark.parametrize("external_id", ["A7", "nope", "B-only"])
def test_unknown_deleted_or_another_workspaces_account_is_404(api, external_id):
    assert api.get(f"/api/v1/workspaces/sh/accounts/{external_id}").status_code == 404


def test_the_page_and_its_chart(api, busy, other):
    user = get_user_model().objects.get(username="member")
    client = Client()
    client.force_login(user)
    page = client.get("/w/sh/accounts/A1/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Alpha" in html and "$1,540.00" in html and 'data-deal="D13"' in html
    assert 'href="/w/sh/users/rep1/"' in html  # the owner's CRM usage page
    assert "/w/sh/charts/account-revenue.json?account=A1" in html
    chart = client.get("/w/sh/charts/account-revenue.json", {"account": "A1"}).json()
    # Won close months: Jan 2026 (D1 1000) and Feb 2026 (D2 500); D13 has no close date.
    assert chart["labels"] == ["2026-01-01", "2026-02-01"]
    assert chart["datasets"][0]["data"] == [1000.0, 500.0]
    assert client.get("/w/sh/charts/account-revenue.json", {"account": "B-only"}).status_code == 404
    assert client.get("/w/sh/charts/account-revenue.json").status_code == 400
    for external_id in ("A7", "nope", "B-only"):
        assert client.get(f"/w/sh/accounts/{external_id}/").status_code == 404
    assert client.get("/w/other/accounts/B-only/").status_code == 200
    stranger = Client()
    stranger.force_login(get_user_model().objects.create_user(username="stranger"))
    assert stranger.get("/w/sh/accounts/A1/").status_code == 404
