"""Scheduled reports in a real browser: a schedule made from the page (reached from the analysis
report), sent by ``send_scheduled_reports --now``, when it was last sent on the list, and the email's preview
with its PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command

from tenancy.models import Membership
from tenancy.services import workspace_create
from tests.browser.conftest import PASSWORD, log_in
from tests.conftest import journeys

pytestmark = pytest.mark.browser


@pytest.fixture
def small(transactional_db: Any, django_user_model: Any) -> Any:
    workspace, _key = workspace_create(slug="sched", timezone_name="Asia/Shanghai", session_timeout_minutes=15)
    journeys(workspace, [
        ("u1", "2025-03-11T02:00:00Z", "Leads", "view"),
        ("u1", "2025-03-18T02:00:00Z", "Leads", "view"),
        ("u2", "2025-03-19T02:00:00Z", "Deals", "edit"),
    ])  # fmt: skip
    user = django_user_model.objects.create_user("alex", password=PASSWORD, first_name="Alex")
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.ANALYST)
    return workspace


def test_a_schedule_made_in_the_page_is_sent_and_previewed(page: Any, small: Any, tmp_path: Path) -> None:
    log_in(page)
    page.goto(f"{page.base_url}/w/sched/reports/analysis/?start=2025-03-17&end=2025-03-23")
    page.get_by_role("link", name="Scheduled reports").click()
    page.wait_for_url("**/w/sched/reports/schedules/")
    page.get_by_role("link", name="New scheduled report").click()
    page.fill("#schedule-form input[name=name]", "Monday usage")
    page.select_option("#schedule-form select[name=frequency]", "weekly")
    page.select_option("#schedule-form select[name=weekday]", "1")
    page.select_option("#schedule-form select[name=hour]", "8")
    page.fill("#schedule-form textarea[name=recipients]", "ann@example.com\nbob@example.com")
    page.select_option("#schedule-form select[name=language]", "en")
    page.locator("#schedule-form").get_by_role("button", name="Save").click()
    page.wait_for_url("**/w/sched/reports/schedules/")
    row = page.locator("#schedules-mine tbody tr")
    assert row.count() == 1 and "ann@example.com, bob@example.com" in row.inner_text()

    # Monday 24 March 08:00 in Shanghai is 00:00 UTC: the week of 17–23 March, one email each.
    call_command("send_scheduled_reports", now="2025-03-24T00:00:00+00:00", stdout=None)
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@example.com", "bob@example.com"]
    assert mail.outbox[0].subject == "Monday usage"
    assert "- Interactions: 2 (the period before: 1, change 100.0%)" in mail.outbox[0].body
    call_command("send_scheduled_reports", now="2025-03-24T00:05:00+00:00")
    assert len(mail.outbox) == 2  # the same slot: not again
    page.reload()  # "Last sent": when it went out, in the workspace's time zone
    assert "2025-03-24 08:00" in page.locator("#schedules-mine tbody tr").inner_text()

    page.locator("#schedules-mine").get_by_role("link", name="Preview").click()
    page.wait_for_url("**/preview/")
    assert page.locator("#email-subject").inner_text() == "Monday usage"
    assert "Analysis report · sched" in page.locator(".schedule-email").inner_text()
    assert page.locator("#schedule-email-summary tbody tr").count() == 5
    with page.expect_download() as download:
        page.locator("#email-attachments a").first.click()
    saved = tmp_path / "report.pdf"
    download.value.save_as(saved)
    assert download.value.suggested_filename.endswith(".pdf") and saved.read_bytes().startswith(b"%PDF-")
    assert len(mail.outbox) == 2  # the preview sent nothing
