"""The Sales tab over HTTP, through the real routes: the pages and their charts for a member, the
empty state and the "still being processed" notice, 400s naming the parameter, 404 outside one's
workspaces, and another workspace's records never showing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tenancy.models import Membership
from tests.conftest import crm_records, crm_users
from tests.sales.builders import account, activity, deal, get, seed

pytestmark = pytest.mark.django_db

ENDPOINTS = ["state-of-the-union", "activity", "open-pipeline", "pipeline-generation", "forecast", "clean-house"]
PAGES = ["sales/", "sales/activity/", "sales/open-pipeline/", "sales/pipeline-generation/", "sales/forecast/",
         "sales/clean-house/"]  # fmt: skip
CHARTS = ["sales-revenue", "sales-leaderboard", "sales-activity", "sales-stages", "sales-generation", "sales-forecast"]


def records(workspace, amount: str = "100.00") -> None:
    seed(
        workspace,
        ["r1", "r2"],
        accounts=[account("A1", "Acme Inc.", "r1"), account("A2", "ACME")],
        deals=[
            deal("D1", "won", amount, "2025-03-10", "r1", created_at="2025-03-01"),
            deal("D2", "open", "50.00", "2025-03-20", "r2", created_at="2025-01-01"),
            deal("D3", "open", None, None, None, account_id="A2"),
        ],
        activities=[activity("X1", "meeting", "r1", "2025-03-03T10:00:00Z", deal="D2")],
        targets=[{"external_id": "T1", "month": "2025-03", "pipeline_target": "500.00", "revenue_quota": "400.00"}],
    )


@pytest.fixture
def two(make_workspace):
    """Two workspaces with the same external ids and different amounts."""
    (a, _), (b, _) = make_workspace("acme"), make_workspace("other")
    records(a)
    records(b, amount="999.00")
    return a, b


@pytest.fixture
def browser(two):
    user = get_user_model().objects.create_user("viewer")
    Membership.objects.create(workspace=two[0], user=user, role=Membership.Role.VIEWER)
    client = Client()
    client.force_login(user)
    return client


MARCH = {"start": "2025-03-01", "end": "2025-03-31"}


def test_each_workspace_sees_only_its_records(two, member_client):
    a, b = two
    assert get(member_client(a), a, "state-of-the-union", **MARCH)["metrics"]["revenue"]["value"] == "100.00"
    assert (
        get(member_client(b, username="b"), b, "state-of-the-union", **MARCH)["metrics"]["revenue"]["value"] == "999.00"
    )


def test_a_workspace_one_is_not_a_member_of_is_a_404(two, member_client):
    a, b = two
    client = member_client(a)
    for name in ENDPOINTS:
        assert client.get(f"/api/v1/workspaces/{b.slug}/sales/{name}").status_code == 404
        assert client.get(f"/api/v1/workspaces/{a.slug}/sales/{name}").status_code == 200


@pytest.mark.parametrize(
    "name, params, field",
    [
        ("state-of-the-union", {"start": "2025-13-01"}, "start"),
        ("state-of-the-union", {"start": "2025-03-10", "end": "2025-03-01"}, "start"),
        ("state-of-the-union", {"limit": "0"}, "limit"),
        ("state-of-the-union", {"limit": "ten"}, "limit"),
        ("state-of-the-union", {"table": "everything"}, "table"),
        ("state-of-the-union", {"status": "asleep"}, "status"),
        ("activity", {"end": "2025-02-30"}, "end"),
        ("activity", {"start": "2020-01-01", "end": "2025-01-01"}, "end"),  # longer than 731 days
        ("open-pipeline", {"as_of": "yesterday"}, "as_of"),
        ("open-pipeline", {"start": "2025-04-01", "end": "2025-03-01"}, "start"),
        ("open-pipeline", {"end": "3000-01-01"}, "end"),
        ("open-pipeline", {"table": "by_rep"}, "table"),
        ("pipeline-generation", {"start": "1969-12-31"}, "start"),
        ("forecast", {"end": "x"}, "end"),
        ("clean-house", {"as_of": "1969-12-31"}, "as_of"),
        ("clean-house", {"table": "stuck"}, "table"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(two, member_client, name, params, field):
    a, _b = two
    response = member_client(a).get(f"/api/v1/workspaces/{a.slug}/sales/{name}", params)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_as_of_after_today_is_a_400(two, member_client):
    a, _b = two
    tomorrow = (a.today() + timedelta(days=1)).isoformat()
    for name in ("open-pipeline", "clean-house"):
        response = member_client(a).get(f"/api/v1/workspaces/{a.slug}/sales/{name}", {"as_of": tomorrow})
        assert response.status_code == 400 and "as_of" in response.json()


def test_every_page_renders_for_a_member(two, browser):
    a, b = two
    for page in PAGES:
        response = browser.get(f"/w/{a.slug}/{page}", MARCH if "clean" not in page and "open" not in page else {})
        assert response.status_code == 200, (page, response.content[:500])
        html = response.content.decode()
        assert "format=csv" in html
        assert browser.get(f"/w/{b.slug}/{page}").status_code == 404
    html = browser.get(f"/w/{a.slug}/sales/", MARCH).content.decode()
    assert 'href="/w/acme/users/r1/"' in html  # the leaderboard links each rep to their CRM usage
    assert "$100.00" in html and "$999.00" not in html
    for name in ("sales-activity", "sales-open-pipeline", "sales-forecast", "sales-clean-house"):
        assert f"/w/acme/{name.replace('sales-', 'sales/')}/" in html  # the subnav


def test_a_bad_page_parameter_is_a_400_with_the_message(two, browser):
    a, _b = two
    response = browser.get(f"/w/{a.slug}/sales/", {"start": "2025-03-10", "end": "2025-03-01"})
    assert response.status_code == 400
    assert "Must not be after end." in response.content.decode()
    assert browser.get(f"/w/{a.slug}/sales/clean-house/", {"as_of": "x"}).status_code == 400


def test_charts_answer_for_the_page_s_query(two, browser):
    a, _b = two
    params = {"start": "2025-03-01", "end": "2025-03-31", "as_of": "2025-03-31"}
    for chart in CHARTS:
        response = browser.get(f"/w/{a.slug}/charts/{chart}.json", params)
        assert response.status_code == 200, (chart, response.content)
        data = response.json()
        assert set(data) == {"labels", "datasets"} and data["datasets"], chart
    stages = browser.get(f"/w/{a.slug}/charts/sales-stages.json", {"as_of": "2025-03-31"}).json()
    assert stages["labels"] == ["Proposal"] and stages["datasets"][0]["data"] == [50.0]
    forecast = browser.get(f"/w/{a.slug}/charts/sales-forecast.json", MARCH).json()
    assert forecast["datasets"][0]["data"] == [100.0]  # won
    assert forecast["datasets"][-1]["data"] == [400.0] and forecast["datasets"][-1]["type"] == "line"  # the quota
    response = browser.get(f"/w/{a.slug}/charts/sales-revenue.json", {"start": "nope"})
    assert response.status_code == 400 and "start" in response.json()["errors"]
    assert browser.get("/w/other/charts/sales-revenue.json").status_code == 404


def test_the_empty_state_and_the_pending_notice(make_workspace, browser):
    empty = make_workspace("empty")[0]
    user = get_user_model().objects.get(username="viewer")
    Membership.objects.create(workspace=empty, user=user, role=Membership.Role.VIEWER)
    for page in PAGES:
        html = browser.get(f"/w/{empty.slug}/{page}").content.decode()
        assert "No deals yet" in html and "/api/v1/records/deals/batch" in html
    crm_records(empty, "accounts", [account("A1")], refresh=False)
    crm_users(empty, [{"external_id": "r1"}])
    crm_records(empty, "deals", [deal("D1", "open", "1.00", "2025-03-01", "r1")], refresh=False)
    html = browser.get(f"/w/{empty.slug}/sales/").content.decode()
    assert "No deals yet" not in html and "still being processed" in html


def test_anonymous_visitors_are_sent_to_log_in(two):
    response = Client().get("/w/acme/sales/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_adoption_page_is_in_the_subnav_only_once_it_exists(two, browser, monkeypatch):
    from django.urls import NoReverseMatch, reverse

    from sales import views

    a, _b = two
    try:
        adoption = reverse("adoption-tab", kwargs={"slug": a.slug})
    except NoReverseMatch:
        adoption = None
    html = browser.get(f"/w/{a.slug}/sales/", MARCH).content.decode()
    assert ("Adoption × outcome" in html) == (adoption is not None)
    if adoption:
        assert f'href="{adoption}?start=2025-03-01&amp;end=2025-03-31"' in html  # the period goes along
    monkeypatch.setattr(views, "ADOPTION_PAGE", "no-such-page")
    assert "Adoption × outcome" not in browser.get(f"/w/{a.slug}/sales/", MARCH).content.decode()


def test_a_forecast_ahead_keeps_its_period_only_for_the_pages_that_look_ahead(two, browser):
    a, _b = two
    start, end = a.today().isoformat(), (a.today() + timedelta(days=90)).isoformat()
    html = browser.get(f"/w/{a.slug}/sales/forecast/", {"start": start, "end": end}).content.decode()
    assert f'href="/w/acme/sales/pipeline-generation/?start={start}&amp;end={end}"' in html
    assert 'href="/w/acme/sales/"' in html  # state of the union: its own default period (its end is never ahead)
