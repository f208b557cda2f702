"""The domain model (DESIGN.md §2): workspaces, CRM users, the feature catalog, raw events and the
rollups derived from them.

Timestamps are stored in UTC; a *day* (``date`` columns on rollups) is a calendar day in the
workspace's time zone.
"""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
    created_at = models.DateTimeField(auto_now_add=True)
    # A new value in every transaction that changes the rollups: results cached under the old one are
    # never served again (useranalysis.services).
    rollups_version = models.UUIDField(null=True, editable=False)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="workspaces")

    class Meta:
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


class CrmUser(models.Model):
    """A person who uses the CRM (not a login of this application)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")
        DEACTIVATED = "deactivated", _("Deactivated")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="crm_users")
    external_id = models.CharField(max_length=128)
    email = models.EmailField(blank=True, default="")
    name = models.CharField(max_length=200, blank=True, default="")
    language = models.CharField(max_length=16, blank=True, default="")
    country = models.CharField(max_length=64, blank=True, default="")
    timezone = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    role = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Registration in the CRM; unknown means 'before any period'.")
    )
    # The user's bit in FeatureDay.user_bits: 0, 1, 2… per workspace, in creation order, so the
    # bitmaps stay as short as the workspace's user count. Given by the rollups to the users that
    # lack one (events.rollups.user_bits_assign), whatever path created them. The last number can
    # be given again only after its user is erased, which clears that user's bits first.
    bit_index = models.PositiveIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["external_id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "external_id"], name="crmuser_unique_external_id"),
            models.UniqueConstraint(fields=["workspace", "bit_index"], name="crmuser_unique_bit_index"),
        ]
        indexes = [models.Index(fields=["workspace", "email"], name="crmuser_email")]

    def __str__(self) -> str:
        return self.name or self.email or self.external_id


class Feature(models.Model):
    """The catalog of what can be analysed (Leads, Calendar, Web forms…)."""

    class Type(models.TextChoices):
        GENERAL = "general", _("General")
        USER_CONTROL = "user_control", _("User control")
        AUTOMATION = "automation", _("Automation")
        CHANNEL = "channel", _("Channel")
        MODULE = "module", _("Module")
        CUSTOM = "custom", _("Custom")
        REPORTS = "reports", _("Reports and analytics")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="features")
    key = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True, default="")
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.CUSTOM)
    auto_created = models.BooleanField(
        default=False, help_text=_("Created because a client sent an unknown feature; review its name and type.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="feature_unique_key")]

    def __str__(self) -> str:
        return self.name or self.key


class FeatureAction(models.Model):
    """A (feature, action, detail) combination seen in the workspace's events.

    Kept up to date by ingestion (an insert per new combination, ignored when known), so the
    dependent pickers (feature → action → detail) and the checks for an unknown action or detail
    never scan events or rollups.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="actions")
    action = models.CharField(max_length=64)
    detail = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ["feature", "action", "detail"]
        constraints = [
            models.UniqueConstraint(fields=["feature", "action", "detail"], name="featureaction_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.feature_id}/{self.action}/{self.detail}"


action_validator = RegexValidator(r"^[A-Za-z0-9_.:-]+$", _("Letters, digits, _ . : - only."))


class Event(models.Model):
    """One interaction of a CRM user with a feature. The system of record: rollups derive from it.

    On PostgreSQL the table is range-partitioned by month of ``occurred_at`` (migration 0016,
    ``events.partitions``): retention drops whole months, and a time range reads only its months.
    Its primary key there is ``(id, occurred_at)``, as a partitioned table's unique keys must hold
    the partition key; ``id`` still comes from one sequence. For the same reason the uuid of an event
    is kept unique by ``EventKey``, not by this table.
    """

    # No database-level foreign keys and no single-column indexes on the three references: checking
    # three keys per row at commit cost 44 % of a bulk import (bench/README.md). Every event is
    # written by events_ingest, which resolves the user and feature ids in the same transaction;
    # Django still applies on_delete itself. The composite indexes below lead with workspace and
    # crm_user, so the single-column ones were never used.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    uuid = models.CharField(max_length=64, help_text=_("Client-chosen idempotency key, unique per workspace."))
    crm_user = models.ForeignKey(
        CrmUser, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    feature = models.ForeignKey(
        Feature, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    action = models.CharField(max_length=64)
    detail = models.CharField(max_length=128, blank=True, default="")
    record_id = models.CharField(max_length=128, blank=True, default="")
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    properties = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [
            # Day refreshes read one workspace's events in a time range.
            models.Index(fields=["workspace", "occurred_at"], name="event_ws_time"),
            # Sessions and funnels walk one user's events in time order.
            models.Index(fields=["crm_user", "occurred_at"], name="event_user_time"),
            # Funnels read only their steps' events: one range per (feature, action), index-only (the
            # user is the last key column rather than INCLUDE'd, which SQLite does not support).
            models.Index(fields=["workspace", "feature", "action", "occurred_at", "crm_user"], name="event_step_time"),
        ]

    def __str__(self) -> str:
        return f"{self.feature_id}/{self.action} by {self.crm_user_id} at {self.occurred_at:%Y-%m-%d %H:%M}"


class EventKey(models.Model):
    """The uuids a workspace has stored: ingestion's idempotency check.

    A unique index on the monthly-partitioned events table would have to include the event's time,
    and a uuid resent with another time would then be stored twice. Ingestion inserts the key first
    (``ON CONFLICT DO NOTHING``, in the same transaction as the event), so the event is stored only
    if its key was new. ``occurred_at`` lets retention prune the keys of events it removed: older
    events are refused at ingestion anyway. Erasing a CRM user keeps their keys (a uuid carries no
    personal data), so a resend cannot bring erased events back.
    """

    pk = models.CompositePrimaryKey("workspace_id", "uuid")
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    uuid = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.workspace_id}/{self.uuid}"


class DirtyDay(models.Model):
    """A (workspace, local day) whose rollups are out of date because events arrived for it.

    Every mark writes a fresh ``token``; a refresh deletes only the marks whose token it saw, so a
    mark made while a refresh runs survives and is picked up by the next one.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    token = models.CharField(max_length=32)
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "day"], name="dirtyday_unique")]

    def __str__(self) -> str:
        return f"{self.day} of workspace {self.workspace_id}"


# Rollup rows are derived data, written only by events.rollups from rows whose keys exist, and
# removed by Django's own on_delete handling: database foreign keys on them would only add a check
# per row at every refresh's commit (most of an incremental refresh's commit time).


class UserFeatureDay(models.Model):
    """Finest rollup: events per (workspace, local day, user, feature, action, detail)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    day = models.DateField()
    crm_user = models.ForeignKey(CrmUser, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    action = models.CharField(max_length=64)
    detail = models.CharField(max_length=128, blank=True, default="")
    events = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "day", "crm_user", "feature", "action", "detail"], name="ufd_unique"
            )
        ]
        # The coarser grains answer every question without an action; this table is read only to
        # narrow by action (and detail): a trend of one action, a filter-set condition on one. The
        # index carries the user and the events, so that per-user sums of one action (a filter-set
        # condition) are an index-only scan: the rows of one action are scattered over the heap,
        # one page each (20k heap pages for a month of one action at 10M events).
        indexes = [
            models.Index(
                fields=["workspace", "feature", "action", "day"],
                include=["crm_user", "events"],
                name="ufd_feature_action_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} user {self.crm_user_id} feature {self.feature_id} {self.action}: {self.events}"


class UserFeatureDayTotal(models.Model):
    """Per (workspace, local day, user, feature): events over every action and detail.

    A third the rows of ``UserFeatureDay`` on realistic data; what per-user feature questions read
    (Hub frequency, trends of distinct users by week or month, filtered tabs, filter sets)."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    day = models.DateField()
    crm_user = models.ForeignKey(CrmUser, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    events = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "day", "crm_user", "feature"], name="ufdt_unique")]
        indexes = [models.Index(fields=["workspace", "feature", "day"], name="ufdt_feature_day")]

    def __str__(self) -> str:
        return f"{self.day} user {self.crm_user_id} feature {self.feature_id}: {self.events}"


class FeatureDay(models.Model):
    """Per (workspace, local day, feature): events and distinct users. Features × days rows, however
    many events: what Home, Activity and Trends read when no user filter narrows them."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    day = models.DateField()
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    events = models.PositiveIntegerField()
    users = models.PositiveIntegerField()
    # Which users: bit n (byte n // 8, bit n % 8, as PostgreSQL's get_bit numbers them, i.e. Python's
    # int.from_bytes(…, "little")) is the user whose bit_index is n. Distinct users over any period
    # are then the bits of the OR of its days' bitmaps: features × days rows, for a period cut
    # anywhere, however many users × features × months of use the period covers.
    user_bits = models.BinaryField(default=b"")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "day", "feature"], name="featureday_unique")]

    def __str__(self) -> str:
        return f"{self.day} feature {self.feature_id}: {self.events} events, {self.users} users"


class UserFeatureMonth(models.Model):
    """Per (workspace, local month, user, feature): which days of the month the user used the
    feature, as a bitmask (bit 0 = the 1st).

    "How many distinct users (or features) in this period" cannot be summed from daily rows; this
    answers it from users × features × months rows, so the cost does not grow with the events:
    a pair counts if any of its days in the period is set (``days & mask <> 0``)."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    month = models.DateField(help_text=_("First day of the local month."))
    crm_user = models.ForeignKey(CrmUser, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    days = models.IntegerField(help_text=_("Bit d−1 set if used on day d of the month."))
    events = models.PositiveIntegerField(default=0, help_text=_("Events in the month."))
    # ``events_01`` … ``events_31`` (added below the class): the events of each day of the month.
    # With them, a user's events on a feature over any period are read from users × months rows, as
    # the sum of the period's days, not from one daily row per day of use: the read does not grow
    # when users are active on more days (a period cut mid-month read up to 30 daily rows per user).

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "month", "crm_user", "feature"], name="ufm_unique")]
        indexes = [
            # One feature's rows of some months (a range per month), and, with the day bits carried
            # in the index (PostgreSQL; SQLite builds it without them), the pairs with a day in a
            # period that cuts a month as an index-only scan: the rows are wide with their 31 day
            # columns and scattered over the table (users per feature over May 17 – June 15 at 10M
            # events: 139 → 75 ms).
            models.Index(
                fields=["workspace", "month", "feature", "crm_user"], include=["days"], name="ufm_month_feature"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} user {self.crm_user_id} feature {self.feature_id}: {self.days:#x}"

    @staticmethod
    def day_field(day: int) -> str:
        """The column of the events on day ``day`` (1–31) of the month."""
        return f"events_{day:02}"


for _day in range(1, 32):
    # Plain integers, not PositiveIntegerField: 31 CHECK constraints per row would slow every refresh.
    UserFeatureMonth.add_to_class(UserFeatureMonth.day_field(_day), models.IntegerField(default=0))


class FeatureMonth(models.Model):
    """Per (workspace, local month, feature): distinct users and events, from the month's
    UserFeatureMonth rows. Features × months rows: how many people used each feature in a calendar
    month, without counting the month's users × features pairs (79,000 rows for June at 10M events).

    Users are distinct within the month only: a period of several months, or one the months' edges
    cut, still counts pairs from UserFeatureMonth."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    month = models.DateField(help_text=_("First day of the local month."))
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    users = models.PositiveIntegerField()
    events = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "month", "feature"], name="featuremonth_unique")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} feature {self.feature_id}: {self.users} users, {self.events} events"


class UserDay(models.Model):
    """Per (workspace, local day, user): interactions, and the sessions that *start* that day."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    day = models.DateField()
    crm_user = models.ForeignKey(CrmUser, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    events = models.PositiveIntegerField(default=0, help_text=_("Interactions on this day."))
    sessions = models.PositiveIntegerField(default=0, help_text=_("Sessions starting on this day."))
    session_seconds = models.FloatField(default=0, help_text=_("Total duration of those sessions."))
    first_event_at = models.DateTimeField(null=True)
    last_event_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "day", "crm_user"], name="userday_unique")]
        indexes = [models.Index(fields=["crm_user", "day"], name="userday_user_day")]

    def __str__(self) -> str:
        return f"{self.day} user {self.crm_user_id}: {self.events} events, {self.sessions} sessions"


class UserMonth(models.Model):
    """Per (workspace, local month, user): the days with an event as a bitmask, and the month's
    totals of the UserDay figures.

    A period's per-user sums read these users × months rows plus, for a month the period cuts, the
    smaller side of it in UserDay (``periods.month_split``), so they grow with users and months, not
    with how many days each user is active; distinct active users and attendance days come from the
    bits alone."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    month = models.DateField(help_text=_("First day of the local month."))
    crm_user = models.ForeignKey(CrmUser, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    days = models.IntegerField(help_text=_("Bit d−1 set if active on day d of the month."))
    events = models.PositiveIntegerField()
    sessions = models.PositiveIntegerField()
    session_seconds = models.FloatField()
    last_event_at = models.DateTimeField()
    # ``events_01`` … ``events_31`` (added below the class), as in UserFeatureMonth: a user's
    # interactions over a period that cuts a month are the sum of its days in one row, not up to
    # half a month of UserDay rows (top users over a period ending mid-month at 10M events).

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "month", "crm_user"], name="usermonth_unique")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} user {self.crm_user_id}: {self.days:#x}, {self.events} events"

    day_field = UserFeatureMonth.day_field


for _day in range(1, 32):
    UserMonth.add_to_class(UserMonth.day_field(_day), models.IntegerField(default=0))
del _day


class WorkspaceDay(models.Model):
    """Per (workspace, local day): interactions and active users. One row a day, however many users
    and events: what Home's totals, weekly interactions and attendance calendar read unfiltered."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    day = models.DateField()
    events = models.PositiveIntegerField()
    users = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "day"], name="workspaceday_unique")]

    def __str__(self) -> str:
        return f"{self.day}: {self.events} events, {self.users} users"


class Session(models.Model):
    """One session (DESIGN.md §3); ``day`` is the local day it starts on, even if it crosses midnight."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    crm_user = models.ForeignKey(CrmUser, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    day = models.DateField()
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    events = models.PositiveIntegerField()

    class Meta:
        # Not unique: a lone logout and the next event in the same instant are two sessions that
        # start together.
        indexes = [
            models.Index(fields=["workspace", "day"], name="session_ws_day"),
            models.Index(fields=["crm_user", "started_at"], name="session_user_start"),
        ]

    def __str__(self) -> str:
        return f"user {self.crm_user_id} {self.started_at:%Y-%m-%d %H:%M}–{self.ended_at:%H:%M}"

    @property
    def duration_seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()


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
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["workspace", "-created_at"], name="audit_ws_time")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target_type} {self.target_repr}"
