"""The home/* endpoints over HTTP: tokens, membership scoping, parameters, exact numbers, CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.conftest import crm_users, journeys

pytestmark = pytest.mark.django_db

BASE = "/api/v1/workspaces/{slug}/home/"


@pytest.fixture
def shanghai(make_workspace):
    workspace = make_workspace("zylker", tz="Asia/Shanghai")[0]
    crm_users(
        workspace,
        [
            {
                "external_id": "li",
                "email": "li@zylker.com",
                "name": "Li Wei",
                "country": "CN",
                "created_at": "2025-01-01",
            },
            {
                "external_id": "ana",
                "email": "ana@zylker.com",
                "name": "Ana",
                "country": "IN",
                "created_at": "2025-01-01",
            },
            {"external_id": "idle", "country": "IN", "created_at": "2025-01-01"},
        ],
    )
    journeys(
        workspace,
        [
            ("li", "2025-10-27T09:00:00+08:00", "Leads", "view"),
            ("li", "2025-10-27T09:10:00+08:00", "Leads", "create"),
            ("li", "2025-10-29T23:30:00+08:00", "Deals", "view"),  # 15:30 UTC: still Oct 29 locally
            ("ana", "2025-10-30T00:30:00+08:00", "Leads", "view"),  # Oct 29 16:30 UTC: Oct 30 locally
            ("ana", "2025-10-01T10:00:00+08:00", "Leads", "view"),  # previous period
        ],
    )
    return workspace


def get(client, slug, endpoint, **params):
    return client.get(BASE.format(slug=slug) + endpoint, params)


def test_summary_numbers(shanghai, member_client):
    client = member_client(shanghai)
    response = get(client, "zylker", "summary", as_of="2025-10-30", days=7)
    assert response.status_code == 200
    assert response.json() == {
        "period": {"start": "2025-10-24", "end": "2025-10-30"},
        "previous": {"start": "2025-10-17", "end": "2025-10-23"},
        "metrics": {
            "interactions": {"value": 4, "previous": 0, "change_pct": None},
            "features_used": {"value": 2, "previous": 0, "change_pct": None},
            "attendance_days": {"value": 3, "previous": 0, "change_pct": None},
            "active_users": {"value": 2, "previous": 0, "change_pct": None},
            "inactive_users": {"value": 1, "previous": 3, "change_pct": -66.7},
        },
        # The first event (Oct 1) is before the previous period: the change is comparable.
        "comparable": True,
    }


def test_as_of_defaults_to_today_in_the_workspace_zone(shanghai, member_client):
    body = get(member_client(shanghai), "zylker", "summary").json()
    assert body["period"]["end"] == shanghai.today().isoformat()


def test_weekly_calendar_and_top_users(shanghai, member_client):
    client = member_client(shanghai)
    weeks = get(client, "zylker", "weekly-interactions", as_of="2025-10-30", weeks=2).json()
    assert weeks == {
        "weeks": [{"week_start": "2025-10-20", "interactions": 0}, {"week_start": "2025-10-27", "interactions": 4}],
        "annotations": [],
    }
    days = get(client, "zylker", "attendance-calendar", as_of="2025-10-30", weeks=1).json()["days"]
    assert [d["date"] for d in days] == [f"2025-10-{d}" for d in range(24, 31)]
    assert [d["active_users"] for d in days] == [0, 0, 0, 1, 0, 1, 1]
    top = get(client, "zylker", "top-users", as_of="2025-10-30", days=7, by="attendance").json()
    assert top == {
        "users": [
            {"external_id": "li", "email": "li@zylker.com", "name": "Li Wei", "value": 2},
            {"external_id": "ana", "email": "ana@zylker.com", "name": "Ana", "value": 1},
        ]
    }
    top = get(client, "zylker", "top-users", as_of="2025-10-30", days=7, limit=1).json()
    assert top["users"] == [{"external_id": "li", "email": "li@zylker.com", "name": "Li Wei", "value": 3}]


@pytest.mark.parametrize(
    "query",
    [{"country": "IN"}, {"country": "IN,XX"}, "country=IN&country=XX"],
)
def test_user_filters_repeated_or_comma_separated(shanghai, member_client, query):
    client = member_client(shanghai)
    url = BASE.format(slug="zylker") + "summary"
    if isinstance(query, str):
        response = client.get(f"{url}?as_of=2025-10-30&days=7&{query}")
    else:
        response = client.get(url, {"as_of": "2025-10-30", "days": 7, **query})
    metrics = response.json()["metrics"]
    assert (metrics["interactions"]["value"], metrics["active_users"]["value"], metrics["inactive_users"]["value"]) == (
        1,
        1,
        1,
    )


@pytest.mark.parametrize(
    ("endpoint", "params", "field"),
    [
        ("summary", {"as_of": "2025-13-01"}, "as_of"),
        ("summary", {"as_of": "yesterday"}, "as_of"),
        ("summary", {"days": "0"}, "days"),
        ("summary", {"days": "5000"}, "days"),
        ("summary", {"days": "ten"}, "days"),
        ("summary", {"status": "sleeping"}, "status"),
        ("weekly-interactions", {"weeks": "0"}, "weeks"),
        ("attendance-calendar", {"weeks": "-1"}, "weeks"),
        ("top-users", {"by": "coolness"}, "by"),
        ("top-users", {"limit": "1000"}, "limit"),
    ],
)
def test_bad_parameters_get_a_400_naming_the_field(shanghai, member_client, endpoint, params, field):
    response = get(member_client(shanghai), "zylker", endpoint, **params)
    assert response.status_code == 400
    assert field in response.json()


def test_anonymous_is_refused(shanghai):
    response = APIClient().get(BASE.format(slug="zylker") + "summary")
    assert response.status_code == 401


def test_an_expired_token_is_refused(shanghai):
    user = get_user_model().objects.create(username="old")
    _, token = AuthToken.objects.create(user, expiry=timezone.timedelta(seconds=-1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(BASE.format(slug="zylker") + "summary").status_code == 401


def test_a_deactivated_user_token_is_refused(shanghai, member_client):
    client = member_client(shanghai, username="leaver")
    get_user_model().objects.filter(username="leaver").update(is_active=False)
    assert get(client, "zylker", "summary").status_code == 401


def test_non_members_get_404_and_superusers_see_everything(shanghai, member_client, make_workspace):
    make_workspace("other")
    client = member_client(shanghai)
    assert get(client, "other", "summary").status_code == 404
    assert get(client, "no-such-workspace", "summary").status_code == 404
    outsider = member_client(None, username="outsider")
    assert get(outsider, "zylker", "summary").status_code == 404
    get_user_model().objects.filter(username="outsider").update(is_superuser=True)
    assert get(outsider, "zylker", "summary").status_code == 200


def test_the_browser_session_works_too(shanghai, client, django_user_model):
    user = django_user_model.objects.create_user("browser", password="x-Very-Long-Pass-1")
    shanghai.memberships.create(user=user, role="viewer")
    client.force_login(user)
    assert client.get(BASE.format(slug="zylker") + "summary").status_code == 200


def test_csv_export(shanghai, member_client):
    response = get(member_client(shanghai), "zylker", "top-users", as_of="2025-10-30", days=7, format="csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="zylker-top-users.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows == [
        {"external_id": "li", "email": "li@zylker.com", "name": "Li Wei", "value": "3"},
        {"external_id": "ana", "email": "ana@zylker.com", "name": "Ana", "value": "1"},
    ]
    summary = get(member_client(shanghai), "zylker", "summary", as_of="2025-10-30", days=7, format="csv")
    first = next(csv.DictReader(io.StringIO(summary.content.decode())))
    assert first == {"metric": "interactions", "value": "4", "previous": "0", "change_pct": ""}


def test_schema_and_docs_are_served_offline(client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    body = schema.content.decode()
    for path in (
        "/api/v1/events/batch",
        "/api/v1/workspaces/{slug}/home/summary",
        "/api/v1/workspaces/{slug}/home/top-users",
    ):
        assert path in body
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "swagger-ui" in html


def test_home_reads_rollups_not_raw_events(shanghai, member_client):
    """Deleting the raw events after the rollup leaves every Home answer unchanged."""
    from events.models import Event

    client = member_client(shanghai)
    endpoints = ["summary", "weekly-interactions", "attendance-calendar", "top-users"]
    before = [get(client, "zylker", e, as_of="2025-10-30", days=7).json() for e in endpoints]
    assert before[0]["metrics"]["interactions"]["value"] == 4
    Event.objects.all().delete()
    assert [get(client, "zylker", e, as_of="2025-10-30", days=7).json() for e in endpoints] == before


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31", "1969-12-31"])
@pytest.mark.parametrize("endpoint", ["summary", "weekly-interactions", "attendance-calendar", "top-users"])
def test_dates_at_the_edge_of_the_calendar_are_a_400_not_a_500(shanghai, member_client, endpoint, as_of):
    response = get(member_client(shanghai), "zylker", endpoint, as_of=as_of, days=731, weeks=104)
    assert response.status_code == 400
    assert "as_of" in response.json()
