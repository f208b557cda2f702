"""The Adoption × outcome page in a real browser: the scatter chart draws every rep (the highlighted
one larger), switching the usage figure redraws it, and a phone does not scroll sideways."""

from __future__ import annotations

from typing import Any

import pytest

from tenancy.models import Membership, Workspace
from tenancy.services import workspace_create
from tests.adoption.test_outcome import PERIOD, build_acme
from tests.browser.conftest import PASSWORD, charts_drawn, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def acme_live(transactional_db: Any, django_user_model: Any) -> Workspace:
    workspace = build_acme(workspace_create(slug="acme", timezone_name="UTC", session_timeout_minutes=15)[0])
    user = django_user_model.objects.create_user("alex", password=PASSWORD)
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.VIEWER)
    return workspace


def test_the_scatter_draws_every_rep_and_switches_figure(page: Any, acme_live: Workspace) -> None:
    log_in(page)
    page.goto(f"{page.base_url}/w/acme/sales/adoption/?start={PERIOD['start']}&end={PERIOD['end']}&rep=r2")
    assert charts_drawn(page) == 1
    chart = "Chart.getChart(document.getElementById('adoption-scatter'))"
    assert page.evaluate(f"() => {chart}.config.type") == "scatter"
    assert page.evaluate(f"() => {chart}.data.datasets[0].data.map(p => [p.x, p.y])") == [
        [2, 1500.5], [1, 800], [3, 800], [1, 0], [0, 0],
    ]  # fmt: skip
    assert page.evaluate(f"() => {chart}.data.datasets[0].pointRadius") == [5, 8, 5, 5, 5]
    page.click("#scatter .segmented a:text-is('Session minutes')")
    page.wait_for_load_state("networkidle")
    charts_drawn(page)
    assert page.evaluate(f"() => {chart}.data.datasets[0].data.map(p => p.x)") == [10, 20, 0, 0, 0]
    assert page.locator("#reps-table tr.is-selected").get_attribute("data-rep") == "r2"


def test_the_page_fits_a_phone(page: Any, acme_live: Workspace) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page)
    page.goto(f"{page.base_url}/w/acme/sales/adoption/?start={PERIOD['start']}&end={PERIOD['end']}")
    charts_drawn(page)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1
