"""``manage.py import_events FILE --workspace SLUG``: bulk-load events from CSV or JSONL (.gz accepted).

The file is streamed: rows are read and validated ``CHUNK_SIZE`` at a time and handed to an
``EventBulkWriter``, so memory stays flat whatever the file's size. Rollups are refreshed once, at
the end, not per chunk.

CSV chunks take a fast path first: ``event_columns_fast`` checks the chunk column by column and
accepts it when every row is plainly valid. A chunk with anything unusual (an error, a blank or
padded cell, properties…) is checked row by row with ``parse_event``, which reports each bad row
with its line number; its good rows are stored all the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from itertools import chain, islice, repeat
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import reset_queries
from django.utils import timezone

from events.management.commands._importing import (
    READ_ERRORS,
    TOO_LONG,
    Errors,
    LineReader,
    Progress,
    RowSource,
    csv_raw,
    csv_records,
    format_errors,
    read_error_message,
    split_lines,
    workspace_get,
)
from events.periods import local_midnight_utc
from events.privacy import retention_check
from events.rollups import rollups_refresh_dirty
from events.services import EventBulkWriter, IngestResult
from events.validation import EVENT_FIELDS, EventRow, event_columns_fast, parse_event
from tenancy.models import Workspace

CHUNK_SIZE = 5000
READ_BLOCK = 1 << 16  # characters of CSV text per read (tests make it small to cross its edges)
REQUIRED_COLUMNS = ("user", "feature", "action", "timestamp")


def retention_cutoff(workspace: Workspace) -> datetime | None:
    """The first moment whose events the workspace keeps (``retention_check``'s cut-off), or None."""
    start = workspace.retention_start()
    return local_midnight_utc(start, workspace.tzinfo) if start is not None else None


class CsvLines(list[str]):
    """A chunk of CSV lines without quotes or carriage returns: one row a line, and a row's cells are
    exactly what ``line.split(",")`` gives (what the csv reader would give)."""

    def columns(self, names: Sequence[str]) -> dict[str, Sequence[str]] | None:
        """name → the chunk's values, when every line has one value per column (else None)."""
        width = len(names)
        if set(map(str.count, self, repeat(","))) != {width - 1}:
            return None
        cells = ",".join(self).split(",")
        return {name: cells[i::width] for i, name in enumerate(names)}

    def cells(self, i: int) -> list[str]:
        line = self[i]
        return line.split(",") if line else []

    def line_numbers(self, before: int) -> range:
        return range(before + 1, before + 1 + len(self))


class CsvRows(list[list[str]]):
    """A chunk of CSV records with the line number of each (its last line: a quoted value can span
    lines) and the messages of the lines that are not records (a stray quote, a line too long)."""

    numbers: list[int]
    errors: dict[int, str]  # index in the chunk → message

    def uniform(self, names: Sequence[str]) -> bool:
        return not self.errors and set(map(len, self)) == {len(names)}

    def line_numbers(self, before: int) -> list[int]:
        return self.numbers


def csv_chunks(source: RowSource, accept: Callable[[list[str]], bool]) -> Iterator[tuple[int, CsvLines | CsvRows]]:
    """The rows of RowSource's CSV file past the header, ``CHUNK_SIZE`` (or so) at a time, with the
    line number before each chunk; ``source.line`` follows.

    Text comes in blocks of whole lines (``LineReader``, which skips a line over ``MAX_LINE``) and
    is split into lines while it has no quote and no carriage return (the common case, and several
    times cheaper than parsing CSV); from the first block that has one (or a line too long), the rest
    of the file goes through ``csv_records``, which takes a quote left open for a line break in a
    value only while the row is one ``accept`` takes. A read error is raised after the chunks read
    before it.
    """
    text = source._text
    assert text is not None
    line, pending = source.line, CsvLines()
    chunks = LineReader(text, source.line, READ_BLOCK).chunks()
    rest: tuple[int, str] | None = None
    try:
        for first, data in chunks:
            if data is TOO_LONG or '"' in data or "\r" in data:
                rest = (first, data)
                break
            lines = data.split("\n")
            if lines[-1] == "":
                lines.pop()  # after the last line break
            pending += lines
            while len(pending) >= CHUNK_SIZE:
                chunk, pending = CsvLines(pending[:CHUNK_SIZE]), CsvLines(pending[CHUNK_SIZE:])
                yield line, chunk
                line += len(chunk)
                source.line = line
    except READ_ERRORS:
        if pending:
            yield line, pending
            source.line = line + len(pending)
        raise
    if pending:
        yield line, pending
        line += len(pending)
        source.line = line
    if rest is None:
        return
    # From here on record by record; a read error still keeps the rows read before it.
    records = csv_records(split_lines(chain([rest], chunks)), accept)
    while True:
        rows = CsvRows()
        rows.numbers, rows.errors = [], {}
        error: BaseException | None = None
        try:
            for number, cells, message in islice(records, CHUNK_SIZE):
                if message is not None:
                    rows.errors[len(rows)] = message
                rows.append(cells or [])
                rows.numbers.append(number)
        except READ_ERRORS as exc:
            error = exc
        if rows:
            yield line, rows
            line = rows.numbers[-1]
            source.line = line
        if error is not None:
            raise error
        if len(rows) < CHUNK_SIZE:
            return


class Command(BaseCommand):
    help = (
        "Import events from a CSV file (header row: uuid,user,feature,action,detail,record_id,timestamp "
        "[,properties as JSON text][,outcome,error_code,duration_ms,device]) or JSON Lines (one event object a line, as in the batch API). A .gz "
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
        self.rejected = 0
        failure: str | None = None
        started = time.monotonic()
        self.too_old = retention_check(workspace)

        source = RowSource(
            options["file"], fields=EVENT_FIELDS, required=REQUIRED_COLUMNS, json_columns=("properties",)
        )
        with source, EventBulkWriter(workspace) as writer:
            if source.format == "csv" and "uuid" not in source.columns:
                self.stderr.write(
                    "warning: no uuid column: every event gets a random uuid, so importing this file again "
                    "would store its events twice."
                )
            self.progress = Progress(self.stderr, source)
            try:
                if source.format == "csv":
                    self.read_csv(source, writer, retention_cutoff(workspace))
                else:
                    self.read_rows(source, writer)
            except READ_ERRORS as exc:
                failure = read_error_message(source, exc)
            finally:
                self.progress.close()
            total = writer.close()
        elapsed = time.monotonic() - started
        rows = total.accepted + total.duplicates
        self.stdout.write(
            f"Read {rows} valid row(s) in {elapsed:.1f} s ({rows / max(elapsed, 1e-6):,.0f} rows/s): "
            f"{total.accepted} new, {total.duplicates} already stored."
        )

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
        self.stdout.write(f"imported={total.accepted} duplicates={total.duplicates} rejected={self.rejected}")
        if failure:
            raise CommandError(f"{failure} The rows before it were imported (see the counts above).")

    def check_row(self, line: int, raw: dict[str, Any] | None, errors: Errors, now: datetime) -> EventRow | None:
        """The row's event, or None after reporting its errors."""
        row: EventRow | None = None
        if raw is not None:
            row, errors = parse_event(raw, now=now)
            if row is not None and (old := self.too_old(row)):
                row, errors = None, old
        if row is None:
            self.report(line, errors)
        return row

    def report(self, line: int, errors: Errors) -> None:
        self.rejected += 1
        for message in format_errors(line, errors):
            self.progress.write(message)

    def chunk_done(self, writer: EventBulkWriter) -> None:
        reset_queries()  # with DEBUG on, Django would keep every statement of a long import
        total: IngestResult = writer.result
        self.progress.update(imported=total.accepted, duplicates=total.duplicates, rejected=self.rejected)

    def read_csv(self, source: RowSource, writer: EventBulkWriter, not_before: datetime | None) -> None:
        """CSV, a chunk of rows at a time: the column checks of the fast path, else row by row."""
        columns = source.columns
        json_columns = [name for name in columns if name in source.json_columns]
        now = timezone.now()

        def accept(cells: list[str]) -> bool:  # a row that spans lines is kept only if valid
            raw, _errors = csv_raw(columns, json_columns, cells)
            return raw is not None and parse_event(raw, now=now)[0] is not None

        for line, rows in csv_chunks(source, accept):
            now = timezone.now()  # the "not more than 1 day in the future" check
            if isinstance(rows, CsvLines):  # one row a line, no quotes: cells are what split(",") gives
                by_name = rows.columns(columns)
                cells_of: Any = rows.cells
            else:
                by_name = dict(zip(columns, zip(*rows, strict=True), strict=True)) if rows.uniform(columns) else None
                cells_of = rows.__getitem__
            cols = event_columns_fast(by_name, len(rows), now=now, not_before=not_before) if by_name else None
            if cols is not None:
                writer.add(cols)
            else:
                good = []
                not_rows = rows.errors if isinstance(rows, CsvRows) else {}
                for i, number in enumerate(rows.line_numbers(line)):
                    if i in not_rows:
                        self.report(number, {"non_field_errors": [not_rows[i]]})
                        continue
                    raw, errors = csv_raw(columns, json_columns, cells_of(i))
                    if raw is None and not errors:
                        continue  # a blank line
                    if (row := self.check_row(number, raw, errors, now)) is not None:
                        good.append(row)
                writer.add_rows(good)
            self.chunk_done(writer)

    def read_rows(self, source: RowSource, writer: EventBulkWriter) -> None:
        """JSON Lines (and anything else RowSource reads), row by row."""
        pending: list[EventRow] = []
        now = timezone.now()
        for line, raw, errors in source:
            row = self.check_row(line, raw, errors, now)
            if row is None:
                continue
            pending.append(row)
            if len(pending) >= CHUNK_SIZE:
                writer.add_rows(pending)
                pending = []
                now = timezone.now()
                self.chunk_done(writer)
        writer.add_rows(pending)
