"""Exclusion steps, any-order funnels, time to convert, conversion over time and the people at a step,
on hand-made journeys: every expected number below is worked out by hand (in the comments), not
computed. Each case runs against the selectors (both walks) and against the brute-force reference
(tests/funnels/reference.py), which checks the reference too."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from core.queries import QueryInvalid
from events.periods import Period
from funnels import engines
from funnels.definition import Exclusion, FunnelSpec, Step
from funnels.queries import FunnelQuery, PeopleAt
from funnels.selectors import funnel_compute, funnel_people, funnel_time_to_convert, funnel_trends
from tests.conftest import crm_users, journeys
from tests.funnels import reference

pytestmark = pytest.mark.django_db

CREATE = {"feature": "Leads", "action": "create", "detail": ""}
VIEW = {"feature": "Leads", "action": "view", "detail": "detail_view"}
ANY_VIEW = {"feature": "Leads", "action": "view", "detail": ""}
CONVERT = {"feature": "Leads", "action": "convert", "detail": ""}
LEAD_STEPS = [CREATE, VIEW, CONVERT]


def deleting(a: int, b: int, feature: str = "Deals", action: str = "delete", detail: str = "") -> dict[str, Any]:
    """An exclusion between steps a and b (``Deals · delete`` unless said)."""
    return {"feature": feature, "action": action, "detail": detail, "between": (a, b)}


class Selectors:
    """The funnels as ``funnels.selectors`` compute them, with the SQL walk allowed or not."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, sql_walk: bool) -> None:
        monkeypatch.setattr(engines, "SQL_WALK", sql_walk)

    @staticmethod
    def query(definition: dict[str, Any], **extra: Any) -> FunnelQuery:
        spec = FunnelSpec(
            steps=tuple(Step(**s) for s in definition["steps"]),
            unit=definition["unit"],
            window_days=definition["window_days"],
            order=definition["order"],
            breakdown=definition["breakdown"],
            exclusions=tuple(Exclusion(**{**x, "between": tuple(x["between"])}) for x in definition["exclusions"]),
        )
        workspace = definition["workspace"]
        period = Period(definition["start"], definition["end"], workspace.tzinfo)
        return FunnelQuery.over(workspace, period, definition["filters"], definition=spec, **extra)

    def funnel(self, definition: dict[str, Any]) -> dict[str, Any]:
        return funnel_compute(self.query(definition)).as_dict()

    def time_to_convert(self, definition: dict[str, Any], from_step: int, to_step: int) -> dict[str, Any]:
        return funnel_time_to_convert(self.query(definition, from_step=from_step, to_step=to_step)).as_dict()

    def trends(self, definition: dict[str, Any], interval: str) -> dict[str, Any]:
        return funnel_trends(self.query(definition, interval=interval)).as_dict()

    def people(self, definition: dict[str, Any], step: int, status: str) -> list[tuple[str, int]]:
        rows = funnel_people(self.query(definition, people=PeopleAt(step=step, status=status)))
        return [(row.unit, row.level) for row in rows]


class Reference:
    """The same figures from tests/funnels/reference.py."""

    def funnel(self, definition: dict[str, Any]) -> dict[str, Any]:
        return reference.reference_funnel(**definition)

    def time_to_convert(self, definition: dict[str, Any], from_step: int, to_step: int) -> dict[str, Any]:
        return reference.reference_time_to_convert(from_step=from_step, to_step=to_step, **definition)

    def trends(self, definition: dict[str, Any], interval: str) -> dict[str, Any]:
        return reference.reference_trends(interval=interval, **definition)

    def people(self, definition: dict[str, Any], step: int, status: str) -> list[tuple[str, int]]:
        return reference.reference_people(step=step, status=status, **definition)


@pytest.fixture(params=["sql-walk", "python-walk", "reference"])
def funnels(request, monkeypatch):
    if request.param == "reference":
        return Reference()
    return Selectors(monkeypatch, sql_walk=request.param == "sql-walk")


def define(
    workspace,
    steps=LEAD_STEPS,
    start="2025-03-03",
    end="2025-03-09",
    unit="user",
    window_days=1,
    order="ordered",
    filters=None,
    breakdown="",
    exclusions=(),
) -> dict[str, Any]:
    return {
        "workspace": workspace,
        "steps": list(steps),
        "start": date.fromisoformat(start),
        "end": date.fromisoformat(end),
        "unit": unit,
        "window_days": window_days,
        "order": order,
        "filters": filters,
        "breakdown": breakdown,
        "exclusions": list(exclusions),
    }


def counts(result: dict[str, Any]) -> list[int]:
    return [s["count"] for s in result["steps"]]


def medians(result: dict[str, Any]) -> list[float | None]:
    return [s["median_seconds_from_previous"] for s in result["steps"]]


# --- exclusion steps ------------------------------------------------------------------------------------


def test_a_voided_attempt_is_dropped_and_a_clean_one_counts(workspace, funnels):
    journeys(
        workspace,
        [
            # ann's first attempt completes but deletes a deal between create and view: void.
            ("ann", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("ann", "2025-03-03T09:05:00+00:00", "Deals", "delete"),
            ("ann", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view"),
            ("ann", "2025-03-03T09:20:00+00:00", "Leads", "convert"),
            # Her second attempt, two days later, is clean: view after 1 h, convert 2 h later.
            ("ann", "2025-03-05T09:00:00+00:00", "Leads", "create"),
            ("ann", "2025-03-05T10:00:00+00:00", "Leads", "view", "detail_view"),
            ("ann", "2025-03-05T12:00:00+00:00", "Leads", "convert"),
            # bob: create, view 30 min later.
            ("bob", "2025-03-03T10:00:00+00:00", "Leads", "create"),
            ("bob", "2025-03-03T10:30:00+00:00", "Leads", "view", "detail_view"),
        ],
    )
    excluded = funnels.funnel(define(workspace, exclusions=[deleting(1, 2)]))
    assert counts(excluded) == [2, 2, 1]
    # ann's times are her second attempt's: 3600 and 7200; bob's view 1800.
    assert medians(excluded) == [None, 2700.0, 7200.0]
    # Without the exclusion ann's first attempt is her best (complete, earlier): 600 and 600.
    plain = funnels.funnel(define(workspace))
    assert counts(plain) == [2, 2, 1]
    assert medians(plain) == [None, 1200.0, 600.0]
    # Between steps 2 and 3 instead, the delete (before the view) does not void the first attempt.
    assert medians(funnels.funnel(define(workspace, exclusions=[deleting(2, 3)]))) == [None, 1200.0, 600.0]


def test_a_unit_whose_every_attempt_is_void_does_not_count_at_all(workspace, funnels):
    journeys(
        workspace,
        [
            # cat never views; her delete 30 min after the create lies before the deadline: void,
            # and it is her only attempt.
            ("cat", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("cat", "2025-03-03T09:30:00+00:00", "Deals", "delete"),
            # cal has two attempts, both void (the second one's delete is at its very start).
            ("cal", "2025-03-04T09:00:00+00:00", "Leads", "create"),
            ("cal", "2025-03-04T09:10:00+00:00", "Deals", "delete"),
            ("cal", "2025-03-06T09:00:00+00:00", "Leads", "create"),
            ("cal", "2025-03-06T09:00:00+00:00", "Deals", "delete"),
            ("cal", "2025-03-06T09:20:00+00:00", "Leads", "view", "detail_view"),
            # dan creates and nothing else.
            ("dan", "2025-03-03T09:00:00+00:00", "Leads", "create"),
        ],
    )
    definition = define(workspace, exclusions=[deleting(1, 2)])
    result = funnels.funnel(definition)
    assert counts(result) == [1, 0, 0]
    assert [s["conversion_pct"] for s in result["steps"]] == [100.0, 0.0, 0.0]
    assert funnels.people(definition, 1, "reached") == [("dan", 1)]
    assert funnels.people(definition, 2, "dropped") == [("dan", 1)]
    # Without it, all three entered; cal's second attempt reached the view.
    assert counts(funnels.funnel(define(workspace))) == [3, 1, 0]


def test_an_exclusion_after_an_unreached_step_b_voids_until_the_deadline(workspace, funnels):
    journeys(
        workspace,
        [
            # Exclusion between steps 2 and 3; none of them converts (window 1 day: deadline 09:00 on
            # March 4).
            # eve: delete after the view, before the deadline: void.
            ("eve", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("eve", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view"),
            ("eve", "2025-03-04T08:00:00+00:00", "Deals", "delete"),
            # gil: delete exactly at the deadline: void (inclusive).
            ("gil", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("gil", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view"),
            ("gil", "2025-03-04T09:00:00+00:00", "Deals", "delete"),
            # fay: delete one second after the deadline: counts.
            ("fay", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("fay", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view"),
            ("fay", "2025-03-04T09:00:01+00:00", "Deals", "delete"),
            # hal: delete before the view (step a of the exclusion): counts.
            ("hal", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("hal", "2025-03-03T09:05:00+00:00", "Deals", "delete"),
            ("hal", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view"),
            # ida never views: an exclusion of steps 2–3 does not concern her attempt.
            ("ida", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("ida", "2025-03-03T09:05:00+00:00", "Deals", "delete"),
        ],
    )
    definition = define(workspace, exclusions=[deleting(2, 3)])
    assert counts(funnels.funnel(definition)) == [3, 2, 0]
    assert funnels.people(definition, 2, "reached") == [("fay", 2), ("hal", 2)]
    assert funnels.people(definition, 2, "dropped") == [("ida", 1)]
    # With a 2-day window fay's delete falls before the deadline too.
    assert counts(funnels.funnel(define(workspace, window_days=2, exclusions=[deleting(2, 3)]))) == [2, 1, 0]


def test_an_exclusion_at_step_a_or_at_step_b_voids_just_after_b_does_not(workspace, funnels):
    journeys(
        workspace,
        [
            # Exclusion between steps 1 and 2; everyone creates at 09:00, views at 09:10 and converts
            # at 09:20.
            ("ivy", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("ivy", "2025-03-03T09:00:00+00:00", "Deals", "delete"),  # at step 1's time: void
            ("ivy", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view"),
            ("ivy", "2025-03-03T09:20:00+00:00", "Leads", "convert"),
            ("jon", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("jon", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view"),
            ("jon", "2025-03-03T09:10:00+00:00", "Deals", "delete"),  # at step 2's time: void
            ("jon", "2025-03-03T09:20:00+00:00", "Leads", "convert"),
            ("kim", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("kim", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view"),
            ("kim", "2025-03-03T09:10:01+00:00", "Deals", "delete"),  # just after step 2: counts
            ("kim", "2025-03-03T09:20:00+00:00", "Leads", "convert"),
            ("lea", "2025-03-03T08:59:59+00:00", "Deals", "delete"),  # just before step 1: counts
            ("lea", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("lea", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view"),
            ("lea", "2025-03-03T09:20:00+00:00", "Leads", "convert"),
        ],
    )
    result = funnels.funnel(define(workspace, exclusions=[deleting(1, 2)]))
    assert counts(result) == [2, 2, 2]
    assert medians(result) == [None, 600.0, 600.0]
    # Between steps 2 and 3 instead: jon's (at step 2) and kim's (after it, before step 3) void.
    assert counts(funnels.funnel(define(workspace, exclusions=[deleting(2, 3)]))) == [2, 2, 2]
    # Between steps 1 and 3: only lea's delete (before step 1) leaves her attempt standing.
    assert counts(funnels.funnel(define(workspace, exclusions=[deleting(1, 3)]))) == [1, 1, 1]


def test_an_exclusion_with_an_empty_action_matches_any_action_and_a_detail_narrows_it(workspace, funnels):
    journeys(
        workspace,
        [
            ("max", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("max", "2025-03-03T09:05:00+00:00", "Deals", "update", "stage"),
            ("max", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view"),
            ("ned", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("ned", "2025-03-03T09:05:00+00:00", "Deals", "update", "owner"),
            ("ned", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view"),
        ],
    )
    steps = [CREATE, VIEW]
    assert counts(funnels.funnel(define(workspace, steps, exclusions=[deleting(1, 2, "Deals", "")]))) == [0, 0]
    stage = deleting(1, 2, "Deals", "", "stage")
    assert counts(funnels.funnel(define(workspace, steps, exclusions=[stage]))) == [1, 1]  # ned
    assert counts(funnels.funnel(define(workspace, steps, exclusions=[deleting(1, 2, "Deals", "delete")]))) == [2, 2]


def test_exclusions_in_a_record_funnel_count_any_users_events_on_the_record(workspace, funnels):
    crm_users(
        workspace,
        [{"external_id": "amy", "country": "CN"}, {"external_id": "ben", "country": "IN"}],
    )
    journeys(
        workspace,
        [
            # LD-1: amy creates and views it, ben deletes it in between.
            ("amy", "2025-03-03T09:00:00+00:00", "Leads", "create", "", "LD-1"),
            ("ben", "2025-03-03T09:05:00+00:00", "Leads", "delete", "", "LD-1"),
            ("amy", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view", "LD-1"),
            # LD-2: amy creates and views it; ben deletes another record, and amy deletes without one.
            ("amy", "2025-03-03T10:00:00+00:00", "Leads", "create", "", "LD-2"),
            ("ben", "2025-03-03T10:05:00+00:00", "Leads", "delete", "", "LD-3"),
            ("amy", "2025-03-03T10:06:00+00:00", "Leads", "delete"),
            ("amy", "2025-03-03T10:10:00+00:00", "Leads", "view", "detail_view", "LD-2"),
        ],
    )
    remove = deleting(1, 2, "Leads", "delete")
    definition = define(workspace, [CREATE, VIEW], unit="record", exclusions=[remove])
    assert counts(funnels.funnel(definition)) == [1, 1]
    assert funnels.people(definition, 2, "reached") == [("LD-2", 2)]
    # Only amy's events exist for the funnel: ben's delete of LD-1 does not void it.
    only_cn = define(workspace, [CREATE, VIEW], unit="record", exclusions=[remove], filters={"country": ["CN"]})
    assert counts(funnels.funnel(only_cn)) == [2, 2]
    assert funnels.people(only_cn, 2, "reached") == [("LD-1", 2), ("LD-2", 2)]
    # Per user, ben's delete is his own: amy's 09:00 attempt stands (her own delete without a record,
    # at 10:06, voids only her 10:00 one). ben does not enter.
    per_user = funnels.funnel(define(workspace, [CREATE, VIEW], exclusions=[remove]))
    assert counts(per_user) == [1, 1]
    assert medians(per_user) == [None, 600.0]


def test_an_exclusion_is_refused_when_it_matches_every_event_of_a_step_it_spans(workspace):
    journeys(
        workspace,
        [
            ("ann", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("ann", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view"),
            ("ann", "2025-03-03T09:20:00+00:00", "Leads", "convert"),
            ("ann", "2025-03-03T09:30:00+00:00", "Deals", "delete"),
        ],
    )
    base = {"start": "2025-03-03", "end": "2025-03-09", "steps": LEAD_STEPS}

    def parse(*exclusions: dict[str, Any]) -> FunnelQuery:
        payload = {**base, "exclusions": [{**x, "between": list(x["between"])} for x in exclusions]}
        return FunnelQuery.parse(payload, workspace=workspace)

    for refused in (
        deleting(1, 3, "Leads", "view", "detail_view"),  # step 2 itself
        deleting(1, 2, "Leads", "view", ""),  # every view, so every detail view (step 2)
        deleting(2, 3, "Leads", "", ""),  # any Leads event, so every convert (step 3)
        deleting(1, 2, "Leads", "create", ""),  # step 1
    ):
        with pytest.raises(QueryInvalid):
            parse(refused)
    # The convert (step 3) between steps 1 and 2 is allowed, and so is a deal's deletion.
    query = parse(deleting(1, 2, "Leads", "convert"), deleting(2, 3))
    assert query.definition.exclusions == (
        Exclusion("Leads", "convert", "", (1, 2)),
        Exclusion("Deals", "delete", "", (2, 3)),
    )


# --- any order -----------------------------------------------------------------------------------------


def test_any_order_counts_steps_done_in_reverse(workspace, funnels):
    journeys(
        workspace,
        [
            # mia: convert, view, create, 10 minutes apart.
            ("mia", "2025-03-03T09:00:00+00:00", "Leads", "convert"),
            ("mia", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view"),
            ("mia", "2025-03-03T09:20:00+00:00", "Leads", "create"),
            # noa: view, then create 1 h later.
            ("noa", "2025-03-03T09:00:00+00:00", "Leads", "view", "detail_view"),
            ("noa", "2025-03-03T10:00:00+00:00", "Leads", "create"),
        ],
    )
    result = funnels.funnel(define(workspace, order="any"))
    assert counts(result) == [2, 2, 1]
    # Step 2's time − step 1's: mia 600, noa 3600; step 3: mia 600.
    assert medians(result) == [None, 2100.0, 600.0]
    # In order, both start at their create and do nothing after it.
    assert counts(funnels.funnel(define(workspace))) == [2, 0, 0]


def test_any_order_one_event_matching_two_steps_serves_one(workspace, funnels):
    journeys(
        workspace,
        [
            ("nat", "2025-03-03T09:00:00+00:00", "Leads", "view", "detail_view"),  # matches both steps
            ("oli", "2025-03-03T09:00:00+00:00", "Leads", "view", "detail_view"),
            ("oli", "2025-03-03T09:05:00+00:00", "Leads", "view", "detail_view"),
            ("pat", "2025-03-03T09:00:00+00:00", "Leads", "view", "list_view"),  # step 1 only
            ("pat", "2025-03-03T09:02:00+00:00", "Leads", "view", "detail_view"),
            ("quy", "2025-03-03T09:00:00+00:00", "Leads", "view", "list_view"),
            ("quy", "2025-03-03T09:00:00+00:00", "Leads", "view", "list_view"),  # two list views: one step
        ],
    )
    result = funnels.funnel(define(workspace, [ANY_VIEW, VIEW], order="any"))
    assert counts(result) == [4, 2]
    assert medians(result) == [None, 210.0]  # oli 300, pat 120
    definition = define(workspace, [ANY_VIEW, VIEW], order="any")
    assert funnels.people(definition, 2, "dropped") == [("nat", 1), ("quy", 1)]


def test_any_order_the_attempt_starts_at_an_event_and_looks_forward(workspace, funnels):
    journeys(
        workspace,
        [
            # rae: view 09:00, delete 09:05, create 09:10. The attempt at the view reaches both steps
            # (09:00, 09:10) with a delete in between: void. The attempt at the create sees only the
            # create (the view is before it): level 1, the delete before it does not matter.
            ("rae", "2025-03-03T09:00:00+00:00", "Leads", "view", "detail_view"),
            ("rae", "2025-03-03T09:05:00+00:00", "Deals", "delete"),
            ("rae", "2025-03-03T09:10:00+00:00", "Leads", "create"),
            # sam: create on March 2 (before the range) and view on March 3: the attempt at the view
            # reaches one step; the create does not start one.
            ("sam", "2025-03-02T23:00:00+00:00", "Leads", "create"),
            ("sam", "2025-03-03T01:00:00+00:00", "Leads", "view", "detail_view"),
            # tom: view, then create 2 days later: out of a 1-day window.
            ("tom", "2025-03-03T09:00:00+00:00", "Leads", "view", "detail_view"),
            ("tom", "2025-03-05T09:00:00+00:00", "Leads", "create"),
        ],
    )
    steps = [CREATE, VIEW]
    assert counts(funnels.funnel(define(workspace, steps, order="any"))) == [3, 1]
    assert counts(funnels.funnel(define(workspace, steps, order="any", exclusions=[deleting(1, 2)]))) == [3, 0]
    assert counts(funnels.funnel(define(workspace, steps, order="any", window_days=2))) == [3, 2]


# --- time to convert ------------------------------------------------------------------------------------

DAY_BINS = [0, 60, 300, 900, 1800, 3600, 10800, 21600, 43200, 86400]


def bins(edges: list[int], units: dict[int, int]) -> list[dict[str, int]]:
    return [
        {"from_seconds": lo, "to_seconds": hi, "units": units.get(lo, 0)}
        for lo, hi in zip(edges, edges[1:], strict=False)
    ]


def test_time_to_convert_bins_and_median(workspace, funnels):
    journeys(
        workspace,
        [
            # u1: create → convert in 45 s.
            ("u1", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("u1", "2025-03-03T09:00:30+00:00", "Leads", "view", "detail_view"),
            ("u1", "2025-03-03T09:00:45+00:00", "Leads", "convert"),
            # u2: 2 h (7200 s), the view after 30 min.
            ("u2", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("u2", "2025-03-03T09:30:00+00:00", "Leads", "view", "detail_view"),
            ("u2", "2025-03-03T11:00:00+00:00", "Leads", "convert"),
            # u3: exactly the window (86400 s), the view after 1 h.
            ("u3", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("u3", "2025-03-03T10:00:00+00:00", "Leads", "view", "detail_view"),
            ("u3", "2025-03-04T09:00:00+00:00", "Leads", "convert"),
            # u4 never converts.
            ("u4", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("u4", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view"),
        ],
    )
    definition = define(workspace)
    assert funnels.time_to_convert(definition, 1, 3) == {
        "from_step": 1,
        "to_step": 3,
        "units": 3,
        "median_seconds": 7200.0,
        # The last bin ends at the window and includes it: u3.
        "bins": bins(DAY_BINS, {0: 1, 3600: 1, 43200: 1}),
    }
    # View → convert: u1 15 s, u2 5400 s, u3 82800 s.
    assert funnels.time_to_convert(definition, 2, 3) == {
        "from_step": 2,
        "to_step": 3,
        "units": 3,
        "median_seconds": 5400.0,
        "bins": bins(DAY_BINS, {0: 1, 3600: 1, 43200: 1}),
    }
    # Create → view reaches four units: 30, 1800, 3600, 600 s.
    to_view = funnels.time_to_convert(definition, 1, 2)
    assert (to_view["units"], to_view["median_seconds"]) == (4, 1200.0)
    assert to_view["bins"] == bins(DAY_BINS, {0: 1, 300: 1, 1800: 1, 3600: 1})
    # With a 2-day window there is a bin [86400, 172800] and u3 falls in it (not the one before).
    two_days = funnels.time_to_convert(define(workspace, window_days=2), 1, 3)
    assert two_days["bins"] == bins([*DAY_BINS, 172800], {0: 1, 3600: 1, 86400: 1})
    # With 5 days the last bin is [259200, 432000]: the window, not the next edge.
    assert funnels.time_to_convert(define(workspace, window_days=5), 1, 3)["bins"][-1] == {
        "from_seconds": 259200,
        "to_seconds": 432000,
        "units": 0,
    }


def test_time_to_convert_of_nobody(workspace, funnels):
    journeys(workspace, [("u1", "2025-03-03T09:00:00+00:00", "Leads", "create")])
    assert funnels.time_to_convert(define(workspace, window_days=14), 1, 2) == {
        "from_step": 1,
        "to_step": 2,
        "units": 0,
        "median_seconds": None,
        "bins": bins([*DAY_BINS, 172800, 259200, 604800, 1209600], {}),
    }


# --- conversion over time -------------------------------------------------------------------------------


def test_conversion_over_time_by_week_day_and_month_across_the_fall_back(make_workspace, funnels):
    """New York falls back from EDT (−4) to EST (−5) at 02:00 on Sunday November 2, 2025. Range
    Wednesday October 29 – Wednesday November 5: ISO weeks of October 27 and November 3."""
    workspace = make_workspace(tz="America/New_York")[0]
    journeys(
        workspace,
        [
            # td: at the range's first instant (00:00 EDT on October 29); no more.
            ("td", "2025-10-29T00:00:00-04:00", "Leads", "create"),
            # ue: one minute before the range, converts: not entered.
            ("ue", "2025-10-28T23:59:00-04:00", "Leads", "create"),
            ("ue", "2025-10-29T00:10:00-04:00", "Leads", "view", "detail_view"),
            ("ue", "2025-10-29T00:20:00-04:00", "Leads", "convert"),
            # xh: a stalled attempt on October 30, a complete one on November 4.
            ("xh", "2025-10-30T10:00:00-04:00", "Leads", "create"),
            ("xh", "2025-11-04T10:00:00-05:00", "Leads", "create"),
            ("xh", "2025-11-04T10:05:00-05:00", "Leads", "view", "detail_view"),
            ("xh", "2025-11-04T10:10:00-05:00", "Leads", "convert"),
            # sc: creates at the first 01:30 (EDT), views at the second (EST), converts at 01:45 EST.
            ("sc", "2025-11-02T01:30:00-04:00", "Leads", "create"),
            ("sc", "2025-11-02T01:30:00-05:00", "Leads", "view", "detail_view"),
            ("sc", "2025-11-02T01:45:00-05:00", "Leads", "convert"),
            # qa: Sunday 23:30 EST (04:30 UTC on Monday): still the week of October 27; completes.
            ("qa", "2025-11-02T23:30:00-05:00", "Leads", "create"),
            ("qa", "2025-11-02T23:40:00-05:00", "Leads", "view", "detail_view"),
            ("qa", "2025-11-02T23:50:00-05:00", "Leads", "convert"),
            # rb: Monday 00:30 EST (23:30 on Sunday at the summer offset): the week of November 3.
            ("rb", "2025-11-03T00:30:00-05:00", "Leads", "create"),
            # vf: the range's last second (23:59:59 EST on November 5); completes the next day.
            ("vf", "2025-11-05T23:59:59-05:00", "Leads", "create"),
            ("vf", "2025-11-06T08:00:00-05:00", "Leads", "view", "detail_view"),
            ("vf", "2025-11-06T09:00:00-05:00", "Leads", "convert"),
            # wg: just after the range.
            ("wg", "2025-11-06T00:00:00-05:00", "Leads", "create"),
        ],
    )
    definition = define(workspace, start="2025-10-29", end="2025-11-05")

    def row(bucket: str, entered: int, completed: int, pct: float | None) -> dict[str, Any]:
        return {"bucket": bucket, "entered": entered, "completed": completed, "conversion_pct": pct}

    # Week of October 27: td, xh, sc, qa entered; sc and qa completed. November 3: rb, xh, vf; xh, vf.
    assert funnels.trends(definition, "week") == {
        "interval": "week",
        "buckets": [row("2025-10-27", 4, 2, 50.0), row("2025-11-03", 3, 2, 66.7)],
    }
    assert funnels.trends(definition, "day") == {
        "interval": "day",
        "buckets": [
            row("2025-10-29", 1, 0, 0.0),  # td
            row("2025-10-30", 1, 0, 0.0),  # xh
            row("2025-10-31", 0, 0, None),
            row("2025-11-01", 0, 0, None),
            row("2025-11-02", 2, 2, 100.0),  # sc, qa
            row("2025-11-03", 1, 0, 0.0),  # rb
            row("2025-11-04", 1, 1, 100.0),  # xh
            row("2025-11-05", 1, 1, 100.0),  # vf
        ],
    }
    # October: td, xh (stalled). November: sc, qa, rb, xh, vf; all but rb complete.
    assert funnels.trends(definition, "month") == {
        "interval": "month",
        "buckets": [row("2025-10-01", 2, 0, 0.0), row("2025-11-01", 5, 4, 80.0)],
    }
    # The funnel itself: td, xh, sc, qa, rb, vf entered; xh, sc, qa, vf completed.
    assert counts(funnels.funnel(definition)) == [6, 4, 4]


def test_conversion_over_time_drops_void_attempts_per_bucket(workspace, funnels):
    journeys(
        workspace,
        [
            # ann: Monday March 3 a void complete attempt; Wednesday a clean stalled one.
            ("ann", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("ann", "2025-03-03T09:05:00+00:00", "Deals", "delete"),
            ("ann", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view"),
            ("ann", "2025-03-03T09:20:00+00:00", "Leads", "convert"),
            ("ann", "2025-03-05T09:00:00+00:00", "Leads", "create"),
            # bob: a clean complete attempt on Monday.
            ("bob", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("bob", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view"),
            ("bob", "2025-03-03T09:20:00+00:00", "Leads", "convert"),
        ],
    )
    definition = define(workspace, start="2025-03-03", end="2025-03-05", exclusions=[deleting(1, 2)])
    assert funnels.trends(definition, "day")["buckets"] == [
        {"bucket": "2025-03-03", "entered": 1, "completed": 1, "conversion_pct": 100.0},
        {"bucket": "2025-03-04", "entered": 0, "completed": 0, "conversion_pct": None},
        {"bucket": "2025-03-05", "entered": 1, "completed": 0, "conversion_pct": 0.0},
    ]
    # A range inside a week, named by its Monday (here the range's first day).
    assert funnels.trends(definition, "week")["buckets"] == [
        {"bucket": "2025-03-03", "entered": 2, "completed": 1, "conversion_pct": 50.0},
    ]


# --- the people at a step -------------------------------------------------------------------------------


def test_people_reached_and_dropped_at_a_step(workspace, funnels):
    journeys(
        workspace,
        [
            ("ann", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("ann", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view"),
            ("ann", "2025-03-03T09:20:00+00:00", "Leads", "convert"),
            ("bob", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("bob", "2025-03-03T09:10:00+00:00", "Leads", "view", "detail_view"),
            ("cat", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("dan", "2025-03-04T09:00:00+00:00", "Leads", "create"),
            ("dan", "2025-03-04T09:10:00+00:00", "Leads", "view", "detail_view"),
            ("eve", "2025-03-03T09:00:00+00:00", "Leads", "view", "detail_view"),  # never enters
        ],
    )
    definition = define(workspace)
    assert funnels.people(definition, 1, "reached") == [("ann", 3), ("bob", 2), ("cat", 1), ("dan", 2)]
    assert funnels.people(definition, 2, "reached") == [("ann", 3), ("bob", 2), ("dan", 2)]
    assert funnels.people(definition, 2, "dropped") == [("cat", 1)]
    assert funnels.people(definition, 3, "reached") == [("ann", 3)]
    assert funnels.people(definition, 3, "dropped") == [("bob", 2), ("dan", 2)]
