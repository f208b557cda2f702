"""The voice of the customer's pages and charts through the real routes: the same figures as the API
(tests/perception/test_voice.py's scenario), the empty state, a bad parameter as the form's message,
and the vocabulary page (members read it, admins change it and every text is labelled again)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from records.models import Feedback, PerceptionSettings
from tenancy.models import AuditEntry, Membership
from tests.perception.test_voice import ITEMS, PERIOD, VOCABULARY, store

pytestmark = pytest.mark.django_db


def login(client: Client, workspace, role=Membership.Role.VIEWER, username="viewer") -> Client:
    user = get_user_model().objects.create_user(username=username, password="pw-perception-1")
    Membership.objects.create(workspace=workspace, user=user, role=role)
    client.force_login(user)
    return client


@pytest.fixture
def acme(make_workspace):
    workspace = make_workspace("acme")[0]
    store(workspace, ITEMS)
    make_workspace("other")
    return workspace


def test_the_voice_page_shows_the_period_s_figures(client, acme):
    login(client, acme)
    page = client.get("/w/acme/perception/voice/", PERIOD)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="sentiment-list"' in html and "40.0%" in html  # positive: 2 of 5
    assert 'id="keywords-table"' in html and ">export<" in html and "66.7%" in html  # severity of export
    assert "6 items in this period" in html  # F1–F5 and F8 (waiting)
    assert "waiting for its labels" in html  # F8
    assert "/api/v1/workspaces/acme/perception/feedback?" in html and "format=csv" in html
    assert client.get("/w/other/perception/voice/", PERIOD).status_code == 404


def test_the_charts_draw_the_same_counts(client, acme):
    login(client, acme)
    sentiment = client.get("/w/acme/charts/perception-sentiment.json", PERIOD).json()
    assert sentiment["labels"] == ["Positive", "Neutral", "Negative"]
    assert sentiment["datasets"][0]["data"] == [2, 1, 2]
    cloud = client.get("/w/acme/charts/perception-keywords.json", {**PERIOD, "by": "accounts"}).json()
    assert cloud["labels"] == ["export", "support", "invoice", "slow"]
    assert cloud["datasets"][0]["data"] == [3, 2, 1, 1]
    assert cloud["datasets"][0]["color"][0] == "rgb(239, 68, 68)"  # export: mostly negative
    intents = client.get("/w/acme/charts/perception-intents.json", {**PERIOD, "by": "accounts"}).json()
    assert dict(zip(intents["labels"], intents["datasets"][0]["data"], strict=True)) == {
        "question": 2, "complaint": 1, "renewal": 0
    }  # fmt: skip
    competitors = client.get("/w/acme/charts/perception-competitors.json", PERIOD).json()
    assert competitors["labels"] == ["HubSpot", "Zoho"] and competitors["datasets"][0]["data"] == [2, 1]
    bad = client.get("/w/acme/charts/perception-sentiment.json", {**PERIOD, "by": "deals"})
    assert bad.status_code == 400 and "by" in bad.json()["errors"]


def test_a_bad_parameter_is_the_form_s_message(client, acme):
    login(client, acme)
    page = client.get("/w/acme/perception/voice/", {**PERIOD, "account": "ghost"})
    assert page.status_code == 400 and "No account with external id" in page.content.decode()


def test_a_workspace_without_feedback_says_how_to_send_it(client, make_workspace):
    empty = make_workspace("empty")[0]
    login(client, empty)
    page = client.get("/w/empty/perception/voice/")
    assert page.status_code == 200 and "No feedback yet" in page.content.decode()
    assert "/api/v1/records/feedback/batch" in page.content.decode()


def test_the_vocabulary_page_is_read_by_members_and_changed_by_admins(client, acme):
    login(client, acme)
    page = client.get("/w/acme/perception/settings/")
    assert page.status_code == 200 and "complaint: slow" in page.content.decode()
    assert client.post("/w/acme/perception/settings/", {"intents": "x: y", "competitors": ""}).status_code == 403
    admin = login(Client(), acme, role=Membership.Role.ADMIN, username="boss")
    bad = admin.post("/w/acme/perception/settings/", {"intents": "refund:", "competitors": "A\na"})
    assert bad.status_code == 400
    assert "Give at least one keyword." in bad.content.decode() and "Competitor 2" in bad.content.decode()
    saved = admin.post(
        "/w/acme/perception/settings/", {"intents": "退款：退款，refund\nquestion: how", "competitors": "HubSpot: HS"}
    )
    assert saved.status_code == 302
    settings = PerceptionSettings.objects.get(workspace=acme)
    assert settings.intents == {"退款": ["退款", "refund"], "question": ["how"]}
    assert settings.competitors == [{"name": "HubSpot", "aliases": ["HS"]}]
    assert not Feedback.objects.filter(workspace=acme, labelled_at__isnull=False).exists()
    assert AuditEntry.objects.filter(workspace=acme, target_type="perceptionsettings").count() == 1
    assert PerceptionSettings.objects.get(workspace=acme).intents != VOCABULARY["intents"]
