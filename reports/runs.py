"""Starting a background report (``ReportRun``): the views call this; the task builds it
(``reports.services.report_run_build``)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.utils import translation

from reports.models import ReportRun
from reports.tasks import build_report_task


def report_run_start(*, workspace: Any, user: Any, query: Any) -> Any:
    """A background report of this query for this person: the one already asked for (not failed),
    or a new one queued for a worker (run at once without a broker)."""
    params = dict(query.params(format=None).lists())
    language = translation.get_language() or "en"
    key = hashlib.sha256(json.dumps([params, language], sort_keys=True).encode()).hexdigest()
    existing = (
        ReportRun.objects.filter(workspace=workspace, requested_by=user, key=key)
        .exclude(status=ReportRun.Status.FAILED)
        .order_by("-created_at")
        .first()
    )
    if existing is not None:
        return existing
    run = ReportRun.objects.create(workspace=workspace, requested_by=user, params=params, language=language, key=key)
    transaction.on_commit(lambda: build_report_task.delay(run.pk))
    return run
