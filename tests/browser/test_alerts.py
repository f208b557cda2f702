"""An alert in a real browser: found from the tab bar, created in the form, evaluated by the command
(it fires into Django's email outbox), then shown firing with its history, and muted from its page."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command

from tenancy.models import Membership
from tests.alerts.conftest import daily, days_from
from tests.browser.conftest import PASSWORD, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def busy(transactional_db: Any, make_workspace: Any, django_user_model: Any) -> Any:
    workspace, _ = make_workspace("busy")
    daily(workspace, days_from(date(2026, 3, 1), [5, 1]))
    user = django_user_model.objects.create_user("alex", password=PASSWORD)
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.ANALYST)
    return workspace


def test_create_an_alert_see_it_fire_and_its_history(page: Any, busy: Any) -> None:
    log_in(page)
    page.locator("nav.tab-bar a", has_text="Alerts").click()
    page.wait_for_url("**/w/busy/alerts/")
    page.get_by_role("link", name="New alert").click()
    page.fill("input[name=name]", "Too many edits")
    page.select_option("select[name=metric]", "interactions")
    page.fill("input[name=days]", "1")
    page.select_option("select[name=condition]", "threshold")
    page.select_option("select[name=op]", ">")
    page.fill("input[name=value]", "3")
    page.fill("textarea[name=recipients]", "ops@example.com")
    page.get_by_role("button", name="Save alert").click()
    page.wait_for_url("**/w/busy/alerts/*/")
    assert page.locator("#alert-state [data-state]").get_attribute("data-state") == "ok"
    assert "No state change yet." in page.locator("#history-title").locator("xpath=../../..").inner_text()

    call_command("evaluate_alerts", "--now", "2026-03-02T06:00:00Z", stdout=io.StringIO())  # 03-01: 5 > 3
    assert [m.subject for m in mail.outbox] == ["Too many edits"]
    page.reload()
    assert page.locator("#alert-state [data-state]").get_attribute("data-state") == "firing"
    rows = page.locator("#history-table tbody tr").all_inner_texts()
    assert len(rows) == 1 and "2026-03-02 06:00" in rows[0] and "firing" in rows[0].lower() and "5" in rows[0]

    page.get_by_role("button", name="Mute").click()
    page.wait_for_load_state()
    assert page.locator("#alert-muted").is_visible()
    page.goto(f"{page.base_url}/w/busy/alerts/")
    row = page.locator("#alerts-table tbody tr", has_text="Too many edits")
    assert row.locator("[data-state]").get_attribute("data-state") == "firing" and "Muted" in row.inner_text()

    call_command("evaluate_alerts", "--now", "2026-03-03T06:00:00Z", stdout=io.StringIO())  # 03-02: 1, clears
    page.goto(f"{page.base_url}/w/busy/alerts/")
    row = page.locator("#alerts-table tbody tr", has_text="Too many edits")
    assert row.locator("[data-state]").get_attribute("data-state") == "ok"
    assert len(mail.outbox) == 1
