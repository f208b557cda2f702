"""``manage.py evaluate_alerts [--now ISO] [--workspace SLUG]``: the alerts due at ``now`` (docs/alerts.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from alerts.services import alerts_evaluate
from tenancy.models import Workspace


def parse_now(text: str) -> datetime:
    """An ISO 8601 instant; without an offset, UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"--now must be an ISO 8601 date and time, e.g. 2026-03-05T08:30:00+08:00, not {text!r}."
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Evaluate the alerts due at --now (default: now): each alert once per clock hour (hourly) or local day "
        "(daily); running again, or in two processes at once, evaluates nothing twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help="The evaluation time, ISO 8601 (without an offset: UTC); default now.")
        parser.add_argument("--workspace", help="Only this workspace's alerts (its slug).")

    def handle(self, *args: Any, **options: Any) -> None:
        now = parse_now(options["now"]) if options["now"] else timezone.now()
        workspace = None
        if options["workspace"]:
            workspace = Workspace.objects.filter(slug=options["workspace"]).first()
            if workspace is None:
                raise CommandError(f"No workspace {options['workspace']!r}.")
        run = alerts_evaluate(now=now, workspace=workspace)
        self.stdout.write(
            f"{run.evaluated} evaluated, {run.fired} fired, {run.skipped} already evaluated in their slot, "
            f"{run.ownerless} not evaluated (owner left the workspace), {run.failed} failed."
        )
