"""System checks of our own, run by ``manage.py check --deploy``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def shared_cache_for_rate_limits(app_configs: Any, **kwargs: Any) -> list[Warning]:
    backend = settings.CACHES["default"]["BACKEND"]
    if "locmem" in backend or "dummy" in backend:
        return [
            Warning(
                "Rate limits and login lock-outs are counted in the default cache, which is per process.",
                hint="Set REDIS_CACHE_URL (e.g. redis://redis:6379/1) so that every web process shares them.",
                id="crm_usage.W001",
            )
        ]
    return []
