"""A tile's answer is its endpoint's answer over HTTP, asked as the viewer, in the viewer's workspace."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from dashboards.services import endpoint_answer
from tenancy.models import Membership
from tests.conftest import journeys

pytestmark = pytest.mark.django_db


def test_the_answer_is_the_endpoints_answer_for_a_member_only(make_workspace, member_client):
    acme, other = make_workspace("acme")[0], make_workspace("other")[0]
    journeys(acme, [("ana", "2025-10-20T09:00:00+00:00", "Leads", "view")])
    viewer = get_user_model().objects.create(username="viewer")
    Membership.objects.create(workspace=acme, user=viewer, role=Membership.Role.VIEWER)
    query = {"as_of": "2025-10-21", "days": "7"}

    status, data = endpoint_answer(acme, viewer, "home/summary", query)
    over_http = member_client(acme, username="viewer2").get("/api/v1/workspaces/acme/home/summary", query)
    assert status == 200 and data == over_http.json()
    assert data["metrics"]["active_users"]["value"] == 1

    assert endpoint_answer(acme, viewer, "home/summary", {"days": "x"})[0] == 400
    assert endpoint_answer(acme, viewer, "no/such/endpoint", {})[0] == 404
    assert endpoint_answer(other, viewer, "home/summary", query)[0] == 404  # not a member there
