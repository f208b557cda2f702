"""``manage.py refresh_records --workspace SLUG [--full]``: bring the records' aggregates up to date now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from events.management.commands._importing import workspace_get
from records.aggregates import figures_rebuild, figures_refresh_dirty


class Command(BaseCommand):
    help = (
        "Recompute the aggregates of the CRM records that batches marked dirty (with --full: every aggregate "
        "of the workspace, from scratch)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, metavar="SLUG")
        parser.add_argument("--full", action="store_true", help="Rebuild every aggregate from scratch.")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = workspace_get(options["workspace"])
        if options["full"]:
            figures_rebuild(workspace=workspace)
            self.stdout.write(f"Rebuilt every record aggregate of {workspace.slug}.")
        else:
            keys = figures_refresh_dirty(workspace=workspace)
            self.stdout.write(f"Refreshed {keys} dirty key(s) of {workspace.slug}.")
