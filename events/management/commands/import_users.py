"""``manage.py import_users FILE --workspace SLUG``: upsert CRM users from CSV or JSONL (.gz accepted)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import reset_queries

from events.management.commands._importing import (
    READ_ERRORS,
    Progress,
    RowSource,
    format_errors,
    read_error_message,
    workspace_get,
)
from events.services import UserUpsertResult, crm_users_upsert
from events.validation import USER_FIELDS, parse_user

CHUNK_SIZE = 1000


class Command(BaseCommand):
    help = (
        "Insert or update CRM users by external_id from a CSV file (header row; columns: "
        f"{', '.join(USER_FIELDS)}; any subset with external_id; an empty cell keeps the stored value) "
        "or JSON Lines (one user object a line). A .gz suffix is decompressed. Bad rows are reported on "
        "stderr with their line number and skipped. Prints 'created=N updated=N rejected=N' last."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A .csv or .jsonl/.ndjson/.json file, optionally .gz.")
        parser.add_argument("--workspace", required=True, metavar="SLUG")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = workspace_get(options["workspace"])
        tz = workspace.tzinfo
        total, rejected = UserUpsertResult(), 0
        pending: list[dict[str, Any]] = []
        failure: str | None = None

        def flush() -> None:
            if pending:
                result = crm_users_upsert(workspace=workspace, rows=pending)
                total.created += result.created
                total.updated += result.updated
                pending.clear()
                reset_queries()  # with DEBUG on, Django would keep every statement of a long import

        source = RowSource(options["file"], fields=USER_FIELDS, required=("external_id",))
        with source:
            progress = Progress(self.stderr, source)
            try:
                for line, raw, errors in source:
                    row = None
                    if raw is not None:
                        row, errors = parse_user(raw, tz=tz)
                    if row is None:
                        rejected += 1
                        for message in format_errors(line, errors):
                            progress.write(message)
                        continue
                    pending.append(row)
                    if len(pending) >= CHUNK_SIZE:
                        flush()
                        progress.update(created=total.created, updated=total.updated, rejected=rejected)
            except READ_ERRORS as exc:
                failure = read_error_message(source, exc)
            finally:
                progress.close()
        flush()
        self.stdout.write(f"created={total.created} updated={total.updated} rejected={rejected}")
        if failure:
            raise CommandError(f"{failure} The rows before it were imported (see the counts above).")
