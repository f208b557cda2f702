"""Signals of the tenancy area.

- Deactivating a Django user ends their access at once: API tokens deleted, sessions deleted.
  (Django already refuses an inactive user's session on the next request; deleting the rows makes
  the end visible and leaves nothing behind.)
- ``day_boundaries_changed``: a workspace's day boundaries moved (see below).
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.models import Session
from django.dispatch import Signal
from django.utils import timezone
from knox.models import AuthToken


def end_access_of_deactivated_user(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.is_active or instance.pk is None:
        return
    AuthToken.objects.filter(user=instance).delete()
    user_id = str(instance.pk)
    stale = [
        s.session_key
        for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if s.get_decoded().get("_auth_user_id") == user_id
    ]
    Session.objects.filter(session_key__in=stale).delete()


# Sent (with ``workspace_id``) when a workspace's time zone or session timeout changes: every day
# boundary and session moves, so whatever was derived by day (the events' rollups) must be rebuilt.
# The events app listens; tenancy knows nothing of rollups.
day_boundaries_changed = Signal()
