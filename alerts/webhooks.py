"""An alert's webhook: the address rule and the signed POST (docs/alerts.md#webhooks).

A webhook URL is http(s) only, and its host must not resolve to a loopback, private, link-local (or
otherwise non-public) address, unless ``settings.ALERT_WEBHOOK_ALLOW_PRIVATE``: the server must not
become a way to reach what sits behind it. The rule holds when the alert is saved and again at each
send (DNS can change); the POST then connects to the very address that was checked, so a name that
re-resolves between the check and the connection cannot slip past it. Redirects are not followed.
Standard library only (http.client)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

TIMEOUT_SECONDS = 5


class WebhookRefused(ValueError):
    """The URL may not be called; the message says why (shown as the ``webhook_url`` error)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP address the POST connects to


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


def webhook_target(url: str) -> Target:
    """Where ``url`` points, checked; ``WebhookRefused`` if it may not be called."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused(_("Give an http:// or https:// URL."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookRefused(_("The URL's port is not valid.")) from None
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise WebhookRefused(_("The host %(host)s cannot be resolved.") % {"host": parts.hostname}) from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise WebhookRefused(_("The host %(host)s cannot be resolved.") % {"host": parts.hostname})
    # Every address the name has must be public: a client may pick any of them.
    if not settings.ALERT_WEBHOOK_ALLOW_PRIVATE and not all(_public(address) for address in addresses):
        raise WebhookRefused(
            _(
                "The host %(host)s resolves to a loopback, private or link-local address; webhooks go to public addresses only."
            )
            % {"host": parts.hostname}
        )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, addresses[0])


def signature(secret: str, body: bytes) -> str:
    """The ``X-Signature`` header: ``sha256=`` + hex HMAC-SHA256 of the raw body with the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target) -> None:
        super().__init__(target.host, target.port, timeout=TIMEOUT_SECONDS)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target) -> None:
        super().__init__(target.host, target.port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context())
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the host name, as if connected by name.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def webhook_post(url: str, secret: str, body: bytes) -> int:
    """POST ``body`` (JSON) to ``url``, signed; the response's status. Raises ``WebhookRefused`` for
    an address that may not be called, ``OSError``/``http.client.HTTPException`` for a failed call."""
    target = webhook_target(url)
    connection: http.client.HTTPConnection = (
        _PinnedHTTPSConnection(target) if target.scheme == "https" else _PinnedHTTPConnection(target)
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "crm-usage-metrics-alerts",
        "X-Signature": signature(secret, body),
    }
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)  # a bounded read: the answer is not used
        return response.status
    finally:
        connection.close()
