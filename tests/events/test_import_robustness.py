"""A bad row is reported with its true line number and skipped; it never aborts the good rows, and
no line makes the importer work or hold memory without bound (issue 17, docs/api.md#import_events)."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from pathlib import Path

import pytest

from events.management.commands import _importing
from events.models import CrmUser, Event
from tenancy.models import Workspace
from tests.conftest import run

pytestmark = pytest.mark.django_db

HEADER = "uuid,user,feature,action,detail,record_id,timestamp,properties"


def row(n: int, **cells: str) -> str:
    values = {"uuid": f"e{n}", "user": "u1", "feature": "Leads", "action": "view", "detail": "", "record_id": ""}
    values.update({"timestamp": f"2025-03-10T09:{n % 60:02d}:00Z", "properties": ""}, **cells)
    return ",".join(values[name] for name in HEADER.split(","))


def uuids(workspace: Workspace) -> set[str]:
    return set(Event.objects.filter(workspace=workspace).values_list("uuid", flat=True))


def import_file(path: Path, text: str | bytes, *args: str) -> tuple[list[str], list[str]]:
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    out, err = run("import_events", str(path), "--workspace", "acme", "--no-refresh", *args)
    return out, [line for line in err.splitlines() if line.startswith("line ")]


def test_a_non_finite_number_in_a_properties_cell_rejects_its_line(tmp_path: Path, workspace: Workspace) -> None:
    lines = [HEADER, row(1), row(2, properties='"{""x"":Infinity}"'), row(3, properties='"{""x"":1e400}"'), row(4)]
    out, errors = import_file(tmp_path / "e.csv", "\n".join(lines) + "\n")
    assert out[-1] == "imported=2 duplicates=0 rejected=2"
    assert [e.split(":")[0] for e in errors] == ["line 3", "line 4"] and all("properties" in e for e in errors)
    assert uuids(workspace) == {"e1", "e4"}


def test_a_jsonl_line_nested_past_the_parser_rejects_only_itself(tmp_path: Path, workspace: Workspace) -> None:
    good = {"uuid": "j1", "user": "u1", "feature": "Leads", "action": "view", "timestamp": "2025-03-10T09:00:00Z"}
    deep = '{"uuid": "j2", "properties": ' + "[" * 100_000 + "]" * 100_000 + "}"
    text = "\n".join([json.dumps(good), deep, json.dumps({**good, "uuid": "j3"})]) + "\n"
    out, errors = import_file(tmp_path / "e.jsonl", text)
    assert out[-1] == "imported=2 duplicates=0 rejected=1"
    assert errors == ["line 2: Malformed JSON: nested too deeply."]
    assert uuids(workspace) == {"j1", "j3"}


def test_a_byte_that_is_not_utf8_rejects_its_line_by_number(tmp_path: Path, workspace: Workspace) -> None:
    lines = [HEADER.encode()] + [row(n).encode() for n in range(2, 12)]
    lines[6] = lines[6].replace(b"Leads", b"Le\xffads")  # line 7
    out, errors = import_file(tmp_path / "e.csv", b"\n".join(lines) + b"\n")
    assert out[-1] == "imported=9 duplicates=0 rejected=1"
    assert errors == ["line 7: Not UTF-8 text (a byte that is not UTF-8); the line is skipped."]
    assert "e7" not in uuids(workspace) and "e11" in uuids(workspace)


def test_a_field_of_200_000_characters_rejects_its_row_and_reading_goes_on(
    tmp_path: Path, workspace: Workspace
) -> None:
    lines = [HEADER, row(2), row(3, detail="d" * 200_000), row(4)]
    out, errors = import_file(tmp_path / "e.csv", "\n".join(lines) + "\n")
    assert out[-1] == "imported=2 duplicates=0 rejected=1"
    assert errors == ["line 3: detail: Ensure this field has no more than 128 characters."]


def test_a_stray_quote_loses_its_own_row_only(tmp_path: Path, workspace: Workspace) -> None:
    """Line 15 opens a quote that nothing closes: that line is rejected as such and lines 16–26 are
    read as the rows they are (before, the quote swallowed them all into one rejection at line 27
    of a 26-line file)."""
    lines = [HEADER] + [row(n) for n in range(2, 27)]
    lines[14] = row(15, detail='"list_view')  # line 15
    out, errors = import_file(tmp_path / "e.csv", "\n".join(lines) + "\n")
    assert out[-1] == "imported=24 duplicates=0 rejected=1"
    assert errors == ['line 15: An unclosed quote (") starts on line 15; the line is skipped.']
    assert uuids(workspace) == {f"e{n}" for n in range(2, 27)} - {"e15"}


def test_a_quoted_value_with_a_line_break_is_still_one_row(tmp_path: Path, workspace: Workspace) -> None:
    lines = [HEADER, row(2), row(3, detail='"two\nlines"'), row(4)]
    out, errors = import_file(tmp_path / "e.csv", "\n".join(lines) + "\n")
    assert (out[-1], errors) == ("imported=3 duplicates=0 rejected=0", [])
    assert Event.objects.get(uuid="e3").detail == "two\nlines"


def test_a_later_quote_does_not_join_the_rows_between(tmp_path: Path, workspace: Workspace) -> None:
    """Line 4 opens a quote and line 8 has one that would close it: lines 4–8 as one record are not a
    valid row, so line 4 alone is rejected and lines 5–8 are read as the rows they are (line 8's
    quote, in the middle of a value, is a character of it, as for any CSV reader)."""
    lines = [HEADER] + [row(n) for n in range(2, 11)]
    lines[3], lines[7] = row(4, detail='"a'), row(8, detail='b"')
    out, errors = import_file(tmp_path / "e.csv", "\n".join(lines) + "\n")
    assert out[-1] == "imported=8 duplicates=0 rejected=1"
    assert [e.split(":")[0] for e in errors] == ["line 4"]
    assert Event.objects.get(uuid="e8").detail == 'b"'


def test_a_quote_inside_a_value_is_a_character_and_joins_nothing(tmp_path: Path, workspace: Workspace) -> None:
    lines = [HEADER, row(2, detail='5" screen'), row(3), row(4)]
    out, errors = import_file(tmp_path / "e.csv", "\n".join(lines) + "\n")
    assert (out[-1], errors) == ("imported=3 duplicates=0 rejected=0", [])
    assert Event.objects.get(uuid="e2").detail == '5" screen'


def test_the_counts_say_what_was_new_and_what_was_already_stored(tmp_path: Path, workspace: Workspace) -> None:
    path = tmp_path / "e.csv"
    import_file(path, "\n".join([HEADER, row(1), row(2)]) + "\n")
    out, _ = import_file(path, "\n".join([HEADER, row(1), row(2), row(3)]) + "\n")
    assert out[-1] == "imported=1 duplicates=2 rejected=0"
    assert any(line.startswith("Read 3 valid row(s)") and line.endswith("1 new, 2 already stored.") for line in out)


@pytest.mark.parametrize("name", ["e.csv.gz", "e.jsonl.gz"])
def test_a_line_past_the_limit_is_rejected_by_number_without_being_kept(
    tmp_path: Path, workspace: Workspace, name: str
) -> None:
    """A line of 30 million characters with no line break (30 kB gzipped), between good rows: it is
    rejected by its number, the rows after it are stored, and the import never holds it: it peaks far
    below the line's size (before: the whole line, rescanned for every block read, in quadratic time)."""
    long_line = "A" * 30_000_000
    if name.startswith("e.csv"):
        lines = [HEADER, row(2), long_line, row(4)]
    else:
        good = {"user": "u1", "feature": "Leads", "action": "view", "timestamp": "2025-03-10T09:00:00Z"}
        lines = ["", json.dumps({**good, "uuid": "e2"}), long_line, json.dumps({**good, "uuid": "e4"})]
    data = ("\n".join(lines) + "\n").encode()  # import_file gzips it
    del long_line, lines
    tracemalloc.start()
    try:
        out, errors = import_file(tmp_path / name, data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out[-1] == "imported=2 duplicates=0 rejected=1"
    assert errors == [f"line 3: Longer than {_importing.MAX_LINE:,} characters; the line is skipped."]
    assert uuids(workspace) == {"e2", "e4"}
    assert peak < 12 * _importing.MAX_LINE, peak  # the limit's worth of text (4 bytes a character at most), not 30 MB


def test_import_users_skips_bad_lines_and_keeps_the_good(tmp_path: Path, workspace: Workspace) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(
        b"external_id,name,created_at\n"
        b"a,Ana,2025-01-01\n"
        b'b,"Bo\n'  # line 3: a stray quote
        b"c,C\xe9line,2025-01-01\n"  # line 4: not UTF-8
        b"d,Dee,9999-12-31T23:59:59-14:00\n"  # line 5: past the calendar in UTC
        b"e,Eve,2025-01-01\n"
    )
    out, err = run("import_users", str(path), "--workspace", "acme")
    assert out[-1] == "created=2 updated=0 rejected=3"
    assert [line.split(":")[0] for line in err.splitlines()] == ["line 3", "line 4", "line 5"]
    assert set(CrmUser.objects.filter(workspace=workspace).values_list("external_id", flat=True)) == {"a", "e"}


def test_lines_without_quotes_split_as_the_csv_module_splits_them() -> None:
    """csv_records splits a line with no quote and no carriage return itself, at the commas (most
    lines of a big import); on random such lines, and lines with a carriage return read by the csv
    module, every record equals what the csv module reads from that line alone, numbered in order."""
    import csv
    import random

    rng = random.Random(20)
    alphabet = ["a", "Z", "9", ",", ",", " ", "\t", "\x00", "é", "智", "\x0b", "\x1c", "\u2028"]
    lines = []
    for _ in range(3000):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
        if rng.random() < 0.1:
            line += "\r"
        lines.append(line)
    records = list(_importing.csv_records(enumerate(lines, start=1), lambda cells: True))
    assert [number for number, _, _ in records] == list(range(1, len(lines) + 1))
    for (number, cells, message), line in zip(records, lines, strict=True):
        assert message is None
        assert cells == next(csv.reader([line + "\n"]), []), (number, line)
