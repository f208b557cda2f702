"""The members page in a real browser: an admin follows the header's link, changes a member's role and
sees it; a viewer has no link and gets a 403."""

from __future__ import annotations

from typing import Any

import pytest

from tenancy.models import Membership, Workspace
from tenancy.services import workspace_create
from tests.browser.conftest import PASSWORD, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def acme(transactional_db: Any, django_user_model: Any) -> Workspace:
    workspace, _key = workspace_create(slug="acme", name="Acme")
    for username, role in (("alex", "admin"), ("vera", "viewer"), ("vic", "viewer")):
        user = django_user_model.objects.create_user(username, password=PASSWORD, email=f"{username}@example.com")
        Membership.objects.create(workspace=workspace, user=user, role=role)
    return workspace


def test_an_admin_changes_a_role_and_a_viewer_is_refused(page: Any, acme: Workspace) -> None:
    log_in(page, "alex")
    page.locator(".app-header").get_by_role("link", name="Members").click()
    page.wait_for_url("**/w/acme/members/")
    row = page.locator('tr[data-member="vera"]')
    assert row.locator("select[name=role]").input_value() == "viewer"
    row.locator("select[name=role]").select_option("analyst")
    row.get_by_role("button", name="Change role").click()
    page.wait_for_url("**/w/acme/members/")
    assert "vera is now Analyst." in page.locator("[role=status]").inner_text()
    assert page.locator('tr[data-member="vera"] select[name=role]').input_value() == "analyst"
    assert Membership.objects.get(workspace=acme, user__username="vera").role == "analyst"

    page.locator(".app-header").get_by_role("button", name="Log out").click()
    log_in(page, "vic")
    assert page.locator(".app-header").get_by_role("link", name="Members").count() == 0
    # Asked with the viewer's session (a navigation to a 403 would log a console error, which the
    # page fixture counts as a failure).
    response = page.request.get(f"{page.base_url}/w/acme/members/")
    assert response.status == 403 and "Not allowed" in response.text()
