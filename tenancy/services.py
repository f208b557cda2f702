"""Writes of the tenancy area: workspaces, memberships, the audit trail, personal API tokens.

Every write that changes who may do what is recorded in the audit trail by ``audit_record``, called
from here, the API, the admin and the management commands alike.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from knox.models import AuthToken

from tenancy.models import AuditEntry, IngestKey, Membership, Workspace

MAX_TOKEN_DAYS = 3650


def workspace_create(
    *,
    slug: str,
    name: str = "",
    timezone_name: str = "UTC",
    session_timeout_minutes: int = 15,
    currency: str = "USD",
) -> tuple[Workspace, str]:
    """Create a workspace with its first ingest key; return both (the raw key is shown once)."""
    with transaction.atomic():
        workspace = Workspace(
            slug=slug,
            name=name or slug,
            timezone=timezone_name,
            session_timeout_minutes=session_timeout_minutes,
            currency=currency,
        )
        workspace.full_clean()
        workspace.save()
        _, raw_key = IngestKey.issue(workspace)
    return workspace, raw_key


def membership_set(*, workspace: Workspace, user: Any, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": role})
    return membership


# --- members, as a workspace admin manages them (the members page) -------------------------------------


class MembershipRefused(ValueError):
    """A change to the members that is not allowed; the message says why (shown to the admin)."""


def _refuse_if_last_admin(membership: Membership) -> None:
    """A workspace keeps at least one admin member: the last one can be neither demoted nor removed.
    Called inside the write's transaction, with the workspace's admin rows locked, so that two admins
    demoting each other at once cannot both succeed."""
    if membership.role != Membership.Role.ADMIN:
        return
    admins = list(
        Membership.objects.select_for_update()
        .filter(workspace_id=membership.workspace_id, role=Membership.Role.ADMIN)
        .values_list("pk", flat=True)
    )
    if admins == [membership.pk]:
        raise MembershipRefused(
            gettext("%(user)s is the last admin of this workspace: make another member an admin first.")
            % {"user": membership.user.get_username()}
        )


def membership_add(*, workspace: Workspace, actor: Any, user: Any, role: str) -> Membership:
    """Make an existing Django user a member with ``role``, audited (as the admin records a new
    member: a role change from nothing)."""
    with transaction.atomic():
        if Membership.objects.filter(workspace=workspace, user=user).exists():
            raise MembershipRefused(
                gettext("%(user)s is already a member of this workspace.") % {"user": user.get_username()}
            )
        membership = Membership.objects.create(workspace=workspace, user=user, role=role)
        audit_record(
            workspace=workspace,
            actor=actor,
            action=AuditEntry.Action.ROLE_CHANGED,
            target=membership,
            changes={"user": user.get_username(), "role": [None, role]},
        )
    return membership


def membership_change_role(*, membership: Membership, actor: Any, role: str) -> bool:
    """Give a member another role, audited; False when it is the role they have."""
    with transaction.atomic():
        membership = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
        if membership.role == role:
            return False
        if role != Membership.Role.ADMIN:
            _refuse_if_last_admin(membership)
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit_record(
            workspace=membership.workspace,
            actor=actor,
            action=AuditEntry.Action.ROLE_CHANGED,
            target=membership,
            changes={"user": membership.user.get_username(), "role": [before, role]},
        )
    return True


def membership_remove(*, membership: Membership, actor: Any) -> None:
    """Remove a member from the workspace, audited (their Django user stays)."""
    with transaction.atomic():
        membership = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
        _refuse_if_last_admin(membership)
        audit_record(
            workspace=membership.workspace,
            actor=actor,
            action=AuditEntry.Action.MEMBER_REMOVED,
            target=membership,
            changes={"user": membership.user.get_username(), "role": membership.role},
        )
        membership.delete()


# --- the audit trail ---------------------------------------------------------------------------------


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
    """Record a create, edit, share or delete of a saved configuration (funnel, filter set).

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


# --- ingest keys ---------------------------------------------------------------------------------------


def ingest_key_issue(*, workspace: Workspace, actor: Any, label: str) -> tuple[IngestKey, str]:
    """A new ingest key for the workspace, audited; the raw key is returned to be shown once."""
    key, raw = IngestKey.issue(workspace, label=label)
    audit_record(workspace=workspace, actor=actor, action=AuditEntry.Action.KEY_ISSUED, target=key)
    return key, raw


def ingest_key_revoke(*, key: IngestKey, actor: Any) -> bool:
    """Revoke a key now, audited: the next batch sent with it gets 401. False when it already was."""
    revoked = IngestKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if revoked:
        key.refresh_from_db(fields=["revoked_at"])
        audit_record(workspace=key.workspace, actor=actor, action=AuditEntry.Action.KEY_REVOKED, target=key)
    return bool(revoked)


# --- personal API tokens (django-rest-knox) --------------------------------------------------------------
# Knox stores only a digest of each token, so a token is shown once, when it is created. The page at
# ``/account/tokens/`` and ``manage.py create_api_token`` both go through these functions.


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
