"""Property-based test of the import reader (Hypothesis): random files that mix good rows with every
kind of bad row — non-finite numbers, bytes that are not UTF-8, stray quotes, fields and lines too
long, missing values, blank lines, a byte-order mark, CRLF line ends, gzip — store exactly the good
rows, report every bad one with its true line number, and a second run stores nothing new."""

from __future__ import annotations

import gzip
import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.management.commands import _importing
from events.models import Event
from tenancy.services import workspace_create
from tests.conftest import run

pytestmark = pytest.mark.django_db

MAX_LINE = 3000  # the line limit, made small so that a line past it stays cheap to write
CSV_KINDS = [
    "good",
    "good",
    "good",
    "bad_number",
    "bad_byte",
    "stray_quote",
    "long_field",
    "blank",
    "no_user",
    "too_long",
    "line_break",
]
JSONL_KINDS = [
    "good",
    "good",
    "good",
    "bad_number",
    "bad_byte",
    "malformed",
    "too_deep",
    "long_field",
    "blank",
    "no_user",
    "too_long",
]
GOOD = {"good", "line_break"}
SKIPPED = {"blank"}
HEADER = "uuid,user,feature,action,detail,record_id,timestamp,properties"
counter = itertools.count()


@dataclass
class File:
    data: bytes
    good: set[str]
    bad_lines: set[int]


def csv_line(
    uuid: str, *, user: str = "u1", detail: str = "", stamp: str = "2025-03-10T09:00:00Z", props: str = ""
) -> str:
    return f"{uuid},{user},Leads,view,{detail},,{stamp},{props}"


def build(kinds: list[str], fmt: str, crlf: bool, bom: bool) -> File:
    """The file's lines, and which uuids are good and which line numbers bad (line 1: the header)."""
    lines: list[bytes] = []
    good: set[str] = set()
    bad: set[int] = set()
    if fmt == "csv":
        lines.append(HEADER.encode())
    physical = len(lines)  # lines written so far
    for i, kind in enumerate(kinds):
        uuid = f"r{i}"
        text = make(kind, uuid, fmt)
        lines.append(text)
        physical += 1 + text.count(b"\n")
        number = physical  # a row is numbered by its last line (a line break kind spans two)
        if kind in GOOD:
            good.add(uuid)
        elif kind not in SKIPPED:
            bad.add(number)
    end = b"\r\n" if crlf else b"\n"
    data = end.join(lines) + end
    if bom:
        data = "\ufeff".encode() + data
    return File(data, good, bad)


def make(kind: str, uuid: str, fmt: str) -> bytes:
    if fmt == "csv":
        return {
            "good": lambda: csv_line(uuid).encode(),
            "line_break": lambda: csv_line(uuid, detail='"two\nlines"').encode(),
            "bad_number": lambda: csv_line(uuid, props='"{""x"":Infinity}"').encode(),
            "bad_byte": lambda: csv_line(uuid, user="u\xff").encode("latin-1"),
            # An open quote at the start of the timestamp: joined with any following lines it is
            # never a timestamp, so it can only ever be a stray quote.
            "stray_quote": lambda: csv_line(uuid, stamp='"2025-03-10T09:00:00Z').encode(),
            "long_field": lambda: csv_line(uuid, detail="d" * 200).encode(),
            "blank": lambda: b"",
            "no_user": lambda: csv_line(uuid, user="").encode(),
            "too_long": lambda: ("A" * (MAX_LINE + 500)).encode(),
        }[kind]()
    event = {"uuid": uuid, "user": "u1", "feature": "Leads", "action": "view", "timestamp": "2025-03-10T09:00:00Z"}
    return {
        "good": lambda: json.dumps(event).encode(),
        "bad_number": lambda: json.dumps(event)[:-1].encode() + b', "properties": {"x": NaN}}',
        "bad_byte": lambda: json.dumps({**event, "user": "@@"}).encode().replace(b"@@", b"u\xff"),
        "malformed": lambda: b'{"uuid": ',
        "too_deep": lambda: b'{"uuid": "' + uuid.encode() + b'", "properties": ' + b"[" * 2000 + b"]" * 2000 + b"}",
        "long_field": lambda: json.dumps({**event, "detail": "d" * 200}).encode(),
        "blank": lambda: b"",
        "no_user": lambda: json.dumps({**event, "user": ""}).encode(),
        "too_long": lambda: ("A" * (MAX_LINE + 500)).encode(),
    }[kind]()


@settings(
    max_examples=int(os.environ.get("IMPORT_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    fmt=st.sampled_from(["csv", "jsonl"]),
    data=st.data(),
    crlf=st.booleans(),
    bom=st.booleans(),
    gz=st.booleans(),
)
def test_exactly_the_good_rows_are_stored_and_every_bad_one_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, data: st.DataObject, crlf: bool, bom: bool, gz: bool
) -> None:
    monkeypatch.setattr(_importing, "MAX_LINE", MAX_LINE)
    kinds = data.draw(st.lists(st.sampled_from(CSV_KINDS if fmt == "csv" else JSONL_KINDS), min_size=1, max_size=20))
    file = build(kinds, fmt, crlf, bom)
    slug = f"p{next(counter)}"
    workspace, _key = workspace_create(slug=slug)
    path = tmp_path / f"{slug}.{fmt}{'.gz' if gz else ''}"
    path.write_bytes(gzip.compress(file.data) if gz else file.data)

    out, err = run("import_events", str(path), "--workspace", slug, "--no-refresh")
    reported = {int(line.split(":")[0].split()[1]) for line in err.splitlines() if line.startswith("line ")}
    assert set(Event.objects.filter(workspace=workspace).values_list("uuid", flat=True)) == file.good, err
    assert reported == file.bad_lines, (kinds, err)
    rejected = int(out[-1].rsplit("rejected=", 1)[1])
    assert rejected == len(file.bad_lines)

    again, _ = run("import_events", str(path), "--workspace", slug, "--no-refresh")
    assert again[-1] == f"imported=0 duplicates={len(file.good)} rejected={rejected}"
