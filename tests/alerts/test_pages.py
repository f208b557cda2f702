"""The Alerts pages: the list with state and muted, the form (create, edit, the definition's messages
next to its inputs), mute/unmute, one alert's history; scoping and roles; the tab bar's link."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from alerts.models import Alert
from alerts.services import alerts_evaluate
from tenancy.models import AuditEntry, Membership
from tests.alerts.conftest import at, daily, days_from, make_alert
from tests.conftest import crm_users

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(make_workspace):
    workspace, _ = make_workspace("acme")
    daily(workspace, days_from(date(2026, 3, 1), [5]))
    return workspace


def login(client: Client, workspace, username="ana", role=Membership.Role.ANALYST):
    user, _ = get_user_model().objects.get_or_create(username=username)
    Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": role})
    client.force_login(user)
    return user


def url(name, slug="acme", **kwargs):
    return reverse(name, kwargs={"slug": slug, **kwargs})


FORM = {
    "name": "Busy day",
    "metric": "interactions",
    "days": "1",
    "condition": "threshold",
    "op": ">",
    "value": "2",
    "interval": "daily",
    "recipients": "ops@example.com, lead@example.com",
    "visibility": "private",
}


def test_create_from_the_form_then_fire_and_see_the_history(client, acme):
    login(client, acme)
    assert client.get(url("alerts-new")).status_code == 200
    response = client.post(url("alerts-new"), FORM)
    alert = Alert.objects.get()
    assert response.status_code == 302 and response["Location"] == url("alerts-detail", pk=alert.pk)
    assert alert.recipients == ["ops@example.com", "lead@example.com"] and alert.params == {"days": 1}
    assert alert.value == 2 and alert.language == "en"
    assert AuditEntry.objects.filter(target_type="alert", action="created").exists()
    alerts_evaluate(now=at("2026-03-02T06:00:00Z"))
    assert len(mail.outbox) == 1
    listing = client.get(url("alerts-list")).content.decode()
    assert "Busy day" in listing and 'data-state="firing"' in listing
    page = client.get(url("alerts-detail", pk=alert.pk)).content.decode()
    assert 'id="history-table"' in page and "2026-03-02 06:00" in page


def test_the_form_shows_the_definitions_messages(client, acme):
    login(client, acme)
    response = client.post(url("alerts-new"), {**FORM, "metric": "failure_rate_pct", "feature": "Nope", "op": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert "The alert was not saved" in page
    assert "Unknown feature" in page and "Choose an operator" in page
    assert not Alert.objects.exists()


def test_edit_keeps_the_secret_and_mute_toggles(client, acme):
    owner = login(client, acme)
    alert = make_alert(acme, owner, webhook_url="https://93.184.215.14/h", secret="keep-me")
    page = client.get(url("alerts-edit", pk=alert.pk)).content.decode()
    assert "keep-me" not in page
    response = client.post(
        url("alerts-edit", pk=alert.pk), {**FORM, "name": "Renamed", "webhook_url": "https://93.184.215.14/h"}
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.name, alert.secret) == ("Renamed", "keep-me")
    client.post(url("alerts-mute", pk=alert.pk), {"muted": "1"})
    alert.refresh_from_db()
    assert alert.muted
    assert 'id="alert-muted"' in client.get(url("alerts-detail", pk=alert.pk)).content.decode()
    client.post(url("alerts-mute", pk=alert.pk), {"muted": "0"})
    alert.refresh_from_db()
    assert not alert.muted
    client.post(url("alerts-delete", pk=alert.pk))
    assert not Alert.objects.exists()


def test_scoping_and_roles(client, acme, make_workspace):
    other, _ = make_workspace("other")
    owner = login(client, acme, username="owner")
    mine = make_alert(acme, owner)
    shared = make_alert(acme, owner, name="Shared one", visibility="workspace")
    client.logout()
    assert client.get(url("alerts-list")).status_code == 302  # anonymous: to the login page
    login(client, other, username="outsider")
    assert client.get(url("alerts-list")).status_code == 404
    assert client.get(url("alerts-detail", slug="other", pk=mine.pk)).status_code == 404
    login(client, acme, username="vic", role=Membership.Role.VIEWER)
    listing = client.get(url("alerts-list")).content.decode()
    assert "Shared one" in listing and "Busy" not in listing and "New alert" not in listing
    assert client.get(url("alerts-detail", pk=mine.pk)).status_code == 404
    assert client.get(url("alerts-new")).status_code == 403
    assert client.post(url("alerts-mute", pk=shared.pk), {"muted": "1"}).status_code == 403


def test_the_tab_bar_links_to_the_alerts(client, acme):
    login(client, acme)
    home = client.get(reverse("home-tab", kwargs={"slug": "acme"})).content.decode()
    assert f'href="{url("alerts-list")}"' in home
    page = client.get(url("alerts-list")).content.decode()
    assert 'aria-current="page">Alerts<' in page


def test_a_features_interactions_from_the_form(client, acme, make_workspace):
    """The form's Feature and Action apply to interactions; active users take a feature but not an
    action (the message is put next to Action)."""
    make_workspace("other")
    login(client, acme)
    response = client.post(url("alerts-new"), {**FORM, "feature": "Deals", "action": "edit", "value": "4"})
    alert = Alert.objects.get()
    assert response.status_code == 302 and alert.params == {"days": 1, "feature": "Deals", "action": "edit"}
    alerts_evaluate(now=at("2026-03-02T06:00:00Z"))  # 03-01: 5 Deals·edit > 4
    assert [m.subject for m in mail.outbox] == ["Busy day"]
    edit = client.get(url("alerts-edit", pk=alert.pk)).content.decode()
    assert '<option value="Deals" selected>' in edit and 'value="edit"' in edit
    refused = client.post(
        url("alerts-new"), {**FORM, "metric": "active_users", "feature": "Deals", "action": "edit"}
    )  # fmt: skip
    assert refused.status_code == 400
    assert "Active users are narrowed to a feature, not to an action." in refused.content.decode()
    assert Alert.objects.count() == 1


def test_the_user_field_has_the_activity_tabs_type_ahead(client, acme, make_workspace):
    crm_users(acme, [{"external_id": "rep-7", "name": "Alice Rep", "email": "alice@acme.test"}])
    other, _ = make_workspace("other")
    crm_users(other, [{"external_id": "rep-9", "name": "Alice Other", "email": "alice@other.test"}])
    login(client, acme)
    page = client.get(url("alerts-new")).content.decode()
    suggest = url("activity-user-suggestions")
    assert f'data-suggest-url="{suggest}"' in page and suggest == "/w/acme/activity/users.json"
    assert 'name="user"' in page and 'autocomplete="off"' in page
    # The field's suggestions are the workspace's own users only.
    assert client.get(suggest, {"q": "alice"}).json()["users"] == [
        {"external_id": "rep-7", "name": "Alice Rep", "email": "alice@acme.test"}
    ]
    # What it suggests saves: a rep's inactivity.
    response = client.post(
        url("alerts-new"), {**FORM, "metric": "days_since_seen", "user": "rep-7", "op": ">=", "value": "7"}
    )
    assert response.status_code == 302 and Alert.objects.get().params == {"days": 1, "user": "rep-7"}
