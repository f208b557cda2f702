"""``manage.py refresh_rollups --workspace SLUG [--full]``: recompute rollups synchronously."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from events.management.commands._importing import workspace_get
from events.rollups import rollups_rebuild, rollups_refresh_dirty
from tenancy.models import Workspace


class Command(BaseCommand):
    help = (
        "Recompute the rollups of the days marked dirty by ingestion, or with --full every day from the "
        "raw events (also repairs sessions that ran on for more than a day). Runs in this process."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--workspace", metavar="SLUG")
        target.add_argument("--all-workspaces", action="store_true", help="Every workspace, one after the other.")
        parser.add_argument("--full", action="store_true", help="Rebuild every day, not only the dirty ones.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["all_workspaces"]:
            workspaces = list(Workspace.objects.order_by("slug"))
        else:
            workspaces = [workspace_get(options["workspace"])]
        for workspace in workspaces:
            started = time.monotonic()
            if options["full"]:
                count = rollups_rebuild(workspace=workspace)
                what = f"rebuilt every rollup: {count} day(s)" if count else "no events: rollups cleared"
            else:
                days = rollups_refresh_dirty(workspace=workspace)
                what = (
                    f"refreshed {len(days)} dirty day(s) ({days[0]} … {days[-1]})"
                    if days
                    else "no dirty day to refresh"
                )
            self.stdout.write(f"{workspace.slug}: {what} in {time.monotonic() - started:.1f} s.")
