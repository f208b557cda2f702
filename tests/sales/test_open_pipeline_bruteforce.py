"""Open pipeline against a plain-Python recomputation from the raw records, with per-stage stuck
thresholds (``StageThreshold``), for as_of days before, among and after the activities (a deal worked
on after as_of counts its last activity up to as_of), with and without a close range (deals without a
close date), cut to several lengths: the selector reads the stage figures and walks indexes, the
reference reads every record. Two workspaces sharing external ids, stages and thresholds of their own.
Seeded and small: a failure replays."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from events.models import CrmUser
from records.models import StageThreshold
from records.selectors import rep_ids, reps
from sales import selectors
from sales.queries import OpenPipelineQuery
from tests.conftest import crm_records
from tests.sales.builders import get
from tests.sales.test_bruteforce import Records, cents, day, generate, half_up, load, moment, text

pytestmark = pytest.mark.django_db

# Per workspace: stage → days ("Qualify" at 30 as the default is; "Review" past the calendar's start:
# never stuck; a stage no deal is in). Stages without a row: 30.
THRESHOLDS = [
    {"Proposal": 10, "Negotiation": 60, "Qualify": 30, "Review": 800_000, "Closed": 1},
    {"Proposal": 0, "Review": 45, "Nowhere": 5},
]
# Activities run 2025-04-20 … 2025-07-10: as_of before them (every worked deal is worked on later),
# among them (some later), after them.
AS_OF = [date(2025, 3, 1), date(2025, 4, 26), date(2025, 5, 10), date(2025, 6, 1), date(2025, 6, 20),
         date(2025, 7, 5), date(2025, 7, 24), date(2025, 9, 30)]  # fmt: skip


def resend_activities(rng: random.Random, records: Records) -> list[dict[str, Any]]:
    """Later changes to activities (moved to another deal, off a deal, deleted, not completed, another
    moment): each deal's last activity must follow."""
    changes = []
    deal_ids = sorted(records.deals)
    for external_id in rng.sample(sorted(records.activities), 20):
        change: dict[str, Any] = {"external_id": external_id}
        which = rng.choice(["deal", "deleted", "completed", "occurred_at"])
        if which == "deal":
            change["deal"] = rng.choice([None, *deal_ids])
        elif which == "deleted":
            change["deleted"] = not records.activities[external_id]["deleted"]
        elif which == "completed":
            change["completed"] = not records.activities[external_id]["completed"]
        else:
            change["occurred_at"] = moment(
                rng, datetime(2025, 4, 20, tzinfo=records.tz), datetime(2025, 7, 10, tzinfo=records.tz)
            )
        records.activities[external_id].update(change)
        changes.append(change)
    return changes


def reference(
    records: Records, thresholds: dict[str, int], as_of: date, start: date | None, end: date | None
) -> dict[str, Any]:
    """The whole answer (lists uncut), from the records as sent."""
    deals = []
    for d in records.visible():
        close = date.fromisoformat(d["close_date"]) if d["close_date"] else None
        if d["state"] != "open":
            continue
        if (start or end) and close is None:
            continue
        if (start and close < start) or (end and close > end):  # type: ignore[operator]
            continue
        deals.append(d)
    stages: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for d in deals:
        figures = stages[d["stage"]]
        figures[0] += 1
        figures[1] += cents(d["amount"]) or 0
        figures[2] += (cents(d["amount"]) or 0) * d["probability"]
    by_stage = sorted(
        ({"stage": s, "deals": f[0], "amount": text(f[1]), "weighted": text(half_up(f[2], 100))}
         for s, f in stages.items()),
        key=lambda row: (-cents(row["amount"]), row["stage"]),  # type: ignore[operator]
    )  # fmt: skip
    stuck, idle = [], []
    for d in deals:
        entered = max((datetime.fromisoformat(e["entered_at"]) for e in d["stage_history"]), default=None)
        entered = entered or datetime.fromisoformat(d["created_at"])
        days = (as_of - entered.astimezone(records.tz).date()).days
        base = {"external_id": d["external_id"], "name": d["name"], "account": d["account"], "rep": d["owner"]}
        if days > thresholds.get(d["stage"], 30):
            stuck.append((entered, d["external_id"], {**base, "stage": d["stage"], "amount": text(cents(d["amount"])),
                                                      "days_in_stage": days}))  # fmt: skip
        dates = [
            records.local(a["occurred_at"])
            for a in records.counted_activities()
            if a["deal"] == d["external_id"] and records.local(a["occurred_at"]) <= as_of
        ]
        last = max(dates, default=None)
        if last is None or (as_of - last).days >= 14:
            key = (0 if last is None else 1, last or date.min, d["external_id"])
            idle.append((key, {**base, "amount": text(cents(d["amount"])),
                               "days_idle": None if last is None else (as_of - last).days}))  # fmt: skip
    stuck.sort(key=lambda item: (item[0], item[1]))
    idle.sort(key=lambda item: item[0])
    total_weighted = half_up(sum((cents(d["amount"]) or 0) * d["probability"] for d in deals), 100)
    return {
        "as_of": as_of.isoformat(),
        "total": {"deals": len(deals), "amount": text(sum(cents(d["amount"]) or 0 for d in deals)),
                  "weighted": text(total_weighted)},
        "by_stage": by_stage,
        "stuck": [row for _e, _i, row in stuck],
        "idle": [row for _k, row in idle],
    }  # fmt: skip


def cut(answer: dict[str, Any], limit: int) -> dict[str, Any]:
    """The answer as the API gives it with ``LIST_CAP`` = limit."""
    return {
        **answer,
        "stuck": answer["stuck"][:limit],
        "idle": answer["idle"][:limit],
        "truncated": {"stuck": len(answer["stuck"]) > limit, "idle": len(answer["idle"]) > limit},
    }


def selected(workspace: Any, as_of: date, start: date | None, end: date | None, limit: int | None) -> dict[str, Any]:
    """The selector's answer in the reference's shape (the API's rows)."""
    from sales.api.views import idle_rows, stage_rows, stuck_rows

    query = OpenPipelineQuery.parse(
        {k: v.isoformat() for k, v in (("as_of", as_of), ("start", start), ("end", end)) if v}, workspace=workspace
    )
    report = selectors.open_pipeline(query, limit)
    return {
        "stuck": stuck_rows(report.stuck.rows),
        "idle": idle_rows(report.idle.rows),
        "truncated": {"stuck": report.stuck.truncated, "idle": report.idle.truncated},
        "by_stage": stage_rows(report.by_stage),
        "total": {"deals": report.deals, "amount": text(report.amount_cents), "weighted": text(report.weighted_cents)},
    }


@pytest.mark.parametrize("seed", [3, 11])
def test_open_pipeline_matches_the_records(make_workspace, member_client, monkeypatch, seed):
    from sales.api import views

    workspaces = []
    for n, tz in enumerate(("Asia/Shanghai", "America/New_York")):
        workspace = make_workspace(f"op{seed}-{n}", tz=tz)[0]
        records = generate(seed * 10 + n, tz)
        rng = random.Random(seed + n)
        load(workspace, records, rng)
        crm_records(workspace, "activities", resend_activities(rng, records))
        for stage, days in THRESHOLDS[n].items():
            StageThreshold.objects.create(workspace=workspace, stage=stage, days=days)
        workspaces.append((workspace, records, THRESHOLDS[n]))
    for workspace, records, _thresholds in workspaces:
        # The reps (one definition, records.selectors): owners of a counted deal or activity, by external id.
        expected_reps = records.reps()
        assert [u.external_id for u in reps(workspace)] == expected_reps
        assert [r.external_id for r in selectors.rep_list(workspace)] == expected_reps
        assert rep_ids(workspace) == {
            u.id for u in CrmUser.objects.filter(workspace=workspace, external_id__in=expected_reps)
        }
    rng = random.Random(seed)
    checked = {"stuck": 0, "idle": 0, "later": 0}
    for workspace, records, thresholds in workspaces:
        for as_of in AS_OF:
            first = day(rng, date(2025, 1, 1), date(2025, 7, 31))
            last = first + timedelta(days=rng.choice([0, 20, 60, 200]))
            for bounds in [(None, None), (first, last), (first, None), (None, last)]:
                expected = reference(records, thresholds, as_of, *bounds)
                checked["stuck"] += len(expected["stuck"])
                checked["idle"] += len(expected["idle"])
                for limit in (1, 4, 9, None):
                    answer = selected(workspace, as_of, *bounds, limit)
                    want = cut(expected, limit) if limit is not None else {**expected, "truncated": answer["truncated"]}
                    assert answer == {k: want[k] for k in answer}, (as_of, bounds, limit)
                    if limit is None:
                        assert answer["truncated"] == {"stuck": False, "idle": False}
            worked_later = [
                a for a in records.counted_activities() if a["deal"] and records.local(a["occurred_at"]) > as_of
            ]
            checked["later"] += bool(worked_later)
        # Through the routes: the JSON cut at LIST_CAP (made small), each list whole in CSV.
        client = member_client(workspace)
        monkeypatch.setattr(views, "LIST_CAP", 5)
        as_of = date(2025, 5, 10)
        expected = reference(records, thresholds, as_of, None, None)
        assert get(client, workspace, "open-pipeline", as_of=as_of.isoformat()) == cut(expected, 5)
        url = f"/api/v1/workspaces/{workspace.slug}/sales/open-pipeline"
        for table, column in (("stuck", "days_in_stage"), ("idle", "days_idle")):
            lines = client.get(url, {"as_of": as_of.isoformat(), "format": "csv", "table": table}).content.decode()
            rows = lines.splitlines()[1:]
            assert [row.split(",")[0] for row in rows] == [r["external_id"] for r in expected[table]]
            assert [row.rsplit(",", 1)[1] for row in rows] == [str(r[column] or "") for r in expected[table]]
    # The data reach every case: stuck and idle deals, as_of days with later activities.
    assert checked["stuck"] > 100 and checked["idle"] > 100 and checked["later"] >= 8, checked
