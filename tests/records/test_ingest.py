"""The records batch endpoint and ``import_records``: upsert by external id, references resolved in
the workspace, partial acceptance, the aggregates kept current (DESIGN.md section 6, API.md "CRM records")."""

from __future__ import annotations

import gzip
import json

import pytest
from django.core.management import CommandError
from django.db import connection
from django.test import Client

from records.models import (
    Account,
    AccountFigures,
    Activity,
    CreatedMonthFigures,
    Deal,
    DealDayFigures,
    DealMonthFigures,
    RecordsDirty,
    RepDayActivity,
    Target,
)
from tests.conftest import crm_records, crm_users, run

pytestmark = pytest.mark.django_db


CAPTURE = []


@pytest.fixture(autouse=True)
def on_commit_runs(django_capture_on_commit_callbacks):
    """The test's transaction never commits: run what a commit would (enqueue the refresh, which the
    in-process worker then does)."""
    CAPTURE[:] = [django_capture_on_commit_callbacks]
    yield


def post(key, kind, items, **extra):
    body = items if isinstance(items, str | bytes) else json.dumps({"items": items})
    with CAPTURE[0](execute=True):
        return Client().post(
            f"/api/v1/records/{kind}/batch",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
            **extra,
        )


@pytest.fixture
def two(make_workspace):
    """Two workspaces with the same external ids: nothing may cross between them."""
    (a, key_a), (b, key_b) = make_workspace("acme", tz="Asia/Shanghai"), make_workspace("other")
    for ws in (a, b):
        crm_users(ws, [{"external_id": "rep1"}, {"external_id": "rep2"}])
    return a, key_a, b, key_b


ACCOUNT = {"external_id": "A1", "name": "Acme Co., Ltd.", "industry": "Retail", "country": "CN",
           "owner": "rep1", "created_at": "2026-01-05"}  # fmt: skip
DEAL = {"external_id": "D1", "account": "A1", "name": "Renewal", "owner": "rep1", "amount": "1200.50",
        "stage": "Negotiation", "probability": 60, "created_at": "2026-02-01T10:00:00+08:00",
        "close_date": "2026-03-31", "state": "open"}  # fmt: skip


def test_accounts_and_deals_are_upserted_and_the_aggregates_follow(two):
    a, key, b, _ = two
    answer = post(key, "accounts", [ACCOUNT, {**ACCOUNT, "external_id": "A2", "name": "ACME Inc"}])
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"created": 2, "updated": 0, "rejected": []}
    account = Account.objects.get(workspace=a, external_id="A1")
    assert account.name_key == "acme" and account.owner.external_id == "rep1"
    assert str(account.created_on) == "2026-01-05"  # a bare date is the workspace's local day
    assert not Account.objects.filter(workspace=b).exists()

    answer = post(key, "deals", [DEAL, {**DEAL, "external_id": "D2", "amount": 100, "state": "won",
                                        "close_date": "2026-03-01", "probability": 100}])  # fmt: skip
    assert answer.json() == {"created": 2, "updated": 0, "rejected": []}
    deal = Deal.objects.get(workspace=a, external_id="D1")
    assert deal.amount_cents == 120050 and str(deal.created_on) == "2026-02-01"
    assert deal.stage_entered_at == deal.created_at  # no history: the stage since creation
    figures = AccountFigures.objects.get(account=account)
    assert (figures.revenue_cents, figures.won_deals, figures.open_deals, figures.open_pipeline_cents) == (
        10000,
        1,
        1,
        120050,
    )
    assert not RecordsDirty.objects.filter(workspace=a).exists()  # the in-process worker caught up

    # The won deal re-sent as open: a snapshot, so no revenue any more (API.md: the last upsert decides).
    answer = post(key, "deals", [{"external_id": "D2", "state": "open"}])
    assert answer.json() == {"created": 0, "updated": 1, "rejected": []}
    figures.refresh_from_db()
    assert (figures.revenue_cents, figures.won_deals, figures.open_deals, figures.open_pipeline_cents) == (
        0,
        0,
        2,
        130050,
    )
    months = {
        (m.month.isoformat(), m.state): (m.deals, m.amount_cents, m.weighted)
        for m in DealMonthFigures.objects.filter(workspace=a)
    }
    assert months == {("2026-03-01", "open"): (2, 130050, 120050 * 60 + 10000 * 100)}
    assert list(DealDayFigures.objects.filter(workspace=a, state="won")) == []
    assert CreatedMonthFigures.objects.get(workspace=a).amount_cents == 130050


def test_an_unknown_reference_rejects_only_its_item_naming_the_field(two):
    a, key, b, key_b = two
    post(key, "accounts", [ACCOUNT])
    post(key_b, "accounts", [{**ACCOUNT, "external_id": "B-only"}])
    answer = post(key, "deals", [
        {**DEAL, "account": "B-only"},  # another workspace's account is unknown here
        {**DEAL, "external_id": "D9", "owner": "ghost"},
        {**DEAL, "external_id": "D3", "line_items": [{"product": "P404", "amount": 5}]},
        DEAL,
        {"external_id": "D4", "name": "no account"},
    ])  # fmt: skip
    body = answer.json()
    assert body["created"] == 1 and body["updated"] == 0
    errors = {r["index"]: r["errors"] for r in body["rejected"]}
    assert set(errors) == {0, 1, 2, 4}
    assert "account" in errors[0] and "B-only" in errors[0]["account"][0]
    assert "owner" in errors[1]
    assert "line_items" in errors[2]
    assert set(errors[4]) >= {"account", "stage", "created_at", "state"}
    assert list(Deal.objects.filter(workspace=a).values_list("external_id", flat=True)) == ["D1"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", -1), ("amount", "12.345"), ("amount", "abc"), ("probability", 101), ("state", "closed"),
     ("forecast_category", "maybe"), ("close_date", "2026-02-30"), ("created_at", "yesterday"),
     ("line_items", "x"), ("stage_history", [{"stage": "A"}]), ("name", "")],
)  # fmt: skip
def test_bad_fields_are_400_style_errors_naming_the_field(two, field, value):
    a, key, _b, _ = two
    post(key, "accounts", [ACCOUNT])
    body = post(key, "deals", [{**DEAL, field: value}]).json()
    assert body["created"] == 0 and list(body["rejected"][0]["errors"]) == [field]


def test_stage_history_and_line_items_are_replaced_whole(two):
    a, key, *_ = two
    post(key, "accounts", [ACCOUNT])
    post(key, "products", [{"external_id": "P1", "name": "CRM seats"}, {"external_id": "P2", "name": "Support"}])
    history = [{"stage": "Qualify", "entered_at": "2026-02-02T00:00:00Z"},
               {"stage": "Negotiation", "entered_at": "2026-02-20T00:00:00Z"}]  # fmt: skip
    lines = [{"product": "P1", "quantity": 3, "amount": "900"}, {"product": "P2", "amount": "300.5"}]
    post(key, "deals", [{**DEAL, "stage_history": history, "line_items": lines}])
    deal = Deal.objects.get(workspace=a, external_id="D1")
    assert deal.stage_entered_at.isoformat() == "2026-02-20T00:00:00+00:00"
    assert [(li.product.external_id, li.quantity, li.amount_cents) for li in deal.line_items.all()] == [
        ("P1", 3, 90000), ("P2", 1, 30050)]  # fmt: skip
    post(key, "deals", [{"external_id": "D1", "stage_history": history[:1], "line_items": []}])
    deal.refresh_from_db()
    assert deal.stage_entered_at.isoformat() == "2026-02-02T00:00:00+00:00"
    assert deal.stage_history.count() == 1 and deal.line_items.count() == 0
    post(key, "deals", [{"external_id": "D1", "name": "Renamed"}])  # lists not sent: kept
    deal.refresh_from_db()
    assert deal.stage_history.count() == 1 and deal.stage_entered_at.isoformat() == "2026-02-02T00:00:00+00:00"


def test_deleting_hides_the_record_from_the_aggregates(two):
    a, key, *_ = two
    post(key, "accounts", [ACCOUNT])
    post(key, "deals", [{**DEAL, "state": "won"}])
    post(key, "activities", [{"external_id": "X1", "kind": "call", "owner": "rep1", "account": "A1", "deal": "D1",
                              "occurred_at": "2026-03-02T23:30:00Z"}])  # fmt: skip
    activity = Activity.objects.get(workspace=a)
    assert str(activity.occurred_on) == "2026-03-03"  # Shanghai's day
    assert RepDayActivity.objects.get(workspace=a).activities == 1
    assert AccountFigures.objects.get(account__external_id="A1").last_activity.isoformat() == "2026-03-03"
    assert DealDayFigures.objects.get(workspace=a).amount_cents == 120050
    post(key, "accounts", [{"external_id": "A1", "deleted": True}])
    assert not DealDayFigures.objects.filter(workspace=a).exists()  # its deals went with it
    post(key, "activities", [{"external_id": "X1", "deleted": True}])
    assert not RepDayActivity.objects.filter(workspace=a).exists()


def test_a_dormant_account_leaves_the_overview_figures(two):
    a, key, *_ = two
    post(key, "accounts", [ACCOUNT])
    post(key, "deals", [{**DEAL, "state": "won"}])
    assert DealMonthFigures.objects.get(workspace=a).account_active is True
    post(key, "accounts", [{"external_id": "A1", "status": "dormant"}])
    assert DealMonthFigures.objects.get(workspace=a).account_active is False


def test_targets_for_the_team_and_per_rep(two):
    a, key, *_ = two
    body = post(key, "targets", [
        {"external_id": "T-team", "owner": None, "month": "2026-03", "pipeline_target": 50000, "revenue_quota": "10000"},
        {"external_id": "T-1", "owner": "rep1", "month": "2026-03", "revenue_quota": 4000},
        {"external_id": "T-bad", "month": "2026-13"},
    ]).json()  # fmt: skip
    assert body["created"] == 2 and body["rejected"][0]["errors"].keys() == {"month"}
    team = Target.objects.get(workspace=a, external_id="T-team")
    assert team.owner is None and team.pipeline_target_cents == 5_000_000 and str(team.month) == "2026-03-01"


def test_the_batch_endpoint_refuses_what_it_cannot_read(two):
    _a, key, *_ = two
    assert post(key, "widgets", [ACCOUNT]).status_code == 404
    assert post(key, "accounts", "{").status_code == 400
    assert post(key, "accounts", []).status_code == 400
    assert post(key, "accounts", [ACCOUNT] * 1001).status_code == 413
    assert post("nope", "accounts", [ACCOUNT]).status_code == 401
    body = post(key, "accounts", [{**ACCOUNT, "colour": "red"}, "x"]).json()
    assert [r["errors"] for r in body["rejected"]] == [
        {"non_field_errors": ["Unknown field(s): colour."]}, {"non_field_errors": ["Each item must be a JSON object."]}]  # fmt: skip


def test_import_records_reads_csv_and_gzipped_jsonl_with_line_numbers(two, tmp_path):
    a, _key, b, _ = two
    csv_file = tmp_path / "accounts.csv"
    csv_file.write_text(
        "external_id,name,industry,owner,created_at\n"
        "A1,Acme,Retail,rep1,2026-01-05\n"
        "A2,Bad owner,Retail,ghost,2026-01-05\n"
        "A3,,Retail,rep1,2026-01-05\n"
        "A4,Zylker,Software,rep2,2026-02-01T09:00:00+08:00\n",
        encoding="utf-8",
    )
    out, err = run("import_records", "accounts", str(csv_file), workspace="acme")
    assert out[-1] == "created=2 updated=0 rejected=2"
    assert "line 3: owner: No CRM user with external id 'ghost'" in err
    assert "line 4: name: This field is required" in err
    deals = tmp_path / "deals.jsonl.gz"
    with gzip.open(deals, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({**DEAL, "account": "A4"}) + "\n{oops\n")
        handle.write(json.dumps({**DEAL, "external_id": "D2", "account": "A1", "state": "won"}) + "\n")
    out, err = run("import_records", "deals", str(deals), workspace="acme")
    assert out[-1] == "created=2 updated=0 rejected=1" and "line 2: Malformed JSON" in err
    out, _ = run("import_records", "deals", str(deals), workspace="acme")
    assert out[-1] == "created=0 updated=2 rejected=1"  # idempotent
    assert AccountFigures.objects.get(account__external_id="A1").revenue_cents == 120050
    assert not Deal.objects.filter(workspace=b).exists()
    with pytest.raises(CommandError):
        run("import_records", "accounts", str(csv_file), workspace="nope")


def test_create_workspace_takes_an_iso_4217_currency(db):
    out, _ = run("create_workspace", "cny", currency="CNY")
    from tenancy.models import Workspace

    assert Workspace.objects.get(slug="cny").currency == "CNY" and "currency CNY" in out[0]
    assert Workspace.objects.create(slug="d", name="d").currency == "USD"
    with pytest.raises(CommandError, match="currency"):
        run("create_workspace", "bad", currency="DOLLARS")


def test_crm_records_helper_round_trip(two):
    a, *_ = two
    crm_records(a, "accounts", [ACCOUNT])
    crm_records(a, "deals", [{**DEAL, "state": "lost", "amount": None}])
    figures = AccountFigures.objects.get(account__external_id="A1")
    assert (figures.lost_deals, figures.revenue_cents) == (1, 0)


def test_refresh_records_catches_up_and_rebuilds(two):
    a, *_ = two
    crm_records(a, "accounts", [ACCOUNT], refresh=False)
    crm_records(a, "deals", [{**DEAL, "state": "won"}], refresh=False)
    assert RecordsDirty.objects.filter(workspace=a).exists()
    out, _ = run("refresh_records", workspace="acme")
    assert out[-1].startswith("Refreshed ") and not RecordsDirty.objects.filter(workspace=a).exists()
    AccountFigures.objects.filter(account__workspace=a).update(revenue_cents=1)  # damaged by hand
    out, _ = run("refresh_records", workspace="acme", full=True)
    assert AccountFigures.objects.get(account__external_id="A1").revenue_cents == 120050


@pytest.mark.parametrize(
    ("field", "value"),
    [("created_at", "0001-01-01"), ("created_at", "9999-12-31T23:59:59-14:00"), ("amount", "NaN"),
     ("amount", 1e308), ("amount", "1e20"), ("amount", " "), ("amount", True), ("probability", "50.5"),
     ("close_date", "0000-01-01"), ("stage_history", [{"stage": "S", "entered_at": "0001-01-01"}] * 3),
     ("line_items", [{"product": "P", "amount": 1}] * 201), ("name", "x\x00y"), ("name", "\ud800")],
)  # fmt: skip
def test_hostile_values_reject_their_item_and_never_a_500(make_workspace, field, value):
    workspace, key = make_workspace("tokyo", tz="Asia/Tokyo")
    crm_users(workspace, [{"external_id": "rep1"}])
    post(key, "accounts", [ACCOUNT])
    answer = post(key, "deals", [{**DEAL, field: value}, {**DEAL, "external_id": "fine"}])
    assert answer.status_code == 200
    assert answer.json()["created"] == 1 and list(answer.json()["rejected"][0]["errors"]) == [field]


def test_a_body_nested_past_the_parser_is_a_400(two):
    _a, key, *_ = two
    answer = post(key, "deals", '{"items": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert answer.status_code == 400 and "nested" in answer.json()["detail"]


def test_stuck_thresholds_default_to_30_days_and_are_set_per_stage(two):
    from records.models import StageThreshold
    from records.selectors import stuck_thresholds

    a, _key, b, _ = two
    StageThreshold.objects.create(workspace=a, stage="Negotiation", days=10)
    assert stuck_thresholds(a) == ({"Negotiation": 10}, 30)
    assert stuck_thresholds(b) == ({}, 30)


@pytest.mark.django_db(transaction=True)
def test_import_records_stores_chunks_behind_the_reading_in_order(make_workspace, tmp_path, monkeypatch):
    """Outside a transaction ``import_records`` stores each chunk on a writer thread (its own
    connection) while it reads the next: the same rows and line numbers as in turn, a later line still
    updating an earlier chunk's row, and a writer's error raised, with the chunks before it kept."""
    import sys
    import threading

    from records.management.commands import import_records

    (a, _), (b, _) = make_workspace("acme"), make_workspace("other")
    for ws in (a, b):
        crm_users(ws, [{"external_id": "rep1"}])
    monkeypatch.setattr(import_records, "CHUNK_SIZE", 2)
    writers: set[int] = set()
    upsert = import_records.records_upsert

    def recording_upsert(**kwargs):
        writers.add(threading.get_ident())
        return upsert(**kwargs)

    monkeypatch.setattr(import_records, "records_upsert", recording_upsert)
    rows = [
        "A1,Acme,rep1,2026-01-05", "A2,Beta,rep1,2026-01-05",  # chunk 1
        "A3,Gamma,ghost,2026-01-05",  # line 4: the writer rejects it (unknown owner)
        "A4,,rep1,2026-01-05",  # line 5: parsing rejects it
        "A5,Epsilon,rep1,2026-01-05", "A1,Acme Renamed,rep1,2026-01-05",  # updates chunk 1's A1
        "A6,Zeta,,2026-01-05",
    ]  # fmt: skip
    csv_file = tmp_path / "accounts.csv"
    csv_file.write_text("external_id,name,owner,created_at\n" + "\n".join(rows) + "\n", encoding="utf-8")
    threads_before, switch_before = threading.active_count(), sys.getswitchinterval()
    out, err = run("import_records", "accounts", str(csv_file), workspace="acme")
    assert out[-1] == "created=4 updated=1 rejected=2"
    # Parsing reports line 5 as it reads it; the writer's rejection of line 4 comes with its chunk.
    assert sorted(line.split(":")[0] for line in err.splitlines()) == ["line 4", "line 5"]
    assert "line 4: owner: No CRM user with external id 'ghost'" in err
    assert writers and threading.get_ident() not in writers
    assert dict(Account.objects.filter(workspace=a).values_list("external_id", "name")) == {
        "A1": "Acme Renamed", "A2": "Beta", "A5": "Epsilon", "A6": "Zeta"}  # fmt: skip
    assert not Account.objects.filter(workspace=b).exists()
    assert AccountFigures.objects.filter(account__workspace=a).count() == 4  # refreshed at the end
    assert threading.active_count() == threads_before  # the writer thread is gone
    assert sys.getswitchinterval() == switch_before  # and the interpreter's switch interval restored

    calls = []

    def failing_upsert(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return upsert(**kwargs)

    monkeypatch.setattr(import_records, "records_upsert", failing_upsert)
    csv_file.write_text("external_id,name,created_at\nB1,One,2026-01-05\nB2,Two,2026-01-05\nB3,Three,2026-01-05\n")
    with pytest.raises(RuntimeError, match="went away"):
        run("import_records", "accounts", str(csv_file), workspace="other")
    assert list(Account.objects.filter(workspace=b).values_list("external_id", flat=True)) == ["B1", "B2"]
    assert threading.active_count() == threads_before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner statistics are PostgreSQL's")
def test_import_records_gives_the_planner_the_new_row_counts_before_refreshing(two, tmp_path):
    """Statistics from when the tables were empty make the planner nest loops of full scans over the
    new rows (the demo's refresh took over five minutes in CI): the import analyzes what it loaded."""
    a, *_ = two
    crm_records(a, "accounts", [ACCOUNT])
    crm_records(a, "products", [{"external_id": f"P{n}", "name": f"Product {n}"} for n in range(3)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE records_deal, records_deallineitem")  # empty: the stale statistics
    deals = tmp_path / "deals.jsonl"
    lines = [{"product": f"P{n % 3}", "quantity": 1, "amount": "10"} for n in range(2)]
    deals.write_text(
        "".join(json.dumps({**DEAL, "external_id": f"D{n}", "state": "won", "line_items": lines}) + "\n"
                for n in range(40)),
        encoding="utf-8",
    )  # fmt: skip
    out, err = run("import_records", "deals", str(deals), workspace="acme")
    assert out[-1] == "created=40 updated=0 rejected=0", err
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname IN ('records_deal', 'records_deallineitem')"
        )
        assert dict(cursor.fetchall()) == {"records_deal": 40, "records_deallineitem": 80}
