"""The perception metrics are cached until the workspace's records change (records/versions.py): a read
between two writes is served from the cache (shown by changing a row behind the application's back), and
every way records are written — the batch API, import_records, the admin, a time-zone change — renews the
version, so the next read shows the write. Two workspaces: a write in one leaves the other's answers cached.
The figures are those of test_metrics.py's hand-checked scenario."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.aggregates import local_dates_recompute
from records.labelling import labels_store
from records.models import Contract, Feedback, RecordsVersion, SurveyResponse
from records.versions import records_changed
from records.vocabulary import Labels
from tenancy.models import Membership, Workspace
from tests.conftest import crm_records
from tests.perception.test_metrics import PERIOD, contract, seed_scenario, survey
from tests.perception.test_voice import ITEMS, store

pytestmark = pytest.mark.django_db

# A deal of A1: a kind of records the Perception tab does not read.
DEAL = {"external_id": "D1", "name": "Renewal", "stage": "Proposal", "state": "open", "account": "A1",
        "created_at": "2026-03-01T10:00:00+08:00"}  # fmt: skip


@pytest.fixture
def two(make_workspace, member_client):
    acme = make_workspace("acme", tz="Asia/Shanghai")[0]
    other = make_workspace("other", tz="Asia/Shanghai")[0]
    seed_scenario(acme)
    seed_scenario(other)
    return acme, other, member_client(acme), member_client(other, username="other-member")


def read(client, workspace, name="summary", **params):
    response = client.get(f"/api/v1/workspaces/{workspace.slug}/perception/{name}", {**PERIOD, **params})
    assert response.status_code == 200, response.content
    return response.json()


def nps(client, workspace, **params):
    return read(client, workspace, **params)["metrics"]["nps"]


def test_a_read_between_two_writes_comes_from_the_cache(two):
    acme, other, client, other_client = two
    assert nps(client, acme)["value"] == 40.0  # promoters S1, S2, S5; passive S3; detractor S4
    breakdown = read(client, acme, "breakdown", by="owner")
    trend = read(client, acme, "trend")
    assert nps(other_client, other)["value"] == 40.0
    # Behind the application's back (no version renewed): S4, the detractor, becomes a promoter.
    SurveyResponse.objects.filter(workspace__in=[acme, other], external_id="S4").update(score=10)
    assert nps(client, acme)["value"] == 40.0
    assert read(client, acme, "breakdown", by="owner") == breakdown and read(client, acme, "trend") == trend
    # Another period or filter is another answer, computed now.
    assert nps(client, acme, industry="Retail")["value"] == 100.0  # S4 alone
    records_changed(acme.pk)
    assert nps(client, acme)["value"] == 80.0  # (4 − 0) ÷ 5
    assert read(client, acme, "breakdown", by="owner") != breakdown
    assert nps(other_client, other)["value"] == 40.0  # acme's write renewed acme's version only


def test_a_segment_s_answers_are_never_cached(two, member_client):
    acme, _other, client, _ = two
    boss = member_client(acme, Membership.Role.ADMIN, username="boss")
    created = boss.post(
        "/api/v1/workspaces/acme/segments/",
        {"name": "Retail", "filters": {"industry": ["Retail"]}, "visibility": "workspace"},
        format="json",
    )
    segment = created.json()["id"]
    assert nps(client, acme, segment=segment)["value"] == 0.0  # S4 (3) and S5 (9), of A3 and A5
    SurveyResponse.objects.filter(workspace=acme, external_id="S4").update(score=10)
    assert nps(client, acme, segment=segment)["value"] == 100.0
    groups = read(client, acme, "breakdown", by="segment")["groups"]
    assert groups[0]["nps"] == 100.0


def test_no_version_no_cache(make_workspace, member_client):
    workspace = make_workspace("fresh")[0]
    client = member_client(workspace)
    assert not RecordsVersion.objects.filter(workspace=workspace).exists()
    assert nps(client, workspace)["value"] is None
    crm_records(workspace, "accounts", [{"external_id": "A1", "name": "A", "created_at": "2025-01-01"}])
    assert list(RecordsVersion.objects.filter(workspace=workspace).values_list("kind", flat=True)) == ["accounts"]


def test_a_write_renews_only_the_kinds_it_wrote(two):
    """The metrics read accounts, contracts, surveys and retention spend; the voice accounts and feedback.
    A deal leaves both cached, a feedback text only the metrics, a contract only the voice."""
    acme, _other, client, _ = two
    crm_records(acme, "feedback", [{"external_id": "F1", "account": "A1", "contact": "c1", "channel": "email",
                                    "text": "slow export", "received_at": "2026-03-20T12:00:00+08:00"}])  # fmt: skip
    f1 = Feedback.objects.get(workspace=acme, external_id="F1")
    labels_store(acme, [(f1.pk, Labels(language="en", sentiment="negative", intents=[], competitors=[],
                                       keywords=["export"]))])  # fmt: skip

    def negative():
        return {row["sentiment"]: row["count"] for row in read(client, acme, "voice")["sentiment"]}["negative"]

    assert nps(client, acme)["value"] == 40.0 and negative() == 1
    # Behind the application's back: the detractor S4 becomes a promoter, F1 turns positive.
    SurveyResponse.objects.filter(workspace=acme, external_id="S4").update(score=10)
    Feedback.objects.filter(workspace=acme, external_id="F1").update(sentiment="positive")
    crm_records(acme, "deals", [DEAL])
    assert nps(client, acme)["value"] == 40.0 and negative() == 1  # both still the cached answers
    crm_records(acme, "feedback", [{"external_id": "F2", "account": "A2", "channel": "chat", "text": "fine",
                                    "received_at": "2026-01-05T12:00:00+08:00"}])  # fmt: skip
    assert negative() == 0  # the voice is computed again
    assert nps(client, acme)["value"] == 40.0  # the metrics are not
    assert read(client, acme, "voice")["units"] == 1  # F1 (F2 is in January)
    crm_records(acme, "contracts", [contract("K9", "A4", "2026-04-01", "2026-12-31", "100.00", "active")])
    assert nps(client, acme)["value"] == 80.0  # computed again: (4 − 0) ÷ 5
    Feedback.objects.filter(workspace=acme, external_id="F1").update(deleted=True)
    assert read(client, acme, "voice")["units"] == 1  # still the voice's cached answer
    Feedback.objects.filter(workspace=acme, external_id="F1").update(deleted=False)
    crm_records(acme, "accounts", [{"external_id": "A1", "deleted": True}])  # both read the accounts
    assert read(client, acme, "voice")["units"] == 0  # A1's F1 left with its account
    versions = dict(RecordsVersion.objects.filter(workspace=acme).values_list("kind", "version"))
    assert set(versions) == {"accounts", "contracts", "surveys", "retention-spend", "feedback", "deals"}


def test_the_batch_api_and_import_records_renew_the_version(two, tmp_path):
    acme, _other, client, _ = two
    assert nps(client, acme)["value"] == 40.0
    crm_records(acme, "surveys", [survey("S10", "A3", "nps", 10, "2026-03-20T10:00:00+08:00")])
    assert nps(client, acme)["promoters"] == 4 and nps(client, acme)["value"] == 50.0  # (4 − 1) ÷ 6
    before = read(client, acme)["metrics"]["customer_churn_pct"]["value"]
    assert before == 50.0
    # import_records: A3's contract K4 ends in the period, unrenewed: A3 churns too (3 of 4).
    path = tmp_path / "contracts.csv"
    path.write_text("external_id,account,start,end,monthly_value,status\nK4,A3,2025-01-01,2026-03-25,310.00,churned\n")
    call_command("import_records", "contracts", str(path), workspace="acme", stdout=io.StringIO())
    assert Contract.objects.get(workspace=acme, external_id="K4").status == "churned"
    assert read(client, acme)["metrics"]["customer_churn_pct"]["value"] == 75.0


def test_an_admin_edit_renews_the_version(two, client):
    acme, _other, api, _ = two
    assert nps(api, acme)["value"] == 40.0
    staff = get_user_model().objects.create_user(username="acme-admin", is_staff=True)
    Membership.objects.create(workspace=acme, user=staff, role=Membership.Role.ADMIN)
    client.force_login(staff)
    detractor = SurveyResponse.objects.get(workspace=acme, external_id="S4")
    form = {"workspace": acme.pk, "external_id": "S4", "contact": "", "kind": "nps", "score": 10, "comment": "",
            "responded_at_0": "2026-03-31", "responded_at_1": "10:00:00", "account": detractor.account_id}  # fmt: skip
    saved = client.post(f"/admin/records/surveyresponse/{detractor.pk}/change/", form)
    assert saved.status_code == 302, saved.content
    assert nps(api, acme)["value"] == 80.0


def test_a_time_zone_change_renews_the_version(two):
    """The local dates are recomputed by a task after the change (records.tasks). In UTC, S2 (17:00 UTC on
    the 16th, the 17th in Shanghai) moves to the previous period, beside S7 (8) and S8 (7): 1 promoter of 3."""
    acme, _other, client, _ = two
    assert nps(client, acme)["previous"] == 0.0
    Workspace.objects.filter(pk=acme.pk).update(timezone="UTC")
    # Read in the new zone (its own answer: the zone is part of the key) before the dates are recomputed.
    assert nps(client, acme)["previous"] == 0.0
    local_dates_recompute(workspace=Workspace.objects.get(pk=acme.pk))
    assert nps(client, acme)["previous"] == 33.3  # the same key: only the renewed version shows the move


def test_the_voice_is_cached_until_feedback_or_its_labels_change(make_workspace, member_client):
    """test_voice.py's items: 5 labelled in March (F8 waits for its labels)."""
    acme, other = make_workspace("acme")[0], make_workspace("other")[0]
    store(acme, ITEMS)
    store(other, ITEMS)
    client, other_client = member_client(acme), member_client(other, username="other-member")

    def voice(api, workspace, **params):
        return read(api, workspace, "voice", start="2026-03-01", end="2026-03-31", **params)

    assert voice(client, acme)["units"] == 5 and voice(client, acme, by="accounts")["units"] == 2
    assert voice(client, acme, channel="chat")["units"] == 1  # F2
    assert voice(other_client, other)["sentiment"][0]["count"] == 2
    keywords = read(client, acme, "keywords", start="2026-03-01", end="2026-03-31")
    # Behind the application's back: every text of both workspaces turns positive.
    Feedback.objects.filter(workspace__in=[acme, other]).exclude(sentiment="").update(sentiment="positive")
    assert voice(client, acme)["sentiment"][0] == {"sentiment": "positive", "count": 2, "share_pct": 40.0}
    assert read(client, acme, "keywords", start="2026-03-01", end="2026-03-31") == keywords
    # A worker labels F8 (negative): the version is renewed, the next read counts every label as stored.
    f8 = Feedback.objects.get(workspace=acme, external_id="F8")
    labels_store(acme, [(f8.pk, Labels(language="en", sentiment="negative", intents=[], competitors=[],
                                       keywords=["export"]))])  # fmt: skip
    answer = voice(client, acme)
    assert answer["units"] == 6
    assert answer["sentiment"] == [
        {"sentiment": "positive", "count": 5, "share_pct": 83.3},
        {"sentiment": "neutral", "count": 0, "share_pct": 0.0},
        {"sentiment": "negative", "count": 1, "share_pct": 16.7},
    ]
    assert voice(other_client, other)["sentiment"][0]["count"] == 2  # still other's cached answer
    # A text moved through the batch API renews it too (its terms follow at once).
    crm_records(acme, "feedback", [{"external_id": "F1", "channel": "chat"}])
    assert voice(client, acme, channel="chat")["units"] == 2


def contract_reads(client, workspace, name):
    """Whether the default view of ``name`` read the contracts (was computed, not a cache read)."""
    with CaptureQueriesContext(connection) as view:
        response = client.get(f"/api/v1/workspaces/{workspace.slug}/perception/{name}")
        assert response.status_code == 200, response.content
    return any("records_contract" in q["sql"] for q in view.captured_queries)


def feedback_reads(client, workspace, name):
    """Whether the view of ``name`` read the feedback or its aggregates (was computed)."""
    with CaptureQueriesContext(connection) as view:
        response = client.get(f"/api/v1/workspaces/{workspace.slug}/perception/{name}")
        assert response.status_code == 200, response.content
    return any("records_feedback" in q["sql"] for q in view.captured_queries)


def write_and_commit(workspace, capture):
    """A records write whose transaction commits (its on-commit callbacks run: the warm-up is queued
    and, tasks being in-process here, run)."""
    with capture(execute=True):
        crm_records(workspace, "surveys", [survey("S11", "A1", "nps", 9, "2026-03-21T10:00:00+08:00")])


def test_a_worker_computes_the_default_views_after_a_write(
    two, settings, django_capture_on_commit_callbacks, time_machine
):
    settings.PRECOMPUTE_AFTER_REFRESH = True  # as with a worker (a broker configured)
    time_machine.move_to("2026-03-31T12:00:00+08:00")  # the default period (30 days) ends in March
    acme, other, client, other_client = two
    write_and_commit(acme, django_capture_on_commit_callbacks)
    assert not contract_reads(client, acme, "summary") and not contract_reads(client, acme, "trend")
    assert not contract_reads(client, acme, "breakdown")
    # And every preset of the period picker, on both pages; a range typed by hand or a filter computes.
    for name in ("summary", "trend", "breakdown"):
        for preset in ("last_7_days", "last_month", "this_quarter", "year_to_date"):
            assert not contract_reads(client, acme, f"{name}?period={preset}"), (name, preset)
    assert not feedback_reads(client, acme, "voice?period=last_month")
    assert not feedback_reads(client, acme, "keywords?period=this_month")
    assert not feedback_reads(client, acme, "voice?period=last_month&by=accounts")
    assert feedback_reads(client, acme, "voice?period=last_month&channel=email")
    assert contract_reads(client, acme, "summary?start=2026-03-01&end=2026-03-15")
    assert contract_reads(client, acme, "summary?industry=Retail")  # not a default view: computed
    assert contract_reads(other_client, other, "summary")  # acme's write warmed acme's views only
    # One warm-up queued per workspace at a time: a write while one is pending queues none.
    cache.add(f"perception-warm-pending:{acme.pk}", 1)
    write_and_commit(acme, django_capture_on_commit_callbacks)
    assert contract_reads(client, acme, "summary")
    cache.delete(f"perception-warm-pending:{acme.pk}")
    write_and_commit(acme, django_capture_on_commit_callbacks)
    assert not contract_reads(client, acme, "summary")
    # The warmed answers are the computed ones.
    warmed = client.get("/api/v1/workspaces/acme/perception/summary").json()
    assert warmed["period"]["end"] == "2026-03-31" and warmed["metrics"]["nps"]["value"] is not None
    records_changed(acme.pk)  # a new version, not warmed (this transaction never commits)
    assert contract_reads(client, acme, "summary")
    assert client.get("/api/v1/workspaces/acme/perception/summary").json() == warmed


def test_a_write_the_tab_does_not_read_warms_nothing(two, settings, django_capture_on_commit_callbacks):
    settings.PRECOMPUTE_AFTER_REFRESH = True
    acme, _other, client, _ = two
    records_changed(acme.pk, ["contracts"])  # the default views computed on their next read (never committed)
    with django_capture_on_commit_callbacks(execute=True):
        crm_records(acme, "deals", [DEAL])
    assert contract_reads(client, acme, "summary")
    records_changed(acme.pk, ["contracts"])
    with django_capture_on_commit_callbacks(execute=True):
        crm_records(acme, "retention-spend", [{"external_id": "R9", "period": "2026-03", "amount": "1.00"}])
    assert not contract_reads(client, acme, "summary")  # retention spend: read by the metrics, so warmed


def test_in_process_a_write_computes_no_view_ahead(two, settings, django_capture_on_commit_callbacks):
    """Without a broker the write's request would pay for the warm-up: the views compute on first view."""
    settings.PRECOMPUTE_AFTER_REFRESH = False
    acme, _other, client, _ = two
    write_and_commit(acme, django_capture_on_commit_callbacks)
    assert contract_reads(client, acme, "summary")


def test_every_kind_of_records_has_a_version():
    """A kind the batch API accepts but the versions do not know would fail its writes (records_changed
    refuses unknown kinds)."""
    from records.services import MODELS
    from records.versions import RECORD_KINDS

    assert sorted(RECORD_KINDS) == sorted(MODELS)
    with pytest.raises(ValueError, match="unknown kinds"):
        records_changed(1, ["invoices"])
