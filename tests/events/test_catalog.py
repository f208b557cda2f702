"""The feature catalog: combinations seen at ingest, for pickers and for checking steps."""

from __future__ import annotations

import pytest

from events.selectors import UnknownStep, feature_resolve
from tests.conftest import journeys

pytestmark = pytest.mark.django_db


@pytest.fixture
def seen(workspace):
    journeys(
        workspace,
        [
            ("u1", "2025-10-06T09:00:00+00:00", "Leads", "view", "kanban_view"),
            ("u1", "2025-10-06T09:01:00+00:00", "Leads", "view", "list_view"),
            ("u1", "2025-10-06T09:02:00+00:00", "Leads", "view", "kanban_view"),
            ("u1", "2025-10-06T09:03:00+00:00", "Leads", "create"),
            ("u2", "2025-10-06T09:04:00+00:00", "Calendar", "view"),
        ],
    )
    return workspace


def test_catalog_endpoint_lists_actions_and_details_seen(seen, member_client):
    response = member_client(seen).get(f"/api/v1/workspaces/{seen.slug}/features")
    assert response.status_code == 200
    features = {f["key"]: f for f in response.json()["features"]}
    assert features["Leads"]["actions"] == {"create": [""], "view": ["kanban_view", "list_view"]}
    assert features["Calendar"]["actions"] == {"view": [""]}
    assert features["Leads"]["type"] == "custom" and features["Leads"]["auto_created"] is True


def test_catalog_csv(seen, member_client):
    response = member_client(seen).get(f"/api/v1/workspaces/{seen.slug}/features", {"format": "csv"})
    lines = response.content.decode().strip().splitlines()
    assert lines[0] == "feature,type,action,detail"
    assert "Leads,custom,view,kanban_view" in lines and len(lines) == 5


@pytest.mark.parametrize(
    ("key", "action", "detail", "field"),
    [
        ("Deals", "", "", "feature"),
        ("Leads", "convert", "", "action"),
        ("Leads", "view", "canvas_view", "detail"),
        ("Leads", "", "kanban_view", "detail"),
    ],
)
def test_unknown_steps_name_the_field(seen, key, action, detail, field):
    with pytest.raises(UnknownStep) as error:
        feature_resolve(workspace=seen, key=key, action=action, detail=detail)
    assert error.value.field == field


def test_known_steps_resolve(seen):
    assert feature_resolve(workspace=seen, key="Leads", action="view", detail="list_view").key == "Leads"
    assert feature_resolve(workspace=seen, key="Leads", action="create").key == "Leads"
