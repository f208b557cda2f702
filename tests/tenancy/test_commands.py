"""manage.py create_workspace and create_api_token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import execute_from_command_line
from django.core.management.base import CommandError
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tenancy.models import IngestKey, Membership, Workspace
from tests.conftest import run

pytestmark = pytest.mark.django_db


# --- create_workspace ------------------------------------------------------------------------------


def test_create_workspace_prints_the_ingest_key_last() -> None:
    lines, _ = run(
        "create_workspace", "acme", "--name", "Acme Inc", "--timezone", "Asia/Shanghai", "--session-timeout", "20"
    )

    workspace = Workspace.objects.get(slug="acme")
    assert (workspace.name, workspace.timezone, workspace.session_timeout_minutes) == ("Acme Inc", "Asia/Shanghai", 20)
    key = lines[-1]
    assert key.startswith("ik_") and " " not in key
    assert IngestKey.objects.get(digest=IngestKey.digest_of(key)).workspace == workspace


def test_create_workspace_defaults() -> None:
    run("create_workspace", "plain")
    workspace = Workspace.objects.get(slug="plain")
    assert (workspace.name, workspace.timezone, workspace.session_timeout_minutes) == ("plain", "UTC", 15)


def test_create_workspace_refuses_an_existing_slug(workspace: Workspace) -> None:
    with pytest.raises(CommandError, match="'acme' already exists"):
        run("create_workspace", "acme")
    assert Workspace.objects.filter(slug="acme").count() == 1


def test_create_workspace_exits_non_zero_on_an_existing_slug(workspace: Workspace, capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(["manage.py", "create_workspace", "acme"])
    assert exit_info.value.code != 0
    assert "already exists" in capsys.readouterr().err


def test_create_workspace_refuses_an_unknown_time_zone() -> None:
    with pytest.raises(CommandError, match="timezone: Mars/Olympus is not an IANA time zone name"):
        run("create_workspace", "mars", "--timezone", "Mars/Olympus")
    assert not Workspace.objects.filter(slug="mars").exists()


# --- create_api_token ------------------------------------------------------------------------------


def test_create_api_token_authenticates_a_member(workspace: Workspace) -> None:
    user = get_user_model().objects.create_user("ana", password="x")
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.VIEWER)

    lines, _ = run("create_api_token", "ana", "--days", "7")

    token = lines[-1]
    assert " " not in token
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/workspaces/acme/home/summary").status_code == 200
    expiry = AuthToken.objects.get(user=user).expiry
    assert abs(expiry - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get("/api/v1/workspaces/acme/home/summary").status_code == 401


def test_create_api_token_defaults_to_90_days(settings: Any) -> None:
    user = get_user_model().objects.create_user("ana")
    run("create_api_token", "ana")
    expiry = AuthToken.objects.get(user=user).expiry
    days = settings.API_TOKEN_DEFAULT_DAYS
    assert days == 90
    assert abs(expiry - (timezone.now() + timedelta(days=days))) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody"], "No user named 'nobody'"),
        (["sleepy"], "inactive"),
        (["ana", "--days", "0"], "between 1 and 3650"),
        (["ana", "--days", "3651"], "between 1 and 3650"),
    ],
)
def test_create_api_token_errors(args: list[str], message: str) -> None:
    get_user_model().objects.create_user("ana")
    get_user_model().objects.create_user("sleepy", is_active=False)
    with pytest.raises(CommandError, match=message):
        run("create_api_token", *args)
    assert not AuthToken.objects.exists()
