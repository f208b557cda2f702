"""Browser tests: Playwright driving Debian's Chromium (``/usr/bin/chromium``, installed by
``make test``; Playwright's own browser download is not used) against a live server."""

from __future__ import annotations

import io
import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.core.servers.basehttp import ThreadedWSGIServer
from pytest_django.live_server_helper import LiveServer

from tenancy.models import Membership, Workspace

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls made by the test
# itself (setting up data) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "browser-Tests-pass-2026"


class OneRequestAtATimeServer(ThreadedWSGIServer):
    """The live server, answering one request at a time.

    On SQLite the tests' database lives in memory, so every request thread of the live server shares
    the test's one connection (Django's docs warn that simultaneous queries through it "may sometimes
    randomly cause the tests to fail"). A page fires its chart requests together; CI once saw one of
    them answer 500 and its neighbour an HTML page instead of JSON. Threads still accept the browser's keep-alive
    connections; only the application runs under a lock, to the last byte of its response.
    """

    lock = threading.Lock()

    def set_app(self, application: Any) -> None:
        def serialised(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            with self.lock:
                response = application(environ, start_response)
                try:
                    return list(response)
                finally:
                    if hasattr(response, "close"):
                        response.close()

        super().set_app(serialised)


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """pytest-django's live server (same address rules), with requests handled one at a time."""
    addr = request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    server = LiveServer(addr, start=False)
    server.thread.server_class = OneRequestAtATimeServer
    server.start()
    request.addfinalizer(server.stop)
    yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        # They drive the pages, which are the same on either database: once per `make test` is enough.
        pytest.skip("browser tests run in the SQLite pass of make test")
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed (make test installs the Debian package 'chromium')")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def demo(transactional_db: Any, django_user_model: Any) -> Workspace:
    """A small demo workspace (the seed_demo generator, anchored on today) and an admin member."""
    call_command("seed_demo", "--users", "25", "--days", "40", "--events", "6000", stdout=io.StringIO())
    workspace = Workspace.objects.get(slug="zylker")
    user = django_user_model.objects.create_user("alex", password=PASSWORD, first_name="Alex")
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.ADMIN)
    return workspace


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A logged-out page at desktop width that fails the test on any JavaScript error or 5xx."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}") if r.status >= 500 else None)
    page.base_url = live_server.url
    in_flight: set[Any] = set()
    page.on("request", lambda request: in_flight.add(request))
    page.on("requestfinished", lambda request: in_flight.discard(request))
    page.on("requestfailed", lambda request: in_flight.discard(request))
    yield page
    # Let the requests the page still has open end first: the live server would otherwise go on writing
    # (a chart's rollup, a session) while the test database is flushed, which fails the flush on a busy
    # machine. Bounded: a request that never ends fails nothing here.
    for _ in range(200):
        if not in_flight:
            break
        page.wait_for_timeout(50)
    context.close()
    assert not problems, problems


def log_in(page: Any, username: str = "alex", password: str = PASSWORD) -> None:
    page.goto(f"{page.base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.press("input[name=password]", "Enter")
    page.wait_for_url("**/w/**")


def charts_drawn(page: Any) -> int:
    """Wait for every chart on the page to finish loading; return how many Chart.js drew."""
    page.wait_for_function("() => document.querySelectorAll('.chart-box.is-loading').length === 0", timeout=15_000)
    assert page.locator(".chart-box.has-error").count() == 0, "a chart shows its error state"
    return page.evaluate(
        "() => [...document.querySelectorAll('canvas')].filter(c => window.Chart && Chart.getChart(c)).length"
    )
