"""``manage.py import_records KIND FILE --workspace SLUG``: upsert CRM records from CSV or JSONL (.gz
accepted), as the records batch endpoint does (docs/records.md#ingestion)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.management.commands._importing import (
    READ_ERRORS,
    ChunkWriter,
    Progress,
    RowSource,
    format_errors,
    read_error_message,
    workspace_get,
)
from records.aggregates import figures_refresh_dirty
from records.labelling import feedback_label_pending
from records.services import (
    Prepared,
    References,
    UpsertResult,
    enqueue_feedback_labelling,
    enqueue_figures_refresh,
    prepare_chunk,
    records_tables_analyze,
    records_upsert,
)
from records.validation import FIELDS, JSON_COLUMNS, KINDS, parse_record

CHUNK_SIZE = 5000


class Command(BaseCommand):
    help = (
        "Insert or update CRM records of KIND (accounts, products, deals, activities, targets, surveys, contracts, "
        "retention-spend, feedback) by external_id "
        "from a CSV file (header row naming the fields; a deal's line_items and stage_history as JSON text; an "
        "empty cell keeps the stored value) or JSON Lines (one object a line). A .gz suffix is decompressed. Bad "
        "rows are reported on stderr with their line number and skipped. Prints 'created=N updated=N rejected=N' "
        "last. Import accounts and products before deals, deals before activities: references must exist."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("file", help="A .csv or .jsonl/.ndjson/.json file, optionally .gz.")
        parser.add_argument("--workspace", required=True, metavar="SLUG")
        parser.add_argument(
            "--no-refresh", action="store_true",
            help=(
                "Leave the aggregates (and the labels of feedback) to a worker, enqueued, instead of "
                "computing them here at the end."
            ),
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        kind = options["kind"]
        workspace = workspace_get(options["workspace"])
        tz = workspace.tzinfo
        total = UpsertResult()
        rejected = 0
        pending: list[tuple[int, dict[str, Any]]] = []
        references = References()  # ids of referred records, resolved once per import
        failure: str | None = None
        source = RowSource(options["file"], fields=FIELDS[kind], required=("external_id",), json_columns=JSON_COLUMNS)

        def store(chunk: tuple[list[tuple[int, dict[str, Any]]], Prepared]) -> UpsertResult:
            items, prepared = chunk
            return records_upsert(
                workspace=workspace, kind=kind, items=items, enqueue_refresh=False, references=references,
                prepared=prepared,
            )  # fmt: skip

        def report(results: list[UpsertResult]) -> None:
            nonlocal rejected
            for result in results:
                total.created += result.created
                total.updated += result.updated
                rejected += len(result.rejected)
                for item in result.rejected:
                    for message in format_errors(item["index"], item["errors"]):
                        progress.write(message)

        writer: ChunkWriter[tuple[list[tuple[int, dict[str, Any]]], Prepared], UpsertResult] = ChunkWriter(store)

        def submit(items: list[tuple[int, dict[str, Any]]]) -> None:
            # Made ready here, on the reading thread, while the writer stores the chunk before.
            report(writer.submit((items, prepare_chunk(workspace, kind, items, references))))

        with source:
            progress = Progress(self.stderr, source)
            try:
                for line, raw, errors in source:
                    row = None
                    if raw is not None:
                        row, errors = parse_record(kind, raw, tz=tz)
                    if row is None:
                        rejected += 1
                        for message in format_errors(line, errors):
                            progress.write(message)
                        continue
                    pending.append((line, row))  # the line number stands for the index
                    if len(pending) >= CHUNK_SIZE:
                        submit(pending)
                        pending = []
                        progress.update(created=total.created, updated=total.updated, rejected=rejected)
            except READ_ERRORS as exc:
                failure = read_error_message(source, exc)
            finally:
                try:
                    if pending:
                        submit(pending)
                finally:
                    report(writer.close())
                progress.close()
        # The planner's statistics of what was loaded, before any refresh reads it (docs/records.md).
        records_tables_analyze([kind])
        # Once at the end rather than after every chunk; with --no-refresh, a worker's job.
        if options["no_refresh"]:
            enqueue_figures_refresh(workspace.id)
            if kind == "feedback":
                enqueue_feedback_labelling(workspace.id)
        else:
            if kind == "feedback":  # first: the labels mark the accounts the refresh then reads
                feedback_label_pending(workspace=workspace)
            figures_refresh_dirty(workspace=workspace)
        self.stdout.write(f"created={total.created} updated={total.updated} rejected={rejected}")
        if failure:
            raise CommandError(f"{failure} The rows before it were imported (see the counts above).")
