"""The manage.py commands of the events area (docs/api.md#command-line)."""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management.base import CommandError
from django.utils import timezone

from events import demo
from events.models import CrmUser, DirtyDay, Event, Feature, UserDay
from events.services import crm_users_upsert
from tenancy.models import Workspace
from tests.conftest import run

pytestmark = pytest.mark.django_db


def user_days(workspace: Workspace) -> list[tuple[Any, ...]]:
    return list(
        UserDay.objects.filter(workspace=workspace)
        .order_by("day", "crm_user__external_id")
        .values_list("day", "crm_user__external_id", "events", "sessions", "session_seconds", "first_event_at")
    )


# --- import_users ----------------------------------------------------------------------------------


def test_import_users_csv_creates_updates_and_reports_bad_rows(tmp_path: Path, workspace: Workspace) -> None:
    crm_users_upsert(workspace=workspace, rows=[{"external_id": "u3", "name": "Kept Name", "country": "CN"}])
    path = tmp_path / "users.csv"
    path.write_text(
        "external_id,email,name,country,status,created_at\n"
        "u1,ana@example.com,Ana,DE,active,2025-01-15\n"
        "u2,,Bo,,inactive,\n"
        "u4,not-an-email,Bad,,,\n"
        "u3,,,US,deactivated,\n"
        "u5,,,,sleeping,\n"
    )

    lines, err = run("import_users", str(path), "--workspace", "acme")

    assert lines[-1] == "created=2 updated=1 rejected=2"
    assert "line 4: email: Enter a valid email address." in err
    assert "line 6: status: Must be one of: active, inactive, deactivated." in err
    users = {u.external_id: u for u in CrmUser.objects.filter(workspace=workspace)}
    assert sorted(users) == ["u1", "u2", "u3"]
    assert (users["u1"].email, users["u1"].country, users["u1"].created_at) == (
        "ana@example.com",
        "DE",
        datetime(2025, 1, 15, tzinfo=UTC),
    )
    assert (users["u2"].status, users["u2"].email) == ("inactive", "")
    # an empty cell keeps the stored value
    assert (users["u3"].name, users["u3"].country, users["u3"].status) == ("Kept Name", "US", "deactivated")


def test_import_users_jsonl_gz(tmp_path: Path, make_workspace: Any) -> None:
    workspace, _ = make_workspace("sh", tz="Asia/Shanghai")
    crm_users_upsert(workspace=workspace, rows=[{"external_id": "u1", "name": "Old"}])
    path = tmp_path / "users.jsonl.gz"
    lines = [
        json.dumps({"external_id": "u1", "name": "New", "language": "zh"}),
        json.dumps({"external_id": "u2", "created_at": "2025-03-01"}),
        "{not json",
        "",
        json.dumps({"name": "no id"}),
    ]
    path.write_bytes(gzip.compress("\n".join(lines).encode()))

    out, err = run("import_users", str(path), "--workspace", "sh")

    assert out[-1] == "created=1 updated=1 rejected=2"
    assert "line 3: Malformed JSON" in err
    assert "line 5: external_id: This field is required." in err
    u1, u2 = CrmUser.objects.filter(workspace=workspace).order_by("external_id")
    assert (u1.name, u1.language) == ("New", "zh")
    assert u2.created_at == datetime(2025, 2, 28, 16, tzinfo=UTC)  # midnight in Shanghai


def test_import_users_refuses_an_unknown_column(tmp_path: Path, workspace: Workspace) -> None:
    path = tmp_path / "users.csv"
    path.write_text("external_id,nickname\nu1,x\n")
    with pytest.raises(CommandError, match="unknown column"):
        run("import_users", str(path), "--workspace", "acme")
    assert not CrmUser.objects.exists()


# --- import_events ---------------------------------------------------------------------------------

EVENTS_CSV = (
    "uuid,user,feature,action,detail,record_id,timestamp,properties\n"  # line 1
    "e1,u1,Leads,create,form,L1,2025-03-03T09:00:00+00:00,\n"  # 2
    "e2,u1,Leads,view,detail_view,L1,2025-03-03T09:05:00Z,\n"  # 3
    "e1,u1,Leads,create,form,L1,2025-03-03T09:00:00+00:00,\n"  # 4: duplicate uuid
    "e3,u2,Deals,view,,,yesterday,\n"  # 5: bad timestamp
    "e4,,Deals,view,,,2025-03-03T10:00:00Z,\n"  # 6: missing user
    "e5,u2,Deals,view,,,2025-03-03 10:00:00,\n"  # 7: naive timestamp
    'e6,u2,Deals,view,kanban_view,,2025-03-03 09:00:00.123456+00,"{""source"": ""mobile""}"\n'  # 8
    "e7,u2,Home,login,,,2025-03-04T08:00:00+08:00\n"  # 9: no properties cell at all
)


def write_jsonl(path: Path, lines: list[str]) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def test_import_events_csv(tmp_path: Path, workspace: Workspace) -> None:
    path = tmp_path / "events.csv"
    path.write_text(EVENTS_CSV)

    lines, err = run("import_events", str(path), "--workspace", "acme")

    assert lines[-1] == "imported=4 duplicates=1 rejected=3"
    assert "line 5: timestamp: Not an ISO 8601 timestamp: 'yesterday'." in err
    assert "line 6: user: This field is required." in err
    assert "line 7: timestamp: The timestamp needs a UTC offset" in err
    assert "line 4" not in err and "line 8" not in err
    events = {e.uuid: e for e in Event.objects.filter(workspace=workspace).select_related("crm_user", "feature")}
    assert sorted(events) == ["e1", "e2", "e6", "e7"]
    assert events["e6"].occurred_at == datetime(2025, 3, 3, 9, 0, 0, 123456, tzinfo=UTC)
    assert events["e6"].properties == {"source": "mobile"}
    assert (events["e1"].crm_user.external_id, events["e1"].feature.key, events["e1"].record_id) == (
        "u1",
        "Leads",
        "L1",
    )
    assert events["e7"].occurred_at == datetime(2025, 3, 4, 0, tzinfo=UTC)
    # rollups refreshed synchronously
    assert not DirtyDay.objects.filter(workspace=workspace).exists()
    rows = user_days(workspace)
    assert [(day.isoformat(), user, n) for day, user, n, *_ in rows] == [
        ("2025-03-03", "u1", 2),
        ("2025-03-03", "u2", 1),
        ("2025-03-04", "u2", 1),
    ]

    # idempotent: the same file again stores nothing
    lines, err = run("import_events", str(path), "--workspace", "acme")
    assert lines[-1] == "imported=0 duplicates=5 rejected=3"
    assert Event.objects.filter(workspace=workspace).count() == 4
    assert user_days(workspace) == rows

    # a full rebuild gives the same rows
    lines, _ = run("refresh_rollups", "--workspace", "acme", "--full")
    assert "acme: rebuilt every rollup: 2 day(s)" in lines[-1]
    assert user_days(workspace) == rows


@pytest.mark.parametrize("name", ["events.jsonl", "events.ndjson.gz", "events.json"])
def test_import_events_jsonl(tmp_path: Path, workspace: Workspace, name: str) -> None:
    good = {"user": "u1", "feature": "Leads", "action": "view", "timestamp": "2025-03-03T09:00:00Z"}
    path = write_jsonl(
        tmp_path / name,
        [
            json.dumps({"uuid": "a", **good}),
            json.dumps({"uuid": "b", **good, "timestamp": "2025-03-05T09:00:00+01:00"}),
            '{"uuid": "c", "user": ',  # 3: malformed JSON
            "",
            json.dumps({"uuid": "a", **good}),  # 5: duplicate
            json.dumps({"uuid": "d", **good, "timestamp": "2025-03-05T09:00:00"}),  # 6: naive
            json.dumps({"uuid": "e", **good, "colour": "red"}),  # 7: unknown field
            json.dumps(["not", "an", "object"]),  # 8
            json.dumps({"uuid": "f", **good, "user": None}),  # 9: missing user
        ],
    )

    lines, err = run("import_events", str(path), "--workspace", "acme")

    assert lines[-1] == "imported=2 duplicates=1 rejected=5"
    assert "line 3: Malformed JSON" in err
    assert "line 6: timestamp: The timestamp needs a UTC offset" in err
    assert "line 7: Unknown field(s): colour." in err
    assert "line 8: Each event must be a JSON object." in err
    assert "line 9: user: This field is required." in err
    assert set(Event.objects.filter(workspace=workspace).values_list("uuid", flat=True)) == {"a", "b"}
    assert len(user_days(workspace)) == 2


def test_import_events_no_refresh_leaves_days_dirty(tmp_path: Path, workspace: Workspace) -> None:
    path = tmp_path / "events.csv.gz"
    path.write_bytes(gzip.compress(EVENTS_CSV.encode()))

    lines, err = run("import_events", str(path), "--workspace", "acme", "--no-refresh")

    assert lines[-1] == "imported=4 duplicates=1 rejected=3"
    assert "line 7: timestamp:" in err
    assert Event.objects.filter(workspace=workspace).count() == 4
    assert not UserDay.objects.filter(workspace=workspace).exists()
    assert sorted(
        d.isoformat() for d in DirtyDay.objects.filter(workspace=workspace).values_list("day", flat=True)
    ) == [
        "2025-03-03",
        "2025-03-04",
    ]

    lines, _ = run("refresh_rollups", "--workspace", "acme")
    assert lines[-1].startswith("acme: refreshed 2 dirty day(s) (2025-03-03 … 2025-03-04)")
    assert not DirtyDay.objects.filter(workspace=workspace).exists()
    refreshed = user_days(workspace)
    assert len(refreshed) == 3

    run("refresh_rollups", "--workspace", "acme", "--full")
    assert user_days(workspace) == refreshed
    lines, _ = run("refresh_rollups", "--workspace", "acme")
    assert lines[-1].startswith("acme: no dirty day to refresh")


def test_import_events_missing_header_column_imports_nothing(tmp_path: Path, workspace: Workspace) -> None:
    path = tmp_path / "events.csv"
    path.write_text("uuid,user,feature,detail,timestamp\ne1,u1,Leads,,2025-03-03T09:00:00Z\n")
    with pytest.raises(CommandError, match="lacks required column.*action"):
        run("import_events", str(path), "--workspace", "acme")
    assert not Event.objects.exists()


def test_import_events_streams_in_chunks_and_keeps_rows_before_a_corrupt_end(
    tmp_path: Path, workspace: Workspace, monkeypatch: Any
) -> None:
    from events.management.commands import import_events

    monkeypatch.setattr(import_events, "CHUNK_SIZE", 7)
    rows = [
        json.dumps({"uuid": f"e{i}", "user": f"u{i % 3}", "feature": "Home", "action": "view",
                    "timestamp": f"2025-03-03T09:{i // 60:02d}:{i % 60:02d}Z"})
        for i in range(2000)
    ]  # fmt: skip
    data = gzip.compress(("\n".join(rows) + "\n").encode())
    path = tmp_path / "events.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])  # truncated: the end-of-stream marker is missing

    with pytest.raises(CommandError, match="Stopped reading .* after line"):
        run("import_events", str(path), "--workspace", "acme")

    stored = Event.objects.filter(workspace=workspace).count()
    assert 0 < stored < 2000
    assert UserDay.objects.filter(workspace=workspace).exists()


def test_import_events_rejects_a_line_that_is_not_utf8_by_its_number(tmp_path: Path, workspace: Workspace) -> None:
    """A byte that is not UTF-8 (here Latin-1 "é") rejects its line only; the file is read on."""
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"user,feature,action,timestamp\n\xe9t\xe9,a,b,c\nu1,Leads,view,2025-03-10T09:00:00Z\n")
    out, err = run("import_events", str(path), "--workspace", "acme", "--no-refresh")
    assert out[-1] == "imported=1 duplicates=0 rejected=1"
    assert err.strip().splitlines()[-1] == "line 2: Not UTF-8 text (a byte that is not UTF-8); the line is skipped."


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "Cannot read"),
        ("broken.csv.gz", b"this is not gzip", "not a valid gzip file"),
        ("events.txt", b"", "Cannot tell the format"),
        ("empty.csv", b"", "is empty"),
        ("array.json", b'[{"user": "u1"}]', "looks like a JSON array"),
    ],
)
def test_import_events_unreadable_files(
    tmp_path: Path, workspace: Workspace, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        run("import_events", str(path), "--workspace", "acme")
    assert not Event.objects.exists()


def test_import_events_unknown_workspace(tmp_path: Path, workspace: Workspace) -> None:
    path = tmp_path / "events.csv"
    path.write_text(EVENTS_CSV)
    with pytest.raises(CommandError, match="No workspace with slug 'nope'. Existing workspaces: acme"):
        run("import_events", str(path), "--workspace", "nope")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_import_events_shows_progress_on_a_terminal(tmp_path: Path, workspace: Workspace) -> None:
    path = tmp_path / "events.csv"
    path.write_text(EVENTS_CSV)

    lines, err = run("import_events", str(path), "--workspace", "acme", stderr=FakeTerminal())

    assert "events.csv" in err and "100%" in err  # the tqdm bar
    assert "line 5: timestamp:" in err
    assert lines[-1] == "imported=4 duplicates=1 rejected=3"


# --- import_events: the bulk path (column checks, optimistic batches) -------------------------------

BULK_HEADER = "uuid,user,feature,action,detail,record_id,timestamp"
# Every timestamp form the fast path takes (UTC in its canonical forms, other offsets, a space, short
# fractions, an hour-only offset); the rows cycle through them.
STAMP_FORMS = (
    "2025-03-{d:02d}T{h:02d}:{m:02d}:07.123456+00:00",
    "2025-03-{d:02d}T{h:02d}:{m:02d}:07Z",
    "2025-03-{d:02d}T{h:02d}:{m:02d}:07.5+05:30",
    "2025-03-{d:02d} {h:02d}:{m:02d}:07-08:00",
    "2025-03-{d:02d}T{h:02d}:{m:02d}:07.123+01",
)


def bulk_rows(count: int, *, start: int = 0, forms: tuple[str, ...] = STAMP_FORMS, prefix: str = "b") -> list[str]:
    """CSV lines of distinct valid events: users and features keep appearing (new ones mid-file)."""
    lines = []
    for i in range(start, start + count):
        stamp = forms[i % len(forms)].format(d=1 + i % 20, h=i % 24, m=i % 60)
        detail = ("", "list_view", "kanban")[i % 3]
        lines.append(f"{prefix}{i},u{i // 7},F{i % 11},act{i % 4},{detail},{'R' + str(i) if i % 5 else ''},{stamp}")
    return lines


def stored(workspace: Workspace) -> dict[str, tuple[Any, ...]]:
    return {
        e.uuid: (e.crm_user.external_id, e.feature.key, e.action, e.detail, e.record_id, e.occurred_at, e.properties)
        for e in Event.objects.filter(workspace=workspace).select_related("crm_user", "feature")
    }


def dirty_days(workspace: Workspace) -> list[str]:
    return sorted(d.isoformat() for d in DirtyDay.objects.filter(workspace=workspace).values_list("day", flat=True))


def ingest_rows_one_by_one(workspace: Workspace, lines: list[str], header: str = BULK_HEADER) -> None:
    """The reference: each row through parse_event and events_ingest (the batch API's path)."""
    from events.services import events_ingest
    from events.validation import parse_event

    names = header.split(",")
    now = timezone.now()
    rows = []
    for line in lines:
        raw = {k: v for k, v in zip(names, line.split(","), strict=True) if v}
        row, errors = parse_event(raw, now=now)
        assert row is not None, errors
        rows.append(row)
    events_ingest(workspace=workspace, rows=rows, enqueue_refresh=False)


@pytest.fixture
def small_batches(monkeypatch: Any) -> None:
    """Chunks of 40 rows and bulk batches of 100: every file below spans several of both."""
    from events import services
    from events.management.commands import import_events

    monkeypatch.setattr(import_events, "CHUNK_SIZE", 40)
    monkeypatch.setattr(import_events, "READ_BLOCK", 1000)
    monkeypatch.setattr(services, "BULK_BATCH_ROWS", 100)


@pytest.mark.parametrize("tz", ["UTC", "Asia/Kolkata", "America/Sao_Paulo"])
def test_import_events_bulk_path_stores_what_the_row_path_stores(
    tmp_path: Path, make_workspace: Any, small_batches: None, monkeypatch: Any, tz: str
) -> None:
    from events.management.commands import import_events
    from events.models import FeatureAction

    bulk, _ = make_workspace("bulk", tz=tz)
    reference, _ = make_workspace("reference", tz=tz)
    lines = bulk_rows(180, forms=STAMP_FORMS[:2]) + bulk_rows(170, start=180)  # UTC-only chunks, then mixed
    path = tmp_path / "events.csv"
    path.write_text(BULK_HEADER + "\n" + "\n".join(lines) + "\n")
    checked_row_by_row = []
    monkeypatch.setattr(
        import_events, "parse_event", lambda raw, now: checked_row_by_row.append(raw) or parse_event(raw, now=now)
    )
    from events.validation import parse_event

    out, err = run("import_events", str(path), "--workspace", "bulk", "--no-refresh")

    assert out[-1] == "imported=350 duplicates=0 rejected=0" and err == ""
    assert checked_row_by_row == []  # every chunk took the fast path
    ingest_rows_one_by_one(reference, lines)
    assert stored(bulk) == stored(reference)
    assert dirty_days(bulk) == dirty_days(reference)
    assert len(dirty_days(bulk)) >= 20
    assert set(FeatureAction.objects.filter(workspace=bulk).values_list("feature__key", "action", "detail")) == set(
        FeatureAction.objects.filter(workspace=reference).values_list("feature__key", "action", "detail")
    )
    # The stored text too (SQLite compares timestamps as text, so its form must be Django's).
    from django.db import connection

    with connection.cursor() as cursor:
        texts = {}
        for ws in (bulk, reference):
            cursor.execute("SELECT uuid, occurred_at FROM events_event WHERE workspace_id = %s", [ws.id])
            texts[ws.slug] = dict(cursor.fetchall())
    assert texts["bulk"] == texts["reference"]
    assert Event.objects.filter(workspace=bulk, occurred_at=datetime(2025, 3, 3, 2, 2, 7, 123456, tzinfo=UTC)).exists()


def test_import_events_bulk_path_counts_duplicates_against_stored_events(
    tmp_path: Path, workspace: Workspace, small_batches: None
) -> None:
    first = bulk_rows(250)
    path = tmp_path / "events.csv"
    path.write_text(BULK_HEADER + "\n" + "\n".join(first) + "\n")
    out, _ = run("import_events", str(path), "--workspace", "acme")
    assert out[-1] == "imported=250 duplicates=0 rejected=0"
    before = stored(workspace)
    assert not DirtyDay.objects.exists()

    # The same file again: nothing stored, no day marked dirty.
    out, _ = run("import_events", str(path), "--workspace", "acme", "--no-refresh")
    assert out[-1] == "imported=0 duplicates=250 rejected=0"
    assert stored(workspace) == before and dirty_days(workspace) == []

    # Stored and new events interleaved, and duplicates inside the file (the first row of a uuid
    # wins, even across chunks and batches): exact counts, and only the new events' days.
    new = bulk_rows(300, start=1000, forms=("2025-04-{d:02d}T{h:02d}:{m:02d}:00+00:00",))
    resent = first[::2]
    mixed = [row for pair in zip(new, resent + new[: len(new) - len(resent)], strict=True) for row in pair]
    changed = new[7].replace(",act", ",other")  # same uuid as new[7]: a duplicate, not stored
    mixed.insert(250, changed)
    path.write_text(BULK_HEADER + "\n" + "\n".join(mixed) + "\n")
    out, err = run("import_events", str(path), "--workspace", "acme", "--no-refresh")
    duplicates = len(mixed) - 300
    assert out[-1] == f"imported=300 duplicates={duplicates} rejected=0" and err == ""
    after = stored(workspace)
    assert len(after) == 550 and all(after[k] == v for k, v in before.items())
    assert after["b1007"][2] == "act3"
    assert dirty_days(workspace) == [f"2025-04-{d:02d}" for d in range(1, 21)]


def test_import_events_bulk_batch_rolled_back_with_the_users_it_created(
    tmp_path: Path, workspace: Workspace, small_batches: None
) -> None:
    first = bulk_rows(50)
    path = tmp_path / "events.csv"
    path.write_text(BULK_HEADER + "\n" + "\n".join(first) + "\n")
    run("import_events", str(path), "--workspace", "acme", "--no-refresh")

    # One batch: a chunk of new events, one naming a new user and a new feature (created inside the
    # batch), then one resending a stored event: the batch is rolled back, the new user and feature
    # with it, and everything is stored again through the exact path.
    lines = bulk_rows(110, start=500)
    lines[45] = lines[45].replace(",u", ",newbie-u", 1).replace(",F", ",NewFeature-F", 1)
    lines[90] = first[5]
    path.write_text(BULK_HEADER + "\n" + "\n".join(lines) + "\n")
    out, err = run("import_events", str(path), "--workspace", "acme", "--no-refresh")

    assert out[-1] == "imported=109 duplicates=1 rejected=0" and err == ""
    assert CrmUser.objects.filter(workspace=workspace, external_id__startswith="newbie").count() == 1
    assert Feature.objects.filter(workspace=workspace, key__startswith="NewFeature").count() == 1
    newbie = Event.objects.get(workspace=workspace, uuid="b545")
    assert newbie.crm_user.external_id.startswith("newbie") and newbie.feature.key.startswith("NewFeature")
    assert not Event.objects.exclude(crm_user__in=CrmUser.objects.all()).exists()
    assert not Event.objects.exclude(feature__in=Feature.objects.all()).exists()
    assert len(stored(workspace)) == 159


def test_import_events_bulk_path_reports_bad_rows_with_their_line(
    tmp_path: Path, workspace: Workspace, small_batches: None
) -> None:
    lines = bulk_rows(200, forms=STAMP_FORMS[:1])
    lines[60] = lines[60].replace("2025-03", "2025-02-30T", 1)  # line 62: not a date
    lines[61] = ""  # line 63: blank, skipped
    lines[100] = lines[100].replace("F", " F", 1)  # line 102: padded, stored as 'F…' (the row path strips)
    lines[130] = ",".join(lines[130].split(",")[:-1] + ["2099-01-01T00:00:00Z"])  # line 132: future
    lines[131] = lines[131] + ",extra"  # line 133: one value too many
    lines[150] = lines[150].replace(",act", ",\x00act")  # line 152: NUL
    lines[170] = lines[170].replace(",u", ",\tu", 1)  # line 172: a leading tab is whitespace: stripped
    path = tmp_path / "events.csv"
    path.write_text(BULK_HEADER + "\n" + "\n".join(lines) + "\n")

    out, err = run("import_events", str(path), "--workspace", "acme")

    assert out[-1] == "imported=195 duplicates=0 rejected=4"
    assert "line 62: timestamp: Not an ISO 8601 timestamp" in err
    assert "line 132: timestamp: Must not be more than 1 day in the future." in err
    assert "line 133: 8 values for 7 columns." in err
    assert "line 152: action: Contains a character that cannot be stored" in err
    assert len(err.strip().splitlines()) == 4
    events = stored(workspace)
    assert events["b100"][1] == "F1" and events["b170"][0] == "u24"


def test_import_events_quoted_values_and_line_breaks(tmp_path: Path, workspace: Workspace, small_batches: None) -> None:
    lines = bulk_rows(120, forms=STAMP_FORMS[:1])
    # From line 52 the file has quotes: the csv reader takes over, line numbers stay right.
    lines[50] = 'b50,u7,Leads,view,"two\nlines, a tab\tand a \\ backslash",,2025-03-03T09:00:00Z'  # lines 52-53
    lines[51] = 'b51,u7,Leads,view,"crlf\r\ninside",R\\N,2025-03-03T09:00:00Z'  # lines 54-55
    lines[80] = lines[80].replace("2025", "yesterday", 1)  # line 84 (two rows above took two lines each)
    path = tmp_path / "events.csv"
    path.write_text(BULK_HEADER + "\n" + "\n".join(lines) + "\n", newline="")

    out, err = run("import_events", str(path), "--workspace", "acme", "--no-refresh")

    assert out[-1] == "imported=119 duplicates=0 rejected=1"
    assert err.startswith("line 84: timestamp: Not an ISO 8601 timestamp")
    events = stored(workspace)
    assert events["b50"][3] == "two\nlines, a tab\tand a \\ backslash"
    assert events["b51"][3:5] == ("crlf\r\ninside", "R\\N")
    assert events["b119"][0] == "u17"


def test_import_events_bulk_path_keeps_the_retention(tmp_path: Path, workspace: Workspace, small_batches: None) -> None:
    workspace.raw_event_retention_days = 30
    workspace.save()
    now = timezone.now().replace(microsecond=0)
    # A first chunk (40 rows) within the retention, then one with 10 events older than it.
    lines = [f"r{i},u1,Leads,view,,,{(now - timedelta(days=i % 31)).isoformat()}" for i in range(70)]
    lines += [f"o{i},u1,Leads,view,,,{(now - timedelta(days=31 + i)).isoformat()}" for i in range(10)]
    path = tmp_path / "events.csv"
    path.write_text(BULK_HEADER + "\n" + "\n".join(lines) + "\n")

    out, err = run("import_events", str(path), "--workspace", "acme", "--no-refresh")

    assert out[-1] == "imported=70 duplicates=0 rejected=10"
    assert [line.split(":")[0] for line in err.strip().splitlines()] == [f"line {n}" for n in range(72, 82)]
    assert "timestamp: Older than the 30 days" in err


def test_import_events_csv_read_error_keeps_the_rows_before(
    tmp_path: Path, workspace: Workspace, small_batches: None
) -> None:
    data = gzip.compress((BULK_HEADER + "\n" + "\n".join(bulk_rows(3000)) + "\n").encode())
    path = tmp_path / "events.csv.gz"
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(CommandError, match=r"Stopped reading .* after line (\d+)") as failed:
        run("import_events", str(path), "--workspace", "acme")

    count = Event.objects.filter(workspace=workspace).count()
    assert 0 < count < 3000
    assert f"after line {count + 1}:" in str(failed.value)


# Values that the fast path must either store exactly as the row path does, or leave to it.
TRICKY_TEXT = [
    "x",
    "Leads",
    "é",
    "日本語",
    "a\tb",
    "a\\b",
    "\\N",
    "x" * 64,
    "x" * 65,
    "y" * 129,
    " x",
    "x ",
    " ",
    "\x00",
]
TRICKY_STAMPS = [
    "2025-03-03T09:00:00Z",
    "2025-03-03T09:00:00+00:00",
    "2025-03-03T09:00:00.000000+00:00",
    "2025-03-03T09:00:00.1+00:00",
    "2025-03-03T23:59:59.999999+05:45",
    "2025-03-03 00:30:00-03:30",
    "2025-03-03T09:00:00+14:00",
    "2025-03-03T09:00:00-15:00",
    "2025-03-03T09:00:00+00",
    "2025-03-03T09:00+01:00",
    "20250303T090000Z",
    "2025-03-03T09:00:00.1234567Z",
    "2025-03-03t09:00:00z",
    "2025-02-29T09:00:00Z",
    "2025-03-03T24:00:00Z",
    "1969-12-31T23:59:59Z",
    "1970-01-01T00:00:00Z",
    "2999-01-01T00:00:00Z",
    "2025-03-03T09:00:00",
    " 2025-03-03T09:00:00Z",
    "yesterday",
    "",
]


@pytest.mark.parametrize("seed", range(6))
def test_import_events_bulk_path_agrees_with_the_row_path_on_random_files(
    tmp_path: Path, make_workspace: Any, monkeypatch: Any, seed: int
) -> None:
    """Differential: the same random file imported with the fast path and with it turned off."""
    import random

    from events.management.commands import import_events

    rnd = random.Random(seed)
    monkeypatch.setattr(import_events, "CHUNK_SIZE", 8)
    monkeypatch.setattr(import_events, "READ_BLOCK", 200)
    header = rnd.choice([BULK_HEADER, "user,action,timestamp,feature,uuid", BULK_HEADER + ",properties"])
    names = header.split(",")
    lines = []
    for i in range(400):
        clean = rnd.random() < 0.95  # most chunks must reach the fast path's checks
        cells = []
        for name in names:
            if name == "uuid":
                value = f"e{rnd.randrange(300)}" if clean else rnd.choice([f"e{i}", "", " e1", "u" * 65])
            elif name == "timestamp":
                value = rnd.choice(TRICKY_STAMPS[:9] if clean else TRICKY_STAMPS)
            elif name == "properties":
                value = "" if clean else rnd.choice(["", '{"a": 1}', "[1]", "nope"])
            elif clean:
                value = rnd.choice(["u1", "u2", "Leads", "view", "é", "a\\b", "x" * 64, "\\N"])
            else:
                value = rnd.choice(TRICKY_TEXT + [""])
            cells.append(value)
        line = ",".join(f'"{c}"' if "," in c or '"' in c else c for c in cells)
        lines.append(line if rnd.random() > 0.01 else "")
    path = tmp_path / "events.csv"
    path.write_text(header + "\n" + "\n".join(lines) + "\n")

    results = {}
    taken = []
    fast_path = import_events.event_columns_fast
    for slug, fast in (("fast", True), ("rows", False)):
        make_workspace(slug, tz="Asia/Kathmandu")

        def columns_or_none(*args: Any, fast: bool = fast, **kwargs: Any) -> Any:
            cols = fast_path(*args, **kwargs) if fast else None
            if cols is not None:
                taken.append(len(cols))
            return cols

        monkeypatch.setattr(import_events, "event_columns_fast", columns_or_none)
        out, err = run("import_events", str(path), "--workspace", slug, "--no-refresh")
        workspace = Workspace.objects.get(slug=slug)
        events = stored(workspace)
        # Events without a uuid get a random one: compared by their values.
        random_uuids = sorted(repr(v) for k, v in events.items() if len(k) == 32)
        named = {k: v for k, v in events.items() if len(k) != 32}
        results[slug] = (out[-1], err, named, random_uuids, dirty_days(workspace))
    assert len(taken) >= 5  # chunks stored by the fast path
    for fast, rows in zip(results["fast"], results["rows"], strict=True):
        assert fast == rows


def test_demo_plan_is_deterministic() -> None:
    now = datetime(2025, 6, 4, 3, 0, tzinfo=UTC)
    tz = Workspace(timezone=demo.TIMEZONE).tzinfo
    kwargs = {"users": 30, "days": 21, "events": 5000, "anchor": now.astimezone(tz).date(), "tz": tz, "now": now}
    first, second = demo.demo_plan(**kwargs), demo.demo_plan(**kwargs)
    assert first.user_rows == second.user_rows
    events = list(first.events())
    assert events == list(second.events()) == list(first.events())
    assert len(events) == first.event_count == 5000
    assert max(e.occurred_at for e in events) <= now
    # working hours in the workspace's time zone dominate
    hours = [e.occurred_at.astimezone(tz).hour for e in events]
    assert sum(9 <= h < 19 for h in hours) / len(hours) > 0.75
