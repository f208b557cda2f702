"""Rate limits that hold however many tokens a user makes, guessing credentials slowed per client,
and clients told apart behind a trusted proxy (issue 17; docs/api.md#rate-limits)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from knox.models import AuthToken
from rest_framework.throttling import SimpleRateThrottle

from tenancy.models import Membership

pytestmark = pytest.mark.django_db

URL = "/api/v1/workspaces/acme/home/summary"
BATCH = json.dumps(
    {"events": [{"user": "u1", "feature": "Leads", "action": "view", "timestamp": "2025-10-06T09:00:00Z"}]}
)


@pytest.fixture
def rates(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"api": "3/min", "ingest": "100/min", "auth_failure": "3/min"}
    )


def token_for(user) -> str:
    return AuthToken.objects.create(user)[1]


def get(token: str, address: str = "10.0.0.1", **headers: str):
    return Client(REMOTE_ADDR=address).get(URL, HTTP_AUTHORIZATION=f"Token {token}", **headers)


def test_the_limit_is_per_user_across_all_their_tokens(rates, workspace) -> None:
    dana = get_user_model().objects.create_user(username="dana")
    Membership.objects.create(workspace=workspace, user=dana)
    tokens = [token_for(dana) for _ in range(4)]  # a new token per request: still one allowance
    assert [get(token).status_code for token in tokens] == [200, 200, 200, 429]


def test_wrong_tokens_are_slowed_per_client_address(rates, workspace) -> None:
    dana = get_user_model().objects.create_user(username="dana")
    Membership.objects.create(workspace=workspace, user=dana)
    good = token_for(dana)
    guesses = [get(f"cum_guess{n}", address="10.0.0.9").status_code for n in range(4)]
    assert guesses == [401, 401, 401, 429]
    refused = get(good, address="10.0.0.9")  # even a right token, from the guessing address, waits
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert get(good, address="10.0.0.2").status_code == 200  # another client is not slowed


def test_wrong_ingest_keys_are_slowed_per_client_address(rates, make_workspace) -> None:
    _, key = make_workspace("acme")

    def post(secret: str, address: str):
        return Client(REMOTE_ADDR=address).post(
            "/api/v1/events/batch", BATCH, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
        )

    assert [post("ik_guess", "10.0.0.9").status_code for _ in range(4)] == [401, 401, 401, 429]
    assert post(key, "10.0.0.3").status_code == 200


def test_behind_a_trusted_proxy_clients_are_told_apart(rates, workspace, settings) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.254"  # every request reaches the app from the proxy
    guesses = [get(f"cum_guess{n}", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code for n in range(4)]
    assert guesses == [401, 401, 401, 429]
    other = get("cum_other", address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.4")
    assert other.status_code == 401  # another client behind the same proxy is not slowed
