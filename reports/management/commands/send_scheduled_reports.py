"""``manage.py send_scheduled_reports [--now ISO]``: email every scheduled report whose latest slot at
or before now is unsent (reports.schedules; Celery beat runs it every 10 minutes). Safe to run twice or
in two processes at once: a slot is sent once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from reports.schedules import send_due


def parse_now(value: str | None) -> datetime:
    """An ISO 8601 instant (without an offset: UTC); default the current time."""
    if not value:
        return timezone.now()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--now: not an ISO 8601 date and time: {value!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Command(BaseCommand):
    help = "Email the scheduled reports that are due (the latest slot of each, once; no catch-up)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help="Act as if it were this instant (ISO 8601; without an offset, UTC).")

    def handle(self, *args: Any, **options: Any) -> None:
        now = parse_now(options.get("now"))
        results = send_due(now)
        for result in results:
            line = f"schedule {result.schedule_id}: slot {result.slot.isoformat()}, {result.sent} email(s) sent"
            self.stdout.write(line + (f"; errors: {result.error}" if result.error else ""))
        self.stdout.write(f"{len(results)} scheduled report(s) sent at {now.isoformat()}")
