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


def test_a_reps_inactivity_picked_with_the_type_ahead_and_a_features_interactions(page: Any, busy: Any) -> None:
    """The form's User field suggests the workspace's users as one types (the Activity tab's
    type-ahead), and its Feature and Action watch one feature's interactions."""
    from alerts.models import Alert
    from tests.conftest import crm_users

    crm_users(busy, [{"external_id": "rep-7", "name": "Rita Rep", "email": "rita@busy.test"}])
    log_in(page)
    page.goto(f"{page.base_url}/w/busy/alerts/new")
    page.fill("input[name=name]", "Rita is idle")
    page.select_option("select[name=metric]", "days_since_seen")
    field = page.locator("input[name=user]")
    field.press_sequentially("Rita", delay=30)
    page.wait_for_function("() => document.querySelectorAll('datalist#suggestions-0 option').length > 0")
    options = page.eval_on_selector_all("datalist#suggestions-0 option", "os => os.map(o => [o.value, o.label])")
    assert [list(o) for o in options] == [["rep-7", "Rita Rep · rita@busy.test"]]
    field.fill("rep-7")  # what picking the option does
    page.select_option("select[name=op]", ">=")
    page.fill("input[name=value]", "7")
    page.get_by_role("button", name="Save alert").click()
    page.wait_for_url("**/w/busy/alerts/*/")
    assert Alert.objects.get(name="Rita is idle").params == {"days": 1, "user": "rep-7"}

    page.goto(f"{page.base_url}/w/busy/alerts/new")
    page.fill("input[name=name]", "Deals edits")
    page.select_option("select[name=metric]", "interactions")
    page.select_option("select[name=feature]", "Deals")
    page.fill("input[name=action]", "edit")
    page.fill("input[name=value]", "4")
    page.fill("textarea[name=recipients]", "ops@example.com")
    page.get_by_role("button", name="Save alert").click()
    page.wait_for_url("**/w/busy/alerts/*/")
    assert "feature = Deals; action = edit" in page.locator("#definition-title").locator("xpath=../../..").inner_text()
    call_command("evaluate_alerts", "--now", "2026-03-02T06:00:00Z", stdout=io.StringIO())  # 03-01: 5 > 4
    assert [m.subject for m in mail.outbox] == ["Deals edits"]
