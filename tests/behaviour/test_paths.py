"""Paths (docs/metrics.md#paths): a hand-checked set of sessions — repeats collapsed, a session that
started before the period left out, start and end points, exclusions, steps, feature·action nodes,
the edge limit — through the selector and the API; bad parameters; two workspaces. Both backends."""

from __future__ import annotations

from datetime import date

import pytest

from behaviour.queries import PathsQuery
from behaviour.selectors import paths
from events.periods import period_between
from tests.conftest import journeys

pytestmark = pytest.mark.django_db

URL = "/api/v1/workspaces/pa/behaviour/paths"
DAY = {"start": "2025-03-10", "end": "2025-03-10"}


@pytest.fixture
def ws(make_workspace):
    workspace, _ = make_workspace("pa", tz="UTC", timeout=15)
    journeys(
        workspace,
        [
            # A: Home, Leads ×3, Deals
            ("u1", "2025-03-10T09:00:00Z", "Home", "login"),
            ("u1", "2025-03-10T09:01:00Z", "Leads", "view"),
            ("u1", "2025-03-10T09:02:00Z", "Leads", "view"),
            ("u1", "2025-03-10T09:03:00Z", "Leads", "create"),
            ("u1", "2025-03-10T09:10:00Z", "Deals", "view"),
            # B, two hours later: Leads, Reports
            ("u1", "2025-03-10T11:00:00Z", "Leads", "view"),
            ("u1", "2025-03-10T11:05:00Z", "Reports", "view"),
            # C: Home, Deals, Leads, Deals
            ("u2", "2025-03-10T09:00:00Z", "Home", "login"),
            ("u2", "2025-03-10T09:05:00Z", "Deals", "view"),
            ("u2", "2025-03-10T09:10:00Z", "Leads", "view"),
            ("u2", "2025-03-10T09:20:00Z", "Deals", "edit"),
            # D started the day before: not counted, although it goes on into the period
            ("u3", "2025-03-09T23:55:00Z", "Tasks", "view"),
            ("u3", "2025-03-10T00:05:00Z", "Tasks", "edit"),
            # E: one event
            ("u3", "2025-03-10T14:00:00Z", "Home", "login"),
        ],
    )
    other, _ = make_workspace("other")
    journeys(other, [("u1", "2025-03-10T09:00:00Z", "Home", "login"), ("u1", "2025-03-10T09:01:00Z", "Tasks", "view")])
    return workspace


def run(ws, **values) -> tuple:
    report = paths(PathsQuery.over(ws, period_between(date(2025, 3, 10), date(2025, 3, 10), ws.tzinfo), **values))
    nodes = [(n.step, n.node, n.sessions, n.dropoff) for n in report.nodes]
    edges = [(e.step, e.source, e.target, e.sessions) for e in report.edges]
    return report.sessions, nodes, edges


def test_paths_by_hand(ws) -> None:
    sessions, nodes, edges = run(ws)
    assert sessions == 4  # A, B, C, E
    assert nodes == [
        (1, "Home", 3, 1), (1, "Leads", 1, 0),
        (2, "Deals", 1, 0), (2, "Leads", 1, 0), (2, "Reports", 1, 1),
        (3, "Deals", 1, 1), (3, "Leads", 1, 0),
        (4, "Deals", 1, 1),
    ]  # fmt: skip
    assert edges == [
        (1, "Home", "Deals", 1), (1, "Home", "Leads", 1), (1, "Leads", "Reports", 1),
        (2, "Deals", "Leads", 1), (2, "Leads", "Deals", 1), (3, "Leads", "Deals", 1),
    ]  # fmt: skip


def test_start_and_end_points_exclusions_steps_and_limit(ws) -> None:
    sessions, _nodes, edges = run(ws, start_point="Leads")
    assert (sessions, edges) == (3, [(1, "Leads", "Deals", 2), (1, "Leads", "Reports", 1)])
    sessions, _nodes, edges = run(ws, end_point="Deals")  # B and E never reach Deals
    assert (sessions, edges) == (2, [(1, "Home", "Deals", 1), (1, "Home", "Leads", 1), (2, "Leads", "Deals", 1)])
    sessions, _nodes, edges = run(ws, start_point="Leads", end_point="Deals")
    assert (sessions, edges) == (2, [(1, "Leads", "Deals", 2)])
    sessions, nodes, _edges = run(ws, exclude=["Home"])  # E has nothing left
    assert sessions == 3 and nodes[:2] == [(1, "Leads", 2, 0), (1, "Deals", 1, 0)]
    _sessions, nodes, _edges = run(ws, steps=2)
    assert max(step for step, *_ in nodes) == 2
    assert len(run(ws, limit=2)[2]) == 2
    _sessions, nodes, _edges = run(ws, node="feature_action")
    assert [node for step, node, *_ in nodes if step <= 2] == [
        "Home/login",
        "Leads/view",
        "Deals/view",
        "Leads/view",
        "Reports/view",
    ]


def test_the_api(ws, member_client) -> None:
    client = member_client(ws)
    answer = client.get(URL, {**DAY, "start_point": "Leads"}).json()
    assert answer == {
        "sessions": 3,
        "nodes": [{"step": 1, "node": "Leads", "sessions": 3, "dropoff": 0},
                  {"step": 2, "node": "Deals", "sessions": 2, "dropoff": 2},
                  {"step": 2, "node": "Reports", "sessions": 1, "dropoff": 1}],
        "edges": [{"step": 1, "source": "Leads", "target": "Deals", "sessions": 2},
                  {"step": 1, "source": "Leads", "target": "Reports", "sessions": 1}],
    }  # fmt: skip
    csv_text = client.get(URL, {**DAY, "start_point": "Leads", "format": "csv"}).content.decode()
    assert csv_text.splitlines()[:2] == ["step,source,target,sessions", "1,Leads,Deals,2"]
    for params, field in (
        ({"steps": 11}, "steps"), ({"steps": 1}, "steps"), ({"node": "record"}, "node"),
        ({"start_point": "Nope"}, "start_point"), ({"node": "feature_action", "end_point": "Leads"}, "end_point"),
        ({"exclude": "Leads/fly"}, "exclude"), ({"limit": 0}, "limit"),
    ):  # fmt: skip
        response = client.get(URL, {**DAY, **params})
        assert response.status_code == 400 and field in response.json(), (params, response.json())
    assert member_client(None, username="stranger").get(URL).status_code == 404
    other = client.get("/api/v1/workspaces/other/behaviour/paths", DAY)
    assert other.status_code == 404  # not a member of it


def test_the_page_and_its_sankey(ws) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from tenancy.models import Membership

    user = get_user_model().objects.create_user("ana")
    Membership.objects.create(workspace=ws, user=user, role=Membership.Role.VIEWER)
    client = Client()
    client.force_login(user)
    page = client.get("/w/pa/behaviour/paths/", {**DAY, "start_point": "Leads"})
    assert page.status_code == 200 and page.context["report"].sessions == 3
    chart = client.get("/w/pa/charts/paths.json", {**DAY, "start_point": "Leads"}).json()
    dataset = chart["datasets"][0]
    assert dataset["data"] == [
        {"from": "1. Leads", "to": "2. Deals", "flow": 2},
        {"from": "1. Leads", "to": "2. Reports", "flow": 1},
    ]
    assert dataset["labels"]["2. Deals"] == "Deals" and dataset["column"] == {
        "1. Leads": 0,
        "2. Deals": 1,
        "2. Reports": 1,
    }
    assert client.get("/w/pa/behaviour/paths/", {"steps": 20}).status_code == 400
    assert client.get("/w/pa/charts/paths.json", {"node": "x"}).json()["errors"]["node"]


def test_the_users_behind_a_node_or_an_edge(ws, member_client) -> None:
    client = member_client(ws)
    url = "/api/v1/workspaces/pa/behaviour/paths/users"
    home = client.get(url, {**DAY, "at_step": 1, "at_node": "Home"}).json()["users"]
    assert [(u["external_id"], u["sessions"]) for u in home] == [("u1", 1), ("u2", 1), ("u3", 1)]
    edge = client.get(url, {**DAY, "at_step": 2, "at_node": "Leads", "to_node": "Deals"}).json()["users"]
    assert [u["external_id"] for u in edge] == ["u1"]  # A: Home, Leads, Deals
    from_leads = client.get(url, {**DAY, "start_point": "Leads", "at_step": 1, "at_node": "Leads", "to_node": "Deals"})
    assert [(u["external_id"], u["sessions"]) for u in from_leads.json()["users"]] == [("u1", 1), ("u2", 1)]
    assert client.get(url, DAY).status_code == 400  # at_step and at_node are required
    response = client.get(url, {**DAY, "at_step": 11, "at_node": "Home"})
    assert response.status_code == 400 and "at_step" in response.json()


def test_the_page_lists_the_users_of_a_clicked_flow(ws) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from tenancy.models import Membership

    user = get_user_model().objects.create_user("ana")
    Membership.objects.create(workspace=ws, user=user, role=Membership.Role.VIEWER)
    client = Client()
    client.force_login(user)
    page = client.get("/w/pa/behaviour/paths/", {**DAY, "at_step": 1, "at_node": "Home", "to_node": "Deals"})
    assert [u.external_id for u, _url in page.context["drill_users"]] == ["u2"]
    assert "/w/pa/users/u2/" in page.context["drill_users"][0][1]
    assert "at_step" not in page.context["drill_base"]
    bad = client.get("/w/pa/behaviour/paths/", {**DAY, "at_step": "x", "at_node": "Home"})
    assert bad.status_code == 200 and bad.context["drill_errors"]


def reference_paths(workspace, first, last, *, node="feature", start_point="", end_point="", steps=5, exclude=()):
    """Sessions cut here from the raw events by the session rule (docs/metrics.md#the-session-rule),
    then shaped and counted as docs/metrics.md#paths says."""
    from collections import Counter
    from datetime import timedelta

    from events.models import Event

    tz, timeout = workspace.tzinfo, timedelta(minutes=workspace.session_timeout_minutes)
    sessions, current, last_user, last_at, after_logout = [], None, None, None, False
    for e in (
        Event.objects.filter(workspace=workspace).select_related("feature").order_by("crm_user_id", "occurred_at", "id")
    ):
        if e.crm_user_id != last_user or e.occurred_at - last_at > timeout or after_logout:
            current = {"start": e.occurred_at, "nodes": []}
            sessions.append(current)
        current["nodes"].append(f"{e.feature.key}/{e.action}" if node == "feature_action" else e.feature.key)
        last_user, last_at, after_logout = e.crm_user_id, e.occurred_at, e.action == "logout"
    counted, node_counts, drops, edges = 0, Counter(), Counter(), Counter()
    for session in sessions:
        if not first <= session["start"].astimezone(tz).date() <= last:
            continue
        path = []
        for n in session["nodes"]:
            if any(n == x or n.startswith(x + "/") for x in exclude) or (path and path[-1] == n):
                continue
            path.append(n)
        if start_point:
            if start_point not in path:
                continue
            path = path[path.index(start_point) :]
        if end_point:
            begin = 1 if start_point else 0
            if end_point not in path[begin:]:
                continue
            path = path[: path.index(end_point, begin) + 1]
        path = path[:steps]
        if not path:
            continue
        counted += 1
        for i, n in enumerate(path, start=1):
            node_counts[(i, n)] += 1
            if i < len(path):
                edges[(i, n, path[i])] += 1
        drops[(len(path), path[-1])] += 1
    return counted, {k: (v, drops[k]) for k, v in node_counts.items()}, dict(edges)


@pytest.mark.parametrize("seed", [1, 2])
def test_random_sessions_equal_a_recomputation_from_the_raw_events(make_workspace, seed: int) -> None:
    import random
    from datetime import datetime, timedelta

    rng = random.Random(seed)
    workspace, _ = make_workspace("pa", tz="America/New_York", timeout=10)
    events = []
    for _ in range(600):
        moment = datetime(2025, 10, 30, 12) + timedelta(minutes=rng.randrange(7 * 24 * 60))  # across Nov 2
        action = rng.choice(["view", "view", "edit", "logout"])
        events.append(
            (
                f"u{rng.randrange(6)}",
                moment.isoformat() + "-04:00",
                rng.choice(["Home", "Leads", "Deals", "Tasks"]),
                action,
            )
        )
    journeys(workspace, events)
    first, last = date(2025, 10, 31), date(2025, 11, 4)
    cases = [
        {}, {"node": "feature_action"}, {"start_point": "Leads"}, {"end_point": "Deals"},
        {"start_point": "Home", "end_point": "Tasks", "steps": 3}, {"exclude": ["Home"], "steps": 2},
        {"node": "feature_action", "exclude": ["Leads"], "start_point": "Deals/view"},
    ]  # fmt: skip
    for case in cases:
        query = PathsQuery.over(workspace, period_between(first, last, workspace.tzinfo), limit=500, **case)
        report = paths(query)
        counted, nodes, edges = reference_paths(workspace, first, last, **case)
        assert report.sessions == counted, case
        assert {(n.step, n.node): (n.sessions, n.dropoff) for n in report.nodes} == nodes, case
        assert {(e.step, e.source, e.target): e.sessions for e in report.edges} == edges, case
    assert counted  # the data has paths
