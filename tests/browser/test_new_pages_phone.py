"""The pages beside the tabs on a phone (390 px): the dashboards, a board and its share page, the alerts
and their form, the scheduled reports, the members and a drill-down. Nothing sticks out of the screen
sideways (a wide table scrolls inside its own box, or becomes cards), no request fails, and in Chinese
the labels are translated."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.browser.conftest import charts_drawn, log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

# The elements whose box reaches past the left or right edge of the viewport, leaving out those inside a
# box that scrolls or clips them (a table's scroll wrapper, the visually hidden labels): those stay on
# the screen. Closed or hidden elements have no box and are not counted.
OUT_OF_VIEW = """() => {
  const width = document.documentElement.clientWidth;
  const clips = (el) => {
    const style = getComputedStyle(el);
    return ['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX) || style.clip.startsWith('rect');
  };
  const held = (el) => {
    for (let node = el; node && node !== document.body; node = node.parentElement) {
      if (node !== el && clips(node)) return true;
      if (node === el && getComputedStyle(el).clip.startsWith('rect')) return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || (box.left >= -1 && box.right <= width + 1) || held(el)) continue;
    out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${[...el.classList].join('.')} `
      + `${Math.round(box.left)}..${Math.round(box.right)}`);
  }
  return {scroll: document.documentElement.scrollWidth - width, out: out.slice(0, 10)};
}"""

# The lists that become one card per row on a phone: none of them may need sideways scrolling.
STACKED_SCROLL = """() => [...document.querySelectorAll('table.table--stack')]
  .filter(t => t.parentElement.scrollWidth > t.parentElement.clientWidth + 1).map(t => t.id)"""


@pytest.fixture
def http_errors(page: Any) -> list[str]:
    """Every answer of 400 or more the page gets (the page fixture fails on 5xx and console errors)."""
    errors: list[str] = []
    page.on("response", lambda r: errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    return errors


def share_token(workspace: Any) -> str:
    from django.contrib.auth import get_user_model

    from dashboards.models import Dashboard
    from dashboards.services import share_link_create

    board = Dashboard.objects.get(workspace=workspace)
    actor = get_user_model().objects.get(username="alex")
    return share_link_create(dashboard=board, actor=actor, expires_at=timezone.now() + timedelta(days=7))[1]


def test_new_pages_fit_a_phone(page: Any, demo: Any, http_errors: list[str]) -> None:
    from alerts.models import Alert
    from dashboards.models import Dashboard

    page.set_viewport_size(PHONE)
    log_in(page)
    base = f"{page.base_url}/w/zylker"
    board = Dashboard.objects.get(workspace=demo)
    alert = Alert.objects.get(workspace=demo)
    pages = [
        ("dashboards", f"{base}/dashboards/", "#new-dashboard"),
        ("board", f"{base}/dashboards/{board.pk}/", "#share-form"),
        ("share page", f"{page.base_url}/share/{share_token(demo)}/", "canvas"),
        ("alerts", f"{base}/alerts/", "#alerts-table"),
        ("alert form", f"{base}/alerts/new", "select[name=metric]"),
        ("alert", f"{base}/alerts/{alert.pk}/", "#alert-state"),
        ("schedules", f"{base}/reports/schedules/", "#schedules-shared"),  # the demo admin's
        ("members", f"{base}/members/", "#ingest-keys"),
    ]
    for name, url, landmark in pages:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        assert page.locator(landmark).count() >= 1, f"{name}: {landmark} not found"
        if page.locator("canvas").count():
            charts_drawn(page)
        found = page.evaluate(OUT_OF_VIEW)
        assert found == {"scroll": 0, "out": []}, (name, found)
        assert page.evaluate(STACKED_SCROLL) == [], name

    # The drill-down, reached as a user does: from a Home card's figure.
    page.goto(f"{base}/")
    charts_drawn(page)
    page.locator('[data-metric="active_users"] a[href*="/people/"]').first.click()
    page.wait_for_url("**/w/zylker/people/**")
    page.wait_for_load_state("networkidle")
    assert page.locator("#people-table tbody tr").count() > 0
    found = page.evaluate(OUT_OF_VIEW)
    assert found == {"scroll": 0, "out": []}, ("drill-down", found)
    assert http_errors == []


def test_alerts_and_schedules_in_chinese(page: Any, demo: Any, http_errors: list[str]) -> None:
    page.set_viewport_size(PHONE)
    log_in(page)
    page.goto(f"{page.base_url}/w/zylker/alerts/")
    with page.expect_navigation():  # the header's switcher submits itself on change
        page.locator("header select[name=language]").select_option("zh-hans")
    assert page.locator("h1").inner_text() == "告警"
    assert page.get_by_role("link", name="新建告警").is_visible()
    # On a phone each row is a card, each value under its column's translated name.
    assert page.locator("#alerts-table td[data-label='指标']").count() == 1
    assert page.evaluate(OUT_OF_VIEW) == {"scroll": 0, "out": []}

    page.goto(f"{page.base_url}/w/zylker/reports/schedules/")
    assert page.locator("h1").inner_text() == "定时报告"
    # The demo's schedule is the seed's admin's, shared: alex has none of his own (a hint says how).
    when = page.locator("#schedules-shared td[data-label='发送时间']").inner_text()
    assert "每周" in when and "星期一" in when  # the weekday by its name, not "weekday 1"
    assert page.locator("#schedules-mine").count() == 0
    assert page.locator("p.panel__empty").inner_text().startswith("您还没有定时报告：通过“新建定时报告”")
    assert http_errors == []
