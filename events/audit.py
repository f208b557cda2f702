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


def audit_saved_config(*, actor: Any, instance: Any, before: dict[str, Any] | None, deleted: bool = False) -> None:
    """Record a create, edit, share or delete of a saved funnel or filter set.

    ``before`` is the field values before an edit (None for a creation); sharing is an edit that
    changes only the visibility.
    """
    if deleted:
        action = AuditEntry.Action.DELETED
        changes: dict[str, Any] = {}
    elif before is None:
        action, changes = AuditEntry.Action.CREATED, {"visibility": instance.visibility}
    else:
        after = {f.name: f.value_from_object(instance) for f in instance._meta.concrete_fields}
        changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v and k != "updated_at"}
        action = AuditEntry.Action.SHARED if set(changes) == {"visibility"} else AuditEntry.Action.UPDATED
        changes = {k: [_plain(a), _plain(b)] for k, (a, b) in changes.items()}
    audit_record(workspace=instance.workspace, actor=actor, action=action, target=instance, changes=changes)


def _plain(value: Any) -> Any:
    """A value the audit's JSON column can hold (dates and the like as text)."""
    return value if isinstance(value, str | int | float | bool | list | dict | type(None)) else str(value)


def field_values(instance: Any) -> dict[str, Any]:
    return {f.name: f.value_from_object(instance) for f in instance._meta.concrete_fields}
