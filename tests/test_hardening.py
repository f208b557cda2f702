"""Access control and hardening: login brute force, CSP, rate limits, deactivation, key rotation,
audit trail, and roles enforced in the admin as in the API."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tenancy.models import AuditEntry, IngestKey, Membership
from tests.conftest import journeys
from useranalysis.models import FilterSet

pytestmark = pytest.mark.django_db

PASSWORD = "correct-Horse-battery-42"


@pytest.fixture
def dana(django_user_model):
    return django_user_model.objects.create_user("dana", password=PASSWORD)


def login(client, username, password, ip="10.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


# --- login ------------------------------------------------------------------------------------------


def test_repeated_wrong_passwords_lock_that_username_from_that_address_only(dana):
    attacker = Client()
    # Four failures show the form again; the fifth is refused, and so is the right password after it.
    assert [login(attacker, "dana", "guess").status_code for _ in range(5)] == [200, 200, 200, 200, 429]
    locked = login(attacker, "dana", PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    # The real user, elsewhere, is not locked out.
    assert login(Client(), "dana", PASSWORD, ip="10.9.9.9").status_code == 302


def test_the_lock_expires_after_the_cool_off(dana):
    client = Client()
    for _ in range(5):
        login(client, "dana", "guess")
    assert login(client, "dana", PASSWORD).status_code == 429
    from axes.models import AccessAttempt

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert login(client, "dana", PASSWORD).status_code == 302


def test_login_starts_a_new_session_and_logout_ends_it(dana):
    client = Client()
    client.get("/accounts/login/")
    before = client.session.session_key
    assert login(client, "dana", PASSWORD).status_code == 302
    after = client.session.session_key
    assert after and after != before
    client.post("/accounts/logout/")
    assert not Session.objects.filter(session_key=after).exists()


# --- headers ------------------------------------------------------------------------------------------


def test_pages_carry_a_strict_content_security_policy(dana):
    response = Client().get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"


def test_swagger_docs_need_no_inline_script(client):
    html = client.get("/api/v1/docs/").content.decode()
    assert "<script>" not in html.replace(" ", "") or "src=" in html


# --- rate limits ----------------------------------------------------------------------------------


def test_rate_limits_per_token_and_per_ingest_key(make_workspace, member_client, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"api": "3/min", "ingest": "2/min"})
    workspace, key = make_workspace("acme")
    one, two = member_client(workspace, username="one"), member_client(workspace, username="two")
    url = "/api/v1/workspaces/acme/home/summary"
    assert [one.get(url).status_code for _ in range(3)] == [200, 200, 200]
    limited = one.get(url)
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert two.get(url).status_code == 200  # another token has its own allowance

    batch = json.dumps(
        {"events": [{"user": "u1", "feature": "Leads", "action": "view", "timestamp": "2025-10-06T09:00:00Z"}]}
    )

    def post(k):
        return Client().post(
            "/api/v1/events/batch", batch, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {k}"
        )

    assert [post(key).status_code for _ in range(2)] == [200, 200]
    refused = post(key)
    assert refused.status_code == 429 and "Retry-After" in refused
    _, other_key = IngestKey.issue(workspace, label="second")
    assert post(other_key).status_code == 200


# --- deactivation and keys ------------------------------------------------------------------------


def test_deactivating_a_user_ends_their_sessions_and_tokens(dana, workspace):
    Membership.objects.create(workspace=workspace, user=dana, role="viewer")
    browser = Client()
    assert login(browser, "dana", PASSWORD).status_code == 302
    _, token = AuthToken.objects.create(dana, expiry=timedelta(days=1))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(f"/api/v1/workspaces/{workspace.slug}/home/summary").status_code == 200

    dana.is_active = False
    dana.save()
    assert not AuthToken.objects.filter(user=dana).exists()
    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(dana.pk)]
    assert api.get(f"/api/v1/workspaces/{workspace.slug}/home/summary").status_code == 401
    assert browser.get(f"/w/{workspace.slug}/").status_code == 302  # back to the login page


def test_a_rotated_key_works_through_the_grace_period_then_stops(make_workspace):
    workspace, old = make_workspace("acme")
    key = IngestKey.objects.get(workspace=workspace)
    _, new = key.rotate(grace=timedelta(hours=24))
    batch = json.dumps(
        {"events": [{"user": "u1", "feature": "Leads", "action": "view", "timestamp": "2025-10-06T09:00:00Z"}]}
    )

    def post(k):
        return Client().post(
            "/api/v1/events/batch", batch, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {k}"
        )

    assert post(old).status_code == 200 and post(new).status_code == 200
    IngestKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert post(old).status_code == 401 and post(new).status_code == 200
    assert IngestKey.objects.get(hint=new[:10]).label == key.label


# --- audit ------------------------------------------------------------------------------------------


def test_saved_config_changes_are_audited_and_visible_to_admins_only(workspace, member_client):
    journeys(workspace, [("u1", "2025-10-06T09:00:00+00:00", "Leads", "view")])
    analyst = member_client(workspace, role="analyst", username="ana")
    admin = member_client(workspace, role="admin", username="boss")
    base = f"/api/v1/workspaces/{workspace.slug}/filter-sets/"
    pk = analyst.post(
        base, {"name": "Leads users", "conditions": {"features": [{"feature": "Leads"}]}}, format="json"
    ).json()["id"]
    analyst.patch(f"{base}{pk}/", {"visibility": "workspace"}, format="json")
    analyst.patch(f"{base}{pk}/", {"name": "Lead users"}, format="json")
    analyst.delete(f"{base}{pk}/")
    entries = admin.get(f"/api/v1/workspaces/{workspace.slug}/audit").json()["results"]
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("ana", "deleted"),
        ("ana", "updated"),
        ("ana", "shared"),
        ("ana", "created"),
    ]
    assert entries[1]["changes"]["name"] == ["Leads users", "Lead users"]
    assert analyst.get(f"/api/v1/workspaces/{workspace.slug}/audit").status_code == 403


def test_key_rotation_and_role_changes_in_the_admin_are_audited(workspace, admin_client, django_user_model):
    key = IngestKey.objects.get(workspace=workspace)
    response = admin_client.post(
        "/admin/tenancy/ingestkey/", {"action": "rotate", "_selected_action": [key.pk]}, follow=True
    )
    assert "will not be shown again" in response.content.decode()
    viewer = django_user_model.objects.create_user("vic")
    membership = Membership.objects.create(workspace=workspace, user=viewer, role="viewer")
    admin_client.post(
        f"/admin/tenancy/membership/{membership.pk}/change/",
        {"workspace": workspace.pk, "user": viewer.pk, "role": "analyst"},
    )
    actions = list(AuditEntry.objects.filter(workspace=workspace).values_list("action", flat=True))
    assert actions == ["role_changed", "key_rotated"]
    assert AuditEntry.objects.get(action="role_changed").changes["role"] == ["viewer", "analyst"]


# --- roles in the admin ------------------------------------------------------------------------------


@pytest.fixture
def staff_admin(django_user_model, make_workspace):
    mine, _ = make_workspace("mine")
    theirs, _ = make_workspace("theirs")
    user = django_user_model.objects.create_user("staffer", password=PASSWORD, is_staff=True)
    Membership.objects.create(workspace=mine, user=user, role="admin")
    Membership.objects.create(workspace=theirs, user=user, role="viewer")
    client = Client()
    client.force_login(user)
    return client, mine, theirs, user


def test_staff_administer_only_their_workspaces_in_the_admin(staff_admin):
    client, mine, theirs, _ = staff_admin
    listing = client.get("/admin/tenancy/workspace/").content.decode()
    assert f"/admin/tenancy/workspace/{mine.pk}/change/" in listing
    assert f"/admin/tenancy/workspace/{theirs.pk}/change/" not in listing
    assert client.get(f"/admin/tenancy/workspace/{mine.pk}/change/").status_code == 200
    assert client.get(f"/admin/tenancy/workspace/{theirs.pk}/change/").status_code == 404
    their_key = IngestKey.objects.get(workspace=theirs)
    assert client.get(f"/admin/tenancy/ingestkey/{their_key.pk}/change/").status_code == 404


def test_saved_configs_in_the_admin_follow_the_api_rules(staff_admin, django_user_model):
    client, mine, _, user = staff_admin
    other = django_user_model.objects.create_user("other")
    private = FilterSet.objects.create(workspace=mine, owner=other, name="Other's private")
    shared = FilterSet.objects.create(workspace=mine, owner=other, name="Shared", visibility="workspace")
    assert client.get(f"/admin/useranalysis/filterset/{private.pk}/change/").status_code == 404
    assert client.get(f"/admin/useranalysis/filterset/{shared.pk}/change/").status_code == 200  # admin of mine
    Membership.objects.filter(user=user, workspace=mine).update(role="viewer")
    page = client.get(f"/admin/useranalysis/filterset/{shared.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()  # read-only
    assert client.post(f"/admin/useranalysis/filterset/{shared.pk}/delete/", {"post": "yes"}).status_code == 403
    assert FilterSet.objects.filter(pk=shared.pk).exists()
