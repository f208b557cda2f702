"""A new admin in a real browser: log in, open every tab, check the charts drew and the tables hold
the numbers the API returns, download a CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.browser.conftest import charts_drawn, log_in

pytestmark = pytest.mark.browser


def test_log_in_and_every_tab_draws_its_charts(page: Any, demo: Any) -> None:
    log_in(page)
    assert "/w/zylker/" in page.url
    assert charts_drawn(page) >= 1  # Home: interactions per week
    tabs = page.locator("nav.tab-bar a.tab")
    names = [tabs.nth(i).inner_text().strip() for i in range(tabs.count())]
    assert names[:1] == ["Home"] and {"Activity", "Trends", "Hub"} <= set(names)
    for name in names[1:]:
        page.click(f"nav.tab-bar a.tab:text-is('{name}')")
        page.wait_for_load_state("networkidle")
        assert page.locator("nav.tab-bar a.tab.is-active").inner_text().strip() == name
        if page.locator("canvas").count():
            assert charts_drawn(page) >= 1, f"no chart drew on {name}"


def test_home_cards_and_tables_hold_the_api_numbers(page: Any, demo: Any) -> None:
    log_in(page)
    charts_drawn(page)
    api = page.request.get(f"{page.base_url}/api/v1/workspaces/zylker/home/summary").json()
    for metric, values in api["metrics"].items():
        shown = page.locator(f'[data-metric="{metric}"] .metric__value').inner_text()
        assert int(shown.replace(",", "")) == values["value"], metric
    assert api["metrics"]["interactions"]["value"] > 0
    # The weekly table follows Home's period (the last 30 days): the same weeks as the API's for it,
    # adding up to the interactions card.
    weeks = page.request.get(
        f"{page.base_url}/api/v1/workspaces/zylker/home/weekly-interactions?period=last_30_days"
    ).json()["weeks"]
    body = page.locator("table", has_text="Interactions").first.inner_text()
    for week in weeks:
        assert f"{week['interactions']:,}" in body
    assert sum(week["interactions"] for week in weeks) == api["metrics"]["interactions"]["value"]


def test_hub_popularity_table_matches_the_api(page: Any, demo: Any) -> None:
    log_in(page)
    page.goto(f"{page.base_url}/w/zylker/hub/")
    charts_drawn(page)
    api = page.request.get(f"{page.base_url}/api/v1/workspaces/zylker/hub/popularity").json()["features"]
    text = page.locator("main").inner_text()
    for row in api[:5]:
        assert row["feature"] in text and f"{row['interactions']:,}" in text


def test_csv_download(page: Any, demo: Any) -> None:
    log_in(page)
    with page.expect_download() as info:
        page.locator("a.csv-link").first.click()
    path = info.value.path()
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows and "metric" in rows[0] and {r["metric"] for r in rows} >= {"interactions", "active_users"}


def test_phone_width_has_no_horizontal_scroll(page: Any, demo: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page)
    charts_drawn(page)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1
    # Every tab in sight, "User analysis" too (they wrap onto rows rather than scroll out of view).
    tabs = page.evaluate(
        "() => [...document.querySelectorAll('.tab-bar .tab')].map(t => {"
        " const r = t.getBoundingClientRect(); return [t.textContent.trim(), r.left, r.right]; })"
    )
    assert len(tabs) >= 10 and any(name.startswith("User analysis") for name, _l, _r in tabs)
    assert all(left >= 0 and right <= 390 for _name, left, right in tabs), tabs


def test_build_run_and_save_a_filter_set(page: Any, demo: Any) -> None:
    from useranalysis.models import FilterSet

    log_in(page)
    page.goto(f"{page.base_url}/w/zylker/users/filter-sets/new/")
    page.fill("input[name=name]", "Lead creators")
    page.click("button[data-add-row=features]")
    page.select_option("select[name=features-0-feature]", "Leads")
    page.select_option("select[name=features-0-action]", "create")
    page.locator("button.button--primary:text-is('Run')").click()
    page.wait_for_load_state("networkidle")
    shown = page.locator("main").inner_text()
    api = page.request.post(
        f"{page.base_url}/api/v1/workspaces/zylker/filter-sets/query",
        data={"conditions": {"features": [{"feature": "Leads", "action": "create"}]}},
        headers={"X-CSRFToken": next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")},
    ).json()
    assert api["matched"] > 0
    assert f"{api['matched']} of {api['total_users']}" in shown.replace(",", "")
    page.locator("button.button--secondary:text-is('Save')").click()
    page.wait_for_load_state("networkidle")
    saved = FilterSet.objects.get(name="Lead creators")
    assert saved.conditions["features"][0]["action"] == "create"
    assert f"/filter-sets/{saved.pk}/" in page.url


def test_build_and_save_a_funnel_and_see_its_result(page: Any, demo: Any) -> None:
    from funnels.models import Funnel

    log_in(page)
    page.goto(f"{page.base_url}/w/zylker/funnels/new")
    page.fill("input[name=name]", "Lead to conversion")
    # The dependent pickers: choosing a feature offers only the actions seen for it.
    page.select_option("#id_steps-0-feature", "Leads")
    # The feature catalog arrives by fetch: a feature chosen before it gets its actions when it lands (a
    # loaded machine once asserted in between and saw the placeholder alone).
    page.wait_for_selector("#id_steps-0-action option[value=convert]", state="attached")
    assert "convert" in page.locator("#id_steps-0-action option").all_inner_texts()
    page.select_option("#id_steps-0-action", "create")
    page.select_option("#id_steps-1-feature", "Leads")
    page.select_option("#id_steps-1-action", "convert")
    # The live preview: the tables as the server renders them on a funnel's page, and the chart, with
    # the figures funnels/query gives for the builder's range (the last 30 days).
    page.wait_for_selector("[data-preview-tables] #funnel-steps", state="visible")
    preview = page.evaluate("() => !!Chart.getChart(document.getElementById('preview-chart'))")
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    steps = [{"feature": "Leads", "action": "create"}, {"feature": "Leads", "action": "convert"}]
    query = page.request.post(
        f"{page.base_url}/api/v1/workspaces/zylker/funnels/query",
        data={"steps": steps, "days": 30},
        headers={"X-CSRFToken": token},
    ).json()
    rows = page.locator("[data-preview-tables] #funnel-steps tbody tr").all_inner_texts()
    assert preview and [row.split("\t")[2].replace(",", "") for row in rows] == [
        str(s["count"]) for s in query["steps"]
    ]
    page.locator("button.button--primary:text-is('Save funnel')").click()
    page.wait_for_url("**/funnels/*/")
    funnel = Funnel.objects.get(name="Lead to conversion")
    assert [s["action"] for s in funnel.steps] == ["create", "convert"]
    assert charts_drawn(page) >= 1
    api = page.request.get(f"{page.base_url}/api/v1/workspaces/zylker/funnels/{funnel.pk}/results").json()
    first, last = api["steps"][0], api["steps"][-1]
    assert first["count"] > 0
    text = page.locator("main").inner_text().replace(",", "")
    assert str(first["count"]) in text and str(last["count"]) in text


def test_switch_to_chinese_and_back(page: Any, demo: Any) -> None:
    log_in(page)
    charts_drawn(page)
    with page.expect_navigation():  # the switcher submits itself on change
        page.locator("header select[name=language]").select_option("zh-hans")
    tabs = page.locator("nav.tab-bar a.tab").all_inner_texts()
    assert "首页" in [t.strip() for t in tabs]
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert charts_drawn(page) >= 1  # the charts still draw in Chinese
    with page.expect_navigation():
        page.locator("header select[name=language]").select_option("en")
    assert "Home" in [t.strip() for t in page.locator("nav.tab-bar a.tab").all_inner_texts()]


def test_the_activity_user_field_suggests_users_as_one_types(page: Any, demo: Any) -> None:
    from events.models import CrmUser

    user = CrmUser.objects.filter(workspace=demo).exclude(name="").order_by("external_id").first()
    assert user is not None
    log_in(page)
    page.goto(f"{page.base_url}/w/zylker/activity/")
    field = page.locator("input[name=user]")
    field.press_sequentially(user.name[:4], delay=30)
    page.wait_for_function("() => document.querySelectorAll('datalist#suggestions-0 option').length > 0")
    options = page.eval_on_selector_all("datalist#suggestions-0 option", "os => os.map(o => [o.value, o.label])")
    assert [user.external_id, " · ".join(filter(None, [user.name, user.email]))] in [list(o) for o in options]
    field.fill(user.external_id)  # what picking the option does
    field.press("Enter")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text().startswith(f"Activity of {user.name}")


def test_the_filter_sets_and_the_users_fit_a_phone(page: Any, demo: Any) -> None:
    """At 390 px the filter sets read as one card per set, every cell in sight; the user table scrolls
    sideways inside its region with the user's column kept in sight."""
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page)
    page.goto(f"{page.base_url}/w/zylker/users/filter-sets/")
    cells = page.evaluate(
        "() => [...document.querySelectorAll('#filter-sets tbody th, #filter-sets tbody td')]"
        ".map(c => { const r = c.getBoundingClientRect(); return [r.left, r.right, r.width]; })"
    )
    assert cells and all(left >= 0 and right <= 390 for left, right, _w in cells), cells
    labels = page.eval_on_selector_all("#filter-sets tbody td[data-label]", "cs => cs.map(c => c.dataset.label)")
    assert {"Conditions", "Owner", "Visible to", "Updated"} <= set(labels)
    page.goto(f"{page.base_url}/w/zylker/users/")
    page.eval_on_selector(".ua-table-wrap", "wrap => { wrap.scrollLeft = 300; }")
    first, wrap_left, scrolled = page.eval_on_selector(
        ".ua-table-wrap",
        "wrap => [wrap.querySelector('tbody th').getBoundingClientRect().left,"
        " wrap.getBoundingClientRect().left, wrap.scrollLeft]",
    )
    assert scrolled > 0 and abs(first - wrap_left) <= 1
