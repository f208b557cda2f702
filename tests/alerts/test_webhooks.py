"""The webhook: its body and exact HMAC, checked by a small HTTP server on 127.0.0.1 (allowed by
ALERT_WEBHOOK_ALLOW_PRIVATE); private addresses refused again at send; failures recorded, not raised."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.core import mail
from django.test import override_settings

from alerts.models import AlertEvaluation
from alerts.services import alerts_evaluate
from alerts.webhooks import WebhookRefused, webhook_target
from tests.alerts.conftest import at, daily, days_from, make_alert

pytestmark = pytest.mark.django_db


class Receiver:
    def __init__(self, status: int) -> None:
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/alert?x=1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(204)
    yield server
    server.stop()


@pytest.fixture
def busy(make_workspace):
    workspace, _ = make_workspace("hooked")
    daily(workspace, days_from(date(2026, 3, 1), [5, 1, 7]))
    return workspace


def test_the_body_and_its_signature(busy, owner, receiver):
    with override_settings(ALERT_WEBHOOK_ALLOW_PRIVATE=True):
        alert = make_alert(busy, owner, name="Hook me", recipients=[], webhook_url=receiver.url, secret="top-secret")
        alerts_evaluate(now=at("2026-03-02T06:30:00Z"))
        alerts_evaluate(now=at("2026-03-03T06:30:00Z"))  # clears: not sent
        alerts_evaluate(now=at("2026-03-04T06:30:00Z"))  # fires again
    assert len(receiver.requests) == 2
    first = receiver.requests[0]
    assert first["path"] == "/hooks/alert?x=1"
    assert first["headers"]["Content-Type"] == "application/json"
    assert json.loads(first["body"]) == {
        "alert": {"id": alert.pk, "name": "Hook me"},
        "workspace": "hooked",
        "state": "firing",
        "value": 5,
        "at": "2026-03-02T06:30:00Z",
    }
    expected = "sha256=" + hmac.new(b"top-secret", first["body"], hashlib.sha256).hexdigest()
    assert first["headers"]["X-Signature"] == expected
    assert json.loads(receiver.requests[1]["body"])["value"] == 7
    assert list(AlertEvaluation.objects.filter(changed=True).values_list("notified", flat=True)) == [True, False, True]


def test_private_addresses_are_refused_at_send(busy, owner, receiver):
    with override_settings(ALERT_WEBHOOK_ALLOW_PRIVATE=True):  # saved while allowed…
        alert = make_alert(busy, owner, recipients=["ops@example.com"], webhook_url=receiver.url, secret="s")
    alerts_evaluate(now=at("2026-03-02T06:30:00Z"))  # …sent when not
    assert receiver.requests == []
    evaluation = AlertEvaluation.objects.get(alert=alert)
    assert evaluation.state == "firing" and evaluation.notified is True  # the email went
    assert len(mail.outbox) == 1
    assert evaluation.errors and evaluation.errors[0].startswith("webhook: The host 127.0.0.1 resolves to")


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "10.0.0.7", "169.254.169.254", "localhost", "192.168.1.1", "[::1]", "0.0.0.0"]
)
def test_the_address_rule(host):
    with pytest.raises(WebhookRefused):
        webhook_target(f"http://{host}/x")
    with override_settings(ALERT_WEBHOOK_ALLOW_PRIVATE=True):
        assert webhook_target(f"http://{host}/x").path == "/x"
    assert webhook_target("https://93.184.215.14:8443/a/b").address == "93.184.215.14"


def test_failures_are_recorded_not_raised(busy, owner):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    failing = Receiver(500)
    try:
        with override_settings(ALERT_WEBHOOK_ALLOW_PRIVATE=True):
            closed = make_alert(
                busy, owner, name="closed", recipients=[], webhook_url=f"http://127.0.0.1:{port}/", secret="s"
            )
            erring = make_alert(busy, owner, name="erring", recipients=[], webhook_url=failing.url, secret="s")
            run = alerts_evaluate(now=at("2026-03-02T06:30:00Z"))
    finally:
        failing.stop()
    assert (run.evaluated, run.fired, run.failed) == (2, 2, 0)
    for alert in (closed, erring):
        evaluation = AlertEvaluation.objects.get(alert=alert)
        assert evaluation.state == "firing" and evaluation.notified is False and evaluation.errors
    assert AlertEvaluation.objects.get(alert=erring).errors == ["webhook: HTTP 500"]
