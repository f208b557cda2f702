"""The events area's model (docs/metrics.md): CRM users, the feature catalog, raw events and the
rollups derived from them. Workspaces and their members live in ``tenancy``.

Timestamps are stored in UTC; a *day* (``date`` columns on rollups) is a calendar day in the
workspace's time zone.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenancy.models import Workspace


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


class Outcome(models.TextChoices):
    SUCCESS = "success", _("success")
    FAILURE = "failure", _("failure")


class Device(models.TextChoices):
    DESKTOP = "desktop", _("desktop")
    MOBILE = "mobile", _("mobile")
    TABLET = "tablet", _("tablet")
    API = "api", _("API")
    OTHER = "other", _("other")


MAX_DURATION_MS = 86_400_000  # a day


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
    # What the operation came to, all optional ("" or NULL: unknown). db_default, so that rows
    # written by plain SQL that does not name these columns (a COPY of the older columns) still go in.
    outcome = models.CharField(max_length=7, blank=True, default="", db_default="", choices=Outcome.choices)
    error_code = models.CharField(max_length=64, blank=True, default="", db_default="")
    duration_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("How long the operation took, in milliseconds (0 to 86,400,000).")
    )
    device = models.CharField(max_length=7, blank=True, default="", db_default="", choices=Device.choices)

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


class FeatureActionHour(models.Model):
    """Per (workspace, local day, local hour, feature, action): events, events with a known outcome,
    failures. The hour × weekday heatmap of one feature and the hours of a failure spike read it.
    The repeated hour of a DST fall-back is one row (both runs of that hour count in it)."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    day = models.DateField()
    hour = models.PositiveSmallIntegerField()  # 0–23, local wall-clock hour
    feature = models.ForeignKey(
        Feature, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    action = models.CharField(max_length=64)
    events = models.PositiveIntegerField()
    outcomes = models.PositiveIntegerField()  # events whose outcome is known
    failures = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "day", "feature", "action", "hour"], name="featureactionhour_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.hour:02d}h feature {self.feature_id}/{self.action}: {self.events} events"


class WorkspaceHour(models.Model):
    """Per (workspace, local day, local hour): events, known outcomes, failures, from
    ``FeatureActionHour``. 24 rows a day: what the unfiltered heatmap reads."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    events = models.PositiveIntegerField()
    outcomes = models.PositiveIntegerField()
    failures = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "day", "hour"], name="workspacehour_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.hour:02d}h: {self.events} events, {self.failures} failures"


class FeatureActionDay(models.Model):
    """Per (workspace, local day, feature, action): events, known outcomes, failures, and the
    durations as a histogram (``events.durations``: bucket index → events), so that the failure rate
    and the median and 90th-percentile duration of any period come from features × actions × days
    rows, within 5 % of the exact durations."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    day = models.DateField()
    feature = models.ForeignKey(
        Feature, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    action = models.CharField(max_length=64)
    events = models.PositiveIntegerField()
    outcomes = models.PositiveIntegerField()
    failures = models.PositiveIntegerField()
    durations = models.PositiveIntegerField()  # events with a duration
    duration_buckets = models.JSONField(default=dict)  # {"bucket index": events}

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "day", "feature", "action"], name="featureactionday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} feature {self.feature_id}/{self.action}: {self.failures}/{self.outcomes} failed"


class Session(models.Model):
    """One session (docs/metrics.md#sessions); ``day`` is the local day it starts on, even if it crosses midnight."""

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
