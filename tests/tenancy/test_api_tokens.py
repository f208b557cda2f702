"""The personal API token page: create (shown once), use, revoke."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client, django_user_model, workspace):
    user = django_user_model.objects.create_user("dana", password="a-Long-Enough-Pass-42")
    workspace.memberships.create(user=user, role="viewer")
    client.force_login(user)
    return user


def test_login_is_required(client):
    response = client.get("/account/tokens/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_create_use_and_revoke_a_token(client, member, workspace):
    assert "You have no API tokens" in client.get("/account/tokens/").content.decode()
    page = client.post("/account/tokens/", {"action": "create", "days": "7"}).content.decode()
    secret = re.search(r'<code id="new-token">([^<]+)</code>', page).group(1)
    assert "not shown again" in page
    token = AuthToken.objects.get(user=member)
    assert secret not in token.digest  # stored hashed
    assert abs((token.expiry - token.created) - timedelta(days=7)) < timedelta(minutes=1)

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get(f"/api/v1/workspaces/{workspace.slug}/home/summary").status_code == 200
    # The list shows the token by its prefix, never the secret again.
    listing = client.get("/account/tokens/").content.decode()
    assert token.token_key in listing and secret not in listing

    client.post("/account/tokens/", {"action": "revoke", "token_key": token.token_key})
    assert not AuthToken.objects.filter(user=member).exists()
    assert api.get(f"/api/v1/workspaces/{workspace.slug}/home/summary").status_code == 401


@pytest.mark.parametrize("days", ["0", "5000", "soon", ""])
def test_a_bad_expiry_is_explained(client, member, days):
    response = client.post("/account/tokens/", {"action": "create", "days": days})
    assert response.status_code == 400
    assert 'class="field__errors"' in response.content.decode()
    assert not AuthToken.objects.exists()


def test_one_cannot_revoke_someone_elses_token(client, member, django_user_model):
    other = django_user_model.objects.create_user("eve")
    instance, _ = AuthToken.objects.create(other, expiry=None)
    client.post("/account/tokens/", {"action": "revoke", "token_key": instance.token_key})
    assert AuthToken.objects.filter(user=other).exists()
