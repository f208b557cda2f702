"""``alerts/`` and ``alerts/<id>/history`` (API.md "Alerts"): the fields, 400s naming the field, the
owner and visibility rules of every saved configuration, two workspaces."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import override_settings

from alerts.models import Alert
from alerts.services import alerts_evaluate
from tenancy.models import Membership
from tests.alerts.conftest import at, daily, days_from
from tests.conftest import journeys

pytestmark = pytest.mark.django_db

BODY = {
    "name": "Busy",
    "metric": "interactions",
    "params": {"days": 3, "country": ["CN"]},
    "condition": "threshold",
    "op": ">=",
    "value": 10,
    "interval": "hourly",
    "recipients": ["ops@example.com"],
}


@pytest.fixture
def acme(make_workspace):
    workspace, _ = make_workspace("acme")
    journeys(workspace, [("u1", "2026-03-01T10:00:00+00:00", "Deals", "edit")])
    return workspace


@pytest.fixture
def analyst(acme, member_client):
    return member_client(acme, role=Membership.Role.ANALYST, username="ana")


URL = "/api/v1/workspaces/acme/alerts/"


def test_create_read_update_delete(analyst):
    created = analyst.post(URL, {**BODY, "webhook_url": "https://93.184.215.14/hook", "secret": "s3"}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert {k: body[k] for k in ("name", "metric", "params", "condition", "op", "value", "interval", "recipients")} == {
        **BODY, "params": {"days": 3, "country": ["CN"]}
    }  # fmt: skip
    assert body["webhook_url"] == "https://93.184.215.14/hook"
    assert body["state"] == "ok" and body["muted"] is False and "secret" not in body
    alert = Alert.objects.get()
    assert alert.secret == "s3" and alert.params == {"days": 3, "country": ["CN"]}
    patched = analyst.patch(f"{URL}{alert.pk}", {"muted": True}, format="json")
    assert patched.status_code == 200 and patched.json()["muted"] is True
    assert Alert.objects.get().secret == "s3"  # kept when not sent
    assert analyst.patch(f"{URL}{alert.pk}", {"state": "firing"}, format="json").json()["state"] == "ok"  # read-only
    assert [a["id"] for a in analyst.get(URL).json()] == [alert.pk]
    assert analyst.delete(f"{URL}{alert.pk}").status_code == 204


@pytest.mark.parametrize(
    ("change", "field", "inner"),
    [
        ({"metric": "revenue"}, "metric", None),
        ({"condition": "sometimes"}, "condition", None),
        ({"op": "!="}, "op", None),
        ({"op": ""}, "op", None),
        ({"value": None}, "value", None),
        ({"interval": "weekly"}, "interval", None),
        ({"recipients": ["not an email"]}, "recipients", None),
        ({"params": {"days": 0}}, "params", "days"),
        ({"params": {"days": 91}}, "params", "days"),
        ({"params": {"colour": "red"}}, "params", "colour"),
        ({"params": {"country": ["CN"], "status": ["sleeping"]}}, "params", "status"),
        ({"metric": "features_used", "params": {"feature": "Deals"}}, "params", "feature"),
        ({"metric": "inactive_users", "params": {"feature": "Deals"}}, "params", "feature"),
        ({"params": {"feature": "Nope"}}, "params", "feature"),
        ({"params": {"feature": "Deals", "action": "fly"}}, "params", "action"),
        ({"params": {"action": "edit"}}, "params", "action"),
        ({"metric": "active_users", "params": {"feature": "Deals", "action": "edit"}}, "params", "action"),
        ({"metric": "failure_rate_pct", "params": {"feature": "Nope"}}, "params", "feature"),
        ({"metric": "failure_rate_pct", "params": {"feature": "Deals", "action": "fly"}}, "params", "action"),
        ({"metric": "failure_rate_pct", "params": {"action": "edit"}}, "params", "action"),
        ({"metric": "days_since_seen", "params": {}}, "params", "user"),
        ({"metric": "days_since_seen", "params": {"user": "ghost"}}, "params", "user"),
        ({"params": {"user": "u1"}}, "params", "user"),
        ({"params": "days=3"}, "params", None),
        ({"webhook_url": "ftp://example.com/x", "secret": "s"}, "webhook_url", None),
        ({"webhook_url": "https://93.184.215.14/hook"}, "secret", None),
    ],
)
def test_bad_input_is_a_400_naming_the_field(analyst, change, field, inner):
    response = analyst.post(URL, {**BODY, **change}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    if inner:
        assert inner in errors[field], errors
    assert not Alert.objects.exists()


def test_valid_params_of_each_metric(analyst):
    ok = [
        {"metric": "failure_rate_pct", "params": {"feature": "Deals", "action": "edit", "days": 7}},
        {"metric": "interactions", "params": {"feature": "Deals", "action": "edit", "days": 7}},
        {"metric": "active_users", "params": {"feature": "Deals", "country": ["CN"]}},
        {"metric": "days_since_seen", "params": {"user": "u1"}, "op": ">", "value": 3},
        {"condition": "anomaly", "op": "", "value": None},
        {"condition": "change", "op": "<", "value": -20},
    ]
    for change in ok:
        response = analyst.post(URL, {**BODY, **change}, format="json")
        assert response.status_code == 201, (change, response.json())
    anomaly = Alert.objects.get(condition="anomaly")
    assert (anomaly.op, anomaly.value) == ("", None)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest",
        "http://localhost/x",
        "http://[::1]/x",
        "https://192.168.0.10/x",
    ],
)
def test_private_webhook_addresses_are_refused_at_save(analyst, url):
    response = analyst.post(URL, {**BODY, "webhook_url": url, "secret": "s"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["webhook_url"]
    with override_settings(ALERT_WEBHOOK_ALLOW_PRIVATE=True):
        assert analyst.post(URL, {**BODY, "webhook_url": url, "secret": "s"}, format="json").status_code == 201


def test_visibility_and_roles(acme, analyst, member_client):
    private = analyst.post(URL, BODY, format="json").json()
    shared = analyst.post(URL, {**BODY, "name": "Shared", "visibility": "workspace"}, format="json").json()
    viewer = member_client(acme, role=Membership.Role.VIEWER, username="vic")
    assert [a["name"] for a in viewer.get(URL).json()] == ["Shared"]
    assert viewer.get(f"{URL}{private['id']}").status_code == 404
    assert viewer.get(f"{URL}{private['id']}/history").status_code == 404
    assert viewer.get(f"{URL}{shared['id']}/history").status_code == 200
    assert viewer.patch(f"{URL}{shared['id']}", {"muted": True}, format="json").status_code == 403
    assert viewer.post(URL, BODY, format="json").status_code == 403
    admin = member_client(acme, role=Membership.Role.ADMIN, username="adele")
    assert admin.patch(f"{URL}{shared['id']}", {"muted": True}, format="json").status_code == 200
    assert admin.get(f"{URL}{private['id']}").status_code == 404  # private stays its owner's


def test_two_workspaces(acme, analyst, make_workspace, member_client):
    other, _ = make_workspace("other")
    journeys(other, [("x", "2026-03-01T10:00:00+00:00", "Billing", "pay")])
    mine = analyst.post(URL, {**BODY, "visibility": "workspace"}, format="json").json()
    both = member_client(other, role=Membership.Role.ANALYST, username="ana")  # ana is in both
    assert both.get("/api/v1/workspaces/other/alerts/").json() == []
    assert both.get(f"/api/v1/workspaces/other/alerts/{mine['id']}").status_code == 404
    assert both.get(f"/api/v1/workspaces/other/alerts/{mine['id']}/history").status_code == 404
    # A feature of the other workspace is unknown here.
    bad = analyst.post(URL, {**BODY, "metric": "failure_rate_pct", "params": {"feature": "Billing"}}, format="json")
    assert bad.status_code == 400 and "feature" in bad.json()["params"]
    stranger = member_client(None, username="nobody")
    assert stranger.get(URL).status_code == 404


def test_history_newest_first(make_workspace, member_client):
    workspace, _ = make_workspace("hist")
    daily(workspace, days_from(date(2026, 3, 1), [5, 1]))
    client = member_client(workspace, role=Membership.Role.ANALYST, username="ana")
    alert = client.post(
        "/api/v1/workspaces/hist/alerts/",
        {**BODY, "params": {}, "op": ">", "value": 2, "interval": "daily"},
        format="json",
    ).json()
    for moment in ("2026-03-02T06:00:00Z", "2026-03-02T07:00:00Z", "2026-03-03T06:00:00Z"):
        alerts_evaluate(now=at(moment))
    answer = client.get(f"/api/v1/workspaces/hist/alerts/{alert['id']}/history").json()
    assert answer == {
        "count": 2,
        "next": None,
        "previous": None,
        "history": [
            {"at": "2026-03-03T06:00:00Z", "state": "ok", "value": 1, "notified": False},
            {"at": "2026-03-02T06:00:00Z", "state": "firing", "value": 5, "notified": True},
        ],
    }
    assert client.get(f"/api/v1/workspaces/hist/alerts/{alert['id']}").json()["state"] == "ok"
