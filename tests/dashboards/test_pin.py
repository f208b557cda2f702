"""Pinning the charts that had no "Pin to dashboard" (a saved funnel's three charts, a user's activity,
Perception's voice charts, the failure-rate heatmap) through the real pages and the real pin view: the
chart URL is read from the tab's page, the tile's ``data`` on its board is the tab's API answer for the
same query (hand-checked figures), and the board draws it with the tab's chart (same chart JSON,
same chart type, the tab's drawer loaded). Another workspace's chart URL is refused."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from dashboards.models import Dashboard, Tile
from funnels.models import Funnel
from tenancy.models import Membership, Workspace
from tests.conftest import crm_users, journeys
from tests.perception.test_voice import ITEMS, PERIOD, store

pytestmark = pytest.mark.django_db

STEPS = [
    {"feature": "Leads", "action": "create"},
    {"feature": "Leads", "action": "view", "detail": "detail_view"},
    {"feature": "Leads", "action": "convert"},
]
WEEK = {"start": "2025-03-03", "end": "2025-03-09"}


@pytest.fixture
def acme(make_workspace):
    """Three users start the lead process in the week of Mar 3 (u1 and u2 view the lead, u1 converts;
    u2's view is a failure), and the voice of the customer's scenario of tests/perception."""
    acme = make_workspace("acme")[0]
    other = make_workspace("other")[0]
    crm_users(acme, [{"external_id": "u1"}, {"external_id": "u2"}, {"external_id": "u3"}])
    journeys(
        acme,
        [
            ("u1", "2025-03-03T09:00:00+00:00", "Leads", "create", "form", "LD-1"),
            ("u1", "2025-03-03T09:02:00+00:00", "Leads", "view", "detail_view", "LD-1"),
            ("u1", "2025-03-03T10:02:00+00:00", "Leads", "convert", "", "LD-1"),
            ("u2", "2025-03-04T09:00:00+00:00", "Leads", "create", "form", "LD-2"),
            ("u2", "2025-03-04T09:06:00+00:00", "Leads", "view", "detail_view", "LD-2", {"outcome": "failure"}),
            ("u3", "2025-03-05T09:00:00+00:00", "Leads", "create", "form", "LD-3"),
        ],
    )
    journeys(other, [("u1", "2025-03-03T09:00:00+00:00", "Leads", "create")])
    store(acme, ITEMS)
    return acme


@pytest.fixture
def ana(client, acme):
    user = get_user_model().objects.create_user("ana")
    Membership.objects.create(workspace=acme, user=user, role=Membership.Role.ANALYST)
    client.force_login(user)
    return user


def chart_url(page: Any, canvas_id: str) -> str:
    """The chart JSON URL of a chart box on a tab's page (what "Pin to dashboard" posts)."""
    html = page.content.decode()
    found = re.search(rf'<canvas id="{canvas_id}"[^>]*?data-chart-url="([^"]+)"', html, re.S)
    assert found, canvas_id
    return html_lib.unescape(found.group(1))


def pin(client: Client, url: str, slug: str = "acme") -> Any:
    name = f"Board {Dashboard.objects.count() + 1}"
    return client.post(f"/w/{slug}/dashboards/pin/", {"chart_url": url, "dashboard": "new", "name": name})


def pinned(client: Client, url: str) -> tuple[Tile, dict[str, Any]]:
    """Pin ``url`` to a new board: its tile and the tile's answer in the board's data."""
    response = pin(client, url)
    assert response.status_code == 200, response.content
    board = Dashboard.objects.get(pk=response.json()["url"].rstrip("/").rpartition("/")[2])
    tile = board.tiles.get()
    data = client.get(f"/api/v1/workspaces/acme/dashboards/{board.pk}/data").json()
    return tile, data["tiles"][0]


def api(client: Client, tile: Tile) -> Any:
    """The tab's API answer for the tile's query (its figures: not when it was computed)."""
    response = client.get(f"/api/v1/workspaces/acme/{tile.endpoint}", tile.query)
    assert response.status_code == 200, response.content
    return figures(response.json())


def figures(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key != "computed_at"}


def board_draws_as_the_tab(client: Client, tile: Tile, tab_chart_url: str, chart_type: str) -> None:
    """The tile's board draws it as the tab's chart: same chart JSON, same type, the drawer's script."""
    page = client.get(f"/w/acme/dashboards/{tile.dashboard_id}/")
    html = page.content.decode()
    on_board = chart_url(page, f"tile-chart-{tile.pk}-{tile.chart}")
    assert client.get(on_board).json() == client.get(tab_chart_url).json()
    assert re.search(rf'id="tile-chart-{tile.pk}-{tile.chart}"[^>]*data-chart-type="{chart_type}"', html, re.S)
    assert "dash-tile__table" not in html and f'data-tile-id="{tile.pk}"' in html


def test_a_saved_funnel_s_three_charts_are_pinned_with_their_view(client, acme, ana):
    funnel = Funnel.objects.create(workspace=acme, owner=ana, name="Lead process", steps=STEPS)
    page = client.get(f"/w/acme/funnels/{funnel.pk}/", WEEK)
    assert page.status_code == 200 and page.content.decode().count("chart-pin__toggle") == 3

    # The funnel's steps: the page draws them from its own figures; the menu carries the chart's URL.
    found = re.search(r'<details class="dropdown chart-pin" data-chart-url="([^"]+)"', page.content.decode())
    steps_url = html_lib.unescape(found.group(1))
    assert steps_url.startswith(f"/w/acme/funnels/{funnel.pk}/chart.json?")
    tile, answer = pinned(client, steps_url)
    assert (tile.endpoint, tile.chart) == (f"funnels/{funnel.pk}/results", "funnels-chart")
    assert answer["status"] == 200 and figures(answer["data"]) == api(client, tile)
    assert [step["count"] for step in answer["data"]["steps"]] == [3, 2, 1]
    board_draws_as_the_tab(client, tile, steps_url, "funnel")
    assert "funnels/funnels.js" in client.get(f"/w/acme/dashboards/{tile.dashboard_id}/").content.decode()

    convert_url = chart_url(page, "convert-chart")
    tile, answer = pinned(client, convert_url)
    assert tile.query["view"] == "time_to_convert" and figures(answer["data"]) == api(client, tile)
    assert answer["data"]["view"] == "time_to_convert" and answer["data"]["units"] == 1  # u1, from step 1 to 3
    board_draws_as_the_tab(client, tile, convert_url, "bar")

    trends_url = chart_url(page, "trends-chart")
    tile, answer = pinned(client, trends_url)
    assert tile.query["view"] == "trends" and figures(answer["data"]) == api(client, tile)
    assert [(b["entered"], b["completed"]) for b in answer["data"]["buckets"]] == [(3, 1)]  # the week of Mar 3
    board_draws_as_the_tab(client, tile, trends_url, "line")


def test_a_user_s_activity_chart_becomes_activity_for_that_user(client, acme, ana):
    page = client.get("/w/acme/users/u1/", {"as_of": "2025-03-09", "days": "7"})
    url = chart_url(page, "user-activity-chart")
    tile, answer = pinned(client, url)
    assert tile.endpoint == "activity/features" and tile.query["user"] == "u1"
    assert answer["status"] == 200 and figures(answer["data"]) == api(client, tile)
    series = [[point["interactions"] for point in f["series"]] for f in answer["data"]["features"]]
    per_day = [sum(day) for day in zip(*series, strict=True)]
    assert per_day == client.get(url).json()["datasets"][0]["data"] == [3, 0, 0, 0, 0, 0, 0]  # Mar 3 to 9
    board_draws_as_the_tab(client, tile, url, "bar")

    # The user page's own period (30 days) is kept when its URL names none.
    tile, _answer = pinned(client, "/w/acme/charts/user-activity.json?user=u2")
    assert tile.query == {"user": "u2", "days": "30"}


@pytest.mark.parametrize(
    ("canvas_id", "chart_type", "key"),
    [
        ("sentiment-chart", "perception-doughnut", "sentiment"),
        ("intents-chart", "hbar", "intents"),
        ("competitors-chart", "perception-doughnut", "competitors"),
        ("keywords-chart", "perception-wordcloud", "keywords"),
    ],
)
def test_perception_s_voice_charts_are_pinned(client, acme, ana, canvas_id, chart_type, key):
    page = client.get("/w/acme/perception/voice/", PERIOD)
    url = chart_url(page, canvas_id)
    tile, answer = pinned(client, url)
    assert tile.endpoint == "perception/voice" and tile.query["start"] == PERIOD["start"]
    assert answer["status"] == 200 and figures(answer["data"]) == api(client, tile)
    assert key in answer["data"]
    board_draws_as_the_tab(client, tile, url, chart_type)


def test_the_sentiment_tile_has_the_chart_s_counts(client, acme, ana):
    url = chart_url(client.get("/w/acme/perception/voice/", PERIOD), "sentiment-chart")
    _tile, answer = pinned(client, url)
    chart = client.get(url).json()
    counts = {share["sentiment"]: share["count"] for share in answer["data"]["sentiment"]}
    assert [counts["positive"], counts["neutral"], counts["negative"]] == chart["datasets"][0]["data"] == [2, 1, 2]


def test_the_failure_heatmap_is_pinned_and_drawn_as_a_rate(client, acme, ana):
    page = client.get("/w/acme/behaviour/", WEEK)
    url = chart_url(page, "failure-heatmap-chart")
    tile, answer = pinned(client, url)
    assert (tile.endpoint, tile.chart) == ("behaviour/heatmap", "behaviour-chart-failure-heatmap")
    assert answer["status"] == 200 and figures(answer["data"]) == api(client, tile)
    board_draws_as_the_tab(client, tile, url, "matrix")
    html = client.get(f"/w/acme/dashboards/{tile.dashboard_id}/").content.decode()
    assert "chartjs-chart-matrix.min.js" in html and "behaviour/behaviour.js" in html


def test_another_workspace_s_chart_is_refused(client, acme, ana):
    other = Workspace.objects.get(slug="other")
    for url in [
        "/w/other/charts/perception-sentiment.json?start=2026-03-01&end=2026-03-31",
        "/w/other/charts/user-activity.json?user=u1",
        "/w/other/funnels/1/chart.json",
    ]:
        refused = pin(client, url)
        assert refused.status_code == 400 and "chart_url" in refused.json()["errors"]
    other_funnel = Funnel.objects.create(workspace=other, owner=ana, name="Theirs", steps=STEPS)
    # Its id under this workspace's URL: no funnel of this workspace.
    refused = pin(client, f"/w/acme/funnels/{other_funnel.pk}/chart.json")
    assert refused.status_code == 400 and "chart_url" in refused.json()["errors"]
    # Another member's private funnel of this workspace: not one ana sees.
    bob = get_user_model().objects.create_user("bob")
    Membership.objects.create(workspace=acme, user=bob, role=Membership.Role.ANALYST)
    private = Funnel.objects.create(workspace=acme, owner=bob, name="Bob's", steps=STEPS, visibility="private")
    assert pin(client, f"/w/acme/funnels/{private.pk}/chart.json").status_code == 400
    assert pin(client, "/w/acme/charts/perception-sentiment.json", slug="other").status_code == 404
    assert not Tile.objects.filter(dashboard__workspace__slug="other").exists()


def test_activity_s_one_user_chart_keeps_its_user(client, acme, ana):
    page = client.get("/w/acme/activity/", {"user": "u2", "as_of": "2025-03-09", "days": "7"})
    url = chart_url(page, "activity-chart")
    tile, answer = pinned(client, url)
    assert (tile.endpoint, tile.chart, tile.query["user"]) == ("activity/features", "activity-chart-features", "u2")
    assert answer["status"] == 200 and figures(answer["data"]) == api(client, tile)
    assert [(f["feature"], f["interactions"]) for f in answer["data"]["features"]] == [("Leads", 2)]
    board_draws_as_the_tab(client, tile, url, "line")
