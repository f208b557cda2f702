"""Filter sets: every condition type on hand-made data, groups, saving and sharing, input checks."""

from __future__ import annotations

import pytest

from tests.conftest import crm_users, journeys
from useranalysis.models import FilterSet

pytestmark = pytest.mark.django_db

BASE = "/api/v1/workspaces/sh/filter-sets/"


def at(day: int, hm: str) -> str:
    return f"2025-10-{day:02d}T{hm}:00+08:00"


def busy_day(user, day, start_hour, hours, feature="Home", action="view"):
    """A continuous session: one event every 10 minutes for ``hours`` hours."""
    return [
        (user, at(day, f"{start_hour + m // 60:02d}:{m % 60:02d}"), feature, action)
        for m in range(0, hours * 60 + 1, 10)
    ]


@pytest.fixture
def sh(make_workspace):
    """as_of Oct 31, 30 days. heavy: 2 × 6-hour days and 2 creates an hour later (3 sessions, 721 min).
    browser: 6 h on Oct 31 (360 min), only views leads. light: 1 event Oct 20. ghost: never seen."""
    workspace = make_workspace("sh", tz="Asia/Shanghai")[0]
    crm_users(
        workspace,
        [
            {"external_id": "heavy", "country": "CN"},
            {"external_id": "browser", "country": "CN"},
            {"external_id": "light", "country": "IN"},
            {"external_id": "ghost", "country": "IN"},
        ],
    )
    journeys(
        workspace,
        busy_day("heavy", 30, 9, 6)
        + busy_day("heavy", 31, 9, 6)
        + [("heavy", at(31, "16:00"), "Leads", "create"), ("heavy", at(31, "16:01"), "Leads", "create")]
        + busy_day("browser", 31, 8, 6, "Leads", "view")
        + [("light", at(20, "10:00"), "Leads", "create")],
    )
    return workspace


@pytest.fixture
def query(sh, member_client):
    client = member_client(sh, role="analyst")

    def run(conditions, group_by=None, **params):
        body = {"conditions": conditions, **({"group_by": group_by} if group_by else {})}
        response = client.post(BASE + "query?as_of=2025-10-31&days=30", body, format="json")
        assert response.status_code == 200, response.content
        return response.json()

    return run


def matched(body):
    return sorted(u["external_id"] for u in body["users"])


def test_the_seed_scenario_daily_heavy_users_who_do_or_do_not_create_leads(query):
    active = [
        {"metric": "last_seen_days", "op": "<", "value": 1},
        {"metric": "session_minutes", "op": ">", "value": 300},
    ]
    did = query({"activity": active, "features": [{"feature": "Leads", "action": "create", "used": True}]})
    assert (matched(did), did["total_users"], did["matched"], did["matched_pct"]) == (["heavy"], 4, 1, 25.0)
    did_not = query({"activity": active, "features": [{"feature": "Leads", "action": "create", "used": False}]})
    assert (matched(did_not), did_not["matched_pct"]) == (["browser"], 25.0)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"metric": "last_seen_days", "op": "<=", "value": 0}, ["browser", "heavy"]),
        ({"metric": "last_seen_days", "op": ">", "value": 5}, ["ghost", "light"]),  # never seen counts as long ago
        ({"metric": "last_seen_days", "op": ">=", "value": 11}, ["ghost", "light"]),
        ({"metric": "last_seen_days", "op": "=", "value": 11}, ["light"]),
        ({"metric": "last_seen_days", "op": "<", "value": 100}, ["browser", "heavy", "light"]),
        ({"metric": "session_minutes", "op": ">=", "value": 360}, ["browser", "heavy"]),
        ({"metric": "session_minutes", "op": ">", "value": 360}, ["heavy"]),
        # heavy: Oct 30, Oct 31 and the leads created at 16:00 after a 60-minute gap
        ({"metric": "session_count", "op": "=", "value": 3}, ["heavy"]),
        ({"metric": "attendance_days", "op": "<", "value": 1}, ["ghost"]),
        ({"metric": "interactions", "op": ">", "value": 37}, ["heavy"]),
        ({"metric": "features_used", "op": ">=", "value": 1}, ["browser", "heavy", "light"]),
    ],
)
def test_activity_conditions(query, condition, expected):
    assert matched(query({"activity": [condition]})) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"feature": "Leads"}, ["browser", "heavy", "light"]),
        ({"feature": "Leads", "used": False}, ["ghost"]),
        ({"feature": "Leads", "action": "create", "min_count": 2}, ["heavy"]),
        ({"feature": "Leads", "action": "create", "min_count": 1}, ["heavy", "light"]),
        ({"feature": "Leads", "action": "view", "used": False}, ["ghost", "heavy", "light"]),
        ({"feature": "Home", "min_count": 74}, ["heavy"]),
    ],
)
def test_feature_conditions(query, condition, expected):
    assert matched(query({"features": [condition]})) == expected


def test_user_filters_set_the_total_and_groups_split_it(query):
    body = query({"users": {"country": ["IN"]}, "activity": [{"metric": "interactions", "op": ">", "value": 0}]})
    assert (body["total_users"], body["matched"], body["matched_pct"], matched(body)) == (2, 1, 50.0, ["light"])
    body = query({"features": [{"feature": "Leads"}]}, group_by="country")
    assert body["groups"] == [
        {"group": "CN", "matched": 2, "total": 2, "matched_pct": 100.0},
        {"group": "IN", "matched": 1, "total": 2, "matched_pct": 50.0},
    ]
    assert (body["matched"], body["matched_pct"]) == (3, 75.0)


def test_no_conditions_match_everyone(query):
    body = query({})
    assert (body["total_users"], body["matched"], body["matched_pct"], body["groups"]) == (4, 4, 100.0, [])


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (
            {"conditions": {"activity": [{"metric": "mood", "op": ">", "value": 1}]}},
            ["conditions", "activity", "0", "metric"],
        ),
        (
            {"conditions": {"activity": [{"metric": "interactions", "op": "!=", "value": 1}]}},
            ["conditions", "activity", "0", "op"],
        ),
        (
            {"conditions": {"activity": [{"metric": "interactions", "op": ">", "value": -1}]}},
            ["conditions", "activity", "0", "value"],
        ),
        (
            {"conditions": {"activity": [{"metric": "interactions", "op": ">"}]}},
            ["conditions", "activity", "0", "value"],
        ),
        ({"conditions": {"features": [{"feature": "Nope"}]}}, ["conditions", "features", "0", "feature"]),
        (
            {"conditions": {"features": [{"feature": "Leads", "action": "fly"}]}},
            ["conditions", "features", "0", "action"],
        ),
        (
            {"conditions": {"features": [{"feature": "Leads", "min_count": 0}]}},
            ["conditions", "features", "0", "min_count"],
        ),
        ({"conditions": {"users": {"shoe_size": ["42"]}}}, ["conditions", "users"]),
        ({"conditions": {"users": {"status": ["zombie"]}}}, ["conditions", "users"]),
        ({"conditions": {"moods": []}}, ["conditions", "moods"]),
        ({"conditions": "everyone"}, ["conditions"]),
        ({"group_by": "shoe_size"}, ["group_by"]),
        ({"days": 0}, ["days"]),
    ],
)
def test_bad_conditions_name_the_field(sh, member_client, body, path):
    response = member_client(sh, role="analyst").post(BASE + "query", body, format="json")
    assert response.status_code == 400
    error = response.json()
    for step in path:
        error = error[step]
    assert error


def test_malformed_json_is_a_400(sh, member_client):
    response = member_client(sh).post(BASE + "query", "{oops", content_type="application/json")
    assert response.status_code == 400


# --- saved filter sets -----------------------------------------------------------------------------

DEFINITION = {
    "name": "Heavy users who create leads",
    "conditions": {
        "activity": [{"metric": "session_minutes", "op": ">", "value": 300}],
        "features": [{"feature": "Leads", "action": "create"}],
    },
    "group_by": "country",
    "visibility": "private",
}


def test_save_and_run_a_filter_set(sh, member_client):
    client = member_client(sh, role="analyst", username="ana")
    created = client.post(BASE, DEFINITION, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["owner"], body["visibility"], body["group_by"]) == ("ana", "private", "country")
    assert body["conditions"]["features"] == [{"feature": "Leads", "action": "create", "used": True, "min_count": 1}]
    result = client.get(f"{BASE}{body['id']}/results", {"as_of": "2025-10-31"}).json()
    assert (result["matched"], result["total_users"], [u["external_id"] for u in result["users"]]) == (1, 4, ["heavy"])
    assert result["groups"][0] == {"group": "CN", "matched": 1, "total": 2, "matched_pct": 50.0}
    csv = client.get(f"{BASE}{body['id']}/results", {"as_of": "2025-10-31", "format": "csv"})
    assert csv.content.decode().splitlines()[1].startswith("heavy,")
    assert [f["name"] for f in client.get(BASE).json()] == ["Heavy users who create leads"]


def test_a_saved_filter_set_that_no_longer_validates_is_a_400_naming_the_condition(sh, member_client):
    client = member_client(sh, role="analyst")
    pk = client.post(BASE, DEFINITION, format="json").json()["id"]
    # Saved when its action had been seen; the events that had it are gone since.
    FilterSet.objects.filter(pk=pk).update(conditions={"features": [{"feature": "Leads", "action": "archive"}]})
    response = client.get(f"{BASE}{pk}/results", {"as_of": "2025-10-31"})
    assert response.status_code == 400
    assert "No 'archive' action was seen" in response.json()["conditions"]["features"]["0"]["action"][0]


def test_private_filter_sets_are_invisible_to_other_members(sh, member_client):
    owner = member_client(sh, role="analyst", username="owner")
    other = member_client(sh, role="admin", username="other-admin")
    pk = owner.post(BASE, DEFINITION, format="json").json()["id"]
    assert other.get(BASE).json() == []
    for method in ("get", "put", "patch", "delete"):
        assert getattr(other, method)(f"{BASE}{pk}/", DEFINITION, format="json").status_code == 404
    assert other.get(f"{BASE}{pk}/results").status_code == 404
    assert FilterSet.objects.filter(pk=pk).exists()


def test_shared_filter_sets_are_read_by_all_edited_by_owner_or_admin(sh, member_client):
    owner = member_client(sh, role="analyst", username="owner")
    viewer = member_client(sh, role="viewer", username="viewer")
    analyst = member_client(sh, role="analyst", username="analyst2")
    admin = member_client(sh, role="admin", username="boss")
    pk = owner.post(BASE, {**DEFINITION, "visibility": "workspace"}, format="json").json()["id"]
    assert viewer.get(f"{BASE}{pk}/").status_code == 200
    assert viewer.get(f"{BASE}{pk}/results").status_code == 200
    assert viewer.patch(f"{BASE}{pk}/", {"name": "mine now"}, format="json").status_code == 403
    assert analyst.delete(f"{BASE}{pk}/").status_code == 403
    assert admin.patch(f"{BASE}{pk}/", {"name": "Renamed"}, format="json").status_code == 200
    assert owner.get(f"{BASE}{pk}/").json()["name"] == "Renamed"
    assert admin.delete(f"{BASE}{pk}/").status_code == 204


def test_viewers_cannot_create_and_outsiders_get_404(sh, member_client):
    assert member_client(sh, role="viewer").post(BASE, DEFINITION, format="json").status_code == 403
    assert member_client(None, username="outsider").get(BASE).status_code == 404


def test_saving_checks_conditions_too(sh, member_client):
    bad = {**DEFINITION, "conditions": {"features": [{"feature": "Nope"}]}}
    response = member_client(sh, role="analyst").post(BASE, bad, format="json")
    assert response.status_code == 400
    assert "feature" in response.json()["conditions"]["features"]["0"]


@pytest.mark.parametrize("days", [0, 732])
def test_default_days_out_of_range_is_refused(sh, member_client, days):
    response = member_client(sh, role="analyst").post(BASE, {**DEFINITION, "default_days": days}, format="json")
    assert response.status_code == 400
    assert "default_days" in response.json()


def test_matched_users_sorted_and_paged_on_request(sh, member_client):
    client = member_client(sh, role="analyst")
    url = BASE + "query?as_of=2025-10-31&days=30"
    # No condition: all four match. By interactions: heavy (2 × 37 + 2), browser (37), light (1), ghost (0).
    whole = client.post(url + "&ordering=-interactions", {"conditions": {}}, format="json").json()
    assert [u["external_id"] for u in whole["users"]] == ["heavy", "browser", "light", "ghost"]
    assert (whole["next"], whole["previous"]) == (None, None)
    first = client.post(url + "&ordering=-interactions&page_size=3", {"conditions": {}}, format="json").json()
    assert ([u["external_id"] for u in first["users"]], first["matched"], first["previous"]) == (
        ["heavy", "browser", "light"],
        4,
        None,
    )
    assert "page=2" in first["next"]
    second = client.post(url + "&ordering=-interactions&page_size=3&page=2", {"conditions": {}}, format="json")
    assert [u["external_id"] for u in second.json()["users"]] == ["ghost"]
    # A page fills last seen and features used for its own rows only, to the same figures.
    assert first["users"] + second.json()["users"] == whole["users"]
    assert [u["features_used"] for u in whole["users"]] == [2, 1, 1, 0]
    assert whole["users"][0]["last_seen"] is not None and whole["users"][3]["last_seen"] is None
    # Sorted by a metric a page leaves for last, every row is filled before sorting.
    by_features = client.post(url + "&ordering=-features_used&page_size=2", {"conditions": {}}, format="json")
    assert [(u["external_id"], u["features_used"]) for u in by_features.json()["users"]] == [
        ("heavy", 2),
        ("browser", 1),
    ]
    # The CSV is every matched user, whatever the page.
    csv = client.post(url + "&page_size=1&format=csv", {"conditions": {}}, format="json").content.decode()
    assert [line.split(",")[0] for line in csv.splitlines()[1:]] == ["browser", "ghost", "heavy", "light"]
    assert client.post(url + "&page=9", {"conditions": {}}, format="json").status_code == 404


def test_a_saved_filter_sets_result_is_cached_until_the_rollups_change(sh, member_client):
    client = member_client(sh, role="analyst", username="ana")
    pk = client.post(BASE, DEFINITION, format="json").json()["id"]
    url, params = f"{BASE}{pk}/results", {"as_of": "2025-10-31"}
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        assert [u["external_id"] for u in client.get(url, params).json()["users"]] == ["heavy"]
    with CaptureQueriesContext(connection) as second:
        assert [u["external_id"] for u in client.get(url, params).json()["users"]] == ["heavy"]
    # The second is served from the cache: none of the rollup reads run again.
    assert any("events_usermonth" in q["sql"] for q in first.captured_queries)
    assert not any("events_usermonth" in q["sql"] for q in second.captured_queries)
    # browser now creates a lead and works past 300 minutes: the refresh renews the version, and the
    # next answer counts it.
    journeys(sh, [("browser", at(31, "15:00"), "Leads", "create")])
    assert sorted(u["external_id"] for u in client.get(url, params).json()["users"]) == ["browser", "heavy"]


def test_a_refresh_computes_saved_filter_sets_ahead(sh, member_client, django_capture_on_commit_callbacks, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from events.tasks import refresh_rollups_task

    settings.PRECOMPUTE_AFTER_REFRESH = True  # as with a worker (a broker configured)

    client = member_client(sh, role="analyst", username="ana")
    pk = client.post(BASE, {**DEFINITION, "default_days": 30}, format="json").json()["id"]
    # New events, then the refresh task as the worker runs it: it queues the warm-up for after commit.
    journeys(sh, [("light", at(21, "10:00"), "Leads", "create")], refresh=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert refresh_rollups_task.delay(sh.id).get() == 1
    # Its default period ends today: the first view of it is already a cache read.
    with CaptureQueriesContext(connection) as first_view:
        body = client.get(f"{BASE}{pk}/results").json()
    assert not any("events_usermonth" in q["sql"] for q in first_view.captured_queries)
    assert body["total_users"] == 4


def first_views_read_rollups(client, pks) -> dict[int, bool]:
    """Per saved filter set: whether its first default view read the rollups (was not cached)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reads = {}
    for pk in pks:
        with CaptureQueriesContext(connection) as view:
            assert client.get(f"{BASE}{pk}/results").status_code == 200
        reads[pk] = any("events_usermonth" in q["sql"] for q in view.captured_queries)
    return reads


def refresh_after_new_events(sh, django_capture_on_commit_callbacks) -> None:
    from events.tasks import refresh_rollups_task

    journeys(sh, [("light", at(21, "10:00"), "Leads", "create")], refresh=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert refresh_rollups_task.delay(sh.id).get() == 1


def test_at_most_the_limit_of_filter_sets_is_computed_ahead_the_most_recently_changed(
    sh, member_client, django_capture_on_commit_callbacks, settings
):
    settings.PRECOMPUTE_AFTER_REFRESH = True
    settings.PRECOMPUTE_LIMIT = 2
    client = member_client(sh, role="analyst", username="ana")
    # Periods of their own, so that each has its own result to cache.
    new = [{**DEFINITION, "name": f"set {n}", "default_days": 30 + n} for n in range(3)]
    pks = [client.post(BASE, definition, format="json").json()["id"] for definition in new]
    assert client.patch(f"{BASE}{pks[0]}/", {"name": "set 0, renamed"}, format="json").status_code == 200
    refresh_after_new_events(sh, django_capture_on_commit_callbacks)
    # The renamed one and the newest were computed ahead; the third computes on its first view.
    assert first_views_read_rollups(client, pks) == {pks[0]: False, pks[1]: True, pks[2]: False}


def test_in_process_a_refresh_computes_no_filter_set_ahead(
    sh, member_client, django_capture_on_commit_callbacks, settings
):
    """Without a broker the refresh runs inside the ingest request, which must not pay for saved
    filter sets: they compute on their first view, with the new events."""
    settings.PRECOMPUTE_AFTER_REFRESH = False  # its default without a broker (the PostgreSQL pass has one)
    client = member_client(sh, role="analyst", username="ana")
    pk = client.post(BASE, {**DEFINITION, "default_days": 30}, format="json").json()["id"]
    client.get(f"{BASE}{pk}/results")  # cached now, for the rollups before the new events
    refresh_after_new_events(sh, django_capture_on_commit_callbacks)
    assert first_views_read_rollups(client, [pk]) == {pk: True}
