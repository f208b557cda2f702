"""Personal API tokens (``Authorization: Token <token>``), built on django-rest-knox.

Knox stores only a digest of each token, so a token is shown once, when it is created. The page at
``/account/tokens/`` and ``manage.py create_api_token`` both go through these functions.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from knox.models import AuthToken

MAX_TOKEN_DAYS = 3650


def api_token_create(*, user: Any, days: int | None = None) -> tuple[AuthToken, str]:
    """Create a token expiring in ``days`` (default ``API_TOKEN_DEFAULT_DAYS``); return it with its secret."""
    days = settings.API_TOKEN_DEFAULT_DAYS if days is None else days
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValueError(f"A token lasts 1 to {MAX_TOKEN_DAYS} days, not {days}.")
    if not user.is_active:
        raise ValueError("An inactive user cannot have API tokens.")
    return AuthToken.objects.create(user, expiry=timedelta(days=days))


def api_tokens_of(*, user: Any) -> QuerySet[AuthToken]:
    """The user's tokens that still work, newest first (expired ones are removed as knox would)."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    return AuthToken.objects.filter(user=user).order_by("-created")


def api_token_revoke(*, user: Any, token_key: str) -> int:
    """Revoke the user's token(s) with this key prefix; return how many were revoked."""
    deleted, _ = AuthToken.objects.filter(user=user, token_key=token_key).delete()
    return deleted
