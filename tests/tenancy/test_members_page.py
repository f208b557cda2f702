"""The members page (/w/<slug>/members/) over HTTP: each action of a workspace admin, each refusal, the
audit trail, the last-admin rule, and two workspaces (ids of the other one are 404s)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from tenancy.models import AuditEntry, IngestKey, Membership, Workspace
from tenancy.services import ingest_key_issue

pytestmark = pytest.mark.django_db

BATCH = "/api/v1/events/batch"


@pytest.fixture
def acme(make_workspace: Any) -> Workspace:
    return make_workspace("acme")[0]


@pytest.fixture
def globex(make_workspace: Any) -> Workspace:
    return make_workspace("globex")[0]


@pytest.fixture
def people(django_user_model: Any, acme: Workspace, globex: Workspace) -> dict[str, Any]:
    """ada: admin of acme; vic: viewer of acme; gus: admin of globex; nina: no workspace."""
    users = {
        name: django_user_model.objects.create_user(name, email=f"{name}@example.com", first_name=name.title())
        for name in ("ada", "vic", "gus", "nina")
    }
    Membership.objects.create(workspace=acme, user=users["ada"], role="admin")
    Membership.objects.create(workspace=acme, user=users["vic"], role="viewer")
    Membership.objects.create(workspace=globex, user=users["gus"], role="admin")
    return users


def client_of(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_post(client: Client, url: str, data: dict[str, str]) -> Any:
    """A POST as the page's form sends it: with the CSRF token the page set."""
    page = client.get("/w/acme/members/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None
    return client.post(url, {**data, "csrfmiddlewaretoken": token.group(1)})


@pytest.fixture
def admin(people: dict[str, Any]) -> Client:
    return client_of(people["ada"])


def member(workspace: Workspace, username: str) -> Membership:
    return Membership.objects.get(workspace=workspace, user__username=username)


def audit(workspace: Workspace) -> list[tuple[str, str, dict[str, Any]]]:
    return [(e.actor_name, e.action, e.changes) for e in AuditEntry.objects.filter(workspace=workspace).order_by("id")]


def test_the_page_lists_members_and_keys(admin: Client, acme: Workspace) -> None:
    response = admin.get("/w/acme/members/")
    assert response.status_code == 200
    html = response.content.decode()
    rows = re.findall(r'<tr data-member="(\w+)">', html)
    assert rows == ["ada", "vic"]  # acme's members only, by username
    assert "Vic" in html and "vic@example.com" in html and "gus" not in html
    assert re.search(r'<option value="viewer" selected>Viewer</option>', html)
    key = IngestKey.objects.get(workspace=acme)  # the one workspace_create issued
    assert f"<code>{key.hint}…</code>" in html and "never" in html and ">Active<" in html
    assert 'action="/w/acme/ingest-keys/new/"' in html
    assert IngestKey.objects.get(workspace__slug="globex").hint not in html
    # The header links here for admins.
    assert 'href="/w/acme/members/">Members</a>' in html


def test_change_a_role_audited(admin: Client, acme: Workspace) -> None:
    vic = member(acme, "vic")
    response = csrf_post(admin, f"/w/acme/members/{vic.pk}/role/", {"role": "analyst"})
    assert response.status_code == 302 and response["Location"] == "/w/acme/members/"
    assert member(acme, "vic").role == "analyst"
    assert audit(acme) == [("ada", "role_changed", {"user": "vic", "role": ["viewer", "analyst"]})]
    assert "vic is now Analyst." in admin.get("/w/acme/members/").content.decode()
    # The same role again changes nothing and records nothing.
    csrf_post(admin, f"/w/acme/members/{vic.pk}/role/", {"role": "analyst"})
    assert len(audit(acme)) == 1


def test_a_bad_role_is_400(admin: Client, acme: Workspace) -> None:
    vic = member(acme, "vic")
    response = csrf_post(admin, f"/w/acme/members/{vic.pk}/role/", {"role": "owner"})
    assert response.status_code == 400
    assert "Choose a role: admin, analyst or viewer." in response.content.decode()
    assert member(acme, "vic").role == "viewer"


def test_remove_a_member_audited(admin: Client, acme: Workspace, people: dict[str, Any]) -> None:
    vic = member(acme, "vic")
    response = csrf_post(admin, f"/w/acme/members/{vic.pk}/remove/", {})
    assert response.status_code == 302
    assert not Membership.objects.filter(workspace=acme, user__username="vic").exists()
    assert audit(acme)[-1] == ("ada", "member_removed", {"user": "vic", "role": "viewer"})
    assert client_of(people["vic"]).get("/w/acme/").status_code == 404  # no longer reads the workspace


def test_add_an_existing_user_by_username_or_email(admin: Client, acme: Workspace, people: dict[str, Any]) -> None:
    response = csrf_post(admin, "/w/acme/members/", {"who": "nina", "role": "analyst"})
    assert response.status_code == 302
    assert member(acme, "nina").role == "analyst"
    response = csrf_post(admin, "/w/acme/members/", {"who": "GUS@example.com", "role": "viewer"})
    assert response.status_code == 302
    assert member(acme, "gus").role == "viewer"
    assert member(Workspace.objects.get(slug="globex"), "gus").role == "admin"  # untouched there
    assert audit(acme)[-2:] == [
        ("ada", "role_changed", {"user": "nina", "role": [None, "analyst"]}),
        ("ada", "role_changed", {"user": "gus", "role": [None, "viewer"]}),
    ]


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("nobody", "No user has the username or email “nobody”."),
        ("vic", "vic is already a member of this workspace."),
        ("VIC@example.com", "vic is already a member of this workspace."),
        ("", "This field is required."),
    ],
)
def test_adding_is_refused_with_a_clear_message(admin: Client, acme: Workspace, who: str, message: str) -> None:
    before = audit(acme)
    response = csrf_post(admin, "/w/acme/members/", {"who": who, "role": "viewer"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert member(acme, "vic").role == "viewer" and audit(acme) == before


def test_an_inactive_user_cannot_be_added(admin: Client, acme: Workspace, people: dict[str, Any]) -> None:
    people["nina"].is_active = False
    people["nina"].save()
    response = csrf_post(admin, "/w/acme/members/", {"who": "nina", "role": "viewer"})
    assert response.status_code == 400 and "No user has the username or email" in response.content.decode()


def test_the_last_admin_can_be_neither_demoted_nor_removed(admin: Client, acme: Workspace) -> None:
    ada = member(acme, "ada")
    before = audit(acme)
    for url, data in (
        (f"/w/acme/members/{ada.pk}/role/", {"role": "viewer"}),
        (f"/w/acme/members/{ada.pk}/remove/", {}),
    ):
        response = csrf_post(admin, url, data)
        assert response.status_code == 400
        assert (
            "ada is the last admin of this workspace: make another member an admin first." in response.content.decode()
        )
    assert member(acme, "ada").role == "admin" and audit(acme) == before
    # With a second admin, ada may step down, and then leaves the page (403 for her now) for Home.
    vic = member(acme, "vic")
    csrf_post(admin, f"/w/acme/members/{vic.pk}/role/", {"role": "admin"})
    response = csrf_post(admin, f"/w/acme/members/{ada.pk}/role/", {"role": "analyst"})
    assert response.status_code == 302 and response["Location"] == "/w/acme/"
    assert member(acme, "ada").role == "analyst"
    assert admin.get("/w/acme/members/").status_code == 403
    # vic is now the last admin.
    vic_client = client_of(member(acme, "vic").user)
    response = vic_client.post(f"/w/acme/members/{vic.pk}/remove/", {"csrfmiddlewaretoken": "x"})
    assert response.status_code == 403  # a forged token: CSRF refused
    page = vic_client.get("/w/acme/members/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert vic_client.post(f"/w/acme/members/{vic.pk}/remove/", {"csrfmiddlewaretoken": token}).status_code == 400


def test_revoke_a_key_audited_and_it_no_longer_ingests(admin: Client, acme: Workspace, people: dict[str, Any]) -> None:
    key, raw = ingest_key_issue(workspace=acme, actor=people["ada"], label="crm")
    batch = {"events": [{"uuid": "e1", "user": "u1", "feature": "Leads", "action": "view",
                         "timestamp": "2025-10-06T09:00:00+00:00"}]}  # fmt: skip
    api = Client()

    def send() -> int:
        return api.post(
            BATCH, json.dumps(batch), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
        ).status_code

    assert send() == 200
    html = admin.get("/w/acme/members/").content.decode()
    assert f"<code>{key.hint}…</code> crm" in html
    response = csrf_post(admin, f"/w/acme/ingest-keys/{key.pk}/revoke/", {})
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert audit(acme)[-1][:2] == ("ada", "key_revoked")
    assert send() == 401
    html = admin.get("/w/acme/members/").content.decode()
    assert "was revoked: batches sent with it now get 401." in html and "Revoked on " in html
    # Revoking twice records nothing more.
    csrf_post(admin, f"/w/acme/ingest-keys/{key.pk}/revoke/", {})
    assert [a for _n, a, _c in audit(acme)].count("key_revoked") == 1


def test_a_viewer_gets_403_and_no_link(acme: Workspace, people: dict[str, Any]) -> None:
    viewer = client_of(people["vic"])
    assert viewer.get("/w/acme/members/").status_code == 403
    assert "/w/acme/members/" not in viewer.get("/w/acme/").content.decode()
    ada, key = member(acme, "ada"), IngestKey.objects.get(workspace=acme)
    viewer = Client()  # CSRF checks off: the role alone refuses
    viewer.force_login(people["vic"])
    assert viewer.post(f"/w/acme/members/{ada.pk}/role/", {"role": "viewer"}).status_code == 403
    assert viewer.post(f"/w/acme/members/{ada.pk}/remove/").status_code == 403
    assert viewer.post("/w/acme/members/", {"who": "nina", "role": "admin"}).status_code == 403
    assert viewer.post(f"/w/acme/ingest-keys/{key.pk}/revoke/").status_code == 403
    assert member(acme, "ada").role == "admin" and not Membership.objects.filter(user=people["nina"]).exists()
    assert IngestKey.objects.get(pk=key.pk).revoked_at is None


def test_a_non_member_gets_404_and_anonymous_the_login(people: dict[str, Any]) -> None:
    assert client_of(people["nina"]).get("/w/acme/members/").status_code == 404
    assert client_of(people["gus"]).get("/w/acme/members/").status_code == 404  # admin elsewhere
    response = Client().get("/w/acme/members/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_posts_need_the_csrf_token(admin: Client, acme: Workspace) -> None:
    vic = member(acme, "vic")
    assert admin.post(f"/w/acme/members/{vic.pk}/role/", {"role": "admin"}).status_code == 403
    assert admin.post("/w/acme/members/", {"who": "nina", "role": "admin"}).status_code == 403
    assert member(acme, "vic").role == "viewer"


def test_ids_of_another_workspace_are_404(admin: Client, acme: Workspace, globex: Workspace) -> None:
    gus, key = member(globex, "gus"), IngestKey.objects.get(workspace=globex)
    assert csrf_post(admin, f"/w/acme/members/{gus.pk}/role/", {"role": "viewer"}).status_code == 404
    assert csrf_post(admin, f"/w/acme/members/{gus.pk}/remove/", {}).status_code == 404
    assert csrf_post(admin, f"/w/acme/ingest-keys/{key.pk}/revoke/", {}).status_code == 404
    # Nor through globex's URL, where ada is no member.
    assert csrf_post(admin, f"/w/globex/members/{gus.pk}/role/", {"role": "viewer"}).status_code == 404
    assert member(globex, "gus").role == "admin" and IngestKey.objects.get(pk=key.pk).revoked_at is None
    # An admin of both workspaces still changes globex's members only through globex's URL.
    Membership.objects.create(workspace=globex, user=member(acme, "ada").user, role="admin")
    assert csrf_post(admin, f"/w/acme/members/{gus.pk}/role/", {"role": "viewer"}).status_code == 404
    assert csrf_post(admin, f"/w/acme/ingest-keys/{key.pk}/revoke/", {}).status_code == 404
    assert member(globex, "gus").role == "admin" and IngestKey.objects.get(pk=key.pk).revoked_at is None
    assert audit(globex) == []
    assert csrf_post(admin, f"/w/globex/members/{gus.pk}/role/", {"role": "viewer"}).status_code == 302
    assert member(globex, "gus").role == "viewer"
