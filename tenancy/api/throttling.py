"""Rate limits: per ingest key on the ingest endpoints, per user elsewhere, and failed authentications
per client address.

DRF's SimpleRateThrottle keeps the request history in Django's default cache, so with
REDIS_CACHE_URL every web process shares the same counts; a throttled request gets 429 with
Retry-After.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import Throttled
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
    """Per Django user, across all their tokens and their browser session (a user may create any
    number of tokens, so a limit per token would be none); an anonymous request per client address."""

    scope = "api"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, IngestKey):
            return None  # the ingest views count per key
        if request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class FailedAuthenticationThrottle(SimpleRateThrottle):
    """Wrong or unknown credentials, counted per client address (``AUTH_FAILURE_RATE``): past the
    rate, every attempt from that address is a 429 until the window passes, right or wrong, so
    guessing tokens or ingest keys costs the guesser time. Used by the authentication classes
    (``tenancy.api.auth``): DRF's throttles run only after authentication has succeeded."""

    scope = "auth_failure"
    num_requests: int
    duration: int

    def get_rate(self) -> str | None:
        return self.THROTTLE_RATES.get(self.scope)  # not set: no limit

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def check(self, request: Request) -> None:
        """A 429 if the client has failed too often lately (nothing is counted here)."""
        if self.rate is None:
            return
        self.key = self.get_cache_key(request, None)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            raise Throttled(wait=self.wait())

    def record(self, request: Request) -> None:
        """Count one failure of this client."""
        if self.rate is None:
            return
        self.key = self.get_cache_key(request, None)
        self.now = self.timer()
        history = [t for t in self.cache.get(self.key, []) if t > self.now - self.duration]
        history.insert(0, self.now)
        self.cache.set(self.key, history, self.duration)
