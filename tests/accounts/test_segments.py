"""Saved segments (API ``segments/``, ``segments/<id>/accounts``; the pages): the ownership and visibility
rules of every saved configuration, the filters checked as the list checks them, and a segment's accounts
answered exactly as ``accounts/`` answers the same filters."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import Segment
from tenancy.models import AuditEntry, Membership
from tests.conftest import crm_records

pytestmark = pytest.mark.django_db

BASE = "/api/v1/workspaces/sh/segments/"


@pytest.fixture
def people(busy, member_client):
    return {
        "ana": member_client(busy, Membership.Role.ANALYST, "ana"),
        "bob": member_client(busy, Membership.Role.ANALYST, "bob"),
        "vic": member_client(busy, Membership.Role.VIEWER, "vic"),
        "adm": member_client(busy, Membership.Role.ADMIN, "adm"),
    }


def create(client, **body):
    return client.post(BASE, {"name": "Retail", "filters": {"industry": "Retail"}, **body}, format="json")


def test_create_normalises_the_filters_and_audits(people):
    response = create(people["ana"], filters={"industry": "Retail", "min_revenue": 1000, "status": "active,dormant"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["filters"] == {"industry": ["Retail"], "status": ["active", "dormant"], "min_revenue": "1000.00"}
    assert (body["name"], body["visibility"], body["owner"]) == ("Retail", "private", "ana")
    assert set(body) >= {"id", "name", "filters", "visibility", "owner"}
    assert AuditEntry.objects.filter(target_type__icontains="segment").exists()


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"status": ["closed"]}, "status"),
        ({"owner": "ghost"}, "owner"),
        ({"min_revenue": "abc"}, "min_revenue"),
        ({"min_revenue": "9", "max_revenue": "1"}, "max_revenue"),
        ({"color": "red"}, "color"),
        ({"page": 2}, "page"),
        ({"search": ["a", "b"]}, "search"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(people, filters, field):
    response = create(people["ana"], filters=filters)
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["filters"]
    assert list(response.json()["filters"]) == [field]


def test_filters_must_be_an_object(people):
    response = create(people["ana"], filters=["industry"])
    assert response.status_code == 400 and "filters" in response.json()


def test_who_sees_creates_and_changes(people):
    private = create(people["ana"], name="Mine").json()
    shared = create(people["ana"], name="Ours", visibility="workspace").json()
    # A viewer cannot create.
    assert create(people["vic"]).status_code == 403
    # Others see the shared one only.
    assert [s["name"] for s in people["bob"].get(BASE).json()] == ["Ours"]
    assert people["bob"].get(f"{BASE}{private['id']}").status_code == 404
    assert people["vic"].get(f"{BASE}{shared['id']}").status_code == 200
    # Another member (even an analyst) cannot change or delete it; the owner and an admin can.
    assert people["bob"].patch(f"{BASE}{shared['id']}", {"name": "x"}, format="json").status_code == 403
    assert people["bob"].delete(f"{BASE}{shared['id']}").status_code == 403
    assert people["bob"].patch(f"{BASE}{private['id']}", {"name": "x"}, format="json").status_code == 404
    renamed = people["ana"].patch(f"{BASE}{shared['id']}", {"name": "Retail, shared"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Retail, shared"
    bad = people["ana"].patch(f"{BASE}{shared['id']}", {"filters": {"status": "x"}}, format="json")
    assert bad.status_code == 400 and list(bad.json()["filters"]) == ["status"]
    assert people["adm"].patch(f"{BASE}{shared['id']}", {"name": "By the admin"}, format="json").status_code == 200
    assert people["adm"].delete(f"{BASE}{shared['id']}").status_code == 204
    assert people["ana"].delete(f"{BASE}{private['id']}").status_code == 204
    assert not Segment.objects.exists()


def test_a_segments_accounts_are_the_lists(people):
    seg = create(people["ana"], filters={"industry": "Retail", "ordering": "-revenue"}, visibility="workspace").json()
    url = f"{BASE}{seg['id']}/accounts"
    listed = people["vic"].get("/api/v1/workspaces/sh/accounts/", {"industry": "Retail", "ordering": "-revenue"})
    mine = people["vic"].get(url)
    assert mine.status_code == 200
    assert mine.json()["results"] == listed.json()["results"]
    assert [r["external_id"] for r in mine.json()["results"]] == ["A2", "A5", "A1"]
    # The query string pages and re-orders; the filters stay the segment's.
    page = people["vic"].get(url, {"page_size": 1, "page": 2, "ordering": "name", "industry": "Finance"}).json()
    assert page["count"] == 3 and [r["external_id"] for r in page["results"]] == ["A2"] and page["next"]
    csv = people["vic"].get(url, {"format": "csv"})
    assert csv.status_code == 200
    assert [line.split(",")[0] for line in csv.content.decode().lstrip("\ufeff").splitlines()[1:]] == ["A2", "A5", "A1"]
    assert people["vic"].get(url, {"ordering": "nope"}).status_code == 400
    assert people["vic"].get(url, {"page_size": "0"}).status_code == 400


def test_another_workspaces_segment_is_404(people, other, member_client):
    theirs = member_client(other, Membership.Role.ANALYST, "ana")  # the same person, a member of both
    seg = theirs.post(
        "/api/v1/workspaces/other/segments/",
        {"name": "Theirs", "filters": {}, "visibility": "workspace"},
        format="json",
    ).json()
    assert people["vic"].get(f"{BASE}{seg['id']}").status_code == 404
    assert people["vic"].get(f"{BASE}{seg['id']}/accounts").status_code == 404
    assert people["ana"].get(f"{BASE}{seg['id']}/accounts").status_code == 404  # not under this workspace
    assert people["ana"].get(f"/api/v1/workspaces/other/segments/{seg['id']}/accounts").json()["count"] == 6


def test_the_model_checks_its_filters(people, busy):
    from django.contrib.auth import get_user_model

    ana = get_user_model().objects.get(username="ana")
    segment = Segment(workspace=busy, owner=ana, name="x", filters={"status": ["closed"]})
    with pytest.raises(ValidationError) as caught:
        segment.full_clean()
    assert "filters" in caught.value.message_dict
    segment.filters = {"status": "dormant"}
    segment.full_clean()
    assert segment.filters == {"status": ["dormant"]}


# --- the pages ---------------------------------------------------------------------------------------


def login(user: str) -> Client:
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username=user))
    return client


def test_save_from_the_list_page_then_open_rename_and_delete(people):
    ana = login("ana")
    response = ana.post(
        "/w/sh/accounts/segments/new/",
        {"name": "Big retail", "visibility": "workspace", "industry": "Retail", "min_revenue": "5000",
         "next": "/w/sh/accounts/list/?industry=Retail"},
    )  # fmt: skip
    assert response.status_code == 302
    segment = Segment.objects.get()
    assert segment.filters == {"industry": ["Retail"], "min_revenue": "5000.00"}
    assert response["Location"] == f"/w/sh/accounts/segments/{segment.pk}/"
    page = ana.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Big retail" in html and 'data-account="A2"' in html and 'data-account="A5"' in html
    assert 'data-account="A1"' not in html  # 1540 < 5000
    assert f"/api/v1/workspaces/sh/segments/{segment.pk}/accounts?format=csv" in html
    # Another member sees it, cannot change it.
    bob = login("bob")
    assert bob.get(f"/w/sh/accounts/segments/{segment.pk}/").status_code == 200
    assert bob.post(f"/w/sh/accounts/segments/{segment.pk}/", {"name": "x"}).status_code == 403
    assert bob.get(f"/w/sh/accounts/segments/{segment.pk}/delete/").status_code == 403
    # The owner renames it, then deletes it.
    assert (
        ana.post(f"/w/sh/accounts/segments/{segment.pk}/", {"name": "Retail > 5k", "visibility": "private"}).status_code
        == 302
    )
    segment.refresh_from_db()
    assert (segment.name, segment.visibility) == ("Retail > 5k", "private")
    assert bob.get(f"/w/sh/accounts/segments/{segment.pk}/").status_code == 404  # private now
    listing = ana.get("/w/sh/accounts/segments/").content.decode()
    assert "Retail &gt; 5k" in listing
    assert ana.post(f"/w/sh/accounts/segments/{segment.pk}/delete/").status_code == 302
    assert not Segment.objects.exists()


def test_a_viewer_cannot_save_and_bad_filters_are_not_saved(people):
    assert login("vic").post("/w/sh/accounts/segments/new/", {"name": "x"}).status_code == 403
    ana = login("ana")
    response = ana.post(
        "/w/sh/accounts/segments/new/", {"name": "x", "status": "closed", "next": "/w/sh/accounts/list/"}
    )
    assert response.status_code == 302 and response["Location"] == "/w/sh/accounts/list/"
    assert not Segment.objects.exists()
    followed = ana.get("/w/sh/accounts/list/").content.decode()
    assert "status" in followed.lower()


def test_a_segment_whose_owner_filter_went_stale_says_so(people, busy):
    seg = create(people["ana"], filters={"owner": "rep2"}).json()
    crm_records(busy, "accounts", [{"external_id": "A2", "owner": None}])
    Segment.objects.filter(pk=seg["id"]).update(filters={"owner": ["nobody"]})  # e.g. edited in the database
    page = login("ana").get(f"/w/sh/accounts/segments/{seg['id']}/")
    assert page.status_code == 200 and "no longer valid" in page.content.decode()
    assert people["ana"].get(f"{BASE}{seg['id']}/accounts").status_code == 400


def test_the_admin_lists_and_checks_segments(people, busy):
    from django.contrib.auth import get_user_model

    create(people["ana"], name="Shared one", visibility="workspace")
    root = get_user_model().objects.create_superuser(username="root", password="pw-not-used")
    client = Client()
    client.force_login(root)
    assert "Shared one" in client.get("/admin/accounts/segment/").content.decode()
    seg = Segment.objects.get()
    response = client.post(
        f"/admin/accounts/segment/{seg.pk}/change/",
        {"workspace": busy.pk, "name": "Shared one", "owner": seg.owner_id, "visibility": "workspace",
         "filters": '{"status": ["closed"]}'},
    )  # fmt: skip
    assert response.status_code == 200 and "Unknown status" in response.content.decode()  # the form shows why
    seg.refresh_from_db()
    assert seg.filters == {"industry": ["Retail"]}
