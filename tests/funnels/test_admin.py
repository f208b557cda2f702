"""Funnels in the Django admin: listed and filtered, checked like the API, recomputed on demand."""

from __future__ import annotations

import json
from datetime import date

import pytest

from funnels.models import Funnel, FunnelResult
from tests.conftest import journeys

pytestmark = pytest.mark.django_db

STEPS = [
    {"feature": "Leads", "action": "create", "detail": ""},
    {"feature": "Leads", "action": "convert", "detail": ""},
]


@pytest.fixture
def funnel(workspace, admin_user):
    journeys(
        workspace,
        [
            ("u1", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("u1", "2025-03-03T10:00:00+00:00", "Leads", "convert"),
        ],
    )
    return Funnel.objects.create(
        workspace=workspace,
        owner=admin_user,
        name="Lead process",
        steps=STEPS,
        range_start=date(2025, 3, 1),
        range_end=date(2025, 3, 31),
    )


def test_the_list_and_its_filters(admin_client, funnel, make_workspace, django_user_model):
    # A second workspace and owner, so that each filter has a choice to make.
    other = make_workspace("other")[0]
    Funnel.objects.create(
        workspace=other,
        owner=django_user_model.objects.create_user("bob"),
        name="Other",
        steps=STEPS,
        visibility="workspace",
    )
    response = admin_client.get("/admin/funnels/funnel/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Lead process" in html and "Leads · create → Leads · convert" in html
    for parameter in ("workspace__id__exact", "visibility__exact", "owner__id__exact"):
        assert parameter in html  # the filters by workspace, visibility and owner
    assert (
        "Lead process" in admin_client.get("/admin/funnels/funnel/", {"visibility__exact": "private"}).content.decode()
    )
    assert (
        "Lead process"
        not in admin_client.get("/admin/funnels/funnel/", {"visibility__exact": "workspace"}).content.decode()
    )
    assert admin_client.get(f"/admin/funnels/funnel/{funnel.pk}/change/").status_code == 200


def _form(funnel, **changes):
    data = {
        "workspace": funnel.workspace_id,
        "name": funnel.name,
        "owner": funnel.owner_id,
        "visibility": "private",
        "steps": json.dumps(STEPS),
        "unit": "user",
        "window_days": 14,
        "order": "ordered",
        "filters": "{}",
        "breakdown": "",
        "range_start": "2025-03-01",
        "range_end": "2025-03-31",
        "range_days": 30,
        "result-TOTAL_FORMS": 0,
        "result-INITIAL_FORMS": 0,
    }
    data.update(changes)
    return data


def test_the_admin_form_checks_like_the_api(admin_client, funnel):
    url = f"/admin/funnels/funnel/{funnel.pk}/change/"
    bad_step = json.dumps([STEPS[0], {"feature": "Leads", "action": "fly"}])
    response = admin_client.post(url, _form(funnel, steps=bad_step))
    assert response.status_code == 200 and "No &#x27;fly&#x27; action was seen for Leads." in response.content.decode()
    response = admin_client.post(url, _form(funnel, steps=json.dumps(STEPS[:1])))
    assert "A funnel has 2 to 10 steps." in response.content.decode()
    response = admin_client.post(url, _form(funnel, breakdown="shoe_size"))
    assert "Break down by one of" in response.content.decode()
    response = admin_client.post(url, _form(funnel, name="Renamed"))
    assert response.status_code == 302
    funnel.refresh_from_db()
    assert funnel.name == "Renamed"


def test_recompute_action(admin_client, funnel):
    response = admin_client.post(
        "/admin/funnels/funnel/", {"action": "recompute", "_selected_action": [funnel.pk]}, follow=True
    )
    assert response.status_code == 200
    assert "Recomputed 1 funnel." in response.content.decode()
    assert FunnelResult.objects.get(funnel=funnel).payload["steps"][1]["count"] == 1
