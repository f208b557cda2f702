"""The Accounts and Sales tabs in a real browser, on the demo workspace (seed_demo fills its records):
every chart draws, the tables hold the API's figures, a search is saved as a segment that lists the
same accounts, an account's page lists its deals, the pages fit a phone, and Chinese reads Chinese."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import charts_drawn, log_in

pytestmark = pytest.mark.browser

SALES_PAGES = [
    ("", 2),  # state of the union: revenue vs previous, leaderboard
    ("activity/", 1),
    ("open-pipeline/", 1),
    ("pipeline-generation/", 1),
    ("forecast/", 1),
    ("clean-house/", 0),
]


def api(page: Any, path: str, **params: Any) -> Any:
    answer = page.request.get(f"{page.base_url}/api/v1/workspaces/zylker/{path}", params=params)
    assert answer.status == 200, answer.text()
    return answer.json()


def test_the_account_overview_draws_and_holds_the_api_figures(page: Any, demo: Any) -> None:
    log_in(page)
    page.click(".tab-bar a:text-is('Accounts')")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/w/zylker/accounts/")
    assert charts_drawn(page) == 6  # revenue by month, acquisition, industries, bands, top and rising products
    overview = api(page, "accounts/overview")
    assert overview["accounts"] > 0
    assert page.locator("#kpi-accounts").inner_text().replace(",", "").find(str(overview["accounts"])) >= 0
    rows = page.locator("#top-accounts-table tbody tr")
    assert rows.count() == len(overview["top_accounts"]) > 0
    assert overview["top_accounts"][0]["name"] in rows.first.inner_text()
    months = page.evaluate("() => Chart.getChart(document.getElementById('revenue-chart')).data.labels.length")
    assert months == len(overview["revenue_by_month"]) == 12


def test_a_search_saved_as_a_segment_lists_the_same_accounts_and_an_account_page_its_deals(
    page: Any, demo: Any
) -> None:
    log_in(page)
    page.goto(f"{page.base_url}/w/zylker/accounts/list/")
    page.fill("#list-form input[name=search]", "zylker")
    page.click("#list-form button:text-is('Apply')")
    page.wait_for_load_state("networkidle")
    listed = api(page, "accounts/", search="zylker", page_size=100)
    assert listed["count"] >= 2  # the demo's likely duplicates
    names = page.locator("#accounts-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.account)")
    assert names == [row["external_id"] for row in listed["results"]]

    page.fill("#save-segment-form input[name=name]", "Zylker lookalikes")
    page.click("#save-segment-form button:text-is('Save segment')")
    page.wait_for_load_state("networkidle")
    segments = api(page, "segments/")
    segments = segments["results"] if isinstance(segments, dict) else segments
    segment = next(s for s in segments if s["name"] == "Zylker lookalikes")
    assert segment["filters"].get("search") == "zylker"
    members = api(page, f"segments/{segment['id']}/accounts", page_size=100)
    assert [r["external_id"] for r in members["results"]] == names
    shown = page.locator("#accounts-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.account)")
    assert shown == names

    page.locator("#accounts-table tbody tr a").first.click()
    page.wait_for_load_state("networkidle")
    charts_drawn(page)
    account = api(page, f"accounts/{names[0]}")
    assert page.locator("#deals-table tbody tr").count() == len(account["deals"])


@pytest.mark.parametrize(("path", "charts"), SALES_PAGES)
def test_every_sales_page_draws(page: Any, demo: Any, path: str, charts: int) -> None:
    log_in(page)
    page.goto(f"{page.base_url}/w/zylker/sales/{path}")
    assert charts_drawn(page) == charts
    assert page.locator(".tab-bar a[aria-current=page]").inner_text().strip() == "Sales"


def test_the_state_of_the_union_leaderboard_is_the_api_s(page: Any, demo: Any) -> None:
    log_in(page)
    page.goto(f"{page.base_url}/w/zylker/sales/")
    charts_drawn(page)
    union = api(page, "sales/state-of-the-union")
    rows = page.locator("#leaderboard-table tbody tr")
    assert rows.count() == len(union["leaderboard"]) > 0
    assert union["leaderboard"][0]["rep"] in rows.first.inner_html()
    # A rep links to their CRM usage page.
    rows.first.locator("a").first.click()
    page.wait_for_load_state("networkidle")
    assert "/w/zylker/users/" in page.url


@pytest.mark.parametrize(
    "path", ["accounts/", "accounts/list/", "sales/", "sales/activity/", "sales/open-pipeline/", "sales/clean-house/"]
)
def test_the_new_pages_fit_a_phone(page: Any, demo: Any, path: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page)
    page.goto(f"{page.base_url}/w/zylker/{path}")
    charts_drawn(page)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1


def test_the_accounts_and_sales_tabs_read_chinese(browser: Any, live_server: Any, demo: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.base_url = live_server.url
    log_in(page)
    for path, words in (("accounts/", "客户"), ("sales/", "销售")):
        page.goto(f"{page.base_url}/w/zylker/{path}")
        charts_drawn(page)
        body = page.locator("main").inner_text()
        assert words in body
        assert "Revenue" not in body and "Accounts" not in body
    context.close()
