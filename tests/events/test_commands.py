"""The manage.py commands of the events area (API.md, "Command line")."""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from events import demo
from events.models import CrmUser, DirtyDay, Event, Feature, IngestKey, Membership, UserDay, Workspace
from events.services import crm_users_upsert

pytestmark = pytest.mark.django_db


def run(*args: Any, stderr: io.StringIO | None = None, **options: Any) -> tuple[list[str], str]:
    """Run a command; return its stdout lines and its stderr."""
    out, err = io.StringIO(), stderr or io.StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue().splitlines(), err.getvalue()


def user_days(workspace: Workspace) -> list[tuple[Any, ...]]:
    return list(
        UserDay.objects.filter(workspace=workspace)
        .order_by("day", "crm_user__external_id")
        .values_list("day", "crm_user__external_id", "events", "sessions", "session_seconds", "first_event_at")
    )


# --- create_workspace ------------------------------------------------------------------------------


def test_create_workspace_prints_the_ingest_key_last() -> None:
    lines, _ = run(
        "create_workspace", "acme", "--name", "Acme Inc", "--timezone", "Asia/Shanghai", "--session-timeout", "20"
    )

    workspace = Workspace.objects.get(slug="acme")
    assert (workspace.name, workspace.timezone, workspace.session_timeout_minutes) == ("Acme Inc", "Asia/Shanghai", 20)
    key = lines[-1]
    assert key.startswith("ik_") and " " not in key
    assert IngestKey.objects.get(digest=IngestKey.digest_of(key)).workspace == workspace


def test_create_workspace_defaults() -> None:
    run("create_workspace", "plain")
    workspace = Workspace.objects.get(slug="plain")
    assert (workspace.name, workspace.timezone, workspace.session_timeout_minutes) == ("plain", "UTC", 15)


def test_create_workspace_refuses_an_existing_slug(workspace: Workspace) -> None:
    with pytest.raises(CommandError, match="'acme' already exists"):
        run("create_workspace", "acme")
    assert Workspace.objects.filter(slug="acme").count() == 1


def test_create_workspace_exits_non_zero_on_an_existing_slug(workspace: Workspace, capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(["manage.py", "create_workspace", "acme"])
    assert exit_info.value.code != 0
    assert "already exists" in capsys.readouterr().err


def test_create_workspace_refuses_an_unknown_time_zone() -> None:
    with pytest.raises(CommandError, match="timezone: Mars/Olympus is not an IANA time zone name"):
        run("create_workspace", "mars", "--timezone", "Mars/Olympus")
    assert not Workspace.objects.filter(slug="mars").exists()


# --- create_api_token ------------------------------------------------------------------------------


def test_create_api_token_authenticates_a_member(workspace: Workspace) -> None:
    user = get_user_model().objects.create_user("ana", password="x")
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.VIEWER)

    lines, _ = run("create_api_token", "ana", "--days", "7")

    token = lines[-1]
    assert " " not in token
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/workspaces/acme/home/summary").status_code == 200
    expiry = AuthToken.objects.get(user=user).expiry
    assert abs(expiry - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get("/api/v1/workspaces/acme/home/summary").status_code == 401


def test_create_api_token_defaults_to_90_days(settings: Any) -> None:
    user = get_user_model().objects.create_user("ana")
    run("create_api_token", "ana")
    expiry = AuthToken.objects.get(user=user).expiry
    days = settings.API_TOKEN_DEFAULT_DAYS
    assert days == 90
    assert abs(expiry - (timezone.now() + timedelta(days=days))) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody"], "No user named 'nobody'"),
        (["sleepy"], "inactive"),
        (["ana", "--days", "0"], "between 1 and 3650"),
        (["ana", "--days", "3651"], "between 1 and 3650"),
    ],
)
def test_create_api_token_errors(args: list[str], message: str) -> None:
    get_user_model().objects.create_user("ana")
    get_user_model().objects.create_user("sleepy", is_active=False)
    with pytest.raises(CommandError, match=message):
        run("create_api_token", *args)
    assert not AuthToken.objects.exists()


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


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "Cannot read"),
        ("broken.csv.gz", b"this is not gzip", "not a valid gzip file"),
        ("latin1.csv", b"user,feature,action,timestamp\n\xe9t\xe9,a,b,c\n", "not UTF-8"),
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


# --- seed_demo -------------------------------------------------------------------------------------


def test_seed_demo_small() -> None:
    lines, _ = run("seed_demo", "--users", "20", "--days", "14", "--events", "3000")

    workspace = Workspace.objects.get(slug="zylker")
    assert (workspace.name, workspace.timezone) == ("Zylker Corp", "Asia/Shanghai")
    features = Feature.objects.filter(workspace=workspace)
    assert set(features.values_list("type", flat=True)) == set(Feature.Type.values)
    assert not features.filter(auto_created=True).exists()
    assert CrmUser.objects.filter(workspace=workspace).count() == 20
    events = Event.objects.filter(workspace=workspace)
    assert events.count() == 3000
    today = workspace.today()
    days = {workspace.local_date(t) for t in events.values_list("occurred_at", flat=True)}
    assert min(days) >= today - timedelta(days=13) and max(days) <= today
    assert not events.filter(occurred_at__gt=timezone.now()).exists()
    assert UserDay.objects.filter(workspace=workspace).exists()
    assert not DirtyDay.objects.filter(workspace=workspace).exists()

    created = dict(events.filter(feature__key="Leads", action="create").values_list("record_id", "occurred_at"))
    converts = list(events.filter(feature__key="Leads", action="convert").values_list("record_id", "occurred_at"))
    assert converts
    for record_id, moment in converts:
        assert record_id in created and created[record_id] < moment

    # the admin login printed last works
    assert lines[-1].startswith("Admin login: http://127.0.0.1:8000/  user: admin  password: ")
    password = lines[-1].rsplit(" ", 1)[-1]
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)
    assert Membership.objects.get(workspace=workspace, user=admin).role == Membership.Role.ADMIN

    # again: the data is kept, the password is reset
    lines, _ = run("seed_demo", "--users", "20", "--days", "14", "--events", "3000")
    assert any("already exists" in line for line in lines)
    assert Event.objects.filter(workspace=workspace).count() == 3000
    new_password = lines[-1].rsplit(" ", 1)[-1]
    admin.refresh_from_db()
    assert new_password != password and admin.check_password(new_password)

    # --reset regenerates
    run("seed_demo", "--users", "5", "--days", "3", "--events", "200", "--reset")
    workspace = Workspace.objects.get(slug="zylker")
    assert Event.objects.filter(workspace=workspace).count() == 200
    assert CrmUser.objects.filter(workspace=workspace).count() == 5


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
