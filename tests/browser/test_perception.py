"""The Perception tab in a real browser, on the demo workspace (seed_demo sends surveys, contracts, spend
and feedback in Chinese and English, and labels it): the overview's cards hold the API's figures and
its trend chart draws, the voice page draws its four charts (the word cloud included) with the API's
counts, no word of the cloud is cut off at the canvas's edges (the demo's keywords, very long words,
50 words; at 390 and 1280 px and after a resize), a drill-down lists the API's churned accounts, and the
tab reads Chinese in Chinese."""

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
    # The English page's chart requests done before the test ends: a request still being answered
    # holds a lock on a table of the in-memory SQLite database, and the flush after the test fails.
    charts_drawn(page)


# The ink box of every word of the cloud, measured as the word element draws it (centred on x, on the
# alphabetic baseline at y, in its font at size × scale), with the chart's size in CSS pixels.
CLOUD_WORDS = """(id) => {
  const chart = Chart.getChart(document.getElementById(id));
  const ctx = chart.ctx;
  const words = chart.getDatasetMeta(0).data.map((word, index) => {
    const text = chart.data.labels[index];
    if (!(word.scale > 0)) {
      return {text, hidden: true};
    }
    const font = Chart.helpers.toFont({...word.options, size: word.options.size * word.scale});
    ctx.save();
    ctx.font = font.string;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'alphabetic';
    const ink = ctx.measureText(text);
    ctx.restore();
    return {text, size: font.size, left: word.x - ink.actualBoundingBoxLeft, right: word.x + ink.actualBoundingBoxRight,
            top: word.y - ink.actualBoundingBoxAscent, bottom: word.y + ink.actualBoundingBoxDescent};
  });
  return {width: chart.width, height: chart.height, words};
}"""

LONG_WORDS = [
    "supercalifragilisticexpialidocious",
    "Donaudampfschifffahrtsgesellschaftskapitän",
    "customer-success-onboarding",
    "Kundenzufriedenheitsumfrage",
    "客户关系管理系统集成",
    "售后服务响应速度太慢了",
    "Internationalisation",
    "UI",
    "数据",
]
MANY_WORDS = [
    f"{word}{index}" for index, word in enumerate(["pricing", "客服", "integration", "导出", "dashboard"] * 10)
]


def show_cloud(page: Any, labels: list[str]) -> None:
    """Draw the cloud with these words (the most frequent first), as the page draws the chart JSON."""
    colors = ["rgb(34, 197, 94)", "rgb(148, 163, 184)", "rgb(239, 68, 68)"]
    data = {
        "labels": labels,
        "datasets": [
            {
                "label": "Keywords",
                "data": [max(2, 120 - 9 * index) for index in range(len(labels))],
                "color": [colors[index % 3] for index in range(len(labels))],
            }
        ],
    }
    page.evaluate("(data) => CrmCharts.show(document.getElementById('keywords-chart'), data)", data)


def assert_every_word_inside(page: Any, where: str) -> list[dict[str, Any]]:
    cloud = page.evaluate(CLOUD_WORDS, "keywords-chart")
    assert cloud["words"], where
    for word in cloud["words"]:
        assert not word.get("hidden"), f"{where}: {word['text']} is not drawn"
        inside = word["left"] >= 0 and word["top"] >= 0
        inside = inside and word["right"] <= cloud["width"] and word["bottom"] <= cloud["height"]
        assert inside, f"{where}: {word['text']} at {word} is cut off a {cloud['width']}×{cloud['height']} canvas"
    return cloud["words"]


@pytest.mark.parametrize(("width", "then"), [(390, 1280), (1280, 390)])
def test_no_word_of_the_cloud_is_cut_off(page: Any, demo: Any, width: int, then: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page)
    page.goto(f"{page.base_url}/w/zylker/perception/voice/?days=180")
    page.wait_for_load_state("networkidle")
    assert charts_drawn(page) == 4
    words = assert_every_word_inside(page, f"the demo's keywords at {width} px")
    assert words[0]["size"] == max(word["size"] for word in words)  # the most frequent is the biggest
    assert min(word["size"] for word in words) >= 10, "a word too small to read"
    # The tooltip still names a word and its frequency.
    page.locator("#keywords-chart").scroll_into_view_if_needed()
    box = page.locator("#keywords-chart").bounding_box()
    first = words[0]
    page.mouse.move(box["x"] + (first["left"] + first["right"]) / 2, box["y"] + first["bottom"] - 2)
    page.wait_for_function("() => Chart.getChart(document.getElementById('keywords-chart')).tooltip.opacity > 0")
    for name, labels in (("long words", LONG_WORDS), ("50 words", MANY_WORDS)):
        show_cloud(page, labels)
        assert_every_word_inside(page, f"{name} at {width} px")
    # Redrawn to the new size when the window is resized.
    page.set_viewport_size({"width": then, "height": 900})
    page.wait_for_function(
        f"() => Chart.getChart(document.getElementById('keywords-chart')).width < {width - 20}"
        if then < width
        else f"() => Chart.getChart(document.getElementById('keywords-chart')).width > {width}"
    )
    assert_every_word_inside(page, f"50 words resized from {width} to {then} px")
