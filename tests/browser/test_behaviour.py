"""The Behaviour tab in a real browser: both heatmaps and the failure chart draw, the table holds the
API's figures, a feature's link narrows the heatmap to it, the CSV downloads, and a phone does not
scroll sideways."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.browser.conftest import charts_drawn, log_in

pytestmark = pytest.mark.browser


def test_the_behaviour_tab_draws_and_holds_the_api_figures(page: Any, demo: Any) -> None:
    log_in(page)
    page.goto(f"{page.base_url}/w/zylker/behaviour/")
    assert charts_drawn(page) == 3  # the failure rate, the events heatmap, the failure-rate heatmap
    assert page.evaluate("() => Chart.getChart(document.getElementById('heatmap-chart')).config.type") == "matrix"
    api = page.request.get(f"{page.base_url}/api/v1/workspaces/zylker/behaviour/failures?period=last_30_days").json()
    rows = page.locator("#failures-table tbody tr")
    assert rows.count() == len(api["features"]) > 0
    first = [cell.strip() for cell in rows.first.inner_text().split("\t")]
    top = api["features"][0]
    assert first[:4] == [top["feature"], top["action"], f"{top['events']:,}", f"{top['failures']:,}"]
    assert first[4] == f"{top['failure_rate_pct']:.1f}%"

    # A feature's link shows its heatmap.
    rows.first.locator("a").click()
    page.wait_for_load_state("networkidle")
    charts_drawn(page)
    assert f"{top['feature']} · {top['action']}" in page.locator("#heatmap-title").inner_text()
    heatmap = page.request.get(
        f"{page.base_url}/api/v1/workspaces/zylker/behaviour/heatmap",
        params={"period": "last_30_days", "feature": top["feature"], "action": top["action"]},
    ).json()["cells"]
    assert sum(c["events"] for c in heatmap) == top["events"]

    with page.expect_download() as info:
        page.locator("#failures a.csv-link").click()
    table = list(csv.DictReader(io.StringIO(info.value.path().read_text(encoding="utf-8"))))
    assert [r["feature"] for r in table] == [f["feature"] for f in api["features"]]


def test_the_behaviour_tab_fits_a_phone(page: Any, demo: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page)
    page.goto(f"{page.base_url}/w/zylker/behaviour/")
    charts_drawn(page)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1


def test_retention_and_engagement_draw_and_hold_the_api_figures(page: Any, demo: Any) -> None:
    log_in(page)
    page.goto(f"{page.base_url}/w/zylker/behaviour/")
    page.click(".subnav a:text-is('Retention')")
    page.wait_for_load_state("networkidle")
    page.select_option("#id_mode", "recurring")
    page.click("button:text-is('Apply')")
    page.wait_for_load_state("networkidle")
    assert charts_drawn(page) == 1
    api = page.request.get(
        f"{page.base_url}/api/v1/workspaces/zylker/behaviour/retention?period=last_30_days&mode=recurring"
    ).json()["cohorts"]
    rows = page.locator("#retention-table tbody tr")
    assert rows.count() == len(api)
    first = [cell.strip() for cell in rows.first.inner_text().split("\t")]
    assert first[1] == f"{api[0]['size']:,}" and first[2] == "100.0%"

    page.click(".subnav a:text-is('Engagement')")
    page.wait_for_load_state("networkidle")
    assert charts_drawn(page) == 2  # lifecycle, stickiness
    assert page.evaluate("() => Chart.getChart(document.getElementById('lifecycle-chart')).options.scales.y.stacked")
    sticky = page.request.get(
        f"{page.base_url}/api/v1/workspaces/zylker/behaviour/stickiness?period=last_30_days"
    ).json()
    assert page.locator("#dau-mau").inner_text() == f"{sticky['dau_mau']:.1f}%"


def test_anomalies_draw_their_baseline(page: Any, demo: Any) -> None:
    log_in(page)
    page.goto(f"{page.base_url}/w/zylker/behaviour/anomalies/?feature=*")
    assert charts_drawn(page) == 1
    datasets = page.evaluate("() => Chart.getChart(document.getElementById('anomaly-chart')).data.datasets.length")
    assert datasets == 3  # the value, the baseline, the anomalies
    api = page.request.get(
        f"{page.base_url}/api/v1/workspaces/zylker/behaviour/anomalies?period=last_30_days&feature=*"
    ).json()
    assert page.locator("#anomalies-table tbody tr").count() == len(api["anomalies"])


def test_paths_draw_a_sankey(page: Any, demo: Any) -> None:
    log_in(page)
    page.goto(f"{page.base_url}/w/zylker/behaviour/paths/?start_point=Home")
    assert charts_drawn(page) == 1
    assert page.evaluate("() => Chart.getChart(document.getElementById('paths-chart')).config.type") == "sankey"
    api = page.request.get(
        f"{page.base_url}/api/v1/workspaces/zylker/behaviour/paths?period=last_30_days&start_point=Home"
    ).json()
    assert page.locator("#edges-table tbody tr").count() == len(api["edges"]) > 0
    # The first flow's count opens the users behind it.
    page.locator("#edges-table tbody tr").first.locator("a").click()
    page.wait_for_load_state("networkidle")
    users = page.locator("#path-users-table tbody tr")
    assert users.count() > 0
    total = sum(int(users.nth(i).locator("td.num").inner_text().replace(",", "")) for i in range(users.count()))
    assert total == api["edges"][0]["sessions"]
