"""Recording the audit trail (events.models.AuditEntry). One function, called by the API, the admin
and the management commands alike."""

from __future__ import annotations

from typing import Any

from django.db import models

from events.models import AuditEntry, Workspace


def audit_record(
    *,
    workspace: Workspace,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        workspace=workspace,
        actor=user,
        actor_name=user.get_username() if user else "system",
        action=action,
        target_type=target_type or (str(target._meta.model_name) if target is not None else ""),
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        changes=changes or {},
    )


def saved_config_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """{field: [old, new]} for the fields that differ."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}
