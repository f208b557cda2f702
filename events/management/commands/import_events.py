"""``manage.py import_events FILE --workspace SLUG``: bulk-load events from CSV or JSONL (.gz accepted).

The file is streamed: rows are validated one by one and stored ``CHUNK_SIZE`` at a time, so memory
stays flat whatever the file's size. Rollups are refreshed once, at the end, not per chunk.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import reset_queries
from django.utils import timezone

from events.management.commands._importing import (
    READ_ERRORS,
    Progress,
    RowSource,
    format_errors,
    read_error_message,
    workspace_get,
)
from events.privacy import retention_check
from events.rollups import rollups_refresh_dirty
from events.services import IngestResult, events_ingest
from events.validation import EVENT_FIELDS, EventRow, parse_event

CHUNK_SIZE = 5000
REQUIRED_COLUMNS = ("user", "feature", "action", "timestamp")


class Command(BaseCommand):
    help = (
        "Import events from a CSV file (header row: uuid,user,feature,action,detail,record_id,timestamp "
        "[,properties as JSON text]) or JSON Lines (one event object a line, as in the batch API). A .gz "
        "suffix is decompressed. Idempotent by uuid. A bad row is reported on stderr with its line number "
        "and skipped. Rollups are refreshed at the end unless --no-refresh. Prints "
        "'imported=N duplicates=N rejected=N' last."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A .csv or .jsonl/.ndjson/.json file, optionally .gz.")
        parser.add_argument("--workspace", required=True, metavar="SLUG")
        parser.add_argument(
            "--no-refresh", action="store_true",
            help="Leave the imported days marked dirty (a worker or refresh_rollups recomputes them later).",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = workspace_get(options["workspace"])
        total, rejected = IngestResult(), 0
        pending: list[EventRow] = []
        failure: str | None = None
        started = time.monotonic()
        too_old = retention_check(workspace)

        def flush() -> None:
            if pending:
                total.add(events_ingest(workspace=workspace, rows=pending, enqueue_refresh=False))
                pending.clear()
                reset_queries()  # with DEBUG on, Django would keep every statement of a long import

        source = RowSource(
            options["file"], fields=EVENT_FIELDS, required=REQUIRED_COLUMNS, json_columns=("properties",)
        )
        with source:
            if source.format == "csv" and "uuid" not in source.columns:
                self.stderr.write(
                    "warning: no uuid column: every event gets a random uuid, so importing this file again "
                    "would store its events twice."
                )
            progress = Progress(self.stderr, source)
            now = timezone.now()  # the "not more than 1 day in the future" check; renewed per chunk
            try:
                for line, raw, errors in source:
                    row: EventRow | None = None
                    if raw is not None:
                        row, errors = parse_event(raw, now=now)
                        if row is not None and (old := too_old(row)):
                            row, errors = None, old
                    if row is None:
                        rejected += 1
                        for message in format_errors(line, errors):
                            progress.write(message)
                        continue
                    pending.append(row)
                    if len(pending) >= CHUNK_SIZE:
                        flush()
                        now = timezone.now()
                        progress.update(imported=total.accepted, duplicates=total.duplicates, rejected=rejected)
            except READ_ERRORS as exc:
                failure = read_error_message(source, exc)
            finally:
                progress.close()
        flush()
        elapsed = time.monotonic() - started
        rows = total.accepted + total.duplicates
        self.stdout.write(f"Stored {rows} row(s) in {elapsed:.1f} s ({rows / max(elapsed, 1e-6):,.0f} rows/s).")

        if total.days and options["no_refresh"]:
            self.stdout.write(
                f"Rollups not refreshed: {len(total.days)} day(s) stay marked dirty "
                f"(run: manage.py refresh_rollups --workspace {workspace.slug})."
            )
        elif not options["no_refresh"]:
            refresh_started = time.monotonic()
            days = rollups_refresh_dirty(workspace=workspace)
            if days:
                self.stdout.write(
                    f"Refreshed rollups of {len(days)} day(s) ({days[0]} … {days[-1]}) "
                    f"in {time.monotonic() - refresh_started:.1f} s."
                )
        self.stdout.write(f"imported={total.accepted} duplicates={total.duplicates} rejected={rejected}")
        if failure:
            raise CommandError(f"{failure} The rows before it were imported (see the counts above).")
