"""The Accounts tab's pages through their real URLs: the overview (``accounts-tab``), the account list,
the segments; their charts; the empty state, the "still being processed" notice, 400s for bad values and
404 for a non-member. Figures from the hand-made ledger (tests/accounts/conftest.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tenancy.models import Membership
from tests.accounts.conftest import AS_OF
from tests.conftest import crm_records

pytestmark = pytest.mark.django_db


def login(workspace, username="ada", role=Membership.Role.VIEWER):
    user, _ = get_user_model().objects.get_or_create(username=username)
    if workspace is not None:
        Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": role})
    client = Client()
    client.force_login(user)
    return client


def test_the_overview_page(busy):
    client = login(busy)
    url = reverse("accounts-tab", kwargs={"slug": "sh"})
    assert url == "/w/sh/accounts/"
    response = client.get(url, {"as_of": AS_OF, "days": "28"})
    assert response.status_code == 200
    html = response.content.decode()
    # KPIs: 4 accounts, 22,200.00 to date, 3 new (see test_overview).
    assert '<p class="metric__value" id="kpi-accounts">4</p>' in html
    assert '<p class="metric__value" id="kpi-revenue">$22,200.00</p>' in html
    assert '<p class="metric__value" id="kpi-new">3</p>' in html
    for chart in ("accounts-revenue", "accounts-acquisition", "accounts-industries", "accounts-bands",
                  "accounts-top-products", "accounts-rising-products"):  # fmt: skip
        assert f"/w/sh/charts/{chart}.json?as_of={AS_OF}&amp;days=28" in html
    assert (
        "/api/v1/workspaces/sh/accounts/overview?as_of=2026-02-28&amp;days=28&amp;table=top_accounts&amp;format=csv"
        in html
    )
    # Closing this month in date order: Beta (Feb 3) before Alpha (Feb 12), all shown.
    assert html.index("Feb 3, 2026") < html.index("Feb 12, 2026")
    assert "the CSV has them all" not in html
    assert "Widget" in html and "Retail" in html and 'id="suggested-segments"' in html
    assert 'class="tab is-active" href="/w/sh/accounts/' in html
    # The tab bar carries only the period to other tabs.
    assert "/w/sh/users/?as_of=2026-02-28&amp;days=28" in html


def test_the_overview_page_shows_the_first_accounts_closing_and_links_the_whole_list(busy, monkeypatch):
    import accounts.views

    monkeypatch.setattr(accounts.views, "CLOSING_ROWS", 1)
    html = login(busy).get(reverse("accounts-tab", kwargs={"slug": "sh"}), {"as_of": AS_OF, "days": "28"}).content
    html = html.decode()
    assert "Feb 3, 2026" in html and "Feb 12, 2026" not in html
    assert "Showing the first 1; the CSV has them all." in html
    assert "table=closing_this_month&amp;format=csv" in html


def test_the_overview_charts(busy):
    client = login(busy)
    revenue = client.get("/w/sh/charts/accounts-revenue.json", {"as_of": AS_OF}).json()
    assert len(revenue["labels"]) == 12 and revenue["labels"][-1] == "2026-02-01"
    assert revenue["datasets"][0]["data"][-4:] == [20000.0, 0.0, 1000.0, 1200.0]
    industries = client.get("/w/sh/charts/accounts-industries.json", {"as_of": AS_OF}).json()
    assert industries["labels"] == ["Retail", "Finance"] and industries["datasets"][0]["data"] == [2, 1]
    bands = client.get("/w/sh/charts/accounts-bands.json", {"as_of": AS_OF}).json()
    assert bands["datasets"][0]["data"] == [3, 1, 0, 0]
    rising = client.get("/w/sh/charts/accounts-rising-products.json", {"as_of": AS_OF, "days": 28}).json()
    assert rising["labels"] == ["Widget"] and [d["data"] for d in rising["datasets"]] == [[800.0], [0.0]]
    top = client.get("/w/sh/charts/accounts-top-products.json", {"as_of": AS_OF, "days": 28}).json()
    assert top["labels"] == ["Widget", "Gadget"]
    acquisition = client.get("/w/sh/charts/accounts-acquisition.json", {"as_of": AS_OF}).json()
    assert sum(acquisition["datasets"][0]["data"]) == 4
    bad = client.get("/w/sh/charts/accounts-revenue.json", {"as_of": "nope"})
    assert bad.status_code == 400 and "as_of" in bad.json()["errors"]


def test_the_list_page(busy):
    client = login(busy, role=Membership.Role.ANALYST)
    response = client.get(
        "/w/sh/accounts/list/", {"industry": "Retail", "ordering": "-revenue", "columns": ["revenue", "owner"]}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index('data-account="A2"') < html.index('data-account="A5"') < html.index('data-account="A1"')
    assert 'data-account="A3"' not in html
    assert "$20,300.00" in html and 'data-column="country"' not in html
    assert html.index('<th scope="col" data-column="revenue"') < html.index('<th scope="col" data-column="owner"')
    assert "/api/v1/workspaces/sh/accounts/?industry=Retail&amp;ordering=-revenue&amp;format=csv" in html
    assert 'id="save-segment-form"' in html and 'name="industry" value="Retail"' in html
    assert "3 accounts match." in html
    # Pages keep the query.
    paged = client.get("/w/sh/accounts/list/", {"page_size": 2, "ordering": "name"}).content.decode()
    assert "page=2" in paged and "1–2 of 6" in paged
    # A viewer does not get the save form.
    assert 'id="save-segment-form"' not in login(busy, "vic").get("/w/sh/accounts/list/").content.decode()


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        ("/w/sh/accounts/", {"as_of": "2026-02-31"}, "As of"),
        ("/w/sh/accounts/list/", {"status": "closed"}, "Status"),
        ("/w/sh/accounts/list/", {"columns": "color"}, "Columns"),
        ("/w/sh/accounts/list/", {"min_revenue": "x"}, "Revenue at least"),
    ],
)
def test_bad_values_on_a_page_are_a_400_with_the_message(busy, url, params, field):
    response = login(busy).get(url, params)
    assert response.status_code == 400
    assert "Some of the values are not valid" in response.content.decode()


def test_the_segments_page(busy):
    html = login(busy).get("/w/sh/accounts/segments/").content.decode()
    assert "No segment yet." in html and 'data-suggestion="expansion"' in html and 'data-suggestion="at_risk"' in html
    assert "/w/sh/accounts/list/?suggested=expansion" in html


def test_empty_state_and_pending_notice(make_workspace):
    empty = make_workspace("empty")[0]
    client = login(empty)
    for url in ("/w/empty/accounts/", "/w/empty/accounts/list/", "/w/empty/accounts/segments/"):
        response = client.get(url)
        assert response.status_code == 200
        assert "No deals yet — send them with POST /api/v1/records/deals/batch or manage.py import_records" in (
            response.content.decode()
        )
    crm_records(empty, "accounts", [{"external_id": "A", "name": "A", "created_at": "2026-01-01"}], refresh=False)
    html = client.get("/w/empty/accounts/").content.decode()
    assert 'id="figures-pending"' in html and 'id="accounts-empty"' not in html


def test_a_non_member_gets_404_everywhere(busy):
    client = login(None, "stranger")
    for url in ("/w/sh/accounts/", "/w/sh/accounts/list/", "/w/sh/accounts/segments/", "/w/sh/accounts/A1/",
                "/w/sh/charts/accounts-revenue.json"):  # fmt: skip
        assert client.get(url).status_code == 404, url
    assert Client().get("/w/sh/accounts/").status_code == 302  # anonymous: to the login page


def test_the_list_page_costs_the_same_for_more_rows(busy):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(busy)
    counts = []
    for size in (1, 6):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/w/sh/accounts/list/", {"page_size": size}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
