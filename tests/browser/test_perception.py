"""The Perception tab in a real browser, on the demo workspace (seed_demo sends surveys, contracts, spend
and feedback in Chinese and English, and labels it): the overview's cards hold the API's figures and
its trend chart draws, the voice page draws its four charts (the word cloud included) with the API's
counts, a drill-down lists the API's churned accounts, and the tab reads Chinese in Chinese."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import charts_drawn, log_in

pytestmark = pytest.mark.browser


def api(page: Any, path: str, **params: Any) -> Any:
    answer = page.request.get(f"{page.base_url}/api/v1/workspaces/zylker/{path}", params=params)
    assert answer.status == 200, answer.text()
    return answer.json()


def test_the_overview_holds_the_summary_and_drills_down_to_the_accounts(page: Any, demo: Any) -> None:
    log_in(page)
    page.click(".tab-bar a:text-is('Perception')")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/w/zylker/perception/")
    assert charts_drawn(page) == 1
    summary = api(page, "perception/summary")["metrics"]
    nps = page.locator("[data-metric=nps] .metric__value").inner_text()
    assert nps == ("—" if summary["nps"]["value"] is None else f"{summary['nps']['value']:.1f}")
    page.click("#nps-split a:text-is('churned')")
    page.wait_for_load_state("networkidle")
    churned = api(page, "perception/accounts", status="churned", page_size=500)
    shown = page.locator("#perception-accounts-table tbody tr").count() if churned["count"] else 0
    assert shown == min(churned["count"], 50)


def test_the_voice_draws_its_charts_with_the_api_s_counts(page: Any, demo: Any) -> None:
    log_in(page)
    page.goto(f"{page.base_url}/w/zylker/perception/voice/?days=180")
    page.wait_for_load_state("networkidle")
    assert charts_drawn(page) == 4  # sentiment, intents, keyword cloud, competitors
    voice = api(page, "perception/voice", days=180)
    drawn = page.evaluate("() => Chart.getChart(document.getElementById('sentiment-chart')).data.datasets[0].data")
    assert drawn == [row["count"] for row in voice["sentiment"]] and sum(drawn) > 0
    words = page.evaluate("() => Chart.getChart(document.getElementById('keywords-chart')).data.labels")
    assert words == [row["keyword"] for row in voice["keywords"]]


def test_the_tab_reads_chinese(page: Any, demo: Any) -> None:
    log_in(page)
    page.goto(f"{page.base_url}/w/zylker/perception/voice/")
    with page.expect_navigation():
        page.locator("header select[name=language]").select_option("zh-hans")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("#sentiment-title").inner_text() == "情感"
    assert "客户之声" in page.locator(".subnav").inner_text()
    with page.expect_navigation():
        page.locator("header select[name=language]").select_option("en")
