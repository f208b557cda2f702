"""Input that used to be a 500 or to lose good data (issue 17): each case is a clear 400 or a
per-item rejection naming the field, and the good items of the same batch are stored."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from knox.models import AuthToken
from rest_framework.test import APIClient

from events.models import CrmUser, Event
from tenancy.models import Membership
from tenancy.services import workspace_create

pytestmark = pytest.mark.django_db

GOOD = {"uuid": "good-1", "user": "u1", "feature": "Leads", "action": "view", "timestamp": "2025-03-10T09:00:00Z"}


@pytest.fixture
def ingest() -> tuple[APIClient, object]:
    workspace, key = workspace_create(slug="east", timezone_name="Pacific/Kiritimati")  # UTC+14
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client, workspace


@pytest.fixture
def reader(ingest) -> APIClient:
    _, workspace = ingest
    user = get_user_model().objects.create_user(username="ana")
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.ADMIN)
    _, token = AuthToken.objects.create(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def post_raw(client: APIClient, url: str, body: str):
    return client.generic("POST", url, body, content_type="application/json")


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN", "1e400"])
def test_a_non_finite_number_in_properties_rejects_only_its_event(ingest, number: str) -> None:
    client, workspace = ingest
    bad = {**GOOD, "uuid": "bad-1", "properties": "__NUMBER__"}
    body = json.dumps({"events": [GOOD, bad]}).replace('"__NUMBER__"', '{"x": ' + number + "}")
    response = post_raw(client, "/api/v1/events/batch", body)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["accepted"] == 1
    assert answer["rejected"][0]["index"] == 1 and "properties" in answer["rejected"][0]["errors"]
    assert list(Event.objects.filter(workspace=workspace).values_list("uuid", flat=True)) == ["good-1"]


def test_properties_nested_past_the_limit_reject_their_event(ingest) -> None:
    client, _ = ingest
    deep: dict = {}
    for _ in range(40):
        deep = {"x": deep}
    answer = client.post(
        "/api/v1/events/batch", {"events": [GOOD, {**GOOD, "uuid": "d", "properties": deep}]}, format="json"
    )
    assert answer.json()["accepted"] == 1
    assert answer.json()["rejected"][0]["errors"]["properties"] == ["Nested more than 32 levels deep."]


DEEP_BODY = "[" * 100_000 + "]" * 100_000  # 200 KB of nesting: past the parser's recursion


@pytest.mark.parametrize("url", ["/api/v1/events/batch", "/api/v1/users/batch"])
def test_a_body_nested_past_the_parser_is_a_400_on_ingest(ingest, url: str) -> None:
    client, _ = ingest
    response = post_raw(client, url, '{"events": ' + DEEP_BODY + "}")
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


@pytest.mark.parametrize("path", ["funnels/query", "filter-sets/"])
def test_a_body_over_the_size_limit_is_a_413_read_no_further(reader: APIClient, path: str, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"name": "x" * 2000, "steps": []})
    response = post_raw(reader, f"/api/v1/workspaces/east/{path}", body)
    assert response.status_code == 413
    assert "1000 bytes" in response.json()["detail"]
    response = post_raw(
        reader, f"/api/v1/workspaces/east/{path}", json.dumps({"name": "x", "steps": [], "conditions": "x"})
    )
    assert response.status_code == 400  # under the limit: read and judged on its fields
    assert {"steps", "conditions"} & set(response.json())


@pytest.mark.parametrize("path", ["funnels/", "funnels/query", "filter-sets/", "filter-sets/query"])
def test_a_body_nested_past_the_parser_is_a_400_on_the_read_api(reader: APIClient, path: str) -> None:
    response = post_raw(reader, f"/api/v1/workspaces/east/{path}", '{"steps": ' + DEEP_BODY + "}")
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]
    # Nested less deeply than the parser's limit but more than the body's: a 400 all the same.
    response = post_raw(reader, f"/api/v1/workspaces/east/{path}", '{"steps": ' + "[" * 70 + "]" * 70 + "}")
    assert response.status_code == 400


@pytest.mark.parametrize("created_at", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_a_created_at_beyond_the_calendar_in_utc_rejects_its_user(ingest, created_at: str) -> None:
    client, workspace = ingest
    users = [{"external_id": "fine", "created_at": "2025-01-01"}, {"external_id": "edge", "created_at": created_at}]
    response = client.post("/api/v1/users/batch", {"users": users}, format="json")
    assert response.status_code == 200
    assert response.json()["created"] == 1
    assert list(response.json()["rejected"][0]["errors"]) == ["created_at"]
    assert list(CrmUser.objects.filter(workspace=workspace).values_list("external_id", flat=True)) == ["fine"]


@pytest.mark.parametrize("as_of", ["9999-12-01", "2999-12-31"])
def test_filter_set_query_with_a_far_as_of_in_the_body_is_a_400(reader: APIClient, as_of: str) -> None:
    response = reader.post(
        "/api/v1/workspaces/east/filter-sets/query", {"conditions": {}, "as_of": as_of, "days": 1}, format="json"
    )
    assert response.status_code == 400
    assert "as_of" in response.json()


def test_a_bare_first_date_in_a_zone_east_of_utc_rejects_its_user() -> None:
    """Midnight of 0001-01-01 in Tokyo (local mean time, UTC+9:18 then) is still year 0 in UTC."""
    _workspace, key = workspace_create(slug="tokyo", timezone_name="Asia/Tokyo")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    answer = client.post(
        "/api/v1/users/batch", {"users": [{"external_id": "a", "created_at": "0001-01-01"}]}, format="json"
    )
    assert answer.status_code == 200
    assert list(answer.json()["rejected"][0]["errors"]) == ["created_at"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("hub/popularity?features=" + ",".join(["Leads"] * 8000), "features"),
        ("hub/popularity?features=" + ",".join(f"F{n}" for n in range(101)), "features"),
        ("activity/features?feature=" + ",".join(f"F{n}" for n in range(101)), "feature"),
        ("users?country=" + ",".join(f"C{n}" for n in range(101)), "country"),
    ],
)
def test_a_list_parameter_is_bounded(reader: APIClient, path: str, field: str) -> None:
    response = reader.get(f"/api/v1/workspaces/east/{path}")
    assert response.status_code == 400 and field in response.json()


def test_filter_set_conditions_are_bounded(reader: APIClient) -> None:
    many = [{"feature": "Leads", "used": True}] * 1500
    response = reader.post(
        "/api/v1/workspaces/east/filter-sets/query", {"conditions": {"features": many}}, format="json"
    )
    assert response.status_code == 400 and "conditions" in response.json()


def test_a_form_body_is_415_and_the_schema_documents_json_only(reader: APIClient) -> None:
    """A form cannot carry a funnel's steps: the API takes JSON only, and its schema says so."""
    response = reader.post("/api/v1/workspaces/east/funnels/", {"name": "x"}, format="multipart")
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["detail"]
    schema = reader.get("/api/v1/schema/?format=json").json()
    created = schema["paths"]["/api/v1/workspaces/{slug}/funnels/"]["post"]
    assert list(created["requestBody"]["content"]) == ["application/json"]


def test_the_schema_links_a_created_configuration_to_its_operations(reader: APIClient) -> None:
    paths = reader.get("/api/v1/schema/?format=json").json()["paths"]
    for collection, item in (("funnels/", "funnels/{id}"), ("filter-sets/", "filter-sets/{id}/")):
        prefix = "/api/v1/workspaces/{slug}/"
        links = paths[prefix + collection]["post"]["responses"]["201"]["links"]
        read = paths[prefix + item]["get"]["operationId"]
        assert links[read]["parameters"] == {"slug": "$request.path.slug", "id": "$response.body#/id"}
        assert {paths[prefix + item][m]["operationId"] for m in ("put", "patch", "delete")} <= set(links)
        gone = paths[prefix + item]["delete"]["responses"]["204"]["links"]
        assert gone[read]["parameters"] == {"slug": "$request.path.slug", "id": "$request.path.id"}
