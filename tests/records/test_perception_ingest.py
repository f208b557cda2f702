"""The perception records (DESIGN.md section 7, API.md "Customer perception"): surveys, contracts,
retention spend and feedback through the records batch endpoint and ``import_records``, in two
workspaces with the same external ids."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from records.models import Account, Contract, Feedback, RetentionSpend, SurveyResponse
from records.validation import parse_perception_settings
from tenancy.models import Membership
from tests.conftest import crm_records, crm_users, run

pytestmark = pytest.mark.django_db


def post(key, kind, items, capture):
    with capture(execute=True):
        return Client().post(
            f"/api/v1/records/{kind}/batch",
            json.dumps({"items": items}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )


@pytest.fixture
def two(make_workspace):
    """Two workspaces holding an account A1 each: a record of one never lands in the other."""
    (a, key_a), (b, key_b) = make_workspace("acme", tz="Asia/Shanghai"), make_workspace("other")
    for ws in (a, b):
        crm_users(ws, [{"external_id": "rep1"}])
        crm_records(ws, "accounts", [{"external_id": "A1", "name": "Acme", "created_at": "2025-01-01"}])
    return a, key_a, b, key_b


SURVEY = {"external_id": "S1", "account": "A1", "contact": "C7", "kind": "nps", "score": 9,
          "comment": "Great support", "responded_at": "2026-03-31T20:00:00+00:00"}  # fmt: skip
CONTRACT = {"external_id": "K1", "account": "A1", "start": "2026-01-01", "end": "2026-12-31",
            "monthly_value": "1500.50", "status": "active"}  # fmt: skip
SPEND = {"external_id": "R1", "period": "2026-03", "amount": 300, "account": "A1"}
FEEDBACK = {"external_id": "F1", "account": "A1", "contact": "C7", "channel": "email",
            "text": "  导出太慢了，麻烦尽快处理  ", "received_at": "2026-03-31T17:00:00+00:00"}  # fmt: skip


def test_each_kind_is_stored_in_its_workspace_with_local_dates_and_cents(two, django_capture_on_commit_callbacks):
    a, key, b, _ = two
    for kind, item in (("surveys", SURVEY), ("contracts", CONTRACT), ("retention-spend", SPEND),
                       ("feedback", FEEDBACK)):  # fmt: skip
        answer = post(key, kind, [item], django_capture_on_commit_callbacks)
        assert answer.status_code == 200, answer.content
        assert answer.json() == {"created": 1, "updated": 0, "rejected": []}, kind
    survey = SurveyResponse.objects.get(workspace=a)
    assert (survey.account.workspace, survey.kind, survey.score, survey.contact) == (a, "nps", 9, "C7")
    assert survey.responded_on == date(2026, 4, 1)  # 20:00 UTC is the next morning in Shanghai
    contract = Contract.objects.get(workspace=a)
    assert (contract.start, contract.end, contract.monthly_value_cents) == (
        date(2026, 1, 1),
        date(2026, 12, 31),
        150050,
    )
    spend = RetentionSpend.objects.get(workspace=a)
    assert (spend.period, spend.amount_cents, spend.account.external_id) == (date(2026, 3, 1), 30000, "A1")
    feedback = Feedback.objects.get(workspace=a)
    assert feedback.text == "导出太慢了，麻烦尽快处理" and feedback.received_on == date(2026, 4, 1)
    for model in (SurveyResponse, Contract, RetentionSpend, Feedback):
        assert not model.objects.filter(workspace=b).exists()

    again = post(key, "surveys", [{"external_id": "S1", "score": 10}], django_capture_on_commit_callbacks)
    assert again.json() == {"created": 0, "updated": 1, "rejected": []}
    assert SurveyResponse.objects.get(workspace=a).score == 10


def test_a_score_off_its_kind_s_scale_is_rejected_naming_the_field(two, django_capture_on_commit_callbacks):
    _a, key, _b, _ = two
    items = [
        {**SURVEY, "external_id": "S2", "kind": "ces", "score": 8},  # CES is 1–7
        {**SURVEY, "external_id": "S3", "kind": "csat", "score": 0},  # CSAT is 1–5
        {**SURVEY, "external_id": "S4", "kind": "ces", "score": 7},
        {**SURVEY, "external_id": "S5", "score": 11},
        {**SURVEY, "external_id": "S6", "score": None},
    ]
    answer = post(key, "surveys", items, django_capture_on_commit_callbacks).json()
    assert answer["created"] == 1
    assert [(r["index"], sorted(r["errors"])) for r in answer["rejected"]] == [
        (0, ["score"]), (1, ["score"]), (3, ["score"]), (4, ["score"])
    ]  # fmt: skip
    assert "between 1 and 7" in answer["rejected"][0]["errors"]["score"][0]
    # An update sending one of the pair is checked against the stored other.
    answer = post(
        key, "surveys", [{"external_id": "S4", "score": 9}, {"external_id": "S4", "kind": "csat"}],
        django_capture_on_commit_callbacks,
    ).json()  # fmt: skip
    assert [sorted(r["errors"]) for r in answer["rejected"]] == [["score"], ["kind"]]
    assert SurveyResponse.objects.get(external_id="S4").score == 7


def test_a_contract_ending_before_its_start_is_rejected_also_on_update(two, django_capture_on_commit_callbacks):
    _a, key, _b, _ = two
    answer = post(key, "contracts", [{**CONTRACT, "end": "2025-12-31"}, CONTRACT], django_capture_on_commit_callbacks)
    assert answer.json()["created"] == 1
    assert answer.json()["rejected"] == [
        {"index": 0, "errors": {"end": ["A contract must end on or after its start."]}}
    ]
    answer = post(key, "contracts", [{"external_id": "K1", "start": "2027-01-01"}], django_capture_on_commit_callbacks)
    assert list(answer.json()["rejected"][0]["errors"]) == ["start"]
    assert Contract.objects.get(external_id="K1").start == date(2026, 1, 1)


@pytest.mark.parametrize(
    ("kind", "item", "field"),
    [
        ("surveys", {**SURVEY, "account": "ghost"}, "account"),
        ("surveys", {k: v for k, v in SURVEY.items() if k != "responded_at"}, "responded_at"),
        ("contracts", {**CONTRACT, "status": "paused"}, "status"),
        ("contracts", {**CONTRACT, "monthly_value": "-1"}, "monthly_value"),
        ("retention-spend", {**SPEND, "period": "2026-13"}, "period"),
        ("retention-spend", {**SPEND, "account": "ghost"}, "account"),
        ("feedback", {**FEEDBACK, "channel": "fax"}, "channel"),
        ("feedback", {**FEEDBACK, "text": "   "}, "text"),
        ("feedback", {**FEEDBACK, "text": "x" * 5001}, "text"),
        ("feedback", {**FEEDBACK, "account": "ghost"}, "account"),
        ("feedback", {**FEEDBACK, "sentiment": "positive"}, "non_field_errors"),  # labels are not sent
    ],
)
def test_bad_items_are_rejected_naming_the_field(two, django_capture_on_commit_callbacks, kind, item, field):
    _a, key, _b, _ = two
    answer = post(key, kind, [item], django_capture_on_commit_callbacks)
    assert answer.status_code == 200
    assert answer.json()["created"] == 0 and list(answer.json()["rejected"][0]["errors"]) == [field]


def test_feedback_and_spend_need_no_account(two, django_capture_on_commit_callbacks):
    a, key, _b, _ = two
    items = [{k: v for k, v in FEEDBACK.items() if k != "account"}]
    assert post(key, "feedback", items, django_capture_on_commit_callbacks).json()["created"] == 1
    spend = {k: v for k, v in SPEND.items() if k != "account"}
    assert post(key, "retention-spend", [spend], django_capture_on_commit_callbacks).json()["created"] == 1
    assert Feedback.objects.get(workspace=a).account is None
    assert RetentionSpend.objects.get(workspace=a).account is None


def test_a_changed_text_waits_for_new_labels_and_an_unchanged_one_keeps_its_own(
    two, django_capture_on_commit_callbacks
):
    a, key, _b, _ = two
    post(key, "feedback", [FEEDBACK, {**FEEDBACK, "external_id": "F2"}], django_capture_on_commit_callbacks)
    labelled = timezone.now()
    Feedback.objects.filter(workspace=a).update(labelled_at=labelled, sentiment="negative")
    post(
        key, "feedback", [{"external_id": "F1", "text": "Now it is fast, thanks"}, {"external_id": "F2", "channel": "case"}],
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    f1, f2 = Feedback.objects.filter(workspace=a).order_by("external_id")
    assert f1.labelled_at is None or f1.labelled_at > labelled  # waiting, or labelled again by the worker
    assert f2.labelled_at == labelled and f2.sentiment == "negative" and f2.channel == "case"


def test_import_records_reads_contracts_and_feedback_with_line_numbers(two, tmp_path):
    a, _key, b, _ = two
    contracts = tmp_path / "contracts.csv"
    contracts.write_text(
        "external_id,account,start,end,monthly_value,status\n"
        "K1,A1,2026-01-01,2026-06-30,100,renewed\n"
        "K2,A1,2026-07-01,2026-06-30,100,active\n"
        "K3,ghost,2026-01-01,2026-06-30,100,active\n"
        "K4,A1,2026-07-01,2026-12-31,120.5,active\n",
        encoding="utf-8",
    )
    out, err = run("import_records", "contracts", str(contracts), workspace="acme", no_refresh=True)
    assert out[-1] == "created=2 updated=0 rejected=2"
    assert "line 3: end: A contract must end on or after its start." in err
    assert "line 4: account: No account with external id 'ghost'" in err
    assert sorted(Contract.objects.filter(workspace=a).values_list("external_id", "monthly_value_cents")) == [
        ("K1", 10000), ("K4", 12050)
    ]  # fmt: skip
    feedback = tmp_path / "feedback.jsonl"
    feedback.write_text(
        json.dumps(FEEDBACK, ensure_ascii=False)
        + "\n"
        + json.dumps({**FEEDBACK, "external_id": "F2", "channel": "sms"})
        + "\n"
    )
    out, err = run("import_records", "feedback", str(feedback), workspace="acme", no_refresh=True)
    assert out[-1] == "created=1 updated=0 rejected=1" and "line 2: channel: Must be one of" in err
    assert not Contract.objects.filter(workspace=b).exists() and not Feedback.objects.filter(workspace=b).exists()


def test_the_vocabulary_is_checked_field_by_field():
    good, errors = parse_perception_settings(
        {"intents": {" refund ": ["退款", "refund", "refund "]}, "competitors": [{"name": "HubSpot", "aliases": []}]}
    )
    assert errors == {} and good == {
        "intents": {"refund": ["退款", "refund"]}, "competitors": [{"name": "HubSpot", "aliases": []}]
    }  # fmt: skip
    for raw, field in (
        ({"intents": {"x": []}, "competitors": []}, "intents.x"),
        ({"intents": {"x": ["a", ""]}, "competitors": []}, "intents.x"),
        ({"intents": {}, "competitors": [{"name": ""}]}, "competitors[0].name"),
        ({"intents": {}, "competitors": [{"name": "A"}, {"name": "a"}]}, "competitors[1].name"),
        ({"intents": {}, "competitors": [{"name": "A", "aliases": "B"}]}, "competitors[0].aliases"),
        ({"intents": {}, "competitors": [{"name": "A", "url": "x"}]}, "competitors[0]"),
        ({"competitors": []}, "intents"),
        ({"intents": {f"i{n}": ["k"] for n in range(51)}, "competitors": []}, "intents"),
        ([], "non_field_errors"),
    ):
        assert parse_perception_settings(raw) == (None, {field: parse_perception_settings(raw)[1][field]}), raw


@pytest.mark.parametrize("page", ["surveyresponse", "contract", "retentionspend", "feedback", "perceptionsettings"])
def test_admin_pages_show_only_the_staff_user_s_workspace(client, two, page):
    a, key, b, _ = two
    staff = get_user_model().objects.create_user(username="acme-admin", is_staff=True)
    Membership.objects.create(workspace=a, user=staff, role=Membership.Role.ADMIN)
    crm_records(b, "feedback", [{**FEEDBACK, "text": "secret of the other workspace"}])
    crm_records(b, "surveys", [{**SURVEY, "contact": "secret-contact"}])
    client.force_login(staff)
    listing = client.get(f"/admin/records/{page}/")
    assert listing.status_code == 200
    assert "secret" not in listing.content.decode()
    other = Feedback.objects.get(workspace=b)
    assert client.get(f"/admin/records/feedback/{other.pk}/change/").status_code == 404


def test_the_admin_refuses_another_workspace_s_account_and_a_score_off_its_scale(client, two):
    """Staff change a survey of their workspace in the admin; its account is a raw id field, which takes
    any account's id: another workspace's is refused, as is a score off the kind's scale."""
    a, _key, b, _ = two
    crm_records(a, "surveys", [{**SURVEY, "kind": "ces", "score": 6}])
    survey = SurveyResponse.objects.get(workspace=a)
    staff = get_user_model().objects.create_user(username="acme-admin", is_staff=True)
    Membership.objects.create(workspace=a, user=staff, role=Membership.Role.ADMIN)
    client.force_login(staff)
    url = f"/admin/records/surveyresponse/{survey.pk}/change/"
    form = {"workspace": a.pk, "external_id": "S1", "contact": "", "kind": "ces", "score": 6, "comment": "",
            "responded_at_0": "2026-03-01", "responded_at_1": "10:00:00",
            "account": Account.objects.get(workspace=a).pk}  # fmt: skip
    refused = client.post(url, {**form, "account": Account.objects.get(workspace=b).pk})
    assert refused.status_code == 200 and "Choose an account of the same workspace." in refused.content.decode()
    off_scale = client.post(url, {**form, "score": 9})
    assert off_scale.status_code == 200 and "A ces score must be between 1 and 7." in off_scale.content.decode()
    assert SurveyResponse.objects.get(pk=survey.pk).account.workspace == a
    saved = client.post(url, {**form, "score": 7})
    assert saved.status_code == 302 and SurveyResponse.objects.get(pk=survey.pk).score == 7


def test_every_record_refuses_references_to_another_workspace(two):
    """What the admin's raw id fields would let through: each record's references must be of its own
    workspace (the models' clean, which the admin's forms call)."""
    from django.core.exceptions import ValidationError

    from events.models import CrmUser
    from records.models import Activity, Deal, DealLineItem, Product, Target

    a, _key, b, _ = two
    crm_records(a, "products", [{"external_id": "P1", "name": "P"}])
    crm_records(b, "products", [{"external_id": "P1", "name": "P"}])
    crm_records(a, "deals", [{"external_id": "D1", "account": "A1", "name": "D", "stage": "S", "state": "open",
                              "created_at": "2026-01-01", "line_items": [{"product": "P1", "amount": 5}]}])  # fmt: skip
    theirs = {"account": Account.objects.get(workspace=b), "owner": CrmUser.objects.get(workspace=b),
              "product": Product.objects.get(workspace=b)}  # fmt: skip
    cases = [  # a fresh record each time: one wrong reference at a time
        (lambda: Account.objects.get(workspace=a), "owner"),
        (lambda: Deal.objects.get(workspace=a), "account"),
        (lambda: Deal.objects.get(workspace=a), "owner"),
        (lambda: Activity(workspace=a, external_id="X", kind="call", owner=CrmUser.objects.get(workspace=a)), "owner"),
        (lambda: Target(workspace=a, external_id="T", month=date(2026, 1, 1)), "owner"),
        (lambda: SurveyResponse(workspace=a, external_id="S", kind="nps", score=9), "account"),
        (lambda: DealLineItem.objects.get(deal__workspace=a), "product"),
    ]
    for make, field in cases:
        record = make()
        setattr(record, field, theirs[field])
        try:
            record.clean()
        except ValidationError as error:
            assert field in error.message_dict, (type(record).__name__, error.message_dict)
        else:
            raise AssertionError(f"{type(record).__name__}.{field} of another workspace was accepted")
    deal = Deal.objects.get(workspace=a)
    deal.clean()  # its own account and owner pass
