"""Screenshots of the tabs for ``docs/screenshots/`` (a script, not a test: pytest does not collect it).

    .venv/bin/python tests/screenshots.py [--workspace zylker] [--out docs/screenshots] [--states]

Uses the current database (``DATABASE_URL`` or ``db.sqlite3``). If the workspace is missing and is the
demo one, it is created first with a modest ``manage.py seed_demo``. The script then ensures a login
``screenshots`` (a viewer of the workspace, with a fresh random password), starts ``manage.py
runserver`` on a free port, logs in through the login page with headless Chromium driven by Playwright
(Debian's ``/usr/bin/chromium``; Playwright's own browser download is not used), and saves
``<tab>-1280.png`` and ``<tab>-390.png`` (full page) for every tab (and the Accounts and Sales pages), then
the pages beside the tabs: the dashboards and the demo's board, its read-only share page (a fresh link),
the alerts (list, form, one alert), the scheduled reports (list, form, an email's preview), the members
and a drill-down (the users behind a Home card). Those that only an admin may open are taken with the
login made an admin of the workspace for the while, then a viewer again.
``--locale zh-CN`` takes them in Chinese. ``--states`` also saves the login page, the form with an invalid value, the empty state of a workspace
without events, the API token page, and for the other tabs one user's activity, a grouped trend as a
table, and an invalid Hub query. The run fails if a page logs a JavaScript error or a failed request,
or if a chart does not draw.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USERNAME = "screenshots"
EMPTY_SLUG = "screenshots-empty"
VIEWPORTS = ((1280, 900, 1), (390, 844, 1))  # width, height, device scale factor
TABS = (
    ("activity", "activity/"),
    ("trends", "trends/"),
    ("funnels", "funnels/"),
    ("hub", "hub/"),
    ("users", "users/"),
    ("behaviour", "behaviour/"),
    ("accounts", "accounts/"),
    ("accounts-list", "accounts/list/"),
    ("sales", "sales/"),
    ("sales-open-pipeline", "sales/open-pipeline/"),
    ("sales-forecast", "sales/forecast/"),
    ("sales-adoption", "sales/adoption/"),
    ("perception", "perception/"),
    ("perception-voice", "perception/voice/"),
)  # (file name, path under /w/<slug>/)
# The pages beside the tabs: (file name, path under /w/<slug>/, whether only an admin may open it). Paths
# with {dashboard}, {alert} or {schedule} take the demo's own board, alert and report schedule.
NEW_PAGES = (
    ("dashboards", "dashboards/", False),
    ("dashboard", "dashboards/{dashboard}/", False),
    ("alerts", "alerts/", False),
    ("alert-detail", "alerts/{alert}/", False),
    ("alert-form", "alerts/new", True),
    ("schedules", "reports/schedules/", False),
    ("schedule-form", "reports/schedules/new/", True),
    ("schedule-preview", "reports/schedules/{schedule}/preview/", False),
    ("members", "members/", True),
    ("people", "people/?source=home%2Fsummary&people=active_users&page_size=25", False),
)
TAB_STATES = (
    ("activity-user", "activity/?user=u0003"),
    ("trends-table", "trends/?feature=Leads&action=view&interval=week&measure=users&group_by=country&view=table"),
    ("hub-invalid", "hub/?start=2026-01-10&end=2025-01-01&buckets=10,5"),
    ("users-detail", "users/u0003/"),
    ("account-detail", "accounts/ACC-0001/"),
    ("sales-clean-house", "sales/clean-house/"),
    ("filter-sets", "users/filter-sets/"),
    (
        "filter-set-run",
        "users/filter-sets/new/?group_by=country&activity-TOTAL_FORMS=2&activity-INITIAL_FORMS=0"
        "&activity-0-metric=last_seen_days&activity-0-op=%3C%3D&activity-0-value=3&activity-1-metric=session_minutes"
        "&activity-1-op=%3E&activity-1-value=60&features-TOTAL_FORMS=1&features-INITIAL_FORMS=0"
        "&features-0-used=false&features-0-feature=Leads&features-0-action=create&features-0-min_count=1",
    ),
)


def prepare(slug: str, with_empty: bool) -> tuple[str, dict[str, str]]:
    """Make sure the workspace has data and the screenshot login can read it; return its password and
    what the new pages' paths need: the demo's board, alert and schedule, and a share link's token."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_usage.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from events.models import Event
    from tenancy.models import Membership, Workspace
    from tenancy.services import membership_set, workspace_create

    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        if slug != "zylker":
            raise SystemExit(f"No workspace {slug!r} in this database.")
        print("Creating the demo workspace with manage.py seed_demo (a smaller one than the default)…")
        call_command("seed_demo", users=150, days=90, events=60_000)
        workspace = Workspace.objects.get(slug=slug)
    if not Event.objects.filter(workspace=workspace).exists():
        raise SystemExit(f"Workspace {slug!r} has no events: import some first (manage.py import_events).")

    password = secrets.token_urlsafe(16)
    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    user.first_name, user.last_name, user.is_active = "Dana", "Reviewer", True
    user.set_password(password)
    user.save()
    membership_set(workspace=workspace, user=user, role=Membership.Role.VIEWER)
    ids = _new_page_ids(workspace, user)
    if with_empty:
        empty = Workspace.objects.filter(slug=EMPTY_SLUG).first()
        if empty is None:
            empty, _key = workspace_create(slug=EMPTY_SLUG, name="Empty workspace", timezone_name="Europe/Berlin")
        membership_set(workspace=empty, user=user, role=Membership.Role.VIEWER)
    return password, ids


def _new_page_ids(workspace: Any, user: Any) -> dict[str, str]:
    """The demo's shared board, alert and report schedule (seed_demo makes one of each), and a fresh
    share link to the board (its token is shown only when created, so each run makes one; the login's
    links of earlier runs are dropped so that the board does not list them all)."""
    from datetime import timedelta

    from django.utils import timezone

    from alerts.models import Alert
    from dashboards.models import Dashboard, ShareLink
    from dashboards.services import share_link_create
    from reports.models import ReportSchedule

    board = Dashboard.objects.filter(workspace=workspace, visibility="workspace").order_by("pk").first()
    alert = Alert.objects.filter(workspace=workspace, visibility="workspace").order_by("pk").first()
    schedule = ReportSchedule.objects.filter(workspace=workspace, visibility="workspace").order_by("pk").first()
    if board is None or alert is None or schedule is None:
        raise SystemExit("The workspace needs a shared board, alert and report schedule: run manage.py seed_demo.")
    ShareLink.objects.filter(dashboard=board, created_by=user).delete()
    _link, token = share_link_create(dashboard=board, actor=user, expires_at=timezone.now() + timedelta(days=7))
    return {"dashboard": str(board.pk), "alert": str(alert.pk), "schedule": str(schedule.pk), "token": token}


def _set_role(slug: str, role: str) -> None:
    """The screenshot login's role in the workspace (an admin for the pages only an admin may open)."""
    from django.contrib.auth import get_user_model

    from tenancy.models import Workspace
    from tenancy.services import membership_set

    user = get_user_model().objects.get(username=USERNAME)
    membership_set(workspace=Workspace.objects.get(slug=slug), user=user, role=role)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int, log: Path) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"runserver exited with {server.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    server.terminate()
    raise SystemExit(f"runserver did not answer within 60 s; see {log}")


def shoot(
    base: str,
    slug: str,
    password: str,
    out: Path,
    states: bool,
    locale: str = "en-US",
    ids: dict[str, str] | None = None,
) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from tenancy.models import Membership

    # Playwright's sync API runs an event loop in this thread; the role changes between pages
    # (``_set_role``) are plain synchronous ORM calls, safe here (as in tests/browser/conftest.py).
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    saved: list[Path] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for width, height, scale in VIEWPORTS:
            # Reduced motion: static/js/charts.js then draws charts without animation, so nothing is caught mid-way.
            context = browser.new_context(
                viewport={"width": width, "height": height},
                device_scale_factor=scale,
                reduced_motion="reduce",
                locale=locale,  # the Accept-Language header: the pages' language
            )
            page = context.new_page()
            page.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
            page.on(
                "console",
                lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None,
            )
            page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url} {req.failure}"))
            page.on(
                "response",
                lambda res: problems.append(f"HTTP {res.status}: {res.url}") if res.status >= 500 else None,
            )

            page.goto(f"{base}/accounts/login/?next=/w/{slug}/")
            if states:
                saved.append(_save(page, out / f"login-{width}.png", full_page=False))
            page.fill("input[name=username]", USERNAME)
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_url(f"**/w/{slug}/**")
            page.wait_for_load_state("networkidle")
            page.wait_for_selector(".chart-box:not(.is-loading)", timeout=15_000)
            if page.locator(".chart-box.has-error").count():
                problems.append(f"the chart shows its error state at {width}px")
            elif not page.evaluate("() => !!Chart.getChart(document.getElementById('weekly-chart'))"):
                problems.append(f"the chart was not drawn at {width}px")
            saved.append(_save(page, out / f"home-{width}.png"))

            for tab, path in TABS:
                page.goto(f"{base}/w/{slug}/{path}")
                _wait_for_charts(page, f"{tab} at {width}px", problems)
                saved.append(_save(page, out / f"{tab}-{width}.png"))

            if ids is not None:
                for name, path, admin_only in NEW_PAGES:
                    if admin_only:
                        _set_role(slug, Membership.Role.ADMIN)
                    try:
                        page.goto(f"{base}/w/{slug}/{path.format(**ids)}")
                        _wait_for_charts(page, f"{name} at {width}px", problems)
                        saved.append(_save(page, out / f"{name}-{width}.png"))
                    finally:
                        if admin_only:
                            _set_role(slug, Membership.Role.VIEWER)
                page.goto(f"{base}/share/{ids['token']}/")
                _wait_for_charts(page, f"share at {width}px", problems)
                saved.append(_save(page, out / f"share-{width}.png"))

            if states:
                page.goto(f"{base}/w/{slug}/?as_of=2025-02-30&days=0")
                saved.append(_save(page, out / f"invalid-{width}.png"))
                page.goto(f"{base}/w/{EMPTY_SLUG}/")
                saved.append(_save(page, out / f"empty-{width}.png"))
                page.goto(f"{base}/w/{slug}/")
                page.click(".workspace-switcher summary")
                saved.append(_save(page, out / f"switcher-{width}.png", full_page=False))
                for name, path in TAB_STATES:
                    page.goto(f"{base}/w/{slug}/{path}")
                    _wait_for_charts(page, f"{name} at {width}px", problems)
                    saved.append(_save(page, out / f"{name}-{width}.png"))
                page.goto(f"{base}/account/tokens/")
                page.click("form.token-form button[type=submit]")
                page.wait_for_selector("#new-token")
                saved.append(_save(page, out / f"tokens-{width}.png"))
            context.close()
        browser.close()
    # The invalid-form page answers 400 on purpose; anything else logged is a defect.
    problems = [p for p in problems if "status of 400" not in p]
    if problems:
        raise SystemExit("Problems while taking screenshots:\n  " + "\n  ".join(problems))
    return saved


def _wait_for_charts(page: Any, where: str, problems: list[str]) -> None:
    """Wait until no shown chart is loading; note any chart in its error state or not drawn."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => !Array.from(document.querySelectorAll('.chart-box.is-loading')).some(b => !b.closest('[hidden]'))",
        timeout=15_000,
    )
    if page.locator(".chart-box.has-error").count():
        problems.append(f"a chart shows its error state: {where}")
    undrawn = page.evaluate(
        """() => Array.from(document.querySelectorAll('canvas[data-chart-url]'))
            .filter(c => !c.closest('[hidden]') && !c.closest('.is-empty') && !Chart.getChart(c))
            .map(c => c.id)"""
    )
    if undrawn:
        problems.append(f"charts not drawn ({', '.join(undrawn)}): {where}")


def _save(page: object, path: Path, full_page: bool = True) -> Path:
    page.screenshot(path=str(path), full_page=full_page)  # type: ignore[attr-defined]
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", default="zylker", help="slug of the workspace to show (default zylker)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="output folder")
    parser.add_argument("--states", action="store_true", help="also the login, invalid-form and empty pages")
    parser.add_argument("--locale", default="en-US", help="the browser's language, e.g. zh-CN (default en-US)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found: apt-get install chromium (or set CHROMIUM).")

    password, ids = prepare(args.workspace, args.states)
    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "runserver.log"
        server = start_server(port, log)
        try:
            saved = shoot(f"http://127.0.0.1:{port}", args.workspace, password, args.out, args.states, args.locale, ids)
        except BaseException:
            print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
            raise
        finally:
            server.terminate()
            server.wait(timeout=10)
    for path in saved:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
