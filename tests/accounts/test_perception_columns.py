"""What customers say, on the account list, the account and its segments (issue 20 item 5): NPS over all
the account's responses, the latest labelled feedback's sentiment, and filters on both, on the hand-made
ledger (tests/accounts/conftest.py), today being 2026-03-20 in Shanghai.

A1: NPS 10 then 5 → one promoter, one detractor of two: NPS 0.0. A2: NPS 9 → 100.0. A3: 7 → 0.0 (a
passive). A6: feedback positive, then negative (the latest). A5 (dormant): NPS 0 → −100.0. The others
have none (null, sorted last either way)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from records.aggregates import figures_refresh_dirty
from records.models import Feedback
from records.services import DirtyMarks
from tenancy.models import Membership
from tests.conftest import crm_records

pytestmark = pytest.mark.django_db
URL = "/api/v1/workspaces/sh/accounts/"


@pytest.fixture
def api(time_machine, busy, member_client):
    time_machine.move_to("2026-03-20T12:00:00+08:00")
    crm_records(busy, "surveys", [
        {"external_id": "S1", "account": "A1", "kind": "nps", "score": 10, "responded_at": "2026-03-01"},
        {"external_id": "S2", "account": "A1", "kind": "nps", "score": 5, "responded_at": "2026-03-10"},
        {"external_id": "S3", "account": "A2", "kind": "nps", "score": 9, "responded_at": "2026-03-10"},
        {"external_id": "S4", "account": "A3", "kind": "nps", "score": 7, "responded_at": "2026-03-10"},
        {"external_id": "S5", "account": "A5", "kind": "nps", "score": 0, "responded_at": "2026-03-10"},
        {"external_id": "S6", "account": "A2", "kind": "csat", "score": 1, "responded_at": "2026-03-11"},
    ])  # fmt: skip
    crm_records(busy, "feedback", [
        {"external_id": "F1", "account": "A6", "channel": "email", "text": "one", "received_at": "2026-03-01"},
        {"external_id": "F2", "account": "A6", "channel": "email", "text": "two", "received_at": "2026-03-02"},
    ])  # fmt: skip
    # Labels as a worker stores them (the analysis itself: tests/records/test_labelling.py).
    for external_id, sentiment in (("F1", "positive"), ("F2", "negative")):
        Feedback.objects.filter(workspace=busy, external_id=external_id).update(
            sentiment=sentiment, language="en", labelled_at=timezone.now()
        )
    marks = DirtyMarks()
    marks.account(Feedback.objects.get(workspace=busy, external_id="F1").account_id)
    marks.save(busy)
    figures_refresh_dirty(workspace=busy)
    return member_client(busy, Membership.Role.ANALYST, "ana")


def ids(api, **params):
    response = api.get(URL, params)
    assert response.status_code == 200, response.content
    return [row["external_id"] for row in response.json()["results"]]


def test_rows_carry_nps_and_the_latest_sentiment(api):
    rows = {row["external_id"]: row for row in api.get(URL).json()["results"]}
    assert {k: (r["nps"], r["last_sentiment"]) for k, r in rows.items()} == {
        "A1": (0.0, None), "A2": (100.0, None), "A3": (0.0, None), "A4": (None, None), "A5": (-100.0, None),
        "A6": (None, "negative"),
    }  # fmt: skip


def test_filters_and_order_on_them(api):
    assert ids(api, min_nps="0") == ["A1", "A2", "A3"]  # Alpha, Beta, Gamma
    assert ids(api, min_nps="50") == ["A2"]
    assert ids(api, max_nps="-1") == ["A5"]
    assert ids(api, min_nps="0", max_nps="0") == ["A1", "A3"]
    assert ids(api, sentiment="negative") == ["A6"]
    assert ids(api, sentiment="positive,neutral") == []
    assert ids(api, ordering="-nps")[:4] == ["A2", "A1", "A3", "A5"]  # ties by external id; nulls last
    assert ids(api, ordering="nps")[:4] == ["A5", "A1", "A3", "A2"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_nps": "abc"}, "min_nps"),
        ({"min_nps": "101"}, "min_nps"),
        ({"max_nps": "-100.5"}, "max_nps"),
        ({"min_nps": "10", "max_nps": "5"}, "max_nps"),
        ({"sentiment": "angry"}, "sentiment"),
    ],
)
def test_bad_values_are_a_400_naming_the_field(api, params, field):
    response = api.get(URL, params)
    assert response.status_code == 400 and field in response.json(), response.content


def test_a_segment_keeps_the_filters_and_lists_the_same_accounts(api):
    created = api.post(
        "/api/v1/workspaces/sh/segments/",
        {"name": "Happy", "filters": {"min_nps": "50", "sentiment": "positive,negative"}},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["filters"] == {"min_nps": "50", "sentiment": ["positive", "negative"]}
    listed = api.get(f"/api/v1/workspaces/sh/segments/{created.json()['id']}/accounts").json()
    assert [row["external_id"] for row in listed["results"]] == []  # A2 has no feedback; A6 no NPS
    created = api.post(
        "/api/v1/workspaces/sh/segments/", {"name": "Promoters", "filters": {"min_nps": 50}}, format="json"
    )
    listed = api.get(f"/api/v1/workspaces/sh/segments/{created.json()['id']}/accounts").json()
    assert [row["external_id"] for row in listed["results"]] == ["A2"]


def test_the_list_page_shows_the_columns_and_filters(api, client, busy):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="ana"))
    page = client.get("/w/sh/accounts/list/", {"columns": ["nps", "sentiment"], "min_nps": "0"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-column="nps" class="num">100.0<' in html and 'data-column="nps" class="num">0.0<' in html
    assert 'name="min_nps"' in html and 'value="0"' in html


def test_the_account_page_says_why_it_is_at_risk(api, client, busy):
    from django.contrib.auth import get_user_model

    crm_records(busy, "contracts", [
        {"external_id": "K1", "account": "A1", "start": "2025-05-01", "end": "2026-04-30", "monthly_value": "1250.50",
         "status": "active"},
    ])  # fmt: skip
    client.force_login(get_user_model().objects.get(username="ana"))
    html = client.get("/w/sh/accounts/A1/").content.decode()
    assert 'id="kpi-nps">0.0<' in html and "2 responses." in html and "The latest scored 5." in html
    reasons = html[html.index('id="churn-reasons"') :]
    assert "detractor" in reasons and "ends within 60 days" in reasons and "usage is falling" not in reasons
    assert 'id="contracts-table"' in html and "1,250.50" in html
    assert "/w/sh/perception/voice/?account=A1" in html
    calm = client.get("/w/sh/accounts/A4/").content.decode()
    assert 'id="kpi-churn-risk">No sign<' in calm and 'id="kpi-nps">—<' in calm
    six = client.get("/w/sh/accounts/A6/").content.decode()
    listed = six[six.index('id="account-feedback"') :]
    assert listed.index(">two<") < listed.index(">one<")  # the newest first
