"""Small leaks and wrong answers found by trying the service as an attacker would (issue 17)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from funnels.models import Funnel
from tenancy.models import Membership
from tests.conftest import crm_users

pytestmark = pytest.mark.django_db

STEPS = [{"feature": "Leads", "action": "view"}, {"feature": "Leads", "action": "create"}]


@pytest.fixture
def two(make_workspace):
    mine, theirs = make_workspace("mine")[0], make_workspace("theirs-secret")[0]
    mine.name, theirs.name = "Mine Ltd", "Theirs Secret Corp"
    mine.save(), theirs.save()
    staff = get_user_model().objects.create_user(username="mine-admin", is_staff=True)
    stranger = get_user_model().objects.create_user(username="secret-stranger")
    Membership.objects.create(workspace=mine, user=staff, role=Membership.Role.ADMIN)
    Membership.objects.create(workspace=theirs, user=stranger, role=Membership.Role.ADMIN)
    crm_users(mine, [{"external_id": "m1", "country": "DE"}])
    crm_users(theirs, [{"external_id": "t1", "country": "Atlantis"}])
    Funnel.objects.create(workspace=mine, owner=staff, name="Mine", steps=STEPS)
    Funnel.objects.create(workspace=theirs, owner=stranger, name="Theirs", steps=STEPS)
    return staff


@pytest.mark.parametrize(
    "page",
    [
        "/admin/tenancy/ingestkey/",
        "/admin/tenancy/membership/",
        "/admin/tenancy/auditentry/",
        "/admin/events/crmuser/",
        "/admin/events/feature/",
        "/admin/funnels/funnel/",
        "/admin/useranalysis/filterset/",
    ],
)
def test_admin_sidebar_filters_name_only_the_staff_user_s_workspaces(client: Client, two, page: str) -> None:
    client.force_login(two)
    html = client.get(page).content.decode()
    assert "Theirs Secret Corp" not in html and "secret-stranger" not in html and "Atlantis" not in html


def test_bad_page_numbers_are_a_400_naming_page(client: Client, two) -> None:
    client.force_login(two)
    for url in ("/api/v1/workspaces/mine/funnels/?page=abc", "/api/v1/workspaces/mine/users?page=0"):
        response = client.get(url)
        assert response.status_code == 400 and "page" in response.json(), url
    assert client.get("/api/v1/workspaces/mine/funnels/?page=99").status_code == 404  # past the last page


def test_pages_that_show_a_secret_once_are_never_cached(client: Client, two) -> None:
    client.force_login(two)
    tokens = client.post("/account/tokens/", {"action": "create", "days": "7"})
    assert tokens.status_code == 200 and "no-store" in tokens["Cache-Control"]
    key = client.post("/w/mine/ingest-keys/new/")
    assert key.status_code == 200 and "no-store" in key["Cache-Control"]
