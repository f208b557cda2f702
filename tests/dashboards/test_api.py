"""The dashboards API through the real routes: boards (owner and visibility as funnels, tiles, the
endpoint whitelist), a board's data, share links (owner or admin, audited, 404/410 when dead) and
annotations; always with a second workspace whose rows never show."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from dashboards.models import Annotation, Dashboard, ShareLink
from dashboards.selectors import dashboard_data
from dashboards.services import token_digest
from tenancy.models import AuditEntry, Membership
from tests.conftest import journeys

pytestmark = pytest.mark.django_db

SUMMARY = {"title": "Summary", "endpoint": "home/summary", "query": {"as_of": "2025-10-21", "days": "7"}}
TRENDS = {
    "title": "Leads",
    "endpoint": "trends",
    "query": {"feature": "Leads", "as_of": "2025-10-21", "days": "7"},
    "position": {"x": 6, "y": 0, "w": 6, "h": 3},
}


@pytest.fixture
def acme(make_workspace):
    acme = make_workspace("acme")[0]
    journeys(
        acme,
        [("ana", "2025-10-20T09:00:00+00:00", "Leads", "view"), ("bob", "2025-10-16T09:00:00+00:00", "Leads", "view")],
    )
    return acme


@pytest.fixture
def clients(acme, make_workspace, member_client):
    other = make_workspace("other")[0]
    return {
        "analyst": member_client(acme, Membership.Role.ANALYST, "analyst"),
        "analyst2": member_client(acme, Membership.Role.ANALYST, "analyst2"),
        "viewer": member_client(acme, Membership.Role.VIEWER, "viewer"),
        "admin": member_client(acme, Membership.Role.ADMIN, "admin"),
        "outsider": member_client(other, Membership.Role.ADMIN, "outsider"),
    }


def create(client, **fields):
    body = {"name": "Weekly", "tiles": [SUMMARY, TRENDS], **fields}
    response = client.post("/api/v1/workspaces/acme/dashboards/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_board_is_saved_with_its_tiles_and_seen_as_funnels_are(clients):
    board = create(clients["analyst"], period={"start": "2025-10-15", "end": "2025-10-21"}, filters={"country": "CN"})
    tiles = board.pop("tiles")
    assert {k: board[k] for k in ("name", "description", "visibility", "owner", "period", "filters")} == {
        "name": "Weekly",
        "description": "",
        "visibility": "private",
        "owner": "analyst",
        "period": {"start": "2025-10-15", "end": "2025-10-21"},
        "filters": {"country": ["CN"]},
    }
    assert [(t["title"], t["endpoint"], t["query"], t["position"]) for t in tiles] == [
        ("Summary", "home/summary", SUMMARY["query"], {"x": 0, "y": 0, "w": 6, "h": 4}),
        ("Leads", "trends", TRENDS["query"], TRENDS["position"]),
    ]
    url = f"/api/v1/workspaces/acme/dashboards/{board['id']}"
    assert clients["viewer"].get(url).status_code == 404  # private: the owner's only
    assert clients["outsider"].get(url).status_code == 404
    assert clients["outsider"].get(f"/api/v1/workspaces/other/dashboards/{board['id']}").status_code == 404
    assert (
        clients["viewer"].post("/api/v1/workspaces/acme/dashboards/", {"name": "x"}, format="json").status_code == 403
    )

    assert clients["analyst"].patch(url, {"visibility": "workspace"}, format="json").status_code == 200
    assert [b["name"] for b in clients["viewer"].get("/api/v1/workspaces/acme/dashboards/").json()] == ["Weekly"]
    assert clients["outsider"].get("/api/v1/workspaces/other/dashboards/").json() == []
    assert clients["analyst2"].patch(url, {"name": "Mine"}, format="json").status_code == 403
    assert clients["admin"].patch(url, {"period": None}, format="json").json()["period"] is None
    assert AuditEntry.objects.filter(target_type="dashboard", target_id=str(board["id"])).count() == 3


def test_patching_tiles_replaces_them_keeping_the_ids_given(clients):
    board = create(clients["analyst"])
    summary, trends = board["tiles"]
    url = f"/api/v1/workspaces/acme/dashboards/{board['id']}"
    moved = {**trends, "position": {"x": 0, "y": 0, "w": 12, "h": 3}}
    new = {"title": "Popularity", "endpoint": "hub/popularity/", "query": {"days": "30"}}
    response = clients["analyst"].patch(url, {"tiles": [moved, new]}, format="json")
    assert response.status_code == 200, response.json()
    tiles = clients["analyst"].get(url).json()["tiles"]
    assert [(t["id"] == trends["id"], t["endpoint"], t["position"]["w"]) for t in tiles] == [
        (True, "trends", 12),
        (False, "hub/popularity", 6),
    ]
    assert not board_tiles_include(board["id"], summary["id"])


def board_tiles_include(board_id: int, tile_id: int) -> bool:
    return Dashboard.objects.get(pk=board_id).tiles.filter(pk=tile_id).exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"tiles": [{**SUMMARY, "endpoint": "dashboards/"}]}, "tiles"),
        ({"tiles": [{**SUMMARY, "endpoint": "funnels/1"}]}, "tiles"),
        ({"tiles": [{**SUMMARY, "endpoint": "annotations/"}]}, "tiles"),
        ({"tiles": [{**SUMMARY, "endpoint": "perception/settings"}]}, "tiles"),
        ({"tiles": [{**SUMMARY, "endpoint": "home/summary?days=3"}]}, "tiles"),
        ({"tiles": [{**SUMMARY, "endpoint": "../other/home/summary"}]}, "tiles"),
        ({"tiles": [{**SUMMARY, "query": {"days": {"x": 1}}}]}, "tiles"),
        ({"tiles": [{**SUMMARY, "position": {"x": 8, "w": 6}}]}, "tiles"),
        ({"tiles": [{"endpoint": "trends"}]}, "tiles"),
        ({"tiles": [SUMMARY] * 25}, "tiles"),
        ({"period": {"start": "2025-10-21", "end": "2025-10-01"}}, "period"),
        ({"period": {"start": "2025-10-21"}}, "period"),
        ({"filters": {"planet": ["mars"]}}, "filters"),
        ({"filters": {"status": ["sleeping"]}}, "filters"),
    ],
)
def test_bad_boards_are_400_naming_the_field(clients, body, field):
    response = clients["analyst"].post("/api/v1/workspaces/acme/dashboards/", {"name": "x", **body}, format="json")
    assert response.status_code == 400 and list(response.json()) == [field]
    board = create(clients["analyst"])
    patch = clients["analyst"].patch(f"/api/v1/workspaces/acme/dashboards/{board['id']}", body, format="json")
    assert patch.status_code == 400 and list(patch.json()) == [field]


def test_the_data_endpoint_answers_each_tile_as_its_endpoint_does(clients, acme):
    board = create(clients["analyst"], visibility="workspace", filters={"country": []})
    answer = clients["viewer"].get(f"/api/v1/workspaces/acme/dashboards/{board['id']}/data")
    assert answer.status_code == 200
    summary, trends = answer.json()["tiles"]
    direct = clients["viewer"].get("/api/v1/workspaces/acme/trends", TRENDS["query"]).json()
    assert trends == {"id": board["tiles"][1]["id"], "query": TRENDS["query"], "status": 200, "data": direct}
    assert summary["data"]["metrics"]["active_users"]["value"] == 2
    Annotation.objects.create(workspace=acme, date=date(2025, 10, 20), text="release")
    again = clients["viewer"].get(f"/api/v1/workspaces/acme/dashboards/{board['id']}/data").json()
    assert (
        again["annotations"]
        == dashboard_data(Dashboard.objects.get(pk=board["id"]), acme_user("viewer"))["annotations"]
    )
    assert [a["text"] for a in again["annotations"]] == ["release"]
    assert clients["outsider"].get(f"/api/v1/workspaces/acme/dashboards/{board['id']}/data").status_code == 404


def acme_user(username: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def test_share_links_owner_or_admin_audited_and_dead_links_open_nothing(clients, member_client):
    board = create(clients["analyst"], visibility="workspace", description="For the board")
    links = f"/api/v1/workspaces/acme/dashboards/{board['id']}/share-links/"
    soon = (timezone.now() + timedelta(days=7)).isoformat()
    assert clients["viewer"].post(links, {"expires_at": soon}, format="json").status_code == 403
    assert clients["analyst2"].post(links, {"expires_at": soon}, format="json").status_code == 403
    assert clients["outsider"].post(links, {"expires_at": soon}, format="json").status_code == 404
    for bad in [
        (timezone.now() - timedelta(minutes=1)).isoformat(),
        (timezone.now() + timedelta(days=400)).isoformat(),
        "soon",
    ]:
        response = clients["analyst"].post(links, {"expires_at": bad}, format="json")
        assert response.status_code == 400 and list(response.json()) == ["expires_at"]

    created = clients["analyst"].post(links, {"expires_at": soon}, format="json")
    assert created.status_code == 201
    link = created.json()
    assert set(link) == {"id", "token", "url", "expires_at", "revoked_at", "created_at"}
    assert link["url"] == f"/share/{link['token']}/" and link["revoked_at"] is None
    stored = ShareLink.objects.get(pk=link["id"])
    assert stored.token_digest == token_digest(link["token"]) and link["token"] not in stored.token_digest

    anonymous = member_client(None, username="nobody")
    anonymous.credentials()
    shared = anonymous.get(f"/api/v1/share/{link['token']}")
    assert shared.status_code == 200
    body = shared.json()
    assert body["dashboard"] == {"name": "Weekly", "description": "For the board"}
    assert [t["status"] for t in body["tiles"]] == [200, 200]
    assert body["tiles"][0]["data"]["metrics"]["active_users"]["value"] == 2  # computed as the owner
    assert anonymous.get(f"/api/v1/share/{link['token']}x").status_code == 404
    assert anonymous.get("/api/v1/workspaces/acme/dashboards/").status_code == 401

    admin_link = clients["admin"].post(links, {"expires_at": soon}, format="json").json()
    assert [x["id"] for x in clients["admin"].get(links).json()] == [admin_link["id"], link["id"]]
    assert "token" not in clients["admin"].get(links).json()[0]
    assert clients["viewer"].delete(f"{links}{link['id']}").status_code == 403
    assert clients["admin"].delete(f"{links}{link['id']}").status_code == 204
    assert ShareLink.objects.get(pk=link["id"]).revoked_at is not None
    assert anonymous.get(f"/api/v1/share/{link['token']}").status_code == 404
    assert clients["admin"].delete(f"{links}999999").status_code == 404

    ShareLink.objects.filter(pk=admin_link["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert anonymous.get(f"/api/v1/share/{admin_link['token']}").status_code == 410
    audit = AuditEntry.objects.filter(target_type="sharelink").order_by("id")
    assert [(a.actor_name, a.action, a.target_id) for a in audit] == [
        ("analyst", "created", str(link["id"])),
        ("admin", "created", str(admin_link["id"])),
        ("admin", "updated", str(link["id"])),
    ]


def test_annotations_members_read_writers_write_authors_or_admins_edit(clients, acme, make_workspace):
    url = "/api/v1/workspaces/acme/annotations/"
    private = create(clients["analyst2"])  # analyst2's private board: not the analyst's to annotate
    mine = create(clients["analyst"])
    assert clients["viewer"].post(url, {"date": "2025-10-20", "text": "x"}, format="json").status_code == 403
    created = clients["analyst"].post(url, {"date": "2025-10-20", "text": "release"}, format="json")
    assert created.status_code == 201
    note = created.json()
    assert {k: note[k] for k in ("date", "end_date", "text", "dashboard", "author")} == {
        "date": "2025-10-20",
        "end_date": None,
        "text": "release",
        "dashboard": None,
        "author": "analyst",
    }
    for body, field in [
        ({"date": "2025-10-20", "end_date": "2025-10-19", "text": "x"}, "end_date"),
        ({"date": "2025-10-20", "text": "x", "dashboard": private["id"]}, "dashboard"),
        ({"date": "2025-10-20", "text": ""}, "text"),
        ({"date": "someday", "text": "x"}, "date"),
    ]:
        response = clients["analyst"].post(url, body, format="json")
        assert response.status_code == 400 and list(response.json()) == [field]
    own = clients["analyst"].post(
        url,
        {"date": "2025-10-01", "end_date": "2025-10-05", "text": "campaign", "dashboard": mine["id"]},
        format="json",
    )
    assert own.status_code == 201
    other = make_workspace("elsewhere")[0]
    Annotation.objects.create(workspace=other, date=date(2025, 10, 20), text="elsewhere")
    Annotation.objects.create(
        workspace=acme, dashboard=Dashboard.objects.get(pk=private["id"]), date=date(2025, 10, 20), text="secret"
    )

    texts = lambda client, **params: [a["text"] for a in client.get(url, params).json()["results"]]  # noqa: E731
    assert texts(clients["viewer"]) == ["release"]
    assert texts(clients["analyst"]) == ["campaign", "release"]
    assert texts(clients["analyst"], start="2025-10-06", end="2025-10-31") == ["release"]
    assert texts(clients["analyst"], start="2025-10-05", end="2025-10-05") == ["campaign"]
    assert texts(clients["analyst"], dashboard=mine["id"]) == ["campaign"]
    assert clients["analyst"].get(url, {"start": "2025-10-05"}).status_code == 400
    assert clients["outsider"].get(url).status_code == 404

    one = f"{url}{note['id']}"
    assert clients["analyst2"].patch(one, {"text": "no"}, format="json").status_code == 403
    assert clients["viewer"].delete(one).status_code == 403
    assert clients["analyst"].patch(one, {"text": "v2 release"}, format="json").json()["text"] == "v2 release"
    assert clients["admin"].patch(one, {"end_date": "2025-10-19"}, format="json").status_code == 400
    assert clients["admin"].delete(one).status_code == 204
    assert texts(clients["analyst"]) == ["campaign"]


def test_a_member_of_both_workspaces_reaches_a_board_only_through_its_own_workspace(clients, member_client):
    """An admin of acme and of other: acme's board, its share links, its data and its annotations are
    404 (or absent) under other's URL, and other's list shows none of them."""
    from tenancy.models import Workspace

    board = create(clients["admin"], visibility="workspace")
    both = member_client(Workspace.objects.get(slug="other"), Membership.Role.ADMIN, "admin")  # now in both
    note = both.post(
        "/api/v1/workspaces/acme/annotations/", {"date": "2025-10-20", "text": "launch"}, format="json"
    ).json()
    for path in (f"dashboards/{board['id']}", f"dashboards/{board['id']}/data", f"annotations/{note['id']}"):
        assert both.get(f"/api/v1/workspaces/other/{path}").status_code == 404, path
        assert both.get(f"/api/v1/workspaces/acme/{path}").status_code == 200, path
    expires = (timezone.now() + timedelta(days=7)).isoformat()
    posted = both.post(
        f"/api/v1/workspaces/other/dashboards/{board['id']}/share-links/", {"expires_at": expires}, format="json"
    )
    assert posted.status_code == 404 and not ShareLink.objects.exists()
    assert both.get("/api/v1/workspaces/other/dashboards/").json() == []
    assert both.get("/api/v1/workspaces/other/annotations/").json()["results"] == []
