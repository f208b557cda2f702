"""Celery beat's entry to the alerts (crm_usage.settings CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from alerts.services import alerts_evaluate


@shared_task(ignore_result=True)
def evaluate_alerts_task() -> None:
    """The alerts due now; a retry or a second worker evaluates nothing twice (alerts.services)."""
    alerts_evaluate(now=timezone.now())
