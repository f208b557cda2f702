"""Shared plumbing of the import commands: reading CSV / JSONL files (optionally gzip-compressed) a
row at a time, reporting bad rows, and an optional progress bar.

Not a command itself (Django skips modules whose name starts with an underscore).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import os
import sys
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from django.core.management.base import CommandError, OutputWrapper
from django.db import connection, connections, reset_queries

from events.validation import json_loads_bounded
from tenancy.models import Workspace

Errors = dict[str, list[str]]

# A line longer than this (in characters, about 1 MiB of text) is rejected by its number and skipped
# without being kept in memory: a file of one 150 MiB line costs one pass and 1 MiB.
MAX_LINE = 1 << 20
READ_BLOCK = 1 << 16  # characters read at a time
# A quoted value may hold line breaks; one that would span more lines than this (or MAX_LINE
# characters) is taken for a stray quote.
MAX_LINES_IN_A_VALUE = 100
# What a field as big as a line needs from the csv module (its default limit is 128 KiB).
csv.field_size_limit(MAX_LINE + 1)


class TooLong(str):
    """Stands for a line longer than ``MAX_LINE`` (its text was skipped)."""


TOO_LONG = TooLong()
TOO_LONG_MESSAGE = f"Longer than {MAX_LINE:,} characters; the line is skipped."
NOT_UTF8_MESSAGE = "Not UTF-8 text (a byte that is not UTF-8); the line is skipped."


def not_utf8(text: str) -> bool:
    """Whether ``text`` holds bytes that were not UTF-8 (decoded with ``surrogateescape``)."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class LineReader:
    """The lines of a text stream after line ``line``, in linear time and with memory bounded by
    ``MAX_LINE``: a longer line comes as ``TOO_LONG`` (its text is skipped as it is read, never
    joined). Lines end at "\n" (a "\r" before it stays, for the csv parser)."""

    def __init__(self, text: IO[str], line: int = 0, block: int = READ_BLOCK) -> None:
        self.text, self.line, self.block = text, line, block

    def chunks(self) -> Iterator[tuple[int, str]]:
        """``(number of its first line, text)``: whole lines, each text ending with its last "\n"
        (or the file's end), read ``READ_BLOCK`` characters at a time; ``(number, TOO_LONG)`` for a
        line over ``MAX_LINE``. Read errors propagate."""
        partial: list[str] = []
        size, skipping, number = 0, False, self.line + 1
        while True:
            block = self.text.read(self.block)
            if not block:
                if skipping:
                    yield number, TOO_LONG
                elif partial:
                    yield number, "".join(partial)
                return
            cut = block.find("\n")
            if cut < 0:
                if not skipping:
                    partial.append(block)
                    size += len(block)
                    if size > MAX_LINE:
                        skipping, partial, size = True, [], 0
                continue
            last = block.rfind("\n")
            if skipping or size + cut > MAX_LINE:
                yield number, TOO_LONG
                number += 1
                data = block[cut + 1 : last + 1]
            else:
                data = "".join(partial) + block[: last + 1]
            skipping = False
            if data:
                yield number, data
                number += data.count("\n")
            tail = block[last + 1 :]
            partial, size = ([tail], len(tail)) if tail else ([], 0)

    def lines(self) -> Iterator[tuple[int, str]]:
        """``(number, line)`` one line at a time (``TOO_LONG`` for a line over ``MAX_LINE``)."""
        return split_lines(self.chunks())


def split_lines(chunks: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    for number, data in chunks:
        if data is TOO_LONG:
            yield number, TOO_LONG
            continue
        lines = data.split("\n")
        if lines[-1] == "":
            lines.pop()
        yield from enumerate(lines, start=number)


def parse_line(text: str) -> list[str]:
    """The cells of one CSV record (which may hold line breaks inside quotes), read leniently."""
    return next(csv.reader([text]), [])


def read_record(parts: Iterable[str]) -> list[str] | None:
    """The cells of one CSV record read from ``parts`` (physical lines, each ending in a line break),
    pulling only as many as the record needs; None when the parts run out inside a quoted value
    (its quote is still open). A quote inside an unquoted value is just a character, as for the
    csv module, and other slips (text after a closing quote) are read as the csv module reads them."""
    pulled: list[str] = []

    def pulling() -> Iterator[str]:
        for part in parts:
            pulled.append(part)
            yield part

    try:
        return next(csv.reader(pulling(), strict=True), [])
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            return None
        return parse_line("".join(pulled))


def csv_records(
    lines: Iterable[tuple[int, str]], accept: Callable[[list[str]], bool]
) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """CSV records from numbered physical lines: ``(line, cells, None)``, or ``(line, None, message)``
    for a line that is not a record. A record is numbered by its last line, as the csv module does.

    A quoted value left open at the end of a line goes on on the next lines (CSV allows line breaks
    in quoted values), but only while the record is one ``accept`` takes: otherwise the quote was a
    stray one, its line alone is rejected as such and the lines after it are read again as records
    of their own, so one stray quote loses one row, not the rows up to the next quote. Each line is
    parsed once per record it may start, and a record spans at most ``MAX_LINES_IN_A_VALUE`` lines
    and ``MAX_LINE`` characters: the work per line is bounded."""
    source = iter(lines)
    again: deque[tuple[int, str]] = deque()

    def record_lines(gathered: list[tuple[int, str]]) -> Iterator[str]:
        """The first line, then the following ones while the record may go on (up to the limits)."""
        size = len(gathered[0][1])
        yield gathered[0][1] + "\n"
        while True:
            following = again.popleft() if again else next(source, None)
            if following is None:
                return
            too_much = len(gathered) >= MAX_LINES_IN_A_VALUE or size + len(following[1]) > MAX_LINE
            if following[1] is TOO_LONG or too_much:
                again.appendleft(following)
                return
            gathered.append(following)
            size += len(following[1]) + 1
            yield following[1] + "\n"

    while True:
        number, text = again.popleft() if again else next(source, (0, ""))
        if not number:
            return
        if text is TOO_LONG:
            yield number, None, TOO_LONG_MESSAGE
            continue
        if text and '"' not in text and "\r" not in text:
            # No quote and no carriage return: the csv module would split at the commas, and nothing
            # can go on to the next line. Most lines are like this; a reader per line costs more.
            yield number, text.split(","), None
            continue
        gathered = [(number, text)]
        cells = read_record(record_lines(gathered))
        if cells is not None and (len(gathered) == 1 or accept(cells)):
            yield gathered[-1][0], cells, None
            continue
        yield number, None, f'An unclosed quote (") starts on line {number}; the line is skipped.'
        again.extendleft(reversed(gathered[1:]))


CSV_SUFFIXES = {".csv"}
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}

# What can go wrong while reading a file that opened fine: truncated or corrupt gzip data, bytes that
# are not UTF-8, a CSV field over the csv module's size limit, an I/O error.
READ_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, UnicodeDecodeError, csv.Error, zlib.error)


def workspace_get(slug: str) -> Workspace:
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        known = list(Workspace.objects.order_by("slug").values_list("slug", flat=True)[:10])
        hint = (
            f" Existing workspaces: {', '.join(known)}." if known else " There is no workspace yet (create_workspace)."
        )
        raise CommandError(f"No workspace with slug {slug!r}.{hint}")
    return workspace


def file_format(path: Path) -> tuple[str, bool]:
    """('csv' | 'jsonl', gzipped) from the file name: ``.csv``, ``.jsonl``/``.ndjson``/``.json``, then ``.gz``."""
    suffixes = [s.lower() for s in path.suffixes]
    gzipped = bool(suffixes) and suffixes[-1] == ".gz"
    if gzipped:
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in CSV_SUFFIXES:
        return "csv", gzipped
    if last in JSONL_SUFFIXES:
        return "jsonl", gzipped
    raise CommandError(
        f"Cannot tell the format of {path.name}: name it .csv or .jsonl (.ndjson, .json; one object a line), "
        "optionally followed by .gz."
    )


def csv_raw(
    columns: Sequence[str], json_columns: Sequence[str], cells: list[str]
) -> tuple[dict[str, Any] | None, Errors]:
    """One CSV row as an event or user dict (None for a blank line, which is skipped): blank cells
    dropped (``isspace()``: what ``strip()`` strips), a short row without its last columns, JSON
    columns decoded, too many values an error. The hot loop of a big import: one comprehension."""
    if not cells or (len(cells) == 1 and not cells[0].strip()):
        return None, {}
    # One test of the joined cells first: most rows are ASCII, and then no cell can hold a stray byte.
    if not "".join(cells).isascii() and any(map(not_utf8, cells)):
        return None, {"non_field_errors": [NOT_UTF8_MESSAGE]}
    if len(cells) > len(columns):
        return None, {"non_field_errors": [f"{len(cells)} values for {len(columns)} columns."]}
    raw: dict[str, Any] = {
        name: value for name, value in zip(columns, cells, strict=False) if value and not value.isspace()
    }
    errors: Errors = {}
    for name in json_columns:
        if name in raw:
            try:
                raw[name] = json_loads_bounded(raw[name], max_depth=None)  # depth: parse_event's limit
            except ValueError as exc:
                errors[name] = [f"Not valid JSON ({exc})."]
    return (None, errors) if errors else (raw, {})


class RowSource:
    """The rows of one file, read lazily: iterate to get ``(line_number, raw_dict_or_None, errors)``.

    CSV: the header names the fields; a missing required column or an unknown one is a
    ``CommandError`` raised by ``open()``, before any row is read. Empty (or blank) cells are dropped, so
    an absent value and an empty one mean the same (for users: keep the stored value). Columns listed in
    ``json_columns`` hold JSON text. The line number is the csv reader's (the header is line 1).

    JSONL: one JSON object a line; blank lines are skipped; a malformed line is reported as an
    error of that line.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        fields: Sequence[str],
        required: Sequence[str],
        json_columns: Sequence[str] = (),
        row_ok: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        self.path = Path(path)
        # Whether a CSV row (as a dict) is valid: a quoted value spanning lines is kept only then.
        self.row_ok = row_ok
        self.format, self.gzipped = file_format(self.path)
        self.fields, self.required, self.json_columns = tuple(fields), tuple(required), set(json_columns)
        self.columns: list[str] = []
        self._raw: IO[bytes] | None = None
        self._text: io.TextIOWrapper | None = None
        self.size = 0  # bytes on disk, known once open
        self.line = 0  # the last line read, for error messages

    # --- opening ----------------------------------------------------------------------------------

    def open(self) -> Self:
        try:
            self._raw = open(self.path, "rb")  # noqa: SIM115 - closed by close()
            self.size = os.fstat(self._raw.fileno()).st_size
            binary: IO[bytes] = (
                gzip.GzipFile(fileobj=self._raw, mode="rb") if self.gzipped else self._raw  # type: ignore[assignment]
            )
            # utf-8-sig: spreadsheet exports often start with a byte-order mark. A byte that is not
            # UTF-8 rejects its line (``not_utf8``), not the whole file.
            self._text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
            if self.format == "csv":
                self._open_csv()
        except CommandError:
            self.close()
            raise
        except READ_ERRORS as exc:
            self.close()
            raise CommandError(f"Cannot read {self.path}: {_describe(exc)}") from exc
        return self

    def _open_csv(self) -> None:
        assert self._text is not None
        first = self._text.readline(MAX_LINE + 1)
        if len(first) > MAX_LINE:
            raise CommandError(f"{self.path}: the header row is longer than {MAX_LINE:,} characters.")
        if not first.strip():
            raise CommandError(f"{self.path} is empty: a CSV file needs a header row ({', '.join(self.fields)}).")
        if not_utf8(first):
            raise CommandError(f"{self.path}: the header row is not UTF-8 text.")
        self.columns = [name.strip() for name in parse_line(first.rstrip("\r\n"))]
        self.line = 1
        missing = [name for name in self.required if name not in self.columns]
        if missing:
            raise CommandError(
                f"{self.path}: the header row lacks required column(s) {', '.join(missing)}; "
                f"expected columns: {', '.join(self.fields)} (found: {', '.join(self.columns) or 'none'})."
            )
        unknown = [name for name in self.columns if name not in self.fields]
        if unknown:
            raise CommandError(
                f"{self.path}: unknown column(s) {', '.join(unknown)} in the header row; "
                f"allowed: {', '.join(self.fields)}."
            )
        duplicated = sorted({name for name in self.columns if self.columns.count(name) > 1})
        if duplicated:
            raise CommandError(f"{self.path}: column(s) {', '.join(duplicated)} appear twice in the header row.")

    def close(self) -> None:
        for stream in (self._text, self._raw):
            if stream is not None:
                with contextlib.suppress(*READ_ERRORS):
                    stream.close()
        self._text = self._raw = None

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def bytes_read(self) -> int:
        """Bytes of the file on disk consumed so far (compressed bytes for .gz), for a progress bar."""
        try:
            return self._raw.tell() if self._raw is not None else 0
        except (OSError, ValueError):
            return 0

    # --- reading ----------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any] | None, Errors]]:
        """Rows as ``(line, raw, {})`` or, for a row that cannot even be parsed, ``(line, None, errors)``.

        Read errors (corrupt gzip, invalid UTF-8…) propagate as one of ``READ_ERRORS``; ``self.line``
        then holds the last line read.
        """
        return self._csv_rows() if self.format == "csv" else self._jsonl_rows()

    def _csv_rows(self) -> Iterator[tuple[int, dict[str, Any] | None, Errors]]:
        assert self._text is not None
        columns = self.columns
        json_columns = [name for name in columns if name in self.json_columns]

        def accept(cells: list[str]) -> bool:
            raw, errors = csv_raw(columns, json_columns, cells)
            return raw is not None and (self.row_ok is None or self.row_ok(raw))

        for line, cells, message in csv_records(LineReader(self._text, self.line).lines(), accept):
            self.line = line
            if message is not None:
                yield line, None, {"non_field_errors": [message]}
                continue
            raw, errors = csv_raw(columns, json_columns, cells or [])
            if raw is not None or errors:  # (neither: a blank line)
                yield line, raw, errors

    def _jsonl_rows(self) -> Iterator[tuple[int, dict[str, Any] | None, Errors]]:
        assert self._text is not None
        seen_content = False
        for number, text in LineReader(self._text).lines():
            self.line = number
            if text is TOO_LONG:
                yield number, None, {"non_field_errors": [TOO_LONG_MESSAGE]}
                continue
            if not text.strip():
                continue
            if not_utf8(text):
                yield number, None, {"non_field_errors": [NOT_UTF8_MESSAGE]}
                continue
            if not seen_content:
                seen_content = True
                if text.lstrip().startswith("["):
                    raise CommandError(
                        f"{self.path} looks like a JSON array; expected JSON Lines: one object a line, no brackets."
                    )
            try:
                raw = json_loads_bounded(text, max_depth=None)  # depth: the fields' own limits
            except ValueError as exc:
                yield number, None, {"non_field_errors": [f"Malformed JSON: {exc}."]}
                continue
            yield number, raw, {}


def _describe(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text."
    if isinstance(exc, gzip.BadGzipFile | zlib.error | EOFError):
        return f"not a valid gzip file ({exc})." if str(exc) else "truncated or corrupt gzip data."
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}."
    return f"{exc}."


def read_error_message(source: RowSource, exc: BaseException) -> str:
    return f"Stopped reading {source.path} after line {source.line}: {_describe(exc)}"


def format_errors(line: int, errors: Errors) -> list[str]:
    """``line N: field: message`` (``line N: message`` for errors of the whole row)."""
    lines = []
    for field, messages in errors.items():
        for message in messages:
            lines.append(
                f"line {line}: {message}" if field == "non_field_errors" else f"line {line}: {field}: {message}"
            )
    return lines


class Progress:
    """A tqdm bar over the bytes of the file, on stderr, only when stderr is a terminal.

    Error lines go through ``write`` so they do not garble the bar.
    """

    def __init__(self, stderr: OutputWrapper, source: RowSource, *, enabled: bool | None = None) -> None:
        self.stderr, self.source = stderr, source
        self.bar: Any
        stream = getattr(stderr, "_out", stderr)
        if enabled is None:
            enabled = bool(getattr(stream, "isatty", lambda: False)())
        self.stream, self.bar = stream, None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(
                total=source.size or None, unit="B", unit_scale=True, unit_divisor=1024, file=stream,
                desc=source.path.name, dynamic_ncols=True,
            )  # fmt: skip

    def write(self, message: str) -> None:
        if self.bar is not None:
            self.bar.write(message, file=self.stream)
        else:
            self.stderr.write(message)

    def update(self, **postfix: int) -> None:
        if self.bar is not None:
            self.bar.update(self.source.bytes_read() - self.bar.n)
            if postfix:
                self.bar.set_postfix(postfix, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.update()
            self.bar.close()
            self.bar = None


class ChunkWriter[Chunk, Result]:
    """Stores the chunks of an import in order, one at a time, behind the reading.

    Outside a transaction the chunks are written on one background thread with its own database
    connection: while the database stores chunk N, this thread reads and validates chunk N+1, so the
    server's work and Python's overlap instead of taking turns (most of an import's time is one or the
    other). One chunk is in flight at most, which keeps the order of the chunks, and the memory to two.
    Inside a caller's transaction (a test, a script's ``atomic``) a second connection would not see it,
    so the chunks are written here, in turn.

    ``submit`` and ``close`` return the results of the chunks finished since the last call; an error of
    the writer is raised from them.
    """

    # While both threads run: how long one may hold the interpreter before the other gets a turn. The
    # writer mostly waits on the database; with the default 5 ms, each answer it gets then waits up to
    # 5 ms more for the reading thread to let go (an import of 100,000 accounts: 3.9 → 3.3 s).
    SWITCH_INTERVAL = 0.0005

    def __init__(self, write: Callable[[Chunk], Result]) -> None:
        self.write = write
        self.executor = None if connection.in_atomic_block else ThreadPoolExecutor(1, "import-writer")
        self.in_flight: Future[Result] | None = None
        self.switch_interval = sys.getswitchinterval()
        if self.executor is not None:
            sys.setswitchinterval(self.SWITCH_INTERVAL)

    def submit(self, chunk: Chunk) -> list[Result]:
        finished = self._finished()
        if self.executor is None:
            return [*finished, self.write(chunk)]
        self.in_flight = self.executor.submit(self._write_and_forget_queries, chunk)
        return finished

    def close(self) -> list[Result]:
        try:
            return self._finished()
        finally:
            if self.executor is not None:
                # The thread's own connection would otherwise stay open until the process ends.
                self.executor.submit(connections.close_all).result()
                self.executor.shutdown()
                self.executor = None
                sys.setswitchinterval(self.switch_interval)

    def _write_and_forget_queries(self, chunk: Chunk) -> Result:
        try:
            return self.write(chunk)
        finally:
            reset_queries()  # under DEBUG every query is kept, per thread

    def _finished(self) -> list[Result]:
        if self.in_flight is None:
            return []
        in_flight, self.in_flight = self.in_flight, None
        return [in_flight.result()]
