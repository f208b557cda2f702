"""Celery tasks of the reports (thin wrappers): build one analysis report in the background; send the
scheduled reports that are due (Celery beat, every 10 minutes)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from reports.schedules import send_due
from reports.services import report_run_build


@shared_task
def build_report_task(run_id: int) -> str:
    return report_run_build(run_id)


@shared_task
def send_scheduled_reports_task() -> int:
    return len(send_due(timezone.now()))
