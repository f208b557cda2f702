"""Drill-down in a real browser (docs/drilldown.md): a click on a bar of the Hub's popularity chart opens
the users behind it, as many as the bar says; they are saved as a filter set, which the filter sets
list then shows."""

from __future__ import annotations

from typing import Any

import pytest

from tenancy.models import Membership
from tenancy.services import workspace_create
from tests.browser.conftest import PASSWORD, charts_drawn, log_in
from tests.conftest import crm_users, journeys
from tests.drilldown.test_api import EVENTS, RANGE, USERS

pytestmark = pytest.mark.browser


@pytest.fixture
def acme(transactional_db: Any, django_user_model: Any) -> Any:
    workspace = workspace_create(slug="acme", timezone_name="UTC", session_timeout_minutes=15)[0]
    crm_users(workspace, USERS)
    journeys(workspace, EVENTS)
    user = django_user_model.objects.create_user("alex", password=PASSWORD)
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.ANALYST)
    return workspace


def test_a_bar_opens_its_users_who_are_saved_as_a_filter_set(page: Any, acme: Any) -> None:
    log_in(page)
    page.goto(f"{page.base_url}/w/acme/hub/?start={RANGE['start']}&end={RANGE['end']}&feature=Leads")
    assert charts_drawn(page) == 2
    figure = page.request.get(f"{page.base_url}/api/v1/workspaces/acme/hub/popularity", params=RANGE).json()
    leads = next(f["users"] for f in figure["features"] if f["feature"] == "Leads")
    assert leads == 3
    # The middle of the Leads bar, in the page's coordinates.
    point = page.evaluate(
        """() => {
            const canvas = document.getElementById('popularity-chart');
            const chart = Chart.getChart(canvas);
            const index = chart.data.labels.indexOf('Leads');
            const bar = chart.getDatasetMeta(0).data[index];
            const box = canvas.getBoundingClientRect();
            return {x: box.left + (bar.x + bar.base) / 2, y: box.top + bar.y};
        }"""
    )
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url("**/w/acme/people/?*")
    assert page.locator("h1").inner_text() == "Users of Leads"
    assert page.locator("[data-people-count]").inner_text() == str(leads)
    rows = page.locator("#people-table tbody tr")
    assert rows.count() == leads
    assert [rows.nth(i).get_attribute("data-user") for i in range(leads)] == ["a", "b", "c"]

    page.fill("form.people-save input[name=name]", "Lead users in early March")
    page.locator("form.people-save button[type=submit]").click()
    page.wait_for_url("**/users/filter-sets/*/")
    page.goto(f"{page.base_url}/w/acme/users/filter-sets/")
    assert "Lead users in early March" in page.locator("main").inner_text()
