"""Funnels grown up, over HTTP (issue 18, item 3): exclusion steps, any order, the time to convert,
conversion over time and the people at a step — through ``funnels/query``, a saved funnel's
``results`` (precomputed for its saved range), its page, the people page and "save as a filter set".

The scenario, counted by hand (UTC workspace, range Mar 3–16 2025: ISO weeks of Mar 3 and Mar 10):
* u1 creates a lead Mar 3 09:00, views it 09:02, converts it 10:02 → step 3, 3,720 s from 1 to 3;
* u2 creates Mar 4 09:00, views 09:06 → step 2;
* u3 creates Mar 5 09:00, views Mar 20 (after the 14-day window) → step 1;
* u4 creates Mar 10 09:00, deletes a deal 09:01, views 09:03, converts 09:30 → step 3, 1,800 s;
  an exclusion "Deals · delete between steps 1 and 2" voids u4's only attempt: u4 is not counted.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from funnels.models import Funnel, FunnelResult
from tenancy.models import Membership
from tests.conftest import crm_users, journeys
from useranalysis.models import FilterSet

pytestmark = pytest.mark.django_db

STEPS = [
    {"feature": "Leads", "action": "create"},
    {"feature": "Leads", "action": "view"},
    {"feature": "Leads", "action": "convert"},
]
RANGE = {"start": "2025-03-03", "end": "2025-03-16"}
EXCLUDE_DELETES = [{"feature": "Deals", "action": "delete", "between": [1, 2]}]
EVENTS = [
    ("u1", "2025-03-03T09:00:00Z", "Leads", "create"),
    ("u1", "2025-03-03T09:02:00Z", "Leads", "view"),
    ("u1", "2025-03-03T10:02:00Z", "Leads", "convert"),
    ("u2", "2025-03-04T09:00:00Z", "Leads", "create"),
    ("u2", "2025-03-04T09:06:00Z", "Leads", "view"),
    ("u3", "2025-03-05T09:00:00Z", "Leads", "create"),
    ("u3", "2025-03-20T09:00:00Z", "Leads", "view"),
    ("u4", "2025-03-10T09:00:00Z", "Leads", "create"),
    ("u4", "2025-03-10T09:01:00Z", "Deals", "delete"),
    ("u4", "2025-03-10T09:03:00Z", "Leads", "view"),
    ("u4", "2025-03-10T09:30:00Z", "Leads", "convert"),
]


def populate(workspace, *, names: bool = True):
    crm_users(
        workspace,
        [
            {"external_id": u, "name": f"User {u[1:]}" if names else "", "email": f"{u}@example.com"}
            for u in ["u1", "u2", "u3", "u4"]
        ],
    )
    journeys(workspace, EVENTS)
    return workspace


@pytest.fixture
def two(make_workspace):
    """Two workspaces with the same users and events: every figure must come from the one asked."""
    acme = populate(make_workspace("acme")[0])
    other = populate(make_workspace("other")[0])
    journeys(other, [("u9", "2025-03-03T08:00:00Z", "Leads", "create")])  # one more entrant there
    return acme, other


def query(client, slug="acme", suffix="", **body):
    return client.post(
        f"/api/v1/workspaces/{slug}/funnels/query{suffix}", {"steps": STEPS, **RANGE, **body}, format="json"
    )


def test_exclusion_steps_void_an_attempt_and_a_unit_with_only_void_attempts_is_not_counted(two, member_client):
    client = member_client(two[0])
    plain = query(client).json()
    assert [s["count"] for s in plain["steps"]] == [4, 3, 2]
    excluded = query(client, exclusions=EXCLUDE_DELETES).json()
    assert [s["count"] for s in excluded["steps"]] == [3, 2, 1]
    # The same exclusion between steps 2 and 3 does not touch u4 (the delete is before its view).
    later = query(client, exclusions=[{**EXCLUDE_DELETES[0], "between": [2, 3]}]).json()
    assert [s["count"] for s in later["steps"]] == [4, 3, 2]
    # The other workspace has its own entrant.
    assert [s["count"] for s in query(member_client(two[1], username="o"), slug="other").json()["steps"]] == [5, 3, 2]


def test_any_order_counts_the_most_steps_done_within_the_window(two, member_client):
    client = member_client(two[0])
    reversed_steps = list(reversed(STEPS))
    body = query(client, steps=reversed_steps, order="any").json()
    # u1 and u4 did all three, u2 two (create, view), u3 one (the view came after the window).
    assert [s["count"] for s in body["steps"]] == [4, 3, 2]
    assert [s["conversion_pct"] for s in body["steps"]] == [100.0, 75.0, 50.0]
    # In order, the reversed funnel starts at a conversion: u1 and u4 enter, nobody goes back to create.
    ordered = query(client, steps=reversed_steps).json()
    assert [s["count"] for s in ordered["steps"]] == [2, 0, 0]


def test_time_to_convert(two, member_client):
    client = member_client(two[0])
    body = query(client, view="time_to_convert").json()
    assert body["view"] == "time_to_convert"
    assert (body["from_step"], body["to_step"], body["units"]) == (1, 3, 2)
    assert body["median_seconds"] == 2760.0  # (1,800 + 3,720) / 2
    filled = {(b["from_seconds"], b["to_seconds"]): b["units"] for b in body["bins"] if b["units"]}
    assert filled == {(1800, 3600): 1, (3600, 10800): 1}
    assert body["bins"][0]["from_seconds"] == 0 and body["bins"][-1]["to_seconds"] == 14 * 86400
    assert sum(b["units"] for b in body["bins"]) == 2
    # Step 1 → 2 among the three who viewed: 120 s (u1), 360 s (u2), 180 s (u4).
    first = query(client, view="time_to_convert", to_step=2).json()
    assert (first["units"], first["median_seconds"]) == (3, 180.0)
    csv_rows = list(
        csv.DictReader(io.StringIO(query(client, view="time_to_convert", suffix="?format=csv").content.decode()))
    )
    assert sum(int(r["units"]) for r in csv_rows) == 2


def test_conversion_over_time_by_week_of_attempt_start(two, member_client):
    client = member_client(two[0])
    body = query(client, view="trends", interval="week").json()
    assert body["buckets"] == [
        {"bucket": "2025-03-03", "entered": 3, "completed": 1, "conversion_pct": 33.3},
        {"bucket": "2025-03-10", "entered": 1, "completed": 1, "conversion_pct": 100.0},
    ]
    excluded = query(client, view="trends", exclusions=EXCLUDE_DELETES).json()
    assert excluded["buckets"][1] == {"bucket": "2025-03-10", "entered": 0, "completed": 0, "conversion_pct": None}
    days = query(client, view="trends", interval="day").json()["buckets"]
    assert len(days) == 14 and sum(b["entered"] for b in days) == 4


def test_people_reached_and_dropped_paginated_and_as_csv(two, member_client):
    client = member_client(two[0])
    reached = query(client, people={"step": 3, "status": "reached"}).json()
    assert reached["count"] == 2
    assert [(r["unit"], r["level"], r["name"]) for r in reached["results"]] == [
        ("u1", 3, "User 1"),
        ("u4", 3, "User 4"),
    ]
    assert reached["results"][0]["entered_at"].startswith("2025-03-03T09:00:00")
    dropped = query(client, people={"step": 2, "status": "dropped"}).json()
    assert [r["unit"] for r in dropped["results"]] == ["u3"]
    paged = query(client, suffix="?page_size=1&page=2", people={"step": 1, "status": "reached"}).json()
    assert paged["count"] == 4 and [r["unit"] for r in paged["results"]] == ["u2"] and paged["next"]
    rows = list(csv.DictReader(io.StringIO(query(client, suffix="?format=csv", people={"step": 1}).content.decode())))
    assert [r["unit"] for r in rows] == ["u1", "u2", "u3", "u4"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"people": {"step": 1, "status": "dropped"}}, "people"),
        ({"people": {"step": 4}}, "people"),
        ({"people": "two:reached"}, "people"),
        ({"people": {"step": 2, "status": "left"}}, "people"),
        ({"view": "time_to_convert", "to_step": 4}, "to_step"),
        ({"view": "time_to_convert", "from_step": 3, "to_step": 3}, "from_step"),
        ({"view": "cohorts"}, "view"),
        ({"view": "trends", "interval": "year"}, "interval"),
        ({"order": "random"}, "order"),
        ({"exclusions": [{"feature": "Leads", "action": "create", "between": [1, 2]}]}, "exclusions"),
        ({"exclusions": [{"feature": "Leads", "between": [2, 3]}]}, "exclusions"),  # covers every view
        ({"exclusions": [{"feature": "Deals", "action": "delete", "between": [2, 5]}]}, "exclusions"),
        ({"exclusions": [{"feature": "Deals", "action": "delete", "between": [2]}]}, "exclusions"),
        ({"exclusions": [{"feature": "Nope", "between": [1, 2]}]}, "exclusions"),
        ({"exclusions": [{"feature": "Deals", "action": "close", "between": [1, 2]}]}, "exclusions"),
        ({"exclusions": [{"feature": "Deals", "action": "delete", "between": [1, 2]}] * 6}, "exclusions"),
    ],
)
def test_bad_views_and_exclusions_are_a_400_naming_the_field(two, member_client, body, field):
    response = query(member_client(two[0]), **body)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()


def test_an_exclusion_error_names_the_exclusion_and_its_part(two, member_client):
    response = query(member_client(two[0]), exclusions=[EXCLUDE_DELETES[0], {"feature": "Nope", "between": [1, 2]}])
    assert response.json()["exclusions"] == {"1": {"feature": ["Unknown feature: 'Nope'."]}}


def test_a_saved_funnel_keeps_its_exclusions_and_precomputes_its_views(two, member_client):
    client = member_client(two[0], Membership.Role.ANALYST, "ana")
    created = client.post(
        "/api/v1/workspaces/acme/funnels/",
        {"name": "Leads", "steps": STEPS, **RANGE, "exclusions": EXCLUDE_DELETES},
        format="json",
    )
    assert created.status_code == 201, created.json()
    funnel_id = created.json()["id"]
    assert created.json()["exclusions"] == [{"feature": "Deals", "action": "delete", "detail": "", "between": [1, 2]}]
    base = f"/api/v1/workspaces/acme/funnels/{funnel_id}/results"
    assert client.get(base).json()["cached"] is False  # (the tests' transaction never commits: no task ran)
    stored = FunnelResult.objects.get(funnel_id=funnel_id).payload
    assert [s["count"] for s in stored["steps"]] == [3, 2, 1]
    assert stored["time_to_convert"]["units"] == 1 and stored["trends"]["interval"] == "week"
    convert = client.get(base + "?view=time_to_convert").json()
    assert (convert["cached"], convert["units"], convert["median_seconds"]) == (True, 1, 3720.0)
    weekly = client.get(base + "?view=trends").json()
    assert weekly["cached"] is True and [b["entered"] for b in weekly["buckets"]] == [3, 0]
    daily = client.get(base + "?view=trends&interval=day").json()  # not stored: computed now
    assert daily["cached"] is False and len(daily["buckets"]) == 14
    dropped = client.get(base + "?people=2:dropped").json()
    assert [r["unit"] for r in dropped["results"]] == ["u3"]
    assert client.get(base + "?people=1:dropped").status_code == 400
    # The other workspace does not have this funnel.
    assert (
        member_client(two[1], username="o")
        .get(f"/api/v1/workspaces/other/funnels/{funnel_id}/results?people=1:reached")
        .status_code
        == 404
    )
    # Changing the exclusions changes the signature: the stored result is recomputed.
    client.patch(f"/api/v1/workspaces/acme/funnels/{funnel_id}", {"exclusions": []}, format="json")
    again = client.get(base).json()
    assert again["cached"] is False and [s["count"] for s in again["steps"]] == [4, 3, 2]


def test_a_funnel_saved_before_exclusions_keeps_its_signature(two):
    funnel = Funnel.objects.create(workspace=two[0], name="old", steps=STEPS)
    assert "exclusions" not in funnel.definition()


@pytest.fixture
def browser_like(two) -> Client:
    user = get_user_model().objects.create_user(username="maria")
    Membership.objects.create(workspace=two[0], user=user, role=Membership.Role.ANALYST)
    client = Client()
    client.force_login(user)
    client.user = user  # type: ignore[attr-defined]
    return client


def test_the_funnel_page_shows_every_view_and_links_the_people(two, browser_like):
    funnel = Funnel.objects.create(
        workspace=two[0],
        owner=browser_like.user,
        name="Leads",
        steps=STEPS,
        range_start="2025-03-03",
        range_end="2025-03-16",
    )
    page = browser_like.get(f"/w/acme/funnels/{funnel.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    for text in ("Time to convert", "Conversion over time", "33.3%", "people=2%3Adropped", "people=3%3Areached"):
        assert text in html, text
    chart = browser_like.get(f"/w/acme/funnels/{funnel.pk}/chart.json?view=time_to_convert").json()
    assert sum(chart["datasets"][0]["data"]) == 2
    trends = browser_like.get(f"/w/acme/funnels/{funnel.pk}/chart.json?view=trends").json()
    assert trends["labels"] == ["2025-03-03", "2025-03-10"] and trends["datasets"][0]["data"] == [33.3, 100.0]
    other_range = browser_like.get(f"/w/acme/funnels/{funnel.pk}/?start=2025-03-10&end=2025-03-16&from_step=2")
    assert other_range.status_code == 200 and "from step 2 to step 3" in other_range.content.decode()


def test_people_page_lists_and_saves_them_as_a_static_filter_set(two, browser_like):
    funnel = Funnel.objects.create(
        workspace=two[0],
        owner=browser_like.user,
        name="Leads",
        steps=STEPS,
        range_start="2025-03-03",
        range_end="2025-03-16",
    )
    page = browser_like.get(f"/w/acme/funnels/{funnel.pk}/people?people=3:reached")
    html = page.content.decode()
    assert page.status_code == 200
    assert "/w/acme/users/u1/" in html and "/w/acme/users/u4/" in html and "/w/acme/users/u2/" not in html
    saved = browser_like.post(
        "/w/acme/users/filter-sets/from-users/",
        {"external_ids": "u1\nu4", "name": "Converted", "visibility": "private", "as_of": "2025-03-16", "days": "14"},
    )
    assert saved.status_code == 302
    filter_set = FilterSet.objects.get(name="Converted")
    assert filter_set.workspace == two[0]
    assert filter_set.conditions["users"] == {"external_id": ["u1", "u4"]}
    result = browser_like.get(saved["Location"])
    assert result.status_code == 200
    body = result.content.decode()
    assert "A fixed list of 2 users" in body and "/w/acme/users/u1/" in body and "/w/acme/users/u2/" not in body
    api = browser_like.get(f"/api/v1/workspaces/acme/filter-sets/{filter_set.pk}/results?as_of=2025-03-16&days=14")
    assert api.status_code == 200 and api.json()["matched"] == 2
    # Its builder, run with a sort, keeps the fixed list (read from the saved set, not the URL).
    sorted_page = browser_like.get(saved["Location"] + "?ordering=-external_id")
    assert "/w/acme/users/u2/" not in sorted_page.content.decode()
    # A step without people, a bad step: said, never a 500.
    assert browser_like.get(f"/w/acme/funnels/{funnel.pk}/people?people=9:reached").status_code == 400
    assert browser_like.get(f"/w/acme/funnels/{funnel.pk}/people").status_code == 302


def test_a_static_list_of_another_members_private_set_cannot_be_borrowed(two, browser_like):
    owner = get_user_model().objects.create_user(username="owner")
    Membership.objects.create(workspace=two[0], user=owner, role=Membership.Role.ADMIN)
    private = FilterSet.objects.create(
        workspace=two[0], owner=owner, name="secret", conditions={"users": {"external_id": ["u1"]}}
    )
    assert browser_like.get(f"/w/acme/users/filter-sets/new/?static_of={private.pk}").status_code == 404


def test_a_viewer_cannot_save_people_and_an_empty_list_is_refused(two, browser_like, member_client):
    viewer = get_user_model().objects.create_user(username="vic")
    Membership.objects.create(workspace=two[0], user=viewer, role=Membership.Role.VIEWER)
    client = Client()
    client.force_login(viewer)
    assert client.post("/w/acme/users/filter-sets/from-users/", {"external_ids": "u1", "name": "x"}).status_code == 403
    empty = browser_like.post("/w/acme/users/filter-sets/from-users/", {"external_ids": "", "name": "x"}, follow=True)
    assert "There are no users to save." in empty.content.decode()
    assert not FilterSet.objects.filter(name="x").exists()
    too_many = member_client(two[0], Membership.Role.ANALYST, "ana").post(
        "/api/v1/workspaces/acme/filter-sets/",
        {"name": "big", "conditions": {"users": {"external_id": [f"u{n}" for n in range(10_001)]}}},
        format="json",
    )
    assert too_many.status_code == 400 and "conditions" in too_many.json()


def builder_fields(**extra):
    data = {"name": "Clean leads", "unit": "user", "window_days": "14", "order": "ordered", **RANGE}
    data.update({"range_days": "30", "visibility": "private"})
    for n, step in enumerate(STEPS):
        data[f"steps-{n}-feature"], data[f"steps-{n}-action"] = step["feature"], step["action"]
    data.update(extra)
    return data


def test_the_builder_saves_exclusion_steps_and_any_order(two, browser_like):
    new = "/w/acme/funnels/new"
    page = browser_like.get(new).content.decode()
    assert 'name="exclusions-0-feature"' in page and "Any order" in page
    saved = browser_like.post(
        new,
        builder_fields(
            order="any",
            **{"exclusions-0-feature": "Deals", "exclusions-0-action": "delete"},
            **{"exclusions-0-from": "1", "exclusions-0-to": "2", "exclusions-1-feature": ""},
        ),
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    funnel = Funnel.objects.get(name="Clean leads")
    assert funnel.order == "any"
    assert funnel.exclusions == [{"feature": "Deals", "action": "delete", "detail": "", "between": [1, 2]}]
    detail = browser_like.get(saved["Location"]).content.decode()
    assert "Not Deals · delete between steps 1 and 2" in detail
    # Editing shows the saved exclusion in its row, and one blank row to fill in.
    edit = browser_like.get(f"/w/acme/funnels/{funnel.pk}/edit").content.decode()
    assert '<option value="delete" selected>' in edit and 'name="exclusions-1-feature"' in edit
    # Without JavaScript, "Add an exclusion" re-renders with one more row and saves nothing.
    more = browser_like.post(new, builder_fields(name="x", add_exclusion="1", **{"exclusions-0-feature": "Deals"}))
    assert more.status_code == 200 and 'name="exclusions-2-feature"' in more.content.decode()
    assert not Funnel.objects.filter(name="x").exists()


def test_the_builder_shows_an_exclusions_message_on_its_row(two, browser_like):
    response = browser_like.post(
        "/w/acme/funnels/new",
        builder_fields(
            **{
                "exclusions-0-feature": "Leads",
                "exclusions-0-action": "view",
                "exclusions-0-from": "2",
                "exclusions-0-to": "3",
            }
        ),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "This exclusion matches every event of step 2" in html
    preview = browser_like.post(
        "/w/acme/funnels/preview.json",
        builder_fields(
            **{
                "exclusions-0-feature": "Deals",
                "exclusions-0-action": "delete",
                "exclusions-0-from": "3",
                "exclusions-0-to": "2",
            }
        ),
    )
    assert preview.status_code == 400 and "exclusions-0-between" in preview.json()["errors"]


@pytest.mark.parametrize(
    "body",
    [
        {"exclusions": EXCLUDE_DELETES},
        {"exclusions": EXCLUDE_DELETES, "view": "time_to_convert"},
        {"view": "trends", "interval": "day"},
        {"view": "trends", "exclusions": [{**EXCLUDE_DELETES[0], "between": [1, 3]}]},
        {"exclusions": EXCLUDE_DELETES, "people": {"step": 1}},
    ],
)
def test_exclusions_and_trends_walk_every_attempt_in_sql_as_in_python(two, member_client, monkeypatch, body):
    """An ordered funnel of disjoint steps with exclusions, or grouped by start time, is walked by the
    SQL statement returning every attempt; its answer is the Python walk's."""
    from funnels import engines

    client = member_client(two[0])
    calls = []
    original = engines.sql_walk_attempt_bests
    monkeypatch.setattr(engines, "sql_walk_attempt_bests", lambda **kw: calls.append(1) or original(**kw))
    monkeypatch.setattr(engines, "SQL_WALK", True)
    in_sql = query(client, **body).json()
    assert calls == [1]
    monkeypatch.setattr(engines, "SQL_WALK", False)
    in_python = query(client, **body).json()
    assert calls == [1]
    for answer in (in_sql, in_python):
        answer.pop("computed_at", None)
    assert in_sql == in_python


@pytest.mark.parametrize(
    "body",
    [
        {"order": "any"},
        {"order": "any", "steps": list(reversed(STEPS)), "view": "time_to_convert"},
        {"order": "any", "exclusions": EXCLUDE_DELETES},
        {"order": "any", "view": "trends"},
        {"order": "any", "people": {"step": 3, "status": "reached"}},
    ],
)
def test_any_order_of_disjoint_steps_walks_in_sql_as_in_python(two, member_client, monkeypatch, body):
    from funnels import engines

    client = member_client(two[0])
    calls = []
    original = engines.sql_any_order_bests
    monkeypatch.setattr(engines, "sql_any_order_bests", lambda **kw: calls.append(1) or original(**kw))
    monkeypatch.setattr(engines, "SQL_WALK", True)
    in_sql = query(client, **body).json()
    monkeypatch.setattr(engines, "SQL_WALK", False)
    in_python = query(client, **body).json()
    assert calls == [1]
    for answer in (in_sql, in_python):
        answer.pop("computed_at", None)
    assert in_sql == in_python


def test_a_funnel_page_over_another_range_walks_each_view_once(two, browser_like, monkeypatch):
    from funnels import selectors, services

    funnel = Funnel.objects.create(workspace=two[0], owner=browser_like.user, name="Leads", steps=STEPS)
    calls = []
    for name in ("funnel_compute", "funnel_time_to_convert", "funnel_trends"):
        original = getattr(selectors, name)
        monkeypatch.setattr(services, name, lambda q, _f=original, _n=name: calls.append(_n) or _f(q))
    page = browser_like.get(f"/w/acme/funnels/{funnel.pk}/?start=2025-03-03&end=2025-03-16")
    assert page.status_code == 200 and "33.3%" in page.content.decode()
    assert sorted(calls) == ["funnel_compute", "funnel_time_to_convert", "funnel_trends"]


def test_a_static_list_is_never_borrowed_across_workspaces(two, browser_like):
    """A member of both workspaces names, on one workspace's builder, a set saved in the other."""
    Membership.objects.create(workspace=two[1], user=browser_like.user, role=Membership.Role.ANALYST)
    theirs = FilterSet.objects.create(
        workspace=two[1], owner=browser_like.user, name="other's", conditions={"users": {"external_id": ["u1"]}}
    )
    assert browser_like.get(f"/w/acme/users/filter-sets/new/?static_of={theirs.pk}").status_code == 404
    assert browser_like.get(f"/w/other/users/filter-sets/new/?static_of={theirs.pk}").status_code == 200
    assert browser_like.get(f"/w/acme/users/filter-sets/{theirs.pk}/").status_code == 404
