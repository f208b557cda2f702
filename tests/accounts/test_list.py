"""The account list (API ``accounts/``): every filter, the search, each ordering, pages and CSV, on the
hand-made ledger (tests/accounts/conftest.py) beside a twin workspace with the same external ids.

All-time figures of the visible accounts (A7 is deleted):
A1 Alpha    revenue 1540.00 (D1 1000 + D2 500 + D13 40; D8 re-opened), open D8 800 (1), last activity Feb 10
A2 Beta     revenue 20300.00 (D3 + D4), open D9 250 + D10 — (2), last activity Jan 15 (X2 is not completed)
A3 Gamma    revenue 700.00, last activity Jan 5
A4 Delta    revenue 5000.00
A5 Dormant  revenue 9999.00 (dormant)
A6 Epsilon  revenue 0.00, open D11 100 (1)
"""

from __future__ import annotations

import pytest

from tests.conftest import crm_records

pytestmark = pytest.mark.django_db

URL = "/api/v1/workspaces/sh/accounts/"


@pytest.fixture
def api(busy, other, member_client):
    crm_records(other, "accounts", [{"external_id": "B-only", "name": "Only there", "created_at": "2025-01-01"}])
    member_client(other, username="member")
    return member_client(busy)


def ids(api, **params):
    response = api.get(URL, {"page_size": 100, **params})
    assert response.status_code == 200, response.content
    return [row["external_id"] for row in response.json()["results"]]


def test_a_row_and_the_default_order(api):
    body = api.get(URL).json()
    assert body["count"] == 6 and body["next"] is None and body["previous"] is None
    assert [r["name"] for r in body["results"]] == ["Alpha", "Beta", "Delta", "Dormant Co", "Epsilon", "Gamma"]
    beta = body["results"][1]
    assert beta == {
        "external_id": "A2", "name": "Beta", "industry": "Retail", "country": "US", "owner": "rep2",
        "status": "active", "revenue": "20300.00", "open_pipeline": "250.00", "open_deals": 2,
        "last_activity": "2026-01-15", "created": "2025-09-01",
        "nps": None, "last_sentiment": None, "churn_risk": False,  # no survey, feedback, contract or usage here
    }  # fmt: skip
    epsilon = body["results"][4]
    assert (epsilon["industry"], epsilon["owner"], epsilon["last_activity"], epsilon["revenue"]) == (
        "",
        None,
        None,
        "0.00",
    )
    # Without the trailing slash too.
    assert api.get(URL.rstrip("/")).json()["count"] == 6


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"search": "ALP"}, ["A1"]),
        ({"search": "co"}, ["A5"]),
        ({"search": "a"}, ["A1", "A2", "A4", "A5", "A3"]),
        ({"industry": "Retail"}, ["A1", "A2", "A5"]),
        ({"industry": ["Retail", "Finance"]}, ["A1", "A2", "A5", "A3"]),
        ({"country": "CN,US"}, ["A1", "A2", "A5", "A6", "A3"]),
        ({"owner": "rep2"}, ["A2", "A4"]),
        ({"status": "dormant"}, ["A5"]),
        ({"status": "active,dormant"}, ["A1", "A2", "A4", "A5", "A6", "A3"]),
        ({"min_revenue": "1540"}, ["A1", "A2", "A4", "A5"]),  # inclusive
        ({"max_revenue": "1540.00"}, ["A1", "A6", "A3"]),  # inclusive
        ({"min_revenue": "700", "max_revenue": 5000}, ["A1", "A4", "A3"]),
        ({"active_since": "2026-01-15"}, ["A1", "A2"]),  # on or after; X2 (Feb 20) is not completed
        ({"industry": "Retail", "country": "CN", "status": "active"}, ["A1"]),
    ],
)
def test_filters_and_search(api, params, expected):
    assert ids(api, **params) == expected


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("-revenue", ["A2", "A5", "A4", "A1", "A3", "A6"]),
        ("revenue", ["A6", "A3", "A1", "A4", "A5", "A2"]),
        ("last_activity", ["A3", "A2", "A1", "A4", "A5", "A6"]),  # no activity: last, either way
        ("-last_activity", ["A1", "A2", "A3", "A4", "A5", "A6"]),
        ("-open_deals", ["A2", "A1", "A6", "A3", "A4", "A5"]),  # ties by external id
        ("open_pipeline", ["A3", "A4", "A5", "A6", "A2", "A1"]),
        ("-created", ["A4", "A3", "A6", "A2", "A1", "A5"]),
        ("-name", ["A3", "A6", "A5", "A4", "A2", "A1"]),
        ("owner", ["A1", "A3", "A5", "A2", "A4", "A6"]),  # no owner: last
    ],
)
def test_orderings(api, ordering, expected):
    assert ids(api, ordering=ordering) == expected


def test_pages(api):
    body = api.get(URL, {"page_size": 2, "page": 2, "ordering": "-revenue"}).json()
    assert body["count"] == 6
    assert [r["external_id"] for r in body["results"]] == ["A4", "A1"]
    assert "page=3" in body["next"] and "ordering=-revenue" in body["next"]
    assert body["previous"] is not None
    assert api.get(URL, {"page": 9}).status_code == 404  # past the last page


def test_csv_is_the_whole_filtered_list(api):
    response = api.get(URL, {"format": "csv", "industry": "Retail", "page_size": 1, "ordering": "-revenue"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().lstrip("\ufeff").splitlines()
    assert (
        lines[0]
        == "external_id,name,industry,country,owner,status,revenue,open_pipeline,open_deals,last_activity,created,"
        "nps,last_sentiment,churn_risk"
    )
    assert [line.split(",")[0] for line in lines[1:]] == ["A2", "A5", "A1"]
    empty = api.get(URL, {"format": "csv", "search": "nothing like it"}).content.decode().lstrip("\ufeff")
    assert empty.splitlines() == [lines[0]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "closed"}, "status"),
        ({"owner": "ghost"}, "owner"),
        ({"min_revenue": "ten"}, "min_revenue"),
        ({"max_revenue": "-5"}, "max_revenue"),
        ({"min_revenue": "1.005"}, "min_revenue"),
        ({"min_revenue": "10", "max_revenue": "5"}, "max_revenue"),
        ({"active_since": "2026-13-01"}, "active_since"),
        ({"ordering": "color"}, "ordering"),
        ({"suggested": "vip"}, "suggested"),
        ({"page": "0"}, "page"),
        ({"page_size": "501"}, "page_size"),
        ({"search": "x" * 201}, "search"),
        ({"search": "a\x00b"}, "search"),
    ],
)
def test_bad_values_are_a_400_naming_the_field(api, params, field):
    response = api.get(URL, params)
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]


def test_the_other_workspace_keeps_its_own(api, other, member_client):
    client = member_client(other, username="member")
    found = client.get("/api/v1/workspaces/other/accounts/", {"search": "only"}).json()
    assert [r["external_id"] for r in found["results"]] == ["B-only"]
    assert ids(api, search="only") == []
    # The other workspace's CRM user is unknown here only if absent: rep1 exists in both, each its own.
    assert ids(api, owner="rep1") == ["A1", "A5", "A3"]
