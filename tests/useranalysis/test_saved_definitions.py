"""A saved filter set can never break the pages of a workspace (issue 17): the model checks a
definition as the API and the builder do, the admin goes through the model, and a row saved before
these checks is shown as needing mending rather than as a 500."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client

from tenancy.models import Membership, Workspace
from tests.conftest import journeys
from useranalysis.models import FilterSet

pytestmark = pytest.mark.django_db

BROKEN = [
    ("just a string", ""),
    ([1, 2, 3], ""),
    ({"features": "Leads"}, ""),
    ({"users": ["CN"]}, ""),
    ({}, "salary"),
    ({"activity": [{"metric": "karma", "op": ">", "value": 1}]}, ""),
]
TOO_MANY = {"activity": [{"metric": "interactions", "op": ">", "value": n} for n in range(21)]}


@pytest.fixture
def member(client: Client, workspace: Workspace) -> Client:
    journeys(workspace, [("u1", "2025-03-10T09:00:00Z", "Leads", "view")])
    user = get_user_model().objects.create_user(username="maria")
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.ADMIN)
    client.force_login(user)
    client.user = user  # type: ignore[attr-defined]
    return client


@pytest.mark.parametrize(("conditions", "group_by"), BROKEN)
def test_a_definition_saved_before_the_checks_breaks_no_page(member: Client, workspace, conditions, group_by) -> None:
    bad = FilterSet.objects.create(
        workspace=workspace,
        owner=member.user,
        name="old",
        conditions=conditions,
        group_by=group_by,  # type: ignore[attr-defined]
    )
    # Its page: the builder, with what is wrong said (a 400 when the definition runs and fails).
    assert member.get(f"/w/acme/users/filter-sets/{bad.pk}/").status_code in (200, 400)
    for url in (
        "/w/acme/users/filter-sets/",
        f"/w/acme/users/filter-sets/{bad.pk}/delete/",
        "/api/v1/workspaces/acme/filter-sets/",
        f"/api/v1/workspaces/acme/filter-sets/{bad.pk}",
    ):
        assert member.get(url).status_code == 200, url
    results = member.get(f"/api/v1/workspaces/acme/filter-sets/{bad.pk}/results?as_of=2025-03-31")
    assert results.status_code == 400  # its definition is not one: said so, not computed
    listing = member.get("/w/acme/users/filter-sets/").content.decode()
    if not bad.well_formed:
        assert "This definition is not valid" in listing


@pytest.mark.parametrize(("conditions", "group_by"), [*BROKEN, (TOO_MANY, "")])
def test_the_model_refuses_a_definition_that_is_not_one(workspace, conditions, group_by) -> None:
    owner = get_user_model().objects.create_user(username="owner")
    Membership.objects.create(workspace=workspace, user=owner, role=Membership.Role.ANALYST)
    candidate = FilterSet(workspace=workspace, owner=owner, name="new", conditions=conditions, group_by=group_by)
    with pytest.raises(ValidationError) as refused:
        candidate.full_clean()
    assert set(refused.value.message_dict) & {"conditions", "group_by"}


def test_the_admin_saves_only_a_valid_definition(admin_client, admin_user, workspace) -> None:
    journeys(workspace, [("u1", "2025-03-10T09:00:00Z", "Leads", "view")])
    form = {
        "workspace": workspace.pk,
        "owner": admin_user.pk,
        "name": "From the admin",
        "visibility": "workspace",
        "group_by": "",
        "default_days": "30",
        "conditions": json.dumps("just a string"),
    }
    response = admin_client.post("/admin/useranalysis/filterset/add/", form)
    assert response.status_code == 200 and not FilterSet.objects.filter(name="From the admin").exists()
    assert "The conditions must be a JSON object." in response.content.decode()
    form["conditions"] = json.dumps({"features": [{"feature": "Leads"}]})
    assert admin_client.post("/admin/useranalysis/filterset/add/", form).status_code == 302
    assert FilterSet.objects.get(name="From the admin").conditions == {"features": [{"feature": "Leads"}]}


def test_a_staff_analyst_cannot_give_a_saved_configuration_to_a_stranger(client: Client, workspace) -> None:
    staff = get_user_model().objects.create_user(username="analyst", is_staff=True)
    Membership.objects.create(workspace=workspace, user=staff, role=Membership.Role.ANALYST)
    stranger = get_user_model().objects.create_user(username="stranger")
    client.force_login(staff)
    form = {
        "workspace": workspace.pk,
        "owner": stranger.pk,
        "name": "Given away",
        "visibility": "workspace",
        "group_by": "",
        "default_days": "30",
        "conditions": "{}",
    }
    response = client.post("/admin/useranalysis/filterset/add/", form)
    assert response.status_code == 200 and not FilterSet.objects.filter(name="Given away").exists()
    form["owner"] = staff.pk
    assert client.post("/admin/useranalysis/filterset/add/", form).status_code == 302
    candidate = FilterSet(workspace=workspace, owner=stranger, name="x", conditions={})
    with pytest.raises(ValidationError) as refused:
        candidate.full_clean()
    assert "owner" in refused.value.message_dict
