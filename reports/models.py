"""A report built in the background: the analysis report of a long period (more than
``REPORT_IN_REQUEST_DAYS``), computed by a Celery task and kept for download."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenancy.models import Workspace

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
