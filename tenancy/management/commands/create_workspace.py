"""``manage.py create_workspace SLUG``: a new workspace and its first ingest key (printed last)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError

from tenancy.models import Workspace
from tenancy.services import workspace_create


def validation_message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = (
        "Create a workspace (one CRM organisation) with its first ingest key. The key is printed alone "
        "on the last line of stdout and is not shown again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="Short name used in URLs, e.g. zylker.")
        parser.add_argument("--name", default="", help="Display name (default: the slug).")
        parser.add_argument(
            "--timezone", default="UTC", help="IANA time zone of the organisation, e.g. Asia/Shanghai (default UTC)."
        )
        parser.add_argument(
            "--session-timeout", type=int, default=15, metavar="MIN",
            help="Minutes of inactivity that end a session (default 15).",
        )  # fmt: skip
        parser.add_argument(
            "--currency", default="USD", metavar="CUR",
            help="ISO 4217 base currency of the CRM's amounts, e.g. CNY (default USD).",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["slug"]
        if Workspace.objects.filter(slug=slug).exists():
            raise CommandError(f"A workspace with slug {slug!r} already exists; choose another slug.")
        try:
            workspace, key = workspace_create(
                slug=slug,
                name=options["name"],
                timezone_name=options["timezone"],
                session_timeout_minutes=options["session_timeout"],
                currency=options["currency"],
            )
        except ValidationError as exc:
            raise CommandError(f"Cannot create workspace {slug!r}: {validation_message(exc)}") from exc
        except IntegrityError as exc:  # created concurrently between the check and the insert
            raise CommandError(f"A workspace with slug {slug!r} already exists; choose another slug.") from exc
        self.stdout.write(
            f"Created workspace {workspace.slug} ({workspace.name}), time zone {workspace.timezone}, "
            f"session timeout {workspace.session_timeout_minutes} min, currency {workspace.currency}."
        )
        self.stdout.write("Ingest key (send it as 'Authorization: Bearer <key>'; it is not shown again):")
        self.stdout.write(key)
