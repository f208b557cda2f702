"""The funnel computation agrees with a brute-force reference (tests/funnels/reference.py) on
randomized data: seeded random events in a UTC+8 workspace, with many same-instant events, steps
that overlap (a step without detail and one with; the same step twice), records touched by several
users, events around the range edges and the window's end, user filters and breakdowns.

Ordered funnels whose steps no event can match twice walk their windows in SQL
(``funnels.engines.sql_walk_bests``), and so do strict funnels on PostgreSQL
(``strict_sql_bests``); every comparison runs on both paths."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from events.models import Event
from events.periods import Period
from funnels import engines
from funnels.definition import FunnelSpec, Step
from funnels.queries import FunnelQuery
from funnels.selectors import funnel_compute
from tests.conftest import crm_users, journeys
from tests.funnels.reference import reference_funnel

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
START, END = date(2025, 3, 3), date(2025, 3, 5)
EVENT_TYPES = [
    ("Leads", "create", "form"),
    ("Leads", "create", "quick_create"),
    ("Leads", "view", "detail_view"),
    ("Leads", "view", "list_view"),
    ("Leads", "convert", ""),
    ("Deals", "create", ""),
    ("Deals", "view", "kanban_view"),
]
STEP_POOL = [
    {"feature": "Leads", "action": "create", "detail": ""},
    {"feature": "Leads", "action": "create", "detail": "form"},
    {"feature": "Leads", "action": "view", "detail": ""},
    {"feature": "Leads", "action": "view", "detail": "detail_view"},
    {"feature": "Leads", "action": "convert", "detail": ""},
    {"feature": "Deals", "action": "create", "detail": ""},
    {"feature": "Deals", "action": "view", "detail": ""},
]


def random_workspace(make_workspace, rng: random.Random):
    workspace = make_workspace(tz="Asia/Shanghai")[0]
    users = [f"u{n}" for n in range(7)]
    crm_users(
        workspace,
        [
            {"external_id": u, "country": rng.choice(["CN", "IN", ""]), "status": rng.choice(["active", "inactive"])}
            for u in users
        ],
    )
    # A handful of instants shared by many events, so equal timestamps are common.
    anchor = datetime(2025, 3, 3, 0, 0, tzinfo=TZ) - timedelta(hours=12)
    instants = [anchor + timedelta(hours=rng.uniform(0, 24 * 6)) for _ in range(10)]
    instants = [i.replace(microsecond=0) for i in instants]
    # Exactly one and two days later (the end of a 1- or 2-day window), and the range's edges.
    instants += [i + timedelta(days=d) for i in instants[:4] for d in (1, 2)]
    instants += [datetime(2025, 3, 3, tzinfo=TZ), datetime(2025, 3, 6, tzinfo=TZ)]
    events = []
    for user in users:
        for _ in range(rng.randint(3, 22)):
            feature, action, detail = rng.choice(EVENT_TYPES)
            if rng.random() < 0.45:
                moment = rng.choice(instants)
            else:
                moment = (anchor + timedelta(minutes=rng.randint(0, 60 * 24 * 6))).replace(second=0)
            record = rng.choice(["", "R1", "R2", "R3", "R4"]) if rng.random() < 0.8 else ""
            events.append((user, moment.isoformat(), feature, action, detail, record))
    rng.shuffle(events)  # arrival order (the tie-break within an instant) is not time order
    journeys(workspace, events, refresh=False)
    return workspace


def random_specs(rng: random.Random) -> list[dict]:
    specs = []
    for _ in range(6):
        n = rng.randint(2, 4)
        steps = [dict(rng.choice(STEP_POOL)) for _ in range(n)]
        if rng.random() < 0.3:  # the same step twice in a row
            steps[1] = dict(steps[0])
        specs.append(
            {
                "steps": steps,
                "unit": rng.choice(["user", "record"]),
                "window_days": rng.choice([1, 1, 2, 3]),
                "order": rng.choice(["ordered", "ordered", "strict"]),
                "breakdown": rng.choice(["", "country", "status"]),
                "filters": rng.choice([None, None, {"status": ["active"]}]),
            }
        )
    return specs


def disjoint_specs(rng: random.Random) -> list[dict]:
    """Specs the SQL walk takes: ordered, no event can match two steps (drawn from the same pool)."""
    specs: list[dict] = []
    while len(specs) < 6:
        spec = random_specs(rng)[0]
        spec["order"] = "ordered"
        if engines.steps_disjoint(_spec(spec)):
            specs.append(spec)
    return specs


def _spec(spec: dict) -> FunnelSpec:
    return FunnelSpec(
        steps=tuple(Step(**s) for s in spec["steps"]),
        unit=spec["unit"],
        window_days=spec["window_days"],
        order=spec["order"],
        breakdown=spec["breakdown"],
    )


@pytest.fixture(params=[True, False], ids=["sql-walk", "python-walk"])
def sql_walk(request, monkeypatch):
    monkeypatch.setattr(engines, "SQL_WALK", request.param)
    return request.param


@pytest.mark.parametrize("seed", range(12))
def test_agrees_with_the_reference(make_workspace, seed, sql_walk):
    rng = random.Random(seed)
    workspace = random_workspace(make_workspace, rng)
    period = Period(START, END, workspace.tzinfo)
    converted = 0
    for spec in random_specs(rng):
        expected = reference_funnel(workspace=workspace, start=START, end=END, **spec)
        got = funnel_compute(
            FunnelQuery.over(
                workspace,
                period,
                spec["filters"],
                definition=FunnelSpec(
                    steps=tuple(Step(**s) for s in spec["steps"]),
                    unit=spec["unit"],
                    window_days=spec["window_days"],
                    order=spec["order"],
                    breakdown=spec["breakdown"],
                ),
            )
        )
        assert got.as_dict() == expected, spec
        converted += got.steps[1].count
    assert converted  # not a comparison of empty funnels


@pytest.mark.parametrize("seed", range(12))
def test_the_sql_walk_agrees_with_the_reference(make_workspace, seed, monkeypatch):
    """Only specs the SQL walk takes; it must have run, and agree with the reference and with the
    Python walk."""
    rng = random.Random(1000 + seed)
    workspace = random_workspace(make_workspace, rng)
    period = Period(START, END, workspace.tzinfo)
    walks = []
    original = engines.sql_walk_bests
    monkeypatch.setattr(engines, "sql_walk_bests", lambda **kw: walks.append(1) or original(**kw))
    converted = 0
    for spec in disjoint_specs(rng):
        expected = reference_funnel(workspace=workspace, start=START, end=END, **spec)
        query = FunnelQuery.over(workspace, period, spec["filters"], definition=_spec(spec))
        monkeypatch.setattr(engines, "SQL_WALK", True)
        got = funnel_compute(query)
        assert got.as_dict() == expected, spec
        monkeypatch.setattr(engines, "SQL_WALK", False)
        assert funnel_compute(query).as_dict() == expected, spec
        converted += got.steps[-1].count
    assert len(walks) == 6
    assert converted


def test_random_data_exercises_the_tricky_cases(make_workspace):
    """Guard against a generator that stops producing what the comparison is for."""
    rng = random.Random(3)
    workspace = random_workspace(make_workspace, rng)
    times = list(Event.objects.filter(workspace=workspace).values_list("occurred_at", flat=True))
    assert len(times) - len(set(times)) >= 10  # many same-instant events
    records = Event.objects.filter(workspace=workspace).exclude(record_id="")
    multi_user = [
        r
        for r in {e.record_id for e in records}
        if records.filter(record_id=r).values("crm_user").distinct().count() > 1
    ]
    assert multi_user  # records touched by several users


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the strict walk in SQL needs PostgreSQL")
@pytest.mark.parametrize("seed", range(12))
def test_the_strict_sql_walk_agrees_with_the_reference(make_workspace, seed, monkeypatch):
    """Strict funnels (overlapping steps too), walked by the PostgreSQL statement, against the
    reference and the Python walk."""
    rng = random.Random(2000 + seed)
    workspace = random_workspace(make_workspace, rng)
    period = Period(START, END, workspace.tzinfo)
    walks = []
    original = engines.strict_sql_bests
    monkeypatch.setattr(engines, "strict_sql_bests", lambda **kw: walks.append(1) or original(**kw))
    converted = 0
    specs = random_specs(rng)
    for spec in specs:
        spec["order"] = "strict"
        expected = reference_funnel(workspace=workspace, start=START, end=END, **spec)
        query = FunnelQuery.over(workspace, period, spec["filters"], definition=_spec(spec))
        monkeypatch.setattr(engines, "SQL_WALK", True)
        got = funnel_compute(query)
        assert got.as_dict() == expected, spec
        monkeypatch.setattr(engines, "SQL_WALK", False)
        assert funnel_compute(query).as_dict() == expected, spec
        converted += got.steps[1].count
    assert len(walks) == len(specs)
    assert converted
