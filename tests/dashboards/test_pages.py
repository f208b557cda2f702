"""The Dashboards pages through the real routes: the tab (list, create), a board (its tiles as charts
or tables with the board's period and filters, share links for the owner or an admin), pinning a
tab's chart, and the share page without a login (expired 410, revoked or unknown 404)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from dashboards.models import Dashboard, ShareLink, Tile
from dashboards.services import share_link_create
from tenancy.models import AuditEntry, Membership
from tests.conftest import journeys

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(make_workspace):
    acme = make_workspace("acme")[0]
    make_workspace("other")
    journeys(
        acme,
        [("ana", "2025-10-20T09:00:00+00:00", "Leads", "view"), ("bob", "2025-10-16T09:00:00+00:00", "Leads", "view")],
    )
    return acme


def login(client: Client, workspace, username: str, role=Membership.Role.ANALYST):
    user, _ = get_user_model().objects.get_or_create(username=username)
    if workspace is not None:
        Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": role})
    client.force_login(user)
    return user


def board_with_tiles(acme, owner, **fields) -> Dashboard:
    board = Dashboard.objects.create(workspace=acme, owner=owner, name="Weekly", **fields)
    query = {"feature": "Leads", "as_of": "2025-10-21", "days": "7"}
    Tile.objects.create(dashboard=board, title="Leads per day", endpoint="trends", query=query)
    Tile.objects.create(dashboard=board, title="Summary", endpoint="home/summary", query={"days": "7"}, y=1)
    return board


def test_the_tab_lists_boards_and_creates_one(client, acme):
    login(client, acme, "ana")
    page = client.get("/w/acme/dashboards/")
    assert page.status_code == 200 and 'id="new-dashboard"' in page.content.decode()
    created = client.post("/w/acme/dashboards/", {"name": "Mine", "description": "", "visibility": "private"})
    board = Dashboard.objects.get(name="Mine")
    assert created.status_code == 302 and created["Location"] == f"/w/acme/dashboards/{board.pk}/"
    assert AuditEntry.objects.filter(target_type="dashboard", action="created").count() == 1
    assert "Mine" in client.get("/w/acme/dashboards/").content.decode()
    assert client.post("/w/acme/dashboards/", {"name": ""}).status_code == 400
    login(client, acme, "vic", Membership.Role.VIEWER)
    assert "Mine" not in client.get("/w/acme/dashboards/").content.decode()  # private
    assert client.post("/w/acme/dashboards/", {"name": "No"}).status_code == 404
    assert client.get(f"/w/acme/dashboards/{board.pk}/").status_code == 404
    assert client.get("/w/other/dashboards/").status_code == 404


def test_a_board_lays_its_tiles_out_with_its_period_and_filters(client, acme):
    owner = login(client, acme, "ana")
    board = board_with_tiles(acme, owner, filters={"country": ["CN"]})
    from datetime import date

    board.period_start, board.period_end = date(2025, 10, 15), date(2025, 10, 21)
    board.save()
    html = client.get(f"/w/acme/dashboards/{board.pk}/").content.decode()
    chart, table = board.tiles.all()
    # The chart tile is the Trends chart, the other Home's summary cards; both with the board's period.
    assert (
        'data-chart-url="/w/acme/charts/trends.json?feature=Leads&amp;as_of=2025-10-21&amp;days=7&amp;country=CN"'
        in html
    )
    assert f'data-metric="tile-{table.pk}-interactions"' in html and "home/summary" not in html
    assert "Pin to dashboard" not in html and 'id="share-form"' in html
    chart_json = client.get("/w/acme/charts/trends.json", {"feature": "Leads", "as_of": "2025-10-21", "days": "7"})
    assert chart_json.status_code == 200

    assert (
        client.post(f"/w/acme/dashboards/{board.pk}/", {"action": "settings", "start": "2025-10-01"}).status_code == 400
    )
    saved = client.post(
        f"/w/acme/dashboards/{board.pk}/", {"action": "settings", "start": "", "end": "", "country": "US, CN"}
    )
    assert saved.status_code == 302
    board.refresh_from_db()
    assert (board.period_start, board.period_end, board.filters) == (None, None, {"country": ["US", "CN"]})

    login(client, acme, "vic", Membership.Role.VIEWER)
    board.visibility = "workspace"
    board.save()
    html = client.get(f"/w/acme/dashboards/{board.pk}/").content.decode()
    assert 'id="share-form"' not in html and "data-editable" not in html
    assert (
        client.post(f"/w/acme/dashboards/{board.pk}/", {"action": "share", "expires_in_days": "7"}).status_code == 403
    )


def test_pinning_a_tabs_chart_adds_a_tile_with_its_query(client, acme):
    owner = login(client, acme, "ana")
    board = Dashboard.objects.create(workspace=acme, owner=owner, name="Pins")
    chart_url = "/w/acme/charts/trends.json?feature=Leads&period=last_7_days&as_of=2025-10-21&country=CN&country=US"
    answer = client.post("/w/acme/dashboards/pin/", {"chart_url": chart_url, "dashboard": board.pk, "title": "Leads"})
    assert answer.status_code == 200 and answer.json() == {"url": f"/w/acme/dashboards/{board.pk}/"}
    tile = board.tiles.get()
    assert (tile.title, tile.endpoint, tile.query) == (
        "Leads",
        "trends",
        {"feature": "Leads", "period": "last_7_days", "as_of": "2025-10-21", "country": ["CN", "US"]},
    )
    new = client.post("/w/acme/dashboards/pin/", {"chart_url": chart_url, "dashboard": "new", "name": "Fresh"})
    assert new.status_code == 200 and Dashboard.objects.get(name="Fresh").tiles.count() == 1
    for body, field in [
        ({"chart_url": "/w/other/charts/trends.json", "dashboard": board.pk}, "chart_url"),
        ({"chart_url": "/w/acme/dashboards/", "dashboard": board.pk}, "chart_url"),
        ({"chart_url": chart_url, "dashboard": "999999"}, "dashboard"),
        ({"chart_url": chart_url, "dashboard": "new", "name": ""}, "name"),
    ]:
        response = client.post("/w/acme/dashboards/pin/", body)
        assert response.status_code == 400 and list(response.json()["errors"]) == [field]
    login(client, acme, "al2")  # another analyst: the board is not theirs to change
    response = client.post("/w/acme/dashboards/pin/", {"chart_url": chart_url, "dashboard": board.pk})
    assert response.status_code == 400 and board.tiles.count() == 1


def test_the_share_page_needs_no_login_and_dead_links_open_nothing(client, acme):
    owner = get_user_model().objects.create(username="ana")
    Membership.objects.create(workspace=acme, user=owner, role=Membership.Role.ANALYST)
    board = board_with_tiles(acme, owner, description="For the board")
    link, token = share_link_create(dashboard=board, actor=owner, expires_at=timezone.now() + timedelta(days=1))
    page = client.get(f"/share/{token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Weekly" in html and "For the board" in html and 'id="shared-board"' in html
    # No navigation, no link to any other page, no form.
    assert all(h.startswith(("/static/", "#main")) for h in re.findall(r'href="([^"]+)"', html))
    assert "<form" not in html and "/w/acme" not in html and "/api/" not in html
    assert '"labels": ["2025-10-15"' in html  # the trends chart, computed as the owner

    assert client.get(f"/share/{token}x/").status_code == 404
    link.revoked_at = timezone.now()
    link.save()
    assert client.get(f"/share/{token}/").status_code == 404
    _, fresh = share_link_create(dashboard=board, actor=owner, expires_at=timezone.now() + timedelta(days=1))
    ShareLink.objects.filter(revoked_at__isnull=True).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(f"/share/{fresh}/").status_code == 410


def test_share_links_from_the_board_page(client, acme):
    owner = login(client, acme, "ana")
    board = board_with_tiles(acme, owner)
    created = client.post(f"/w/acme/dashboards/{board.pk}/", {"action": "share", "expires_in_days": "7"}, follow=True)
    html = created.content.decode()
    token = re.search(r"/share/([A-Za-z0-9_-]+)/", html).group(1)
    assert client.get(f"/share/{token}/").status_code == 200
    link = board.share_links.get()
    assert client.post(f"/w/acme/dashboards/{board.pk}/", {"action": "revoke", "link": link.pk}).status_code == 302
    assert client.get(f"/share/{token}/").status_code == 404


def test_only_pinnable_charts_offer_the_pin(client, acme):
    from dashboards.templatetags.dashboards import pinnable

    assert pinnable("/w/acme/charts/trends.json?feature=Leads")
    assert pinnable("/w/acme/charts/user-activity.json?user=ana")
    # An account's revenue by month: no endpoint of the API answers those figures.
    assert not pinnable("/w/acme/charts/account-revenue.json?account=A1")
    assert not pinnable("/nowhere/")
    login(client, acme, "ana")
    assert "Pin to dashboard" in client.get("/w/acme/trends/", {"feature": "Leads"}).content.decode()


def test_only_writers_may_annotate_by_clicking(client, acme):
    login(client, acme, "ana")
    assert 'data-can-write="true"' in client.get("/w/acme/trends/", {"feature": "Leads"}).content.decode()
    login(client, acme, "vic", Membership.Role.VIEWER)
    html = client.get("/w/acme/trends/", {"feature": "Leads"}).content.decode()
    assert "chart-annotate" in html and 'data-can-write="true"' not in html


def test_the_pages_speak_chinese(client, acme):
    login(client, acme, "ana")
    html = client.get("/w/acme/dashboards/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "我的仪表板" in html and "新建仪表板" in html
    html = client.get("/w/acme/trends/", {"feature": "Leads"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "固定到仪表板" in html and 'data-title="为 %s 添加注释"' in html
