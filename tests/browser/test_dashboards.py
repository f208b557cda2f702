"""Dashboards in a real browser: a Trends chart pinned to a new board draws there with the same
figures; a share link opens the board logged out (and 404s once revoked); a click on a chart's date
adds an annotation, drawn on the chart and listed under it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.browser.conftest import PASSWORD, charts_drawn, log_in
from tests.conftest import journeys

pytestmark = pytest.mark.browser


@pytest.fixture
def acme(transactional_db: Any, django_user_model: Any, make_workspace: Any) -> Any:
    """A workspace with a few Leads views over the last days, and an admin member."""
    from tenancy.models import Membership

    workspace = make_workspace("acme")[0]
    now = timezone.now()
    journeys(
        workspace,
        [
            (user, now - timedelta(days=day, hours=1), "Leads", "view")
            for day, user in [(1, "ana"), (2, "bob"), (2, "ana"), (4, "li")]
        ],
    )
    user = django_user_model.objects.create_user("alex", password=PASSWORD)
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.ADMIN)
    return workspace


def trends_points(page: Any, canvas_id: str) -> list[Any]:
    return page.evaluate(f"() => Chart.getChart(document.getElementById('{canvas_id}')).data.datasets[0].data")


def test_a_pinned_chart_draws_on_its_board(page: Any, acme: Any) -> None:
    from dashboards.models import Dashboard

    log_in(page)
    page.goto(f"{page.base_url}/w/acme/trends/?feature=Leads&period=last_7_days")
    charts_drawn(page)
    on_tab = trends_points(page, "trends-chart")
    assert sum(on_tab) == 4

    pin = page.locator(".chart-box:has(#trends-chart) details.chart-pin")
    pin.locator("summary").click()
    assert pin.locator("[data-field=title]").input_value() == "Leads"  # the chart's heading
    pin.locator("[data-field=name]").fill("Leads board")
    pin.locator("[data-field=title]").fill("Leads this week")
    pin.locator("[data-pin-submit]").click()
    pin.locator(".chart-pin__status a").click()
    page.wait_for_url("**/w/acme/dashboards/*/")
    assert page.locator("h1").inner_text() == "Leads board"
    board = Dashboard.objects.get(name="Leads board")
    tile = board.tiles.get()
    assert tile.endpoint == "trends" and tile.query["feature"] == "Leads" and tile.query["period"] == "last_7_days"
    charts_drawn(page)
    assert page.locator(".dash-tile h2").all_inner_texts() == ["Leads this week"]
    assert trends_points(page, f"tile-chart-{tile.pk}-trends-chart") == on_tab


def test_a_share_link_opens_the_board_logged_out_until_revoked(page: Any, acme: Any, browser: Any) -> None:
    from dashboards.models import Dashboard, Tile

    log_in(page)
    board = Dashboard.objects.create(workspace=acme, owner_id=page_user_id(), name="Shared board")
    Tile.objects.create(
        dashboard=board, title="Leads", endpoint="trends", query={"feature": "Leads", "period": "last_7_days"}
    )
    Tile.objects.create(dashboard=board, title="Summary", endpoint="home/summary", query={"period": "last_7_days"}, y=1)
    Tile.objects.create(dashboard=board, title="Top users", endpoint="home/top-users", query={}, y=2)
    page.goto(f"{page.base_url}/w/acme/dashboards/{board.pk}/")
    charts_drawn(page)
    page.locator("#share-form button[type=submit]").click()
    url = page.locator(".share-created").inner_text().split(": ", 1)[1].strip()
    assert "/share/" in url

    # On a phone (390 px): the summary's cards wrap and no tile reaches past the page.
    outsider = browser.new_context(viewport={"width": 390, "height": 844})
    anonymous = outsider.new_page()
    errors: list[str] = []
    anonymous.on("pageerror", lambda exc: errors.append(str(exc)))
    assert anonymous.goto(url).status == 200
    assert anonymous.locator("h1").inner_text() == "Shared board"
    anonymous.wait_for_function("() => document.querySelectorAll('.chart-box.is-loading').length === 0")
    drawn = anonymous.evaluate("() => Chart.getChart(document.querySelector('canvas')).data.datasets[0].data")
    assert sum(drawn) == 4
    # The summary is Home's cards (names, figures), the top users a table with named columns.
    labels = anonymous.locator(".dash-tile__cards .metric__label").all_inner_texts()
    # (the period ends today: "so far", as on Home)
    assert labels[:2] == ["Interactions so far", "Features used so far"] and len(labels) == 5
    assert anonymous.locator("[data-metric$='-interactions'] .metric__value").inner_text() == "4"
    subtitles = ["Trends · last 7 days", "Home · last 7 days", "Home · last 30 days"]
    assert anonymous.locator(".dash-tile__sub").all_inner_texts() == subtitles
    headers = anonymous.locator(".dash-tile__table th").all_text_contents()
    assert headers == ["External ID", "Email", "Name", "Value"]
    tops = anonymous.evaluate(
        "() => new Set([...document.querySelectorAll('.dash-tile__cards .metric')].map(c => c.getBoundingClientRect().top)).size"
    )
    assert tops >= 2  # wrapped
    overflow = anonymous.evaluate(
        """() => [document.documentElement.scrollWidth - document.documentElement.clientWidth,
                  ...[...document.querySelectorAll('.dash-tile')].filter(t => t.getBoundingClientRect().right > 390)
                     .map(t => t.dataset.tileId)]"""
    )
    assert overflow == [0]
    assert anonymous.locator(".tab-bar").count() == 0 and anonymous.locator("form").count() == 0
    assert not errors, errors

    page.goto(f"{page.base_url}/w/acme/dashboards/{board.pk}/")
    page.locator("#share-table button:text-is('Revoke')").click()
    page.wait_for_load_state()
    assert anonymous.goto(url).status == 404
    outsider.close()


def page_user_id() -> int:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="alex").pk


def test_clicking_a_charts_date_adds_an_annotation(page: Any, acme: Any) -> None:
    from dashboards.models import Annotation

    log_in(page)
    page.goto(f"{page.base_url}/w/acme/trends/?feature=Leads&period=last_7_days")
    charts_drawn(page)
    canvas = page.locator("#trends-chart")
    # The fourth day's x position on the axis: click there.
    x = page.evaluate(
        "() => { const c = Chart.getChart(document.getElementById('trends-chart')); return c.scales.x.getPixelForValue(3); }"
    )
    label = page.evaluate("() => Chart.getChart(document.getElementById('trends-chart')).data.labels[3]")
    box = canvas.bounding_box()
    canvas.click(position={"x": x, "y": box["height"] / 2})
    form = page.locator(".annotation-form")
    assert label in form.locator(".annotation-form__title").inner_text()
    form.locator(".annotation-form__text").fill("Release 2.0")
    form.locator("button.button--primary").click()
    page.wait_for_function("() => document.getElementById('trends-chart').dataset.annotations === '1'", timeout=10_000)
    note = Annotation.objects.get()
    assert (note.date.isoformat(), note.text, note.dashboard_id, note.author.username) == (
        label,
        "Release 2.0",
        None,
        "alex",
    )
    drawn = page.evaluate(
        "() => Object.values(Chart.getChart(document.getElementById('trends-chart')).options.plugins.annotation.annotations)"
        ".map(a => [a.type, a.value, a.label.content])"
    )
    assert drawn == [["line", label, "Release 2.0"]]
    assert f"{label} · Release 2.0" in page.locator(".chart-box:has(#trends-chart) .chart-notes").inner_text()
    # Drawn again on the next visit, from the API.
    page.reload()
    page.wait_for_function("() => document.getElementById('trends-chart').dataset.annotations === '1'")


def test_tiles_whose_tab_draws_its_own_chart_draw_it_on_the_board_and_the_share_page(
    page: Any, acme: Any, browser: Any
) -> None:
    """A lifecycle, a heatmap, a funnel and a keyword cloud tile are canvases drawn by their tab's
    drawer (not tables), on the board and, logged out, on the share page, which asks the server for
    no data."""
    from dashboards.models import Dashboard, Tile
    from dashboards.services import share_link_create
    from funnels.models import Funnel
    from tests.perception.test_voice import ITEMS, PERIOD, store

    store(acme, ITEMS)

    log_in(page)
    owner_id = page_user_id()
    funnel = Funnel.objects.create(
        workspace=acme,
        owner_id=owner_id,
        name="Views",
        steps=[{"feature": "Leads", "action": "view"}, {"feature": "Leads", "action": "view"}],
    )
    board = Dashboard.objects.create(workspace=acme, owner_id=owner_id, name="Drawn board")
    tiles = {
        "stacked": Tile.objects.create(
            dashboard=board, title="Lifecycle", endpoint="behaviour/lifecycle", chart="behaviour-chart-lifecycle"
        ),
        "matrix": Tile.objects.create(dashboard=board, title="Hours", endpoint="behaviour/heatmap", y=1),
        "funnel": Tile.objects.create(
            dashboard=board, title="Views funnel", endpoint=f"funnels/{funnel.pk}/results", chart="funnels-chart", y=2
        ),
        "cloud": Tile.objects.create(
            dashboard=board,
            title="Keywords",
            endpoint="perception/voice",
            query=PERIOD,
            chart="perception-chart-keywords",
            y=3,
        ),
    }
    # What Chart.js draws each with on the tab: the lifecycle's stacked bars, the matrix, the funnel's
    # bars, the word cloud.
    expected = {"stacked": "bar", "matrix": "matrix", "funnel": "bar", "cloud": "wordCloud"}

    def drawn_types(target: Any) -> dict[str, str]:
        return {
            kind: target.evaluate(
                "id => { const c = document.querySelector(`[data-tile-id='${id}'] canvas`);"
                " const chart = c && Chart.getChart(c); return chart ? chart.config.type : null; }",
                tile.pk,
            )
            for kind, tile in tiles.items()
        }

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{page.base_url}/w/acme/dashboards/{board.pk}/")
    assert charts_drawn(page) == 4
    assert page.locator(".dash-tile__table").count() == 0
    assert drawn_types(page) == expected
    stacked = page.evaluate(
        f"() => Chart.getChart(document.querySelector(\"[data-tile-id='{tiles['stacked'].pk}'] canvas\")).options.scales.x.stacked"
    )
    assert stacked is True  # the Behaviour tab's "stacked" drawer, not the plain bar chart
    assert not errors, errors

    _link, token = share_link_create(dashboard=board, actor=board.owner, expires_at=timezone.now() + timedelta(days=1))
    # On a phone (390 px): the summary's cards wrap and no tile reaches past the page.
    outsider = browser.new_context(viewport={"width": 390, "height": 844})
    anonymous = outsider.new_page()
    anonymous.on("pageerror", lambda exc: errors.append(str(exc)))
    asked: list[str] = []
    anonymous.on("request", lambda request: asked.append(request.url))
    assert anonymous.goto(f"{page.base_url}/share/{token}/").status == 200
    assert charts_drawn(anonymous) == 4
    assert anonymous.locator(".dash-tile__table").count() == 0
    assert drawn_types(anonymous) == expected
    # The page itself and static files only: no chart JSON, no API.
    data_requests = [url for url in asked if "/static/" not in url and f"/share/{token}/" not in url]
    assert data_requests == [], data_requests
    assert not errors, errors
    outsider.close()
