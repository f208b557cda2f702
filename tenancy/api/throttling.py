"""Rate limits: per ingest key on the ingest endpoints, per API token (or session) elsewhere.

DRF's SimpleRateThrottle keeps the request history in Django's default cache, so with
REDIS_CACHE_URL every web process shares the same counts; a throttled request gets 429 with
Retry-After.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from tenancy.models import IngestKey


class IngestKeyRateThrottle(SimpleRateThrottle):
    scope = "ingest"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, IngestKey):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return None  # unauthenticated: refused with 401 anyway


class ApiTokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, IngestKey):
            return None  # the ingest views count per key
        digest = getattr(request.auth, "digest", None)  # a knox token: limit each token on its own
        if digest:
            ident = f"token-{digest[:32]}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
