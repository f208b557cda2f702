"""Events carry what the operation came to — outcome, error code, duration and device, all optional
(DESIGN.md section 5) — through the batch endpoint and ``import_events`` (CSV header-driven, JSONL),
on every storage path: the exact one (batch endpoint, a re-import), the bulk COPY / executemany one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client

from events.models import Event
from tenancy.models import Workspace
from tenancy.services import workspace_create
from tests.conftest import run

pytestmark = pytest.mark.django_db

FIELDS = ("uuid", "outcome", "error_code", "duration_ms", "device")


def post_events(key: str, events: list[dict]) -> dict:
    response = Client().post(
        "/api/v1/events/batch", json.dumps({"events": events}), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    return response.json()


def event(n: int, **fields) -> dict:
    return {
        "uuid": f"e{n}",
        "user": "u1",
        "feature": "Leads",
        "action": "create",
        "timestamp": "2025-03-10T09:00:00Z",
    } | fields


def stored(workspace: Workspace) -> list[tuple]:
    return list(Event.objects.filter(workspace=workspace).order_by("uuid").values_list(*FIELDS))


def test_the_batch_endpoint_stores_the_outcome_fields_and_rejects_bad_ones_by_name() -> None:
    workspace, key = workspace_create(slug="acme")
    other, other_key = workspace_create(slug="other")
    body = [
        event(1, outcome="failure", error_code="E_TIMEOUT", duration_ms=2500, device="mobile"),
        event(2, outcome="success", duration_ms=0, device="api"),
        event(3),  # none of them: unknown
        event(4, duration_ms=86_400_000.0),  # a whole number written as a float
        event(5, outcome="ok"),
        event(6, outcome="success", error_code="E1"),
        event(7, error_code="E1"),
        event(8, duration_ms=-1),
        event(9, duration_ms=86_400_001),
        event(10, duration_ms=12.5),
        event(11, duration_ms=True),
        event(12, duration_ms="1500"),  # digits in a string: a number, as a CSV cell gives it
        event(13, device="phone"),
        event(14, outcome="failure", error_code="x" * 65),
    ]
    answer = post_events(key, body)
    rejected = {item["index"] + 1: sorted(item["errors"]) for item in answer["rejected"]}
    assert rejected == {
        5: ["outcome"], 6: ["error_code"], 7: ["error_code"], 8: ["duration_ms"], 9: ["duration_ms"],
        10: ["duration_ms"], 11: ["duration_ms"], 13: ["device"], 14: ["error_code"],
    }  # fmt: skip
    assert answer["accepted"] == 5
    assert stored(workspace) == [
        ("e1", "failure", "E_TIMEOUT", 2500, "mobile"),
        ("e12", "", "", 1500, ""),
        ("e2", "success", "", 0, "api"),
        ("e3", "", "", None, ""),
        ("e4", "", "", 86_400_000, ""),
    ]
    assert stored(other) == []  # the key decides the workspace
    # A resent batch stores nothing twice and changes nothing stored.
    again = post_events(key, [event(1, outcome="success"), event(15, outcome="failure")])
    assert (again["accepted"], again["duplicates"]) == (1, 1)
    assert stored(workspace)[0] == ("e1", "failure", "E_TIMEOUT", 2500, "mobile")
    assert post_events(other_key, [event(1, outcome="success")])["accepted"] == 1
    assert stored(other) == [("e1", "success", "", None, "")]


CSV_HEADER = "uuid,user,feature,action,timestamp,outcome,error_code,duration_ms,device"


def csv_line(n: int, outcome: str = "", error_code: str = "", duration: str = "", device: str = "") -> str:
    return f"c{n},u{n % 3},Deals,update,2025-03-1{n % 5}T08:00:00Z,{outcome},{error_code},{duration},{device}"


def test_a_csv_header_decides_the_columns_and_a_bad_value_rejects_its_line(tmp_path: Path) -> None:
    workspace, _ = workspace_create(slug="acme")
    lines = [
        CSV_HEADER,
        csv_line(1, "failure", "E_LOCKED", "120", "desktop"),
        csv_line(2, "success", "", "45", "tablet"),
        csv_line(3),
        csv_line(4, "failed"),  # line 5
        csv_line(5, "", "", "1.5"),  # line 6
        csv_line(6, "success", "E2"),  # line 7
        csv_line(7, "", "", "", "watch"),  # line 8
        csv_line(8, "failure", "", "86400000", "other"),
    ]
    path = tmp_path / "events.csv"
    path.write_text("\n".join(lines) + "\n")
    out, err = run("import_events", str(path), "--workspace", "acme")
    assert out[-1] == "imported=4 duplicates=0 rejected=4"
    reported = [line.split(":")[:2] for line in err.splitlines() if line.startswith("line ")]
    assert reported == [
        ["line 5", " outcome"],
        ["line 6", " duration_ms"],
        ["line 7", " error_code"],
        ["line 8", " device"],
    ]
    assert stored(workspace) == [
        ("c1", "failure", "E_LOCKED", 120, "desktop"),
        ("c2", "success", "", 45, "tablet"),
        ("c3", "", "", None, ""),
        ("c8", "failure", "", 86_400_000, "other"),
    ]
    # Run again: the exact path (the bulk batch meets stored uuids) stores nothing and keeps the values.
    out, _ = run("import_events", str(path), "--workspace", "acme")
    assert out[-1] == "imported=0 duplicates=4 rejected=4"
    assert stored(workspace)[0] == ("c1", "failure", "E_LOCKED", 120, "desktop")


def test_a_big_csv_without_the_columns_and_a_jsonl_with_them_store_alike(tmp_path: Path) -> None:
    """Plain rows take the column-wise fast path, rows with outcomes the row path; both are stored
    by the bulk writer in the same batch."""
    workspace, _ = workspace_create(slug="acme")
    plain = tmp_path / "plain.csv"
    plain.write_text("uuid,user,feature,action,timestamp\n" + "".join(
        f"p{n},u{n % 7},Leads,view,2025-03-{1 + n % 28:02d}T10:00:00Z\n" for n in range(3000)
    ))  # fmt: skip
    assert run("import_events", str(plain), "--workspace", "acme")[0][-1] == "imported=3000 duplicates=0 rejected=0"
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_text(
        "\n".join(
            json.dumps(event(n, outcome=("success", "failure")[n % 2], duration_ms=n, device="desktop")
                       | ({"error_code": f"E{n % 4}"} if n % 2 else {}))
            for n in range(2000)
        ) + "\n"
    )  # fmt: skip
    assert run("import_events", str(jsonl), "--workspace", "acme")[0][-1] == "imported=2000 duplicates=0 rejected=0"
    events = Event.objects.filter(workspace=workspace)
    assert events.filter(outcome="", duration_ms=None, device="").count() == 3000
    assert events.filter(outcome="failure").count() == 1000
    assert sorted(events.filter(uuid__in=["e7", "e8"]).values_list(*FIELDS)) == [
        ("e7", "failure", "E3", 7, "desktop"),
        ("e8", "success", "", 8, "desktop"),
    ]
