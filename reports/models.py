"""A report built in the background: the analysis report of a long period (more than
``REPORT_IN_REQUEST_DAYS``), computed by a Celery task and kept for download."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tenancy.models import SavedConfig, Workspace

# A report of up to this many days is built in the request; a longer one by a worker.
REPORT_IN_REQUEST_DAYS = 92


class ReportRun(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The report's query as URL parameters (period and user filters), and the language it is written in.
    params = models.JSONField()
    language = models.CharField(max_length=16, default="en")
    key = models.CharField(
        max_length=64, help_text=_("Digest of the parameters and the language: one run per request.")
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    html = models.TextField(blank=True, default="")
    pdf = models.BinaryField(blank=True, default=b"")
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "requested_by", "key"], name="reportrun_key")]

    def __str__(self) -> str:
        return f"report {self.pk} of {self.workspace_id}: {self.status}"


# At most this many recipients per schedule (one email each, every slot).
MAX_RECIPIENTS = 20


class ReportSchedule(SavedConfig):
    """The analysis report or a dashboard, emailed as a PDF to ``recipients`` once per slot
    (docs/scheduled-reports.md): ``hour``:00 in the workspace's time zone, every day, on ``weekday``
    (weekly) or on ``day`` of the month (monthly; a day the month does not have: its last day)."""

    class Kind(models.TextChoices):
        ANALYSIS = "analysis", _("Analysis report")
        DASHBOARD = "dashboard", pgettext_lazy("scheduled report", "Dashboard")

    class Frequency(models.TextChoices):
        DAILY = "daily", pgettext_lazy("scheduled report", "Daily")
        WEEKLY = "weekly", pgettext_lazy("scheduled report", "Weekly")
        MONTHLY = "monthly", pgettext_lazy("scheduled report", "Monthly")

    class Language(models.TextChoices):
        EN = "en", "English"
        ZH_HANS = "zh-hans", "简体中文"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="report_schedules")
    kind = models.CharField(
        pgettext_lazy("scheduled report", "kind"), max_length=16, choices=Kind.choices, default=Kind.ANALYSIS
    )
    # A board of the same workspace the owner can see; only for kind=dashboard (null otherwise).
    dashboard = models.ForeignKey(
        "dashboards.Dashboard", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    frequency = models.CharField(
        pgettext_lazy("scheduled report", "frequency"), max_length=8, choices=Frequency.choices
    )
    weekday = models.PositiveSmallIntegerField(pgettext_lazy("scheduled report", "weekday"), null=True, blank=True, help_text=_("1 = Monday … 7 = Sunday (weekly)."))  # fmt: skip
    day = models.PositiveSmallIntegerField(pgettext_lazy("scheduled report", "day of the month"), null=True, blank=True, help_text=_("1–31 (monthly); in a shorter month, its last day."))  # fmt: skip
    hour = models.PositiveSmallIntegerField(
        pgettext_lazy("scheduled report", "hour"), help_text=_("0–23, the workspace's local time.")
    )
    recipients = models.JSONField(pgettext_lazy("scheduled report", "recipients"), default=list)
    language = models.CharField(
        pgettext_lazy("scheduled report", "language"), max_length=8, choices=Language.choices, default=Language.EN
    )
    # The latest slot emailed, claimed by a conditional UPDATE before sending: once per slot, even
    # with two senders at once.
    last_slot = models.DateTimeField(null=True, blank=True, editable=False)
    last_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, default="", editable=False)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["workspace", "visibility"], name="reportschedule_ws_visibility")]
