"""Tenancy: who may see what. A workspace is one CRM organisation; Django users are its members with
a role (admin, analyst, viewer); saved configurations (funnels, filter sets…) have an owner and a
visibility; ingest keys let a CRM write to one workspace; the audit trail records who changed what.

The tables keep the names they had when these models lived in the ``events`` app (``events_workspace``
…): moving them to their own app changed no row (migration ``tenancy.0001``).
"""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def validate_currency_code(value: str) -> None:
    """ISO 4217 (Babel's list: current and historical codes, e.g. USD, CNY, EUR)."""
    from babel.numbers import list_currencies

    if value not in list_currencies():
        raise ValidationError(_("%(value)s is not an ISO 4217 currency code (e.g. USD, CNY)."), params={"value": value})


def validate_timezone_name(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not an IANA time zone name (e.g. Asia/Shanghai)."), params={"value": value}
        )


class Workspace(models.Model):
    """One CRM organisation: its users, its events and its settings."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_timezone_name],
        help_text=_("IANA name. Day boundaries of every metric are in this zone."),
    )
    session_timeout_minutes = models.PositiveIntegerField(
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text=_("A gap longer than this between two events of a user starts a new session."),
    )
    raw_event_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(7)],
        help_text=_(
            "Delete raw events older than this many days (empty: keep them). Rollups are kept, so every tab "
            "keeps its history; funnels need raw events and only reach back this far. Older events are refused."
        ),
    )
    currency = models.CharField(
        max_length=3,
        default="USD",
        validators=[validate_currency_code],
        help_text=_("ISO 4217 base currency: every amount of the CRM's records is in it."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # A new value in every transaction that changes the rollups: results cached under the old one are
    # never served again (useranalysis.services).
    rollups_version = models.UUIDField(null=True, editable=False)
    # The CRM's records have a version per kind: records.models.RecordsVersion.
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="workspaces")

    class Meta:
        db_table = "events_workspace"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local_date(self, moment: datetime) -> date:
        """The calendar day, in this workspace's time zone, that holds ``moment``."""
        return moment.astimezone(self.tzinfo).date()

    def today(self) -> date:
        return self.local_date(timezone.now())

    def retention_start(self) -> date | None:
        """The first local day whose raw events are kept, or None when they all are."""
        if not self.raw_event_retention_days:
            return None
        return self.today() - timedelta(days=self.raw_event_retention_days)


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        ANALYST = "analyst", _("Analyst")
        VIEWER = "viewer", _("Viewer")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "events_membership"
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    @classmethod
    def role_of(cls, user: Any, workspace: Workspace) -> str | None:
        """The user's role in the workspace (superusers act as admins), or None for a non-member."""
        if user.is_superuser:
            return cls.Role.ADMIN
        return cls.objects.filter(user=user, workspace=workspace).values_list("role", flat=True).first()


class SavedConfigQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> SavedConfigQuerySet:
        """What a Django user may see: their own configs and the workspace-visible ones of the
        workspaces they belong to (superusers: everything)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        mine_or_shared = models.Q(owner=user) | models.Q(visibility=SavedConfig.Visibility.WORKSPACE)
        if user.is_superuser:  # every workspace, but a private config stays its owner's
            return self.filter(mine_or_shared)
        return self.filter(workspace__memberships__user=user).filter(mine_or_shared)


class SavedConfig(models.Model):
    """What saved funnels and filter sets share: a name, an owner and a visibility.

    ``private``: the owner only. ``workspace``: every member reads it; the owner and workspace admins
    edit or delete it (``can_edit``). Admins and analysts create them (``can_create``).
    """

    class Visibility(models.TextChoices):
        PRIVATE = "private", _("Private")
        WORKSPACE = "workspace", _("Workspace")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SavedConfigQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    CREATOR_ROLES = (Membership.Role.ADMIN, Membership.Role.ANALYST)

    @classmethod
    def can_create(cls, user: Any, workspace: Workspace) -> bool:
        return saved_config_can_create(user, workspace)

    def can_edit(self, user: Any) -> bool:
        owner_id = self.owner_id  # the FK column comes with each subclass
        return saved_config_can_edit(owner_id, self.workspace, user)

    def clean(self) -> None:
        """The owner is someone who can read it: a member of its workspace (or a superuser)."""
        super().clean()
        owner_id, workspace_id = self.owner_id, self.workspace_id
        if owner_id is None or workspace_id is None:
            return
        member = Membership.objects.filter(workspace_id=workspace_id, user_id=owner_id).exists()
        if not member and not self.owner.is_superuser:
            raise ValidationError({"owner": [_("The owner must be a member of the workspace.")]})


def saved_config_can_create(user: Any, workspace: Workspace) -> bool:
    """Workspace admins and analysts create saved funnels and filter sets."""
    return Membership.role_of(user, workspace) in SavedConfig.CREATOR_ROLES


def saved_config_can_edit(owner_id: int | None, workspace: Workspace, user: Any) -> bool:
    """The owner or a workspace admin (superusers act as admins) changes or deletes one."""
    return owner_id == user.pk or Membership.role_of(user, workspace) == Membership.Role.ADMIN


class IngestKeyQuerySet(models.QuerySet["IngestKey"]):
    def active(self) -> IngestKeyQuerySet:
        """Keys that authenticate now: not revoked, and not past the end of a rotation's grace."""
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=timezone.now())
        )


class IngestKey(models.Model):
    """A write-only secret that lets a CRM send events and users to one workspace.

    Only a SHA-256 digest is stored; the key itself is shown once, when it is created. Keys carry 256
    bits of randomness, so a fast unsalted digest is enough (no password-style stretching needed).
    """

    PREFIX = "ik_"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="ingest_keys")
    label = models.CharField(max_length=100, default="default")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters, so an admin can tell keys apart without the secret.
    hint = models.CharField(max_length=16, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Set by a rotation: the old key keeps working until then.")
    )

    objects = IngestKeyQuerySet.as_manager()

    class Meta:
        db_table = "events_ingestkey"

    def __str__(self) -> str:
        return f"{self.hint}… ({self.label})"

    @staticmethod
    def digest_of(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @classmethod
    def issue(cls, workspace: Workspace, label: str = "default") -> tuple[IngestKey, str]:
        """Create a key; return it with the raw secret, which is not stored anywhere."""
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        key = cls.objects.create(workspace=workspace, label=label, digest=cls.digest_of(raw), hint=raw[:10])
        return key, raw

    def rotate(self, grace: timedelta) -> tuple[IngestKey, str]:
        """Issue a successor with the same label; this key keeps working for ``grace`` so that every
        sender can switch over without losing a batch."""
        successor = IngestKey.issue(self.workspace, label=self.label)
        deadline = timezone.now() + grace
        if self.expires_at is None or self.expires_at > deadline:
            self.expires_at = deadline
            self.save(update_fields=["expires_at"])
        return successor


class AuditEntry(models.Model):
    """Who did what to a workspace's configuration: saved funnels and filter sets (created, shared,
    edited, deleted), ingest keys (issued, rotated, revoked) and member roles. Append-only."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Edited")
        SHARED = "shared", _("Visibility changed")
        DELETED = "deleted", _("Deleted")
        KEY_ISSUED = "key_issued", _("Ingest key issued")
        KEY_ROTATED = "key_rotated", _("Ingest key rotated")
        KEY_REVOKED = "key_revoked", _("Ingest key revoked")
        ROLE_CHANGED = "role_changed", _("Member role changed")
        MEMBER_REMOVED = "member_removed", _("Member removed")
        USER_ERASED = "user_erased", _("CRM user erased")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="audit_entries")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, default="", help_text=_("Kept if the user is deleted."))
    action = models.CharField(max_length=32, choices=Action.choices)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64, blank=True, default="")
    target_repr = models.CharField(max_length=200, blank=True, default="")
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "events_auditentry"
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["workspace", "-created_at"], name="audit_ws_time")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target_type} {self.target_repr}"
