"""A funnel's page grown up, in a real browser: the funnel, the time to convert and conversion over
time draw and hold the API's figures; an exclusion is added in the builder; the people who dropped at
a step are listed, downloaded and saved as a static filter set; phone width."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.browser.conftest import charts_drawn, log_in

pytestmark = pytest.mark.browser

NAME = "Leads followed through without deletions"


def open_demo_funnel(page: Any) -> tuple[int, str]:
    from funnels.models import Funnel

    funnel = Funnel.objects.get(workspace__slug="zylker", name=NAME)
    url = f"{page.base_url}/w/zylker/funnels/{funnel.pk}/"
    page.goto(url)
    return funnel.pk, url


def test_a_funnels_views_draw_and_hold_the_api_figures(page: Any, demo: Any) -> None:
    log_in(page)
    pk, _url = open_demo_funnel(page)
    assert charts_drawn(page) == 3  # the funnel, the time to convert, the conversion over time
    api = f"{page.base_url}/api/v1/workspaces/zylker/funnels/{pk}/results"
    steps = page.request.get(api).json()["steps"]
    counts = [row.split("\t")[2].strip() for row in page.locator("#funnel-steps tbody tr").all_inner_texts()]
    assert counts == [f"{s['count']:,}" for s in steps]
    assert "Not Leads · delete between steps 1 and 3" in page.locator(".funnel-definition").inner_text()

    convert = page.request.get(api, params={"view": "time_to_convert"}).json()
    drawn = page.evaluate("() => Chart.getChart(document.getElementById('convert-chart')).data.datasets[0].data")
    assert drawn == [b["units"] for b in convert["bins"]] and sum(drawn) == steps[-1]["count"]
    trends = page.request.get(api, params={"view": "trends"}).json()["buckets"]
    rows = page.locator("#funnel-trends tbody tr").all_inner_texts()
    assert [r.split("\t")[1].strip() for r in rows] == [f"{b['entered']:,}" for b in trends]

    # Another pair of steps, from the form: the chart and the sentence follow.
    page.select_option("select[name=to_step]", "2")
    page.locator("#convert-title").locator("xpath=../../..").locator("button:text-is('Show')").click()
    page.wait_for_load_state("networkidle")
    charts_drawn(page)
    assert "from step 1 to step 2" in page.locator("#convert-title + p").inner_text()


def test_people_who_dropped_are_listed_downloaded_and_saved_as_a_filter_set(page: Any, demo: Any) -> None:
    log_in(page)
    pk, _url = open_demo_funnel(page)
    results = f"{page.base_url}/api/v1/workspaces/zylker/funnels/{pk}/results"
    counts = [s["count"] for s in page.request.get(results).json()["steps"]]
    step = next(k for k in range(2, len(counts) + 1) if counts[k - 2] > counts[k - 1])  # a step people drop at
    api = page.request.get(results, params={"people": f"{step}:dropped"}).json()
    assert api["count"] == counts[step - 2] - counts[step - 1]
    page.locator(f"#funnel-steps tbody tr[data-step='{step}'] a:text-is('dropped')").click()
    page.wait_for_url("**/people?*")
    shown = page.locator("#funnel-people tbody tr")
    assert shown.count() == min(api["count"], 50)
    assert shown.first.locator("th").inner_text().strip() == api["results"][0]["unit"]
    with page.expect_download() as info:
        page.locator("a.csv-link").click()
    table = list(csv.DictReader(io.StringIO(info.value.path().read_text(encoding="utf-8"))))
    assert len(table) == api["count"]

    page.fill("input[name=name]", "Dropped before viewing")
    page.locator("button:text-is('Save as a filter set')").click()
    page.wait_for_url("**/users/filter-sets/*/")
    assert "Dropped before viewing" in page.content()
    assert f"A fixed list of {api['count']} user" in page.locator(".ua-summary, .ua-static").first.inner_text()


def test_an_exclusion_is_added_in_the_builder(page: Any, demo: Any) -> None:
    from funnels.models import Funnel

    log_in(page)
    funnel = Funnel.objects.get(workspace__slug="zylker", name="Lead conversion")
    page.goto(f"{page.base_url}/w/zylker/funnels/{funnel.pk}/edit")
    row = page.locator("[data-exclusion]").first
    row.locator("[data-part=feature]").select_option("Deals")
    # The action picker follows the feature (the catalog's actions), "Any action" first.
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-exclusion] [data-part=action] option')].some(o => o.value === 'delete')"
    )
    assert row.locator("[data-part=action] option").first.inner_text() == "Any action"
    row.locator("[data-part=action]").select_option("delete")
    row.locator("select[name$='-to']").select_option("3")
    page.locator("button.button--primary:text-is('Save changes')").click()
    page.wait_for_url("**/funnels/*/")
    funnel.refresh_from_db()
    assert funnel.exclusions == [{"feature": "Deals", "action": "delete", "detail": "", "between": [1, 3]}]


@pytest.mark.parametrize("where", ["", "people?people=2:dropped"])
def test_the_funnel_pages_fit_a_phone(page: Any, demo: Any, where: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page)
    _pk, url = open_demo_funnel(page)
    page.goto(url + where)
    charts_drawn(page)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1
