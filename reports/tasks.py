"""Celery task of the reports: build one analysis report in the background (a thin wrapper)."""

from __future__ import annotations

from celery import shared_task

from reports.services import report_run_build


@shared_task
def build_report_task(run_id: int) -> str:
    return report_run_build(run_id)
