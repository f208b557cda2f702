"""Scheduled reports of kind ``dashboard``: the board's PDF (each tile's title and table) computed as
the schedule's owner, its CSVs, and the rules on ``dashboard`` (required, same workspace, visible to
the owner)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from dashboards.models import Dashboard, Tile
from reports.models import ReportSchedule
from reports.services import tile_table
from tenancy.models import Membership, Workspace
from tests.conftest import journeys, run
from tests.reports.test_schedules import pdf_text

pytestmark = pytest.mark.django_db

API = "/api/v1/workspaces/db/report-schedules/"
WEEK = {"as_of": "2025-03-23", "days": "7"}


@pytest.fixture
def board(make_workspace):
    """Week of 17–23 March 2025: Leads used by u1 and u2, Deals by u2."""
    workspace, _ = make_workspace("db", tz="UTC")
    journeys(workspace, [
        ("u1", "2025-03-17T10:00:00Z", "Leads", "view"),
        ("u2", "2025-03-18T10:00:00Z", "Leads", "view"),
        ("u2", "2025-03-18T11:00:00Z", "Deals", "edit"),
    ])  # fmt: skip
    make_workspace("other", tz="UTC")
    owner = get_user_model().objects.create_user("olga")
    Membership.objects.create(workspace=workspace, user=owner, role=Membership.Role.ANALYST)
    dashboard = Dashboard.objects.create(workspace=workspace, owner=owner, name="Sales board", description="Weekly")
    Tile.objects.create(dashboard=dashboard, title="Usage summary", endpoint="home/summary", query=WEEK)
    Tile.objects.create(dashboard=dashboard, title="Popular features", endpoint="hub/popularity", query=WEEK, y=1)
    Tile.objects.create(dashboard=dashboard, title="Broken tile", endpoint="home/summary", query={"days": "x"}, y=2)
    return dashboard


def schedule_of(board: Dashboard, **fields: Any) -> ReportSchedule:
    values = {"name": "Board weekly", "kind": "dashboard", "dashboard": board, "frequency": "weekly",
              "weekday": 1, "hour": 6, "recipients": ["ann@example.com"], **fields}  # fmt: skip
    return ReportSchedule.objects.create(workspace=board.workspace, owner=board.owner, **values)


def test_the_boards_email(board) -> None:
    schedule_of(board)
    run("send_scheduled_reports", now="2025-03-24T06:00:00Z")
    message = mail.outbox[0]
    assert message.subject == "Board weekly"
    assert "Dashboard · Sales board: the PDF is attached" in message.body
    assert "- Usage summary\n- Popular features\n- Broken tile" in message.body
    pdf = message.attachments[0][1]
    assert message.attachments[0][0] == f"db-dashboard-{board.pk}.pdf" and pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    for drawn in ("(Dashboard \\267 Sales board)", "(Usage summary)", "(Popular features)", "(Broken tile)",
                  "(active_users)", "(Leads)", "(Deals)", "status 400"):  # fmt: skip
        assert drawn in text, drawn
    csvs = {name: content for name, content, _type in message.attachments[1:]}
    tiles = {t.title: t.pk for t in board.tiles.all()}
    popularity = csvs[f"db-dashboard-{board.pk}-tile-{tiles['Popular features']}.csv"]
    assert popularity.splitlines()[0].startswith("feature,") and "Leads,2" in popularity
    assert f"db-dashboard-{board.pk}-tile-{tiles['Broken tile']}.csv" not in csvs


def test_the_board_as_its_owner_sees_it(board) -> None:
    schedule = schedule_of(board)
    board.owner = get_user_model().objects.create_user("other-owner")
    Membership.objects.create(workspace=board.workspace, user=board.owner, role=Membership.Role.ANALYST)
    board.save()  # a private board of someone else now: the schedule's owner no longer sees it
    run("send_scheduled_reports", now="2025-03-24T06:00:00Z")
    assert mail.outbox == [] and ReportSchedule.objects.get(pk=schedule.pk).last_slot is None
    board.visibility = Dashboard.Visibility.WORKSPACE
    board.save()
    run("send_scheduled_reports", now="2025-03-24T06:00:00Z")
    assert len(mail.outbox) == 1


def test_tile_tables() -> None:
    assert tile_table({"metrics": {"active_users": {"value": 2, "previous": 1}}}) == (
        ["", "value", "previous"], [["active_users", 2, 1]]
    )  # fmt: skip
    assert tile_table({"count": 2, "results": [{"a": 1, "b": {"c": 2}, "d": [1]}]}) == (["a", "b.c"], [[1, 2]])
    assert tile_table({"count": 2}) == (["", ""], [["count", 2]])
    assert tile_table({"results": [{f"c{i}": i for i in range(20)}] * 80})[1][49][7] == 7  # 50 rows, 8 columns
    assert len(tile_table({"results": [{"a": 1}] * 80})[1]) == 50


def test_the_api_rules_on_dashboard(board, member_client) -> None:
    client = member_client(board.workspace, role=Membership.Role.ANALYST, username="olga")
    body = {"name": "B", "kind": "dashboard", "dashboard": board.pk, "frequency": "daily", "hour": 6,
            "recipients": ["ann@example.com"], "visibility": "workspace"}  # fmt: skip
    created = client.post(API, body, format="json")
    assert created.status_code == 201 and created.json()["dashboard"] == board.pk
    # kind=analysis: no board kept.
    url = f"{API}{created.json()['id']}"
    assert client.patch(url, {"kind": "analysis"}, format="json").json()["dashboard"] is None
    other_board = Dashboard.objects.create(workspace=Workspace.objects.get(slug="other"), owner=board.owner, name="X")
    bob = get_user_model().objects.create_user("bob")
    Membership.objects.create(workspace=board.workspace, user=bob, role=Membership.Role.ANALYST)
    private = Dashboard.objects.create(workspace=board.workspace, owner=bob, name="Bob's")
    for bad in ({"dashboard": None}, {"dashboard": 999_999}, {"dashboard": other_board.pk},
                {"dashboard": private.pk}, {"dashboard": "x"}):  # fmt: skip
        response = client.post(API, {**body, **bad}, format="json")
        assert response.status_code == 400 and list(response.json()) == ["dashboard"], (bad, response.json())
    # An admin who sees nothing private of bob cannot point olga's schedule at bob's private board either.
    admin = member_client(board.workspace, role=Membership.Role.ADMIN, username="adm")
    assert admin.patch(url, {"kind": "dashboard", "dashboard": private.pk}, format="json").status_code == 400


def test_the_page_form_and_preview(board) -> None:
    client = Client()
    client.force_login(board.owner)
    form = {"name": "Board daily", "kind": "dashboard", "dashboard": str(board.pk), "frequency": "daily",
            "weekday": "", "day": "", "hour": "6", "recipients": "ann@example.com", "language": "en",
            "visibility": "workspace"}  # fmt: skip
    assert client.post("/w/db/reports/schedules/new/", form).status_code == 302
    schedule = ReportSchedule.objects.get()
    assert schedule.dashboard_id == board.pk
    preview = client.get(f"/w/db/reports/schedules/{schedule.pk}/preview/")
    assert preview.status_code == 200 and "Popular features" in preview.content.decode()
    # A member who sees the shared schedule but not the owner's private board: no preview of it.
    viewer = get_user_model().objects.create_user("vic")
    Membership.objects.create(workspace=board.workspace, user=viewer, role=Membership.Role.VIEWER)
    other = Client()
    other.force_login(viewer)
    assert other.get(f"/w/db/reports/schedules/{schedule.pk}/preview/").status_code == 404
    assert mail.outbox == []
