"""The funnel endpoints over HTTP: CRUD and who may do what, input checking, exact results, CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from funnels.models import Funnel, FunnelResult
from tenancy.models import Membership
from tests.conftest import crm_users, journeys

pytestmark = pytest.mark.django_db

BASE = "/api/v1/workspaces/{slug}/funnels"
STEPS = [
    {"feature": "Leads", "action": "create"},
    {"feature": "Leads", "action": "view", "detail": "detail_view"},
    {"feature": "Leads", "action": "convert"},
]
QUERY = {"steps": STEPS, "start": "2025-03-03", "end": "2025-03-09"}


@pytest.fixture
def leads(workspace):
    """Three users start the lead process in the week of Mar 3; two view the lead, one converts."""
    crm_users(
        workspace,
        [
            {"external_id": "u1", "country": "CN"},
            {"external_id": "u2", "country": "IN"},
            {"external_id": "u3", "country": "CN"},
        ],
    )
    journeys(
        workspace,
        [
            ("u1", "2025-03-03T09:00:00+00:00", "Leads", "create", "form", "LD-1"),
            ("u1", "2025-03-03T09:02:00+00:00", "Leads", "view", "detail_view", "LD-1"),
            ("u1", "2025-03-03T10:02:00+00:00", "Leads", "convert", "", "LD-1"),
            ("u2", "2025-03-04T09:00:00+00:00", "Leads", "create", "form", "LD-2"),
            ("u2", "2025-03-04T09:06:00+00:00", "Leads", "view", "detail_view", "LD-2"),
            ("u3", "2025-03-05T09:00:00+00:00", "Leads", "create", "form", "LD-3"),
            ("u3", "2025-03-20T09:00:00+00:00", "Leads", "view", "detail_view", "LD-3"),  # after the window
        ],
    )
    return workspace


def url(slug="acme", suffix=""):
    return BASE.format(slug=slug) + suffix


def make_funnel(workspace, owner, visibility="private", name="Lead process", **extra):
    return Funnel.objects.create(
        workspace=workspace, owner=owner, name=name, steps=STEPS, visibility=visibility, **extra
    )


def user(username):
    return get_user_model().objects.get(username=username)


# --- create, read, list -----------------------------------------------------------------------------


def test_an_analyst_creates_a_funnel(leads, member_client):
    client = member_client(leads, Membership.Role.ANALYST, "ana")
    response = client.post(
        url(suffix="/"),
        {"name": "Lead process", "steps": STEPS, "window_days": 7, "visibility": "workspace"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ("name", "steps", "unit", "window_days", "visibility", "owner")} == {
        "name": "Lead process",
        "steps": [
            {"feature": "Leads", "action": "create", "detail": ""},
            {"feature": "Leads", "action": "view", "detail": "detail_view"},
            {"feature": "Leads", "action": "convert", "detail": ""},
        ],
        "unit": "user",
        "window_days": 7,
        "visibility": "workspace",
        "owner": "ana",
    }
    assert body["can_edit"] is True and body["order"] == "ordered" and body["range_days"] == 30
    funnel = Funnel.objects.get(pk=body["id"])
    assert funnel.owner == user("ana") and funnel.workspace == leads
    assert client.get(url(suffix=f"/{body['id']}")).json()["name"] == "Lead process"
    assert client.get(url(suffix=f"/{body['id']}/")).status_code == 200  # both spellings


def test_the_url_without_trailing_slash_works_for_post(leads, member_client):
    client = member_client(leads, Membership.Role.ADMIN, "adm")
    response = client.post(url(), {"name": "No slash", "steps": STEPS}, format="json")
    assert response.status_code == 201


def test_a_viewer_cannot_create(leads, member_client):
    client = member_client(leads, Membership.Role.VIEWER, "vic")
    response = client.post(url(suffix="/"), {"name": "x", "steps": STEPS}, format="json")
    assert response.status_code == 403


def test_non_members_and_anonymous(leads, member_client, make_workspace):
    other = make_workspace("other")[0]
    make_funnel(leads, owner=None, visibility="workspace")
    outsider = member_client(other, Membership.Role.ADMIN, "out")
    assert outsider.get(url(suffix="/")).status_code == 404
    assert outsider.post(url(suffix="/query"), QUERY, format="json").status_code == 404
    assert outsider.post(url(suffix="/"), {"name": "x", "steps": STEPS}, format="json").status_code == 404
    assert APIClient().get(url(suffix="/")).status_code == 401


def test_list_shows_mine_and_shared_not_others_private(leads, member_client):
    ana_client = member_client(leads, Membership.Role.ANALYST, "ana")
    bob_client = member_client(leads, Membership.Role.ANALYST, "bob")
    make_funnel(leads, user("ana"), "private", name="Ana private")
    make_funnel(leads, user("ana"), "workspace", name="Ana shared")
    make_funnel(leads, user("bob"), "private", name="Bob private")
    names = [f["name"] for f in bob_client.get(url(suffix="/")).json()["results"]]
    assert names == ["Ana shared", "Bob private"]
    assert [f["name"] for f in bob_client.get(url(suffix="/"), {"scope": "mine"}).json()["results"]] == ["Bob private"]
    assert [f["name"] for f in bob_client.get(url(suffix="/"), {"scope": "shared"}).json()["results"]] == ["Ana shared"]
    assert len(ana_client.get(url(suffix="/")).json()["results"]) == 2


# --- who may change what ---------------------------------------------------------------------------


def test_a_private_funnel_is_invisible_to_another_member(leads, member_client):
    member_client(leads, Membership.Role.ANALYST, "ana")
    funnel = make_funnel(leads, user("ana"), "private")
    for role in (Membership.Role.VIEWER, Membership.Role.ANALYST, Membership.Role.ADMIN):
        other = member_client(leads, role, f"other-{role}")
        detail = url(suffix=f"/{funnel.pk}")
        assert other.get(detail).status_code == 404
        assert other.get(detail + "/results").status_code == 404
        assert other.put(detail, {"name": "mine now", "steps": STEPS}, format="json").status_code == 404
        assert other.patch(detail, {"name": "mine now"}, format="json").status_code == 404
        assert other.delete(detail).status_code == 404
    funnel.refresh_from_db()
    assert funnel.name == "Lead process"


def test_a_shared_funnel_is_read_by_all_and_changed_by_owner_or_admin(leads, member_client):
    owner = member_client(leads, Membership.Role.ANALYST, "ana")
    viewer = member_client(leads, Membership.Role.VIEWER, "vic")
    analyst = member_client(leads, Membership.Role.ANALYST, "bob")
    admin = member_client(leads, Membership.Role.ADMIN, "adm")
    funnel = make_funnel(leads, user("ana"), "workspace")
    detail = url(suffix=f"/{funnel.pk}")

    assert viewer.get(detail).status_code == 200
    assert viewer.get(detail).json()["can_edit"] is False
    assert viewer.get(detail + "/results").status_code == 200
    for client in (viewer, analyst):
        assert client.patch(detail, {"name": "x"}, format="json").status_code == 403
        assert client.put(detail, {"name": "x", "steps": STEPS}, format="json").status_code == 403
        assert client.delete(detail).status_code == 403

    response = owner.patch(detail, {"window_days": 3}, format="json")
    assert response.status_code == 200 and response.json()["window_days"] == 3
    response = admin.put(
        detail, {"name": "Renamed by admin", "steps": STEPS[:2], "visibility": "workspace"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["owner"] == "ana"  # the owner stays
    assert admin.get(detail).json()["can_edit"] is True
    assert admin.delete(detail).status_code == 204
    assert not Funnel.objects.filter(pk=funnel.pk).exists()


def test_superuser_is_an_admin_everywhere(leads, member_client):
    member_client(leads, Membership.Role.ANALYST, "ana")
    funnel = make_funnel(leads, user("ana"), "workspace")
    root = get_user_model().objects.create_superuser("root", password="x")
    _, token = AuthToken.objects.create(root, expiry=timezone.timedelta(days=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.patch(url(suffix=f"/{funnel.pk}"), {"name": "ok"}, format="json").status_code == 200


# --- input checking --------------------------------------------------------------------------------

BAD_QUERIES = [
    ({"steps": STEPS[:1]}, "steps"),
    ({"steps": STEPS * 4}, "steps"),
    ({"steps": "Leads"}, "steps"),
    ({"steps": ["Leads"]}, "steps"),
    ({"steps": None}, "steps"),
    ({"window_days": 0}, "window_days"),
    ({"window_days": -3}, "window_days"),
    ({"window_days": 366}, "window_days"),
    ({"window_days": "two weeks"}, "window_days"),
    ({"unit": "account"}, "unit"),
    ({"order": "random"}, "order"),
    ({"visibility": "public"}, "visibility"),
    ({"breakdown": "shoe_size"}, "breakdown"),
    ({"start": "2025-02-30"}, "start"),
    ({"start": "yesterday"}, "start"),
    ({"start": None}, "start"),
    ({"end": "03/09/2025"}, "end"),
    ({"start": "2025-03-10", "end": "2025-03-09"}, "start"),
    ({"start": "2023-01-01", "end": "2025-03-09"}, "end"),
    ({"start": "0001-01-01"}, "start"),
    ({"filters": {"status": ["zombie"]}}, "filters"),
    ({"filters": {"shoe_size": ["42"]}}, "filters"),
    ({"filters": "CN"}, "filters"),
    ({"status": "zombie"}, "status"),
]


@pytest.mark.parametrize(("change", "field"), BAD_QUERIES)
def test_query_rejects_bad_input_naming_the_field(leads, member_client, change, field):
    client = member_client(leads, Membership.Role.VIEWER)
    body = {**QUERY, **change}
    if change.get("start") is None and "start" in change:
        body.pop("start")
    response = client.post(url(suffix="/query"), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()


def test_unknown_steps_are_reported_per_step(leads, member_client):
    client = member_client(leads, Membership.Role.VIEWER)
    steps = [
        {"feature": "Leads", "action": "create"},
        {"feature": "Leeds", "action": "view"},
        {"feature": "Leads", "action": "fly"},
        {"feature": "Leads", "action": "view", "detail": "canvas_view"},
        {"feature": "Leads"},
    ]
    response = client.post(url(suffix="/query"), {**QUERY, "steps": steps}, format="json")
    assert response.status_code == 400
    # DRF's shape for a list: the index of each faulty step, then its field.
    assert response.json()["steps"] == {
        "1": {"feature": ["Unknown feature: 'Leeds'."]},
        "2": {"action": ["No 'fly' action was seen for Leads."]},
        "3": {"detail": ["No 'view' action with detail 'canvas_view' was seen for Leads."]},
        "4": {"action": ["This field is required."]},
    }


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"', b"null", b"{"])
def test_malformed_bodies_are_400(leads, member_client, body):
    client = member_client(leads, Membership.Role.VIEWER)
    response = client.post(url(suffix="/query"), body, content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize(("change", "field"), [c for c in BAD_QUERIES if c[1] not in ("start", "end", "status")])
def test_saving_rejects_the_same_bad_definitions(leads, member_client, change, field):
    client = member_client(leads, Membership.Role.ANALYST)
    response = client.post(url(suffix="/"), {"name": "x", "steps": STEPS, **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Funnel.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"start": "2025-03-01"}, "end"),
        ({"end": "2025-03-01"}, "start"),
        ({"start": "2025-03-02", "end": "2025-03-01"}, "start"),
        ({"start": "2020-01-01", "end": "2025-03-01"}, "end"),
        ({"range_days": 0}, "range_days"),
        ({"range_days": 800}, "range_days"),
    ],
)
def test_saving_checks_the_default_range_and_name(leads, member_client, change, field):
    client = member_client(leads, Membership.Role.ANALYST)
    response = client.post(url(suffix="/"), {"name": "x", "steps": STEPS, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2025-13-01", "end": "2025-03-09"}, "start"),
        ({"start": "2025-03-01"}, "end"),
        ({"start": "2025-03-10", "end": "2025-03-09"}, "start"),
        ({"start": "2020-03-10", "end": "2025-03-09"}, "end"),
        ({"status": "zombie"}, "status"),
    ],
)
def test_results_rejects_bad_parameters(leads, member_client, params, field):
    client = member_client(leads, Membership.Role.ANALYST, "ana")
    funnel = make_funnel(leads, user("ana"))
    response = client.get(url(suffix=f"/{funnel.pk}/results"), params)
    assert response.status_code == 400 and field in response.json()


# --- results ---------------------------------------------------------------------------------------

EXPECTED_STEPS = [
    {
        "step": 1,
        "label": "Leads · create",
        "count": 3,
        "conversion_pct": 100.0,
        "dropoff_pct": 0.0,
        "median_seconds_from_previous": None,
    },
    {
        "step": 2,
        "label": "Leads · view · detail_view",
        "count": 2,
        "conversion_pct": 66.7,
        "dropoff_pct": 33.3,
        "median_seconds_from_previous": 240.0,
    },
    {
        "step": 3,
        "label": "Leads · convert",
        "count": 1,
        "conversion_pct": 33.3,
        "dropoff_pct": 50.0,
        "median_seconds_from_previous": 3600.0,
    },
]


def test_query_computes_on_demand(leads, member_client):
    client = member_client(leads, Membership.Role.VIEWER)
    response = client.post(url(suffix="/query"), {**QUERY, "breakdown": "country"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["steps"] == EXPECTED_STEPS
    assert [(g["group"], [s["count"] for s in g["steps"]]) for g in body["breakdown"]] == [
        ("CN", [2, 1, 1]),
        ("IN", [1, 1, 0]),
    ]
    assert body["range"] == {"start": "2025-03-03", "end": "2025-03-09"}
    assert body["cached"] is False


def test_query_options(leads, member_client):
    client = member_client(leads, Membership.Role.VIEWER)

    def counts(**change):
        response = client.post(url(suffix="/query"), {**QUERY, **change}, format="json")
        assert response.status_code == 200, response.json()
        return [s["count"] for s in response.json()["steps"]]

    assert counts(unit="record") == [3, 2, 1]
    assert counts(window_days=20) == [3, 3, 1]  # u3's view 15 days later counts with a 20-day window
    assert counts(window=20) == [3, 3, 1]  # the name docs/metrics.md uses
    assert counts(filters={"country": ["CN"]}) == [2, 1, 1]
    assert counts(country="IN") == [1, 1, 0]
    assert counts(country=["IN", "CN"]) == [3, 2, 1]
    assert counts(start="2025-03-04", end="2025-03-04") == [1, 1, 0]
    assert counts(order="strict") == [3, 2, 1]
    assert counts(steps=[{"feature": "Leads", "action": "create", "detail": None}, STEPS[2]]) == [3, 1]


def test_query_csv(leads, member_client):
    client = member_client(leads, Membership.Role.VIEWER)
    response = client.post(url(suffix="/query") + "?format=csv", {**QUERY, "breakdown": "country"}, format="json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="acme-funnel-query.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["scope"], r["group"], r["step"], r["count"], r["conversion_pct"]) for r in rows] == [
        ("total", "", "1", "3", "100.0"),
        ("total", "", "2", "2", "66.7"),
        ("total", "", "3", "1", "33.3"),
        ("group", "CN", "1", "2", "100.0"),
        ("group", "CN", "2", "1", "50.0"),
        ("group", "CN", "3", "1", "50.0"),
        ("group", "IN", "1", "1", "100.0"),
        ("group", "IN", "2", "1", "100.0"),
        ("group", "IN", "3", "0", "0.0"),
    ]
    assert rows[1]["median_seconds_from_previous"] == "240.0" and rows[0]["median_seconds_from_previous"] == ""


def test_results_of_a_saved_funnel_use_the_cache(leads, member_client, django_capture_on_commit_callbacks):
    client = member_client(leads, Membership.Role.ANALYST, "ana")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url(suffix="/"),
            {"name": "Leads", "steps": STEPS, "start": "2025-03-03", "end": "2025-03-09"},
            format="json",
        )
    funnel_id = response.json()["id"]
    stored = FunnelResult.objects.get(funnel_id=funnel_id)  # computed by the task enqueued on commit
    assert stored.payload["steps"] == EXPECTED_STEPS
    assert (stored.range_start.isoformat(), stored.range_end.isoformat()) == ("2025-03-03", "2025-03-09")

    body = client.get(url(suffix=f"/{funnel_id}/results")).json()
    assert body["steps"] == EXPECTED_STEPS
    assert body["cached"] is True
    assert body["computed_at"] == stored.computed_at.isoformat()

    # Proof that the stored payload is what is served: tamper with it.
    stored.payload["steps"][0]["count"] = 999
    stored.save()
    assert client.get(url(suffix=f"/{funnel_id}/results")).json()["steps"][0]["count"] == 999
    # Another range computes on demand (and leaves the cache alone).
    other = client.get(url(suffix=f"/{funnel_id}/results"), {"start": "2025-03-04", "end": "2025-03-04"}).json()
    assert [s["count"] for s in other["steps"]] == [1, 1, 0] and other["cached"] is False
    assert FunnelResult.objects.get(funnel_id=funnel_id).payload["steps"][0]["count"] == 999
    # Filters too.
    filtered = client.get(url(suffix=f"/{funnel_id}/results"), {"country": "CN"}).json()
    assert [s["count"] for s in filtered["steps"]] == [2, 1, 1]
    # A stale result is recomputed on demand.
    FunnelResult.objects.filter(funnel_id=funnel_id).update(stale=True)
    body = client.get(url(suffix=f"/{funnel_id}/results")).json()
    assert body["steps"] == EXPECTED_STEPS and body["cached"] is False
    assert FunnelResult.objects.get(funnel_id=funnel_id).stale is False


def test_results_csv(leads, member_client):
    client = member_client(leads, Membership.Role.ANALYST, "ana")
    funnel = make_funnel(leads, user("ana"), range_start="2025-03-03", range_end="2025-03-09")
    response = client.get(url(suffix=f"/{funnel.pk}/results"), {"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["count"] for r in rows] == ["3", "2", "1"]
    assert f'filename="acme-funnel-{funnel.pk}.csv"' in response["Content-Disposition"]


def test_editing_the_definition_invalidates_the_cache(leads, member_client, django_capture_on_commit_callbacks):
    client = member_client(leads, Membership.Role.ANALYST, "ana")
    funnel = make_funnel(leads, user("ana"), range_start="2025-03-03", range_end="2025-03-09")
    assert [s["count"] for s in client.get(url(suffix=f"/{funnel.pk}/results")).json()["steps"]] == [3, 2, 1]
    with django_capture_on_commit_callbacks(execute=True):
        client.patch(url(suffix=f"/{funnel.pk}"), {"unit": "record", "window_days": 30}, format="json")
    body = client.get(url(suffix=f"/{funnel.pk}/results")).json()
    assert [s["count"] for s in body["steps"]] == [3, 3, 1]
    assert body["cached"] is True  # recomputed by the task the change enqueued


JUNK = [None, True, 0, -1, 10**30, 3.5, "", "x" * 5000, "2025-03-03", [], [None], {}, {"a": {"b": []}}, ["a", 1]]
FIELDS = [
    "steps",
    "unit",
    "window_days",
    "order",
    "breakdown",
    "filters",
    "start",
    "end",
    "visibility",
    "country",
    "name",
]


@pytest.mark.parametrize("field", FIELDS)
def test_no_input_gives_a_500(leads, member_client, field):
    client = member_client(leads, Membership.Role.ADMIN, "adm")
    funnel = make_funnel(leads, user("adm"))
    for junk in JUNK:
        for step_junk in ([{"feature": junk, "action": "create"}, STEPS[1]], [{**STEPS[0], "detail": junk}, STEPS[1]]):
            response = client.post(url(suffix="/query"), {**QUERY, "steps": step_junk}, format="json")
            assert response.status_code in (200, 400), (step_junk, response.content)
        for path, method in (
            (url(suffix="/query"), "post"),
            (url(suffix="/"), "post"),
            (url(suffix=f"/{funnel.pk}"), "patch"),
        ):
            response = getattr(client, method)(path, {**QUERY, "name": "n", field: junk}, format="json")
            assert response.status_code in (200, 201, 400), (path, field, junk, response.content)
        response = client.get(url(suffix=f"/{funnel.pk}/results"), {field: str(junk)})
        assert response.status_code in (200, 400), (field, junk, response.content)


@pytest.mark.parametrize("pk", ["-5", "abc", "99999999999999999999", "%C3%9A", "0"])
def test_odd_ids_are_json_404(leads, member_client, pk):
    client = member_client(leads, Membership.Role.ADMIN, "adm")
    for suffix in (f"/{pk}", f"/{pk}/", f"/{pk}/results"):
        response = client.get(url(suffix=suffix))
        assert response.status_code == 404 and response["Content-Type"].startswith("application/json"), suffix
    assert client.delete(url(suffix=f"/{pk}")).status_code == 404
