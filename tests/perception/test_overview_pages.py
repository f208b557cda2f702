"""The Perception overview and its drill-down pages through the real routes, on the hand-checked scenario
of tests/perception/test_metrics.py: the cards, the month and group tables and the accounts behind the
churn show the API's figures; the empty state; a bad parameter is the form's message."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tenancy.models import Membership
from tests.perception.test_metrics import PERIOD, seed_scenario

pytestmark = pytest.mark.django_db


def login(client: Client, workspace) -> Client:
    user = get_user_model().objects.create_user(username="viewer", password="pw-perception-2")
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.VIEWER)
    client.force_login(user)
    return client


@pytest.fixture
def acme(make_workspace):
    workspace = make_workspace("acme", tz="Asia/Shanghai")[0]
    seed_scenario(workspace)
    seed_scenario(make_workspace("other", tz="Asia/Shanghai")[0], r1_amount="999.00")
    return workspace


def card(html: str, key: str) -> str:
    match = re.search(rf'data-metric="{key}".*?metric__value[^>]*>([^<]*)<', html, re.S)
    assert match, key
    return match[1].strip()


def test_the_overview_shows_the_summary_s_figures(client, acme):
    login(client, acme)
    api = client.get("/api/v1/workspaces/acme/perception/summary", PERIOD).json()["metrics"]
    page = client.get("/w/acme/perception/", PERIOD)
    assert page.status_code == 200
    html = page.content.decode()
    assert card(html, "nps") == f"{api['nps']['value']:.1f}"
    assert card(html, "ces") == f"{api['ces']['value']:.2f}"
    assert card(html, "customer_churn_pct") == f"{api['customer_churn_pct']['value']:.1f}%"
    assert api["retention_cost"]["value"].replace(".", "") in card(html, "retention_cost").replace(".", "").replace(
        ",", ""
    )
    assert 'id="trend-table"' in html and 'id="breakdown-table"' in html
    assert "/w/acme/perception/accounts/?" in html and "status=churned" in html
    assert client.get("/w/other/perception/", PERIOD).status_code == 404


def test_the_drill_down_lists_the_accounts_of_the_figure(client, acme):
    login(client, acme)
    for status in ("at_start", "churned", "retained"):
        api = client.get("/api/v1/workspaces/acme/perception/accounts", {**PERIOD, "status": status}).json()
        page = client.get("/w/acme/perception/accounts/", {**PERIOD, "status": status})
        assert page.status_code == 200
        html = page.content.decode()
        names = re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', html)
        assert names == [row["name"] for row in api["results"]], status
        assert f"{api['count']} account" in html


def test_the_trend_chart_draws_the_trend_s_months(client, acme):
    login(client, acme)
    params = {"start": "2026-03-17", "end": "2026-04-10"}
    api = client.get("/api/v1/workspaces/acme/perception/trend", params).json()["months"]
    chart = client.get("/w/acme/charts/perception-trend.json", params).json()
    assert chart["labels"] == [row["month"] for row in api]
    nps = next(d for d in chart["datasets"] if d["label"] == "NPS")
    assert nps["data"] == [row["nps"] for row in api]


def test_empty_and_bad_requests(client, make_workspace, acme):
    login(client, acme)
    bad = client.get("/w/acme/perception/", {**PERIOD, "owner": "ghost"})
    assert bad.status_code == 400 and "No CRM user has the external ID &#x27;ghost&#x27;" in bad.content.decode()
    empty = make_workspace("empty")[0]
    Membership.objects.create(workspace=empty, user=get_user_model().objects.get(username="viewer"))
    page = client.get("/w/empty/perception/")
    assert page.status_code == 200 and "No surveys or contracts yet" in page.content.decode()


def test_a_card_rises_with_its_value_even_from_a_negative_previous():
    """API.md's change_pct divides by the previous value as it is: an NPS from −20 to −10 is −50 %. The
    card still says it rose, and that this is good news; churn rising is bad news."""
    from perception.presenters import _direction
    from perception.selectors.metrics import Metric

    assert _direction(Metric(-10.0, -20.0, 10.0, -50.0), rise_is_good=True) == ("up", "good")
    assert _direction(Metric(2.0, 1.0, 1.0, 100.0), rise_is_good=False) == ("up", "bad")
    assert _direction(Metric(2.0, 2.0, 0.0, -1.0), rise_is_good=False) == ("flat", "neutral")
    assert _direction(Metric(None, 2.0, None, None), rise_is_good=True) == ("", "neutral")
