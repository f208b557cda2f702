"""A board's answer: each tile's endpoint answer with the board's period and filters over its query,
errors kept per tile, and the annotations overlapping the board's days (its own and the workspace's)."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model

from dashboards.models import Annotation, Dashboard, Tile
from dashboards.selectors import dashboard_data, tile_query
from dashboards.services import endpoint_answer
from tenancy.models import Membership
from tests.conftest import crm_users, journeys

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(make_workspace):
    acme = make_workspace("acme")[0]
    crm_users(acme, [{"external_id": "ana", "country": "CN"}, {"external_id": "bob", "country": "US"}])
    journeys(
        acme,
        [
            ("ana", "2025-10-20T09:00:00+00:00", "Leads", "view"),
            ("bob", "2025-10-16T09:00:00+00:00", "Leads", "view"),
        ],
    )
    owner = get_user_model().objects.create(username="owner")
    Membership.objects.create(workspace=acme, user=owner, role=Membership.Role.ANALYST)
    dashboard = Dashboard.objects.create(workspace=acme, owner=owner, name="Board")
    Tile.objects.create(
        dashboard=dashboard,
        title="Summary",
        endpoint="home/summary",
        query={"period": "last_7_days", "as_of": "2025-10-21"},
    )
    Tile.objects.create(dashboard=dashboard, title="Broken", endpoint="home/summary", query={"days": "x"}, y=1)
    return dashboard


def test_tiles_answer_their_endpoint_and_errors_stay_on_their_tile(board):
    owner = board.owner
    data = dashboard_data(board, owner)
    summary, broken = data["tiles"]
    assert summary["query"] == {"period": "last_7_days", "as_of": "2025-10-21"}
    assert summary["status"] == 200
    assert summary["data"] == endpoint_answer(board.workspace, owner, "home/summary", summary["query"])[1]
    assert summary["data"]["metrics"]["active_users"]["value"] == 2
    assert broken["status"] == 400 and "days" in broken["data"]


def test_the_boards_period_and_filters_lie_over_each_tile(board):
    board.period_start, board.period_end = date(2025, 10, 19), date(2025, 10, 21)
    board.filters = {"country": ["CN"]}
    board.save()
    summary = dashboard_data(board, board.owner)["tiles"][0]
    assert summary["query"] == {"as_of": "2025-10-21", "days": "3", "country": ["CN"]}
    assert summary["data"]["metrics"]["active_users"]["value"] == 1  # ana, in CN, on the 20th
    # Without filters bob is still out: he was active on the 16th, before the board's period.
    board.filters = {}
    assert dashboard_data(board, board.owner)["tiles"][0]["data"]["metrics"]["active_users"]["value"] == 1
    tile = board.tiles.first()
    tile.query = {"country": ["US"], "language": ["en"], "format": "csv"}
    board.filters = {"country": ["CN"]}
    assert tile_query(board, tile) == {"country": ["CN"], "language": ["en"], "as_of": "2025-10-21", "days": "3"}


def test_annotations_are_the_boards_and_the_workspaces_overlapping_its_days(board, make_workspace):
    acme, other = board.workspace, make_workspace("other")[0]
    another_board = Dashboard.objects.create(workspace=acme, owner=board.owner, name="Another")
    notes = {
        "wide": Annotation.objects.create(workspace=acme, date=date(2025, 10, 20), text="release"),
        "range": Annotation.objects.create(
            workspace=acme, date=date(2025, 10, 1), end_date=date(2025, 10, 15), text="campaign"
        ),
        "own": Annotation.objects.create(workspace=acme, dashboard=board, date=date(2025, 10, 21), text="mine"),
    }
    Annotation.objects.create(workspace=acme, dashboard=another_board, date=date(2025, 10, 20), text="theirs")
    Annotation.objects.create(workspace=acme, date=date(2025, 10, 14), text="before")
    Annotation.objects.create(workspace=acme, date=date(2025, 10, 22), text="after")
    Annotation.objects.create(workspace=other, date=date(2025, 10, 20), text="elsewhere")

    # No board period: the tiles' days, 15th to 21st (the broken tile adds none).
    texts = [a["text"] for a in dashboard_data(board, board.owner)["annotations"]]
    assert texts == ["campaign", "release", "mine"]
    board.period_start, board.period_end = date(2025, 10, 16), date(2025, 10, 21)
    annotations = dashboard_data(board, board.owner)["annotations"]
    assert [a["text"] for a in annotations] == ["release", "mine"]
    assert annotations[1] == {
        "id": notes["own"].pk,
        "date": "2025-10-21",
        "end_date": None,
        "text": "mine",
        "dashboard": board.pk,
        "author": None,
    }
