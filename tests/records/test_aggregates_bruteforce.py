"""The aggregates against a plain-Python recomputation from the raw records, after random batches of
creations, updates (state, amount, close date, account, owner, status), deletions and re-sends in two
workspaces; and after a time-zone change (local dates recomputed, everything rebuilt)."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

import records.aggregates
import records.marks
from records.aggregates import figures_rebuild, figures_refresh_dirty, local_dates_recompute
from records.models import (
    Account,
    AccountFigures,
    Activity,
    CreatedMonthFigures,
    Deal,
    DealDayFigures,
    DealLineItem,
    DealMonthFigures,
    Feedback,
    OpenStageFigures,
    ProductDayFigures,
    RecordsDirty,
    RepDayActivity,
    SurveyResponse,
)
from records.services import records_upsert
from records.validation import parse_record
from tests.conftest import crm_users

pytestmark = pytest.mark.django_db

REPS = ["r1", "r2", "r3"]


def upsert(ws, kind, items):
    parsed = []
    for index, raw in enumerate(items):
        row, errors = parse_record(kind, raw, tz=ws.tzinfo)
        assert row is not None, (raw, errors)
        parsed.append((index, row))
    result = records_upsert(workspace=ws, kind=kind, items=parsed)
    assert not result.rejected, result.rejected


def moment(rng):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return (start + timedelta(minutes=rng.randrange(0, 120 * 24 * 60))).isoformat()


def random_batch(rng, ws, round_no):
    accounts = [f"A{n}" for n in range(8)]
    upsert(ws, "accounts", [
        {"external_id": a, "name": f"Acct {a}", "created_at": "2026-01-01", "owner": rng.choice([*REPS, None]),
         "status": rng.choice(["active", "active", "dormant"]), "deleted": rng.random() < 0.1}
        for a in rng.sample(accounts, 5 if round_no else 8)
    ])  # fmt: skip
    if round_no == 0:
        upsert(ws, "products", [{"external_id": f"P{n}", "name": f"P{n}"} for n in range(3)])
    deals = []
    for n in rng.sample(range(25), 12):
        item = {"external_id": f"D{n}", "account": rng.choice(accounts), "name": f"Deal {n}",
                "stage": rng.choice(["Qualify", "Proposal", "Negotiation"]),
                "created_at": moment(rng), "state": rng.choice(["open", "won", "lost"]),
                "owner": rng.choice([*REPS, None]), "probability": rng.choice([0, 10, 55, 100]),
                "forecast_category": rng.choice(["pipeline", "best_case", "commit", "omitted"]),
                "amount": rng.choice([None, "0", "10.05", "999.99", rng.randrange(1, 5000)]),
                "close_date": rng.choice([None, (date(2026, 1, 28) + timedelta(days=rng.randrange(0, 70))).isoformat()]),
                "deleted": rng.random() < 0.1,
                "line_items": [{"product": f"P{rng.randrange(3)}", "amount": rng.randrange(1, 100)}
                               for _ in range(rng.randrange(0, 3))]}  # fmt: skip
        if Deal.objects.filter(workspace=ws, external_id=item["external_id"]).exists():
            item = {k: v for k, v in item.items() if k == "external_id" or rng.random() < 0.5}
        deals.append(item)
    upsert(ws, "deals", deals)
    known_deals = list(Deal.objects.filter(workspace=ws).values_list("external_id", flat=True))
    upsert(ws, "activities", [
        {"external_id": f"X{n}", "kind": rng.choice(["call", "email", "meeting", "message", "task"]),
         "owner": rng.choice(REPS), "account": rng.choice([*accounts, None]), "occurred_at": moment(rng),
         "deal": rng.choice([None, *(d for d in known_deals)]),
         "completed": rng.random() < 0.8, "deleted": rng.random() < 0.1}
        for n in rng.sample(range(30), 15)
    ])  # fmt: skip


def expected(ws):
    """Every aggregate recomputed literally from the stored records."""
    accounts = {a.id: a for a in Account.objects.filter(workspace=ws)}
    deals = [d for d in Deal.objects.filter(workspace=ws) if not d.deleted and not accounts[d.account_id].deleted]
    acts = [a for a in Activity.objects.filter(workspace=ws) if a.completed and not a.deleted]
    figures = {}
    for account_id in accounts:
        mine = list(Deal.objects.filter(account_id=account_id, deleted=False))
        won = [d for d in mine if d.state == "won"]
        opened = [d for d in mine if d.state == "open"]
        lines = DealLineItem.objects.filter(deal__in=won)
        days = [a.occurred_on for a in acts if a.account_id == account_id]
        figures[account_id] = (
            sum(d.amount_cents or 0 for d in won), len(won), sum(d.state == "lost" for d in mine), len(opened),
            sum(d.amount_cents or 0 for d in opened), len({li.product_id for li in lines}), max(days, default=None),
        )  # fmt: skip
    day, month, created = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0, 0]), defaultdict(lambda: [0, 0])
    for d in deals:
        amount = d.amount_cents or 0
        if d.close_date:
            day[(d.close_date, d.owner_id, d.state)][0] += 1
            day[(d.close_date, d.owner_id, d.state)][1] += amount
            key = (d.close_date.replace(day=1), d.owner_id, d.state, d.forecast_category,
                   accounts[d.account_id].status == "active")  # fmt: skip
            month[key][0] += 1
            month[key][1] += amount
            month[key][2] += amount * d.probability
        created[(d.created_on.replace(day=1), d.owner_id)][0] += 1
        created[(d.created_on.replace(day=1), d.owner_id)][1] += amount
    activity: dict[tuple, Counter] = defaultdict(Counter)
    for a in acts:
        activity[(a.occurred_on, a.owner_id)]["activities"] += 1
        activity[(a.occurred_on, a.owner_id)][a.kind + "s"] += 1  # calls, emails, … (tasks: "tasks")
    stages = defaultdict(lambda: [0, 0, 0])
    for d in deals:
        if d.state == "open":
            stages[(d.stage, d.close_date)][0] += 1
            stages[(d.stage, d.close_date)][1] += d.amount_cents or 0
            stages[(d.stage, d.close_date)][2] += (d.amount_cents or 0) * d.probability
    last = {
        d.id: max((a.occurred_on for a in acts if a.deal_id == d.id), default=None)
        for d in Deal.objects.filter(workspace=ws)
    }
    products = defaultdict(lambda: [0, 0, 0])
    for d in deals:
        if d.state == "won" and d.close_date:
            for line in DealLineItem.objects.filter(deal=d):
                key = (d.close_date, line.product_id, accounts[d.account_id].status == "active")
                products[key][0] += 1
                products[key][1] += line.amount_cents
                products[key][2] += line.quantity
    return figures, dict(day), dict(month), dict(created), dict(activity), dict(stages), last, dict(products)


def stored(ws):
    figures = {
        f.account_id: (f.revenue_cents, f.won_deals, f.lost_deals, f.open_deals, f.open_pipeline_cents, f.products,
                       f.last_activity)
        for f in AccountFigures.objects.filter(workspace=ws)
    }  # fmt: skip
    day = {(r.day, r.owner_id, r.state): [r.deals, r.amount_cents] for r in DealDayFigures.objects.filter(workspace=ws)}
    month = {
        (r.month, r.owner_id, r.state, r.forecast_category, r.account_active): [r.deals, r.amount_cents, r.weighted]
        for r in DealMonthFigures.objects.filter(workspace=ws)
    }
    created = {
        (r.month, r.owner_id): [r.deals, r.amount_cents] for r in CreatedMonthFigures.objects.filter(workspace=ws)
    }
    activity = {
        (r.day, r.owner_id): Counter(
            {k: v for k in ("activities", "calls", "emails", "meetings", "messages", "tasks") if (v := getattr(r, k))}
        )
        for r in RepDayActivity.objects.filter(workspace=ws)
    }
    stages = {
        (r.stage, r.close_date): [r.deals, r.amount_cents, r.weighted]
        for r in OpenStageFigures.objects.filter(workspace=ws)
    }
    last = dict(Deal.objects.filter(workspace=ws).values_list("id", "last_activity_on"))
    products = {
        (r.day, r.product_id, r.account_active): [r.lines, r.amount_cents, r.quantity]
        for r in ProductDayFigures.objects.filter(workspace=ws)
    }
    return figures, day, month, created, activity, stages, last, products


@pytest.mark.parametrize("seed", range(4))
def test_dirty_refreshes_equal_a_recomputation(make_workspace, seed, monkeypatch):
    if seed < 2:
        # Accounts and deals marked as one widened range each, and recomputed whole past 3 of them.
        monkeypatch.setattr(records.marks, "MAX_ID_RANGES", 1)
        monkeypatch.setattr(records.aggregates, "REFRESH_ALL", 3)
    rng = random.Random(seed)
    a, _ = make_workspace("a", tz="America/New_York")
    b, _ = make_workspace("b", tz="Asia/Shanghai")
    for ws in (a, b):
        crm_users(ws, [{"external_id": r} for r in REPS])
    for round_no in range(4):
        for ws in (a, b):
            random_batch(rng, ws, round_no)
        figures_refresh_dirty(workspace=a)
        assert stored(a) == expected(a), f"round {round_no}"
        if rng.random() < 0.5:  # sometimes b's marks pile up over two rounds first
            figures_refresh_dirty(workspace=b)
            assert stored(b) == expected(b), f"round {round_no}"
    figures_refresh_dirty(workspace=b)
    assert stored(b) == expected(b)
    assert not RecordsDirty.objects.exists()
    before = stored(a)
    figures_rebuild(workspace=a)
    assert stored(a) == before  # a full rebuild finds nothing the refreshes missed


def test_a_time_zone_change_moves_local_dates_and_figures(make_workspace):
    ws, _ = make_workspace("tz", tz="UTC")
    crm_users(ws, [{"external_id": "r1"}])
    upsert(ws, "accounts", [{"external_id": "A", "name": "A", "created_at": "2026-01-31T20:00:00Z"}])
    upsert(ws, "deals", [{"external_id": "D", "account": "A", "name": "D", "stage": "S", "state": "open",
                          "created_at": "2026-01-31T20:00:00Z", "amount": 5}])  # fmt: skip
    upsert(ws, "surveys", [{"external_id": "S", "account": "A", "kind": "nps", "score": 9,
                            "responded_at": "2026-01-31T20:00:00Z"}])  # fmt: skip
    upsert(ws, "feedback", [{"external_id": "F", "channel": "email", "text": "ok",
                             "received_at": "2026-01-31T20:00:00Z"}])  # fmt: skip
    figures_refresh_dirty(workspace=ws)
    assert CreatedMonthFigures.objects.get(workspace=ws).month == date(2026, 1, 1)
    ws.timezone = "Asia/Shanghai"  # 04:00 on February 1st there
    ws.save()
    local_dates_recompute(workspace=ws)
    figures_rebuild(workspace=ws)
    assert Deal.objects.get(workspace=ws).created_on == date(2026, 2, 1)
    assert CreatedMonthFigures.objects.get(workspace=ws).month == date(2026, 2, 1)
    assert SurveyResponse.objects.get(workspace=ws).responded_on == date(2026, 2, 1)
    assert Feedback.objects.get(workspace=ws).received_on == date(2026, 2, 1)


def test_marked_ids_become_few_ranges_covering_them_all():
    from records.marks import id_ranges

    assert id_ranges([5, 3, 4, 9], 5) == [(3, 5), (9, 9)]
    assert id_ranges([5, 3, 4, 9], 1) == [(0, 11)]  # blocks of 4 ids: 0–3, 4–7, 8–11, one run
    assert id_ranges([], 3) == []
    rng = random.Random(7)
    for _ in range(300):
        ids = {rng.randrange(1, 5000) for _ in range(rng.randrange(1, 400))}
        most = rng.randrange(1, 60)
        ranges = id_ranges(ids, most)
        assert len(ranges) <= most
        assert all(any(low <= i <= high for low, high in ranges) for i in ids)
        assert all(any(low <= i <= high for i in ids) for low, high in ranges)  # none is empty
        assert all(a[1] < b[0] for a, b in zip(ranges, ranges[1:], strict=False))  # ordered, apart
