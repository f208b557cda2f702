"""The funnel computation on hand-made journeys: the tricky cases of docs/metrics.md#funnels, exact numbers."""

from __future__ import annotations

from datetime import date

import pytest

from events.periods import Period
from funnels.definition import FunnelSpec, Step
from funnels.queries import FunnelQuery
from funnels.selectors import FunnelData, funnel_compute, pct
from tests.conftest import crm_users, journeys

pytestmark = pytest.mark.django_db

CREATE = Step("Leads", "create")
VIEW = Step("Leads", "view", "detail_view")
CONVERT = Step("Leads", "convert")
LEAD_STEPS = (CREATE, VIEW, CONVERT)


def run(workspace, steps=LEAD_STEPS, start="2025-03-03", end="2025-03-09", filters=None, **options) -> FunnelData:
    period = Period(date.fromisoformat(start), date.fromisoformat(end), workspace.tzinfo)
    spec = FunnelSpec(steps=tuple(steps), **options)
    return funnel_compute(FunnelQuery.over(workspace, period, filters, definition=spec))


def counts(data: FunnelData) -> list[int]:
    return [s.count for s in data.steps]


def medians(data: FunnelData) -> list[float | None]:
    return [s.median_seconds_from_previous for s in data.steps]


def test_a_stalled_attempt_then_a_complete_one(workspace):
    journeys(
        workspace,
        [
            # first attempt: create, view, then nothing within the day
            ("ann", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("ann", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view"),
            # second attempt, two days later: complete
            ("ann", "2025-03-05T09:00:00+00:00", "Leads", "create"),
            ("ann", "2025-03-05T10:00:00+00:00", "Leads", "view", "detail_view"),
            ("ann", "2025-03-05T12:00:00+00:00", "Leads", "convert"),
        ],
    )
    data = run(workspace, window_days=1)
    assert counts(data) == [1, 1, 1]
    # The times are those of the attempt that reached the level (the second), not of the first.
    assert medians(data) == [None, 3600.0, 7200.0]
    # With a 3-day window the first attempt completes too, and is the earlier one.
    assert medians(run(workspace, window_days=3)) == [None, 600.0, 2 * 86400 + 3 * 3600 - 600.0]


def test_steps_out_of_order_do_not_count(workspace):
    journeys(
        workspace,
        [
            ("bob", "2025-03-03T08:00:00+00:00", "Leads", "view", "detail_view"),
            ("bob", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("bob", "2025-03-03T10:00:00+00:00", "Leads", "convert"),
            ("bob", "2025-03-03T11:00:00+00:00", "Leads", "view", "detail_view"),
        ],
    )
    # The view before the create does not count; the convert before the second view does not either.
    assert counts(run(workspace)) == [1, 1, 0]


def test_the_window_is_inclusive_and_a_step_after_it_does_not_count(workspace):
    journeys(
        workspace,
        [
            ("cat", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("cat", "2025-03-03T09:30:00+00:00", "Leads", "view", "detail_view"),
            ("cat", "2025-03-04T09:00:01+00:00", "Leads", "convert"),  # one second after the deadline
            ("dan", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("dan", "2025-03-03T09:30:00+00:00", "Leads", "view", "detail_view"),
            ("dan", "2025-03-04T09:00:00+00:00", "Leads", "convert"),  # exactly at the deadline
        ],
    )
    data = run(workspace, window_days=1)
    assert counts(data) == [2, 2, 1]
    assert medians(data) == [None, 1800.0, 84600.0]


def test_a_conversion_after_the_range_end_inside_the_window_counts(workspace):
    journeys(
        workspace,
        [
            ("eve", "2025-03-03T23:00:00+00:00", "Leads", "create"),  # last hour of the range
            ("eve", "2025-03-04T01:00:00+00:00", "Leads", "view", "detail_view"),  # after the range
            ("eve", "2025-03-05T08:00:00+00:00", "Leads", "convert"),
            ("fay", "2025-03-04T00:00:00+00:00", "Leads", "create"),  # after the range: never enters
            ("fay", "2025-03-04T00:10:00+00:00", "Leads", "view", "detail_view"),
            ("gus", "2025-03-02T23:59:59+00:00", "Leads", "create"),  # before the range
            ("gus", "2025-03-03T00:00:00+00:00", "Leads", "view", "detail_view"),
        ],
    )
    data = run(workspace, start="2025-03-03", end="2025-03-03", window_days=14)
    assert counts(data) == [1, 1, 1]
    assert medians(data) == [None, 7200.0, 31 * 3600.0]


def test_the_range_is_in_local_days_of_the_workspace(make_workspace):
    shanghai = make_workspace("sh", tz="Asia/Shanghai")[0]
    journeys(
        shanghai,
        [
            ("ivy", "2025-03-02T16:30:00+00:00", "Leads", "create"),  # Mar 3 00:30 in Shanghai: inside
            ("ivy", "2025-03-02T17:00:00+00:00", "Leads", "view", "detail_view"),
            ("jon", "2025-03-03T16:30:00+00:00", "Leads", "create"),  # Mar 4 00:30 in Shanghai: outside
        ],
    )
    assert counts(run(shanghai, start="2025-03-03", end="2025-03-03")) == [1, 1, 0]


def test_one_event_satisfies_at_most_one_step(workspace):
    twice = (Step("Leads", "view"), Step("Leads", "view"))
    journeys(
        workspace,
        [
            ("kim", "2025-03-03T09:00:00+00:00", "Leads", "view", "list_view"),  # one view: step 1 only
            ("lee", "2025-03-03T09:00:00+00:00", "Leads", "view", "list_view"),
            ("lee", "2025-03-03T09:00:00+00:00", "Leads", "view", "detail_view"),  # same instant: step 2
            ("max", "2025-03-03T09:00:00+00:00", "Leads", "view", "list_view"),
            ("max", "2025-03-03T09:05:00+00:00", "Leads", "view", "list_view"),
        ],
    )
    data = run(workspace, steps=twice)
    assert counts(data) == [3, 2]
    assert medians(data) == [None, 150.0]  # lee 0 s, max 300 s


def test_equal_timestamps_are_at_or_after(workspace):
    journeys(
        workspace,
        [
            # view and convert arrive before the create but at the same instant: they count
            ("ned", "2025-03-03T09:00:00+00:00", "Leads", "convert"),
            ("ned", "2025-03-03T09:00:00+00:00", "Leads", "view", "detail_view"),
            ("ned", "2025-03-03T09:00:00+00:00", "Leads", "create"),
        ],
    )
    data = run(workspace)
    assert counts(data) == [1, 1, 1]
    assert medians(data) == [None, 0.0, 0.0]


def test_same_instant_events_are_matched_to_reach_the_furthest_step(workspace):
    """An event at one instant that matches two steps goes where it lets the funnel go furthest."""
    steps = (Step("Leads", "create"), Step("Leads", "view"), Step("Leads", "view", "detail_view"))
    journeys(
        workspace,
        [
            ("oli", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            # the detail view (steps 2 and 3) arrives first, the list view (step 2 only) second
            ("oli", "2025-03-03T09:01:00+00:00", "Leads", "view", "detail_view"),
            ("oli", "2025-03-03T09:01:00+00:00", "Leads", "view", "list_view"),
        ],
    )
    assert counts(run(workspace, steps=steps)) == [1, 1, 1]


def test_record_unit_follows_one_record_across_users(workspace):
    journeys(
        workspace,
        [
            ("amy", "2025-03-03T09:00:00+00:00", "Leads", "create", "", "LD-1"),
            ("ben", "2025-03-03T11:00:00+00:00", "Leads", "view", "detail_view", "LD-1"),
            ("cal", "2025-03-04T09:00:00+00:00", "Leads", "convert", "", "LD-1"),
            ("amy", "2025-03-03T10:00:00+00:00", "Leads", "create", "", "LD-2"),
            ("amy", "2025-03-03T10:30:00+00:00", "Leads", "view", "detail_view", "LD-3"),  # another record
            ("amy", "2025-03-03T10:45:00+00:00", "Leads", "view", "detail_view"),  # no record: ignored
        ],
    )
    records = run(workspace, unit="record")
    assert counts(records) == [2, 1, 1]
    assert medians(records) == [None, 7200.0, 79200.0]
    assert [s.conversion_pct for s in records.steps] == [100.0, 50.0, 50.0]
    # Per user, nobody went through the whole process alone.
    assert counts(run(workspace, unit="user")) == [1, 1, 0]


def test_exact_percentages_and_medians(workspace):
    journeys(
        workspace,
        [
            ("u1", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("u1", "2025-03-03T09:01:00+00:00", "Leads", "view", "detail_view"),
            ("u1", "2025-03-03T09:11:00+00:00", "Leads", "convert"),
            ("u2", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("u2", "2025-03-03T09:03:00+00:00", "Leads", "view", "detail_view"),
            ("u3", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("u3", "2025-03-03T09:06:00+00:00", "Leads", "view", "detail_view"),
            ("u4", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("u5", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("u6", "2025-03-03T09:00:00+00:00", "Leads", "create"),
        ],
    )
    data = run(workspace)
    assert data.as_dict()["steps"] == [
        {
            "step": 1,
            "label": "Leads · create",
            "count": 6,
            "conversion_pct": 100.0,
            "dropoff_pct": 0.0,
            "median_seconds_from_previous": None,
        },
        {
            "step": 2,
            "label": "Leads · view · detail_view",
            "count": 3,
            "conversion_pct": 50.0,
            "dropoff_pct": 50.0,
            "median_seconds_from_previous": 180.0,
        },
        {
            "step": 3,
            "label": "Leads · convert",
            "count": 1,
            "conversion_pct": 16.7,
            "dropoff_pct": 66.7,
            "median_seconds_from_previous": 600.0,
        },
    ]
    assert data.completion_pct == 16.7


def test_nobody_entered_gives_nulls_not_errors(workspace):
    journeys(workspace, [("u1", "2025-03-03T09:00:00+00:00", "Leads", "view", "detail_view")])
    data = run(workspace)
    assert [(s.count, s.conversion_pct, s.dropoff_pct, s.median_seconds_from_previous) for s in data.steps] == [
        (0, None, 0.0, None),
        (0, None, None, None),
        (0, None, None, None),
    ]
    assert pct(1, 3) == 33.3 and pct(2, 3) == 66.7 and pct(1, 0) is None


def test_breakdown_by_a_user_attribute(workspace):
    crm_users(
        workspace,
        [
            {"external_id": "cn1", "country": "CN"},
            {"external_id": "cn2", "country": "CN"},
            {"external_id": "in1", "country": "IN"},
            {"external_id": "nob"},
        ],
    )
    journeys(
        workspace,
        [
            ("cn1", "2025-03-03T09:00:00+00:00", "Leads", "create", "", "LD-1"),
            ("cn1", "2025-03-03T09:05:00+00:00", "Leads", "view", "detail_view", "LD-1"),
            ("cn2", "2025-03-03T09:00:00+00:00", "Leads", "create", "", "LD-2"),
            ("in1", "2025-03-03T09:00:00+00:00", "Leads", "create", "", "LD-3"),
            ("cn1", "2025-03-03T10:00:00+00:00", "Leads", "view", "detail_view", "LD-3"),  # a CN user helps
            ("cn1", "2025-03-03T11:00:00+00:00", "Leads", "convert", "", "LD-3"),
            ("nob", "2025-03-03T09:00:00+00:00", "Leads", "create", "", "LD-4"),
            ("in1", "2025-03-04T09:00:00+00:00", "Leads", "create", "", "LD-4"),  # LD-4 re-entered by IN
            ("in1", "2025-03-04T09:30:00+00:00", "Leads", "view", "detail_view", "LD-4"),
        ],
    )
    users = run(workspace, breakdown="country")
    # Per user: cn1 created LD-1 and viewed and converted LD-3 (any record counts for a user funnel).
    assert counts(users) == [4, 2, 1]
    assert [(g.group, [s.count for s in g.steps]) for g in users.breakdown] == [
        ("CN", [2, 1, 1]),
        ("", [1, 0, 0]),
        ("IN", [1, 1, 0]),
    ]
    records = run(workspace, unit="record", breakdown="country")
    assert counts(records) == [4, 3, 1]
    # A record counts in the group of whoever created it; LD-4 was created by both groups.
    assert [(g.group, [s.count for s in g.steps]) for g in records.breakdown] == [
        ("CN", [2, 1, 0]),
        ("IN", [2, 2, 1]),
        ("", [1, 1, 0]),  # nob's attempt on LD-4 reaches the view in1 did the next day
    ]
    ind = records.breakdown[1]
    assert [s.conversion_pct for s in ind.steps] == [100.0, 100.0, 50.0]
    assert [s.median_seconds_from_previous for s in ind.steps] == [None, 2700.0, 3600.0]


def test_user_filters_restrict_whose_events_count(workspace):
    crm_users(workspace, [{"external_id": "a", "country": "CN"}, {"external_id": "b", "country": "IN"}])
    journeys(
        workspace,
        [
            ("a", "2025-03-03T09:00:00+00:00", "Leads", "create", "", "LD-1"),
            ("b", "2025-03-03T09:05:00+00:00", "Leads", "view", "detail_view", "LD-1"),
            ("a", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view", "LD-1"),
            ("b", "2025-03-03T09:00:00+00:00", "Leads", "create", "", "LD-2"),
        ],
    )
    assert counts(run(workspace, unit="record", filters={"country": ["CN"]})) == [1, 1, 0]
    assert medians(run(workspace, unit="record", filters={"country": ["CN"]})) == [None, 600.0, None]
    assert counts(run(workspace, unit="record")) == [2, 1, 0]
    assert medians(run(workspace, unit="record")) == [None, 300.0, None]
    # Per user, b created LD-2 then viewed LD-1: a user funnel does not care which record.
    assert counts(run(workspace, filters={"country": ["IN"]})) == [1, 1, 0]
    assert counts(run(workspace, unit="record", filters={"country": ["IN"]})) == [1, 0, 0]


def test_strict_order(workspace):
    journeys(
        workspace,
        [
            # another Leads event between create and view: the strict funnel stops at step 1
            ("p1", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("p1", "2025-03-03T09:01:00+00:00", "Leads", "view", "list_view"),
            ("p1", "2025-03-03T09:02:00+00:00", "Leads", "view", "detail_view"),
            ("p1", "2025-03-03T09:03:00+00:00", "Leads", "convert"),
            # events of other features in between do not matter
            ("p2", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("p2", "2025-03-03T09:01:00+00:00", "Deals", "view"),
            ("p2", "2025-03-03T09:02:00+00:00", "Leads", "view", "detail_view"),
            ("p2", "2025-03-03T09:03:00+00:00", "Leads", "convert"),
        ],
    )
    assert counts(run(workspace, order="strict")) == [2, 1, 1]
    assert counts(run(workspace)) == [2, 2, 2]


def test_unknown_feature_matches_nothing(workspace):
    journeys(workspace, [("u1", "2025-03-03T09:00:00+00:00", "Leads", "create")])
    assert counts(run(workspace, steps=(CREATE, Step("Nope", "view")))) == [1, 0]
    assert counts(run(workspace, steps=(Step("Nope", "view"), CREATE))) == [0, 0]
