"""Authentication: CRM integrations by workspace ingest key (``Authorization: Bearer <key>``), people by
personal API token (``Authorization: Token <token>``); both count their failures per client address."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from tenancy.api.throttling import FailedAuthenticationThrottle
from tenancy.models import IngestKey

# Writing last_used_at on every batch would turn each read-only lookup into a write; a minute of
# precision is plenty for "when was this key last used".
LAST_USED_PRECISION = timedelta(minutes=1)


class CountedFailures:
    """Authentication that counts its failures per client address (``FailedAuthenticationThrottle``):
    a client past the rate gets a 429 before its credentials are even looked at."""

    def authenticate(self, request: Request) -> Any:
        throttle = FailedAuthenticationThrottle()
        if get_authorization_header(request):
            throttle.check(request)
        try:
            return self.check_credentials(request)
        except exceptions.AuthenticationFailed:
            throttle.record(request)
            raise

    def check_credentials(self, request: Request) -> Any:
        raise NotImplementedError


class TokenAuthentication(CountedFailures, KnoxTokenAuthentication):
    """A personal API token (``Authorization: Token <token>``, django-rest-knox)."""

    def check_credentials(self, request: Request) -> Any:
        return KnoxTokenAuthentication.authenticate(self, request)


class IngestKeyAuthentication(CountedFailures, BaseAuthentication):
    keyword = "Bearer"

    def check_credentials(self, request: Request) -> tuple[Any, IngestKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header: use 'Bearer <ingest key>'.")
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid ingest key.") from None
        key = IngestKey.objects.active().select_related("workspace").filter(digest=IngestKey.digest_of(raw)).first()
        if key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked ingest key.")
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_PRECISION:
            IngestKey.objects.filter(pk=key.pk).filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
            ).update(last_used_at=now)
        return AnonymousUser(), key

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="ingest"'


class HasIngestKey(BasePermission):
    message = "Send the workspace's ingest key: 'Authorization: Bearer <ingest key>'."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, IngestKey)


class IngestKeyScheme(OpenApiAuthenticationExtension):
    """Documents the ingest key as an HTTP bearer scheme in /api/v1/schema/."""

    target_class = "tenancy.api.auth.IngestKeyAuthentication"
    name = "ingestKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "The workspace's ingest key."}


class PersonalTokenScheme(KnoxTokenScheme):
    """Documents the personal API token in /api/v1/schema/ as knox's own scheme does."""

    target_class = "tenancy.api.auth.TokenAuthentication"
