"""A board's summary tile reads as Home: the tab's metric cards (translated names, the same figures
as Home for the same period), on the board and on the share page; every tile's subtitle is its tab
and its period in words, not its endpoint."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from dashboards.models import Dashboard, Tile
from dashboards.services import share_link_create
from tenancy.models import Membership
from tests.conftest import journeys

pytestmark = pytest.mark.django_db

CARD = re.compile(
    r'<h3 class="metric__label" id="metric-(?:tile-\d+-)?(\w+)">([^<]+)</h3>\s*'
    r'<p class="metric__value"[^>]*>(?:<a[^>]*>)?([^<]+)<'
)


def card_blocks(html: str) -> dict[str, str]:
    """{metric: its card's HTML} (the tile's prefix of the ids and Home's drill-down links left out)."""
    blocks = re.findall(r'<li class="card metric" data-metric="(?:tile-\d+-)?(\w+)">(.*?)</li>', html, re.S)
    return {key: re.sub(r"</?a[^>]*>|tile-\d+-", "", block) for key, block in blocks}


def cards(html: str) -> dict[str, tuple[str, str]]:
    """{metric: (its name, its value)} of the metric cards of a page."""
    return {key: (name.strip(), value.strip()) for key, name, value in CARD.findall(html)}


@pytest.fixture
def board(make_workspace):
    acme = make_workspace("acme")[0]
    other = make_workspace("other")[0]
    journeys(
        acme,
        [
            ("ana", "2025-10-20T09:00:00+00:00", "Leads", "view"),
            ("ana", "2025-10-20T10:00:00+00:00", "Deals", "view"),
            ("bob", "2025-10-16T09:00:00+00:00", "Leads", "view"),
            ("bob", "2025-10-10T09:00:00+00:00", "Leads", "view"),
        ],
    )
    journeys(other, [("zed", "2025-10-20T09:00:00+00:00", "Leads", "view")] * 5)
    owner = get_user_model().objects.create(username="ana")
    Membership.objects.update_or_create(workspace=acme, user=owner, defaults={"role": Membership.Role.ANALYST})
    board = Dashboard.objects.create(workspace=acme, owner=owner, name="Weekly")
    Tile.objects.create(
        dashboard=board, title="Summary", endpoint="home/summary", query={"as_of": "2025-10-21", "days": "7"}
    )
    Tile.objects.create(
        dashboard=board, title="Leads", endpoint="trends", query={"feature": "Leads", "days": "30"}, y=1
    )
    Tile.objects.create(dashboard=board, title="Top", endpoint="home/top-users", query={}, y=2)
    return board


# Hand-checked: 2025-10-15 … 2025-10-21 holds ana's two events (Leads, Deals, on the 20th) and bob's
# Leads on the 16th: 3 interactions, 2 features, 2 user-days, 2 active users; the week before, bob's
# event of the 10th: 1 interaction. The other workspace's five events never count.
ENGLISH = {
    "interactions": ("Interactions", "3"),
    "features_used": ("Features used", "2"),
    "attendance_days": ("Attendance (user-days)", "2"),
    "active_users": ("Active users", "2"),
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_summary_tile_shows_homes_cards_on_the_board_and_the_share_page(client, board, language):
    client.force_login(board.owner)
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    html = client.get(f"/w/acme/dashboards/{board.pk}/", **headers).content.decode()
    home = cards(client.get("/w/acme/", {"as_of": "2025-10-21", "days": "7"}, **headers).content.decode())
    shown = cards(html)
    for key, (name, value) in ENGLISH.items():
        assert shown[key] == home[key]
        assert shown[key][1] == value
        assert shown[key][0] == (name if language == "en" else home[key][0])
    if language == "zh-hans":
        assert shown["interactions"][0] == "交互次数" and shown["active_users"][0] == "活跃用户"
    # The previous value and the change (here "not comparable": the week before starts before the
    # first event), word for word as on Home.
    home_html = client.get("/w/acme/", {"as_of": "2025-10-21", "days": "7"}, **headers).content.decode()
    assert card_blocks(html) == card_blocks(home_html) and len(card_blocks(html)) == 5
    assert ("not comparable" if language == "en" else "不可比") in html
    # The subtitle: the tab and the period in words, never the endpoint's path.
    if language == "en":
        assert "Home · 2025-10-15 – 2025-10-21" in html and "Trends · last 30 days" in html
        assert "Home · last 30 days" in html  # top users: Home's default period
    else:
        assert "首页 · 2025-10-15 – 2025-10-21" in html and "趋势 · 最近 30 天" in html
    assert "<code>" not in html

    _, token = share_link_create(dashboard=board, actor=board.owner, expires_at=timezone.now() + timedelta(days=1))
    client.logout()
    shared = client.get(f"/share/{token}/", **headers).content.decode()
    assert cards(shared) == shown
    assert ("Home · 2025-10-15 – 2025-10-21" if language == "en" else "首页 · 2025-10-15 – 2025-10-21") in shared
    # The table tile's column names come with the page, translated.
    assert ('"username": "User"' if language == "en" else '"username": "\\u7528\\u6237"') in shared


def test_a_board_period_is_the_subtitle_of_every_tile(client, board):
    board.period_start, board.period_end = date(2025, 10, 1), date(2025, 10, 21)
    board.save()
    client.force_login(board.owner)
    html = client.get(f"/w/acme/dashboards/{board.pk}/").content.decode()
    assert html.count("2025-10-01 – 2025-10-21") == 3
    assert cards(html)["interactions"] == ("Interactions", "4")  # 21 days: bob's 10th too
    other = get_user_model().objects.create(username="mallory")
    client.force_login(other)
    assert client.get(f"/w/acme/dashboards/{board.pk}/").status_code == 404
