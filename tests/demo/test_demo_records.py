"""The demo's CRM records (demo/records.py, seed_demo): consistent references, the flaws the Sales tab
looks for, aggregates filled, and the better sellers being the heavier CRM users."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.urls import NoReverseMatch, reverse

from demo import records as demo_records
from demo.records import DUPLICATES, KINDS, LOST_STAGE, OPEN_STAGES, POWER_FEATURES, WON_STAGE, RepUsage
from events.models import CrmUser, Event, UserDay
from records.models import (
    Account,
    AccountFigures,
    Activity,
    Deal,
    DealDayFigures,
    DealLineItem,
    DealStageChange,
    Product,
    RecordsDirty,
    RepDayActivity,
    Target,
)
from records.names import duplicate_key
from records.validation import parse_record
from tenancy.models import Membership, Workspace
from tests.conftest import crm_users, run

TZ = ZoneInfo("Asia/Shanghai")
ANCHOR = date(2026, 3, 18)
NOW = datetime(2026, 3, 18, 15, 30, tzinfo=TZ)
PROBABILITY = {stage: p for stage, p, _ in [*OPEN_STAGES, WON_STAGE, LOST_STAGE]}


def spearman(xs: list[float], ys: list[float]) -> float:
    """Spearman's rho on average ranks (plain Pearson of the ranks)."""

    def ranks(values: list[float]) -> list[float]:
        order = sorted(range(len(values)), key=lambda i: values[i])
        result = [0.0] * len(values)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
                j += 1
            for k in range(i, j + 1):
                result[order[k]] = (i + j) / 2
            i = j + 1
        return result

    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    num = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    den = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return num / den


# Twelve reps: r01 the lightest CRM user … r12 the heaviest (by both attendance and interactions).
TEAM = [RepUsage(f"r{i:02d}", attendance_days=3 * i, interactions=90 * i) for i in range(1, 13)]


def plan(**kwargs):
    args = {"team": TEAM, "anchor": ANCHOR, "days": 90, "tz": TZ, "now": NOW} | kwargs
    return demo_records.records_plan(**args)


# --- the plan, without a database ------------------------------------------------------------------


def test_skills_rank_by_usage():
    # Average of the ranks by days and by interactions; ties by external id.
    team = [RepUsage("a", 10, 100), RepUsage("b", 20, 50), RepUsage("c", 30, 300), RepUsage("d", 0, 0)]
    # by days: d a b c (0 1 2 3), by interactions: d b a c (0 1 2 3) → a 1.5, b 1.5, c 3, d 0 → d a b c
    assert demo_records.skills(team) == {"d": 0.0, "a": 1 / 3, "b": 2 / 3, "c": 1.0}
    assert demo_records.skills([RepUsage("x", 1, 1)]) == {"x": 0.5}


def test_plan_is_deterministic_and_sized():
    first = plan()
    assert plan() == first
    assert plan(seed=7) != first
    assert list(first) == list(KINDS)
    sizes = {kind: len(items) for kind, items in first.items()}
    # the window is 2025-12-19 … 2026-03-18: team rows Dec … Jun (3 months after March), rep rows Jan … Mar
    assert sizes == {"products": 25, "accounts": 120, "deals": 600, "activities": 3000, "targets": 7 + 12 * 3}
    assert len({d["external_id"] for d in first["deals"]}) == 600
    assert plan(accounts=10, deals=20, activities=50)["activities"].__len__() == 50


def test_every_item_passes_the_batch_validation_and_references_resolve():
    items = plan()
    for kind in KINDS:
        for raw in items[kind]:
            row, errors = parse_record(kind, raw, tz=TZ)
            assert row is not None, (kind, raw, errors)
    products = {p["external_id"] for p in items["products"]}
    accounts = {a["external_id"]: a for a in items["accounts"]}
    deals = {d["external_id"]: d for d in items["deals"]}
    reps = {r.external_id for r in TEAM}
    for account in items["accounts"]:
        assert account["owner"] in reps | {None}
    for deal in items["deals"]:
        assert deal["account"] in accounts and deal["owner"] in reps
        assert {line["product"] for line in deal["line_items"]} <= products
        assert accounts[deal["account"]]["created_at"] < deal["created_at"]
        assert accounts[deal["account"]]["status"] == "active"
    for activity in items["activities"]:
        assert activity["owner"] in reps
        assert activity["account"] is None or activity["account"] in accounts
        if activity["deal"] is not None:
            assert activity["account"] == deals[activity["deal"]]["account"]
    for target in items["targets"]:
        assert target["owner"] in reps | {None}


def test_deals_follow_their_stages_and_carry_the_flaws_to_clean():
    items = plan()
    first_day = ANCHOR - timedelta(days=89)
    states = Counter(d["state"] for d in items["deals"])
    assert states["won"] > 100 and states["lost"] > 100 and states["open"] > 150
    for deal in items["deals"]:
        history = deal["stage_history"]
        moments = [datetime.fromisoformat(e["entered_at"]) for e in history]
        assert moments == sorted(moments) and moments[0] == datetime.fromisoformat(deal["created_at"])
        assert history[-1]["stage"] == deal["stage"] and deal["probability"] == PROBABILITY[deal["stage"]]
        assert all(m <= NOW for m in moments)
        if deal["amount"] is not None and deal["line_items"]:  # the amount is its lines'
            assert round(float(deal["amount"]) * 100) == sum(
                round(float(x["amount"]) * 100) for x in deal["line_items"]
            )
        if deal["state"] != "open":
            assert first_day <= date.fromisoformat(deal["close_date"]) <= ANCHOR
            assert deal["stage"] == (WON_STAGE if deal["state"] == "won" else LOST_STAGE)[0]
    open_deals = [d for d in items["deals"] if d["state"] == "open"]
    past_due = [d for d in open_deals if d["close_date"] and date.fromisoformat(d["close_date"]) < ANCHOR]
    stuck = [
        d for d in open_deals if datetime.fromisoformat(d["stage_history"][-1]["entered_at"]) < NOW - timedelta(31)
    ]
    future = [d for d in open_deals if d["close_date"] and date.fromisoformat(d["close_date"]) > ANCHOR]
    assert 10 <= len(past_due) <= 60 and 15 <= len(stuck) <= 60
    assert max(date.fromisoformat(d["close_date"]) for d in future) > ANCHOR + timedelta(days=60)
    assert 1 <= sum(d["close_date"] is None for d in open_deals) <= 20
    assert 5 <= sum(d["amount"] is None for d in items["deals"]) <= 40
    assert {d["forecast_category"] for d in open_deals} == {"pipeline", "best_case", "commit", "omitted"}
    # idle: open deals without a completed activity in the 14 days to today
    recent = {
        a["deal"]
        for a in items["activities"]
        if a["completed"] and datetime.fromisoformat(a["occurred_at"]).date() > ANCHOR - timedelta(days=14)
    }
    idle = [d for d in open_deals if d["external_id"] not in recent]
    assert len(stuck) <= len(idle) <= len(open_deals) // 2


def test_accounts_have_names_in_two_languages_and_exactly_the_planned_duplicates():
    accounts = plan()["accounts"]
    keys = Counter(duplicate_key(a["name"]) for a in accounts)
    assert {k for k, n in keys.items() if n > 1} == {duplicate_key(group[0][0]) for group in DUPLICATES}
    assert {k: n for k, n in keys.items() if n > 1} == {"zylker tech": 2, "智云科技": 2, "acme industrial": 2}
    chinese = [a for a in accounts if any("\u4e00" <= ch <= "\u9fff" for ch in a["name"])]
    assert 45 <= len(chinese) <= 75
    assert sum(a["owner"] is None for a in accounts) == 2
    assert 5 <= sum(a["status"] == "dormant" for a in accounts) <= 25
    assert len({a["industry"] for a in accounts}) >= 8 and len({a["country"] for a in accounts}) >= 6


def test_activities_are_mostly_completed_and_never_completed_in_the_future():
    activities = plan()["activities"]
    assert {a["kind"] for a in activities} == {"call", "email", "meeting", "message", "task"}
    completed = [a for a in activities if a["completed"]]
    assert 0.88 < len(completed) / len(activities) < 0.97
    assert all(datetime.fromisoformat(a["occurred_at"]) <= NOW for a in completed)
    assert all(datetime.fromisoformat(a["occurred_at"]).date() >= ANCHOR - timedelta(days=89) for a in completed)


def test_heavier_crm_users_sell_more():
    items = plan()
    won: dict[str, int] = defaultdict(int)
    closed: Counter[str] = Counter()
    for deal in items["deals"]:
        if deal["state"] != "open":
            closed[deal["owner"]] += 1
        if deal["state"] == "won":
            won[deal["owner"]] += round(float(deal["amount"] or 0) * 100)
    activities = Counter(a["owner"] for a in items["activities"])
    usage = [r.interactions for r in TEAM]
    assert spearman(usage, [won[r.external_id] for r in TEAM]) > 0.7
    assert spearman(usage, [activities[r.external_id] for r in TEAM]) > 0.7
    assert spearman(usage, [closed[r.external_id] for r in TEAM]) > 0.5
    # the team's targets are near what it sells: 30 days' worth of the window's revenue, +5 %
    team = {t["month"]: t for t in items["targets"] if t["owner"] is None}
    per_30_days = sum(won.values()) / 3
    assert 0.8 < round(float(team["2026-03"]["revenue_quota"]) * 100) / per_30_days < 1.4
    rep_rows = [t for t in items["targets"] if t["owner"] == "r12" or t["owner"] == "r01"]
    quota = {t["owner"]: float(t["revenue_quota"]) for t in rep_rows if t["month"] == "2026-03"}
    assert quota["r12"] > 2 * quota["r01"]


def test_a_team_of_one_and_a_window_of_one_day():
    items = plan(team=[RepUsage("solo", 0, 0)], days=1)
    assert {d["owner"] for d in items["deals"]} == {"solo"}
    assert all(d["close_date"] == ANCHOR.isoformat() for d in items["deals"] if d["state"] != "open")
    for kind in KINDS:
        assert all(parse_record(kind, raw, tz=TZ)[0] is not None for raw in items[kind])


def test_lighter_sales_reps_skip_the_power_features():
    users = [(f"s{i:02d}", "Sales Rep", float(i)) for i in range(40)] + [("admin", "Administrator", 0.1)]
    skipped = demo_records.basics_only(users)
    assert "admin" not in skipped and demo_records.basics_only(users) == skipped
    light = [skipped.get(f"s{i:02d}", set()) for i in range(8)]
    heavy = [skipped.get(f"s{i:02d}", set()) for i in range(32, 40)]
    assert all(features == set(POWER_FEATURES) for features in light[:3])
    assert not any(heavy)


# --- seed_demo -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_creates_the_records_through_the_batch_path(make_workspace, member_client):
    other, _ = make_workspace("other")  # its users and records must never be used
    crm_users(other, [{"external_id": "u0002", "role": "Sales Rep", "created_at": "2020-01-01"}])
    if connection.vendor == "postgresql":  # statistics of empty tables, as after earlier tests (CI hung)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE records_deal, records_deallineitem, records_account")
    lines, _ = run("seed_demo", "--users", "24", "--days", "30", "--events", "6000")
    assert any(line.startswith("Created CRM records of a sales team of") for line in lines)
    ws = Workspace.objects.get(slug="zylker")
    if connection.vendor == "postgresql":  # the refresh was planned with the loaded row counts
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'records_deal'")
            assert cursor.fetchone()[0] == Deal.objects.count()
    assert ws.currency == "USD"
    today = ws.today()
    counts = {m.__name__: m.objects.filter(workspace=ws).count() for m in (Account, Product, Deal, Activity)}
    assert counts == {"Account": 120, "Product": 25, "Deal": 600, "Activity": 3000}
    assert Target.objects.filter(workspace=ws, owner=None).count() == 5  # 2 months of window + 3 ahead
    assert DealLineItem.objects.filter(deal__workspace=ws).count() > 600
    assert DealStageChange.objects.filter(deal__workspace=ws).count() > 1200
    assert not Account.objects.filter(workspace=other).exists()

    # owners: the workspace's Sales Reps, registered before the window, not deactivated
    owners = CrmUser.objects.filter(id__in=Deal.objects.filter(workspace=ws).values("owner_id"))
    assert owners.exists() and set(owners.values_list("workspace_id", flat=True)) == {ws.id}
    assert set(owners.values_list("role", flat=True)) == {"Sales Rep"}
    assert not owners.filter(status=CrmUser.Status.DEACTIVATED).exists()
    activity_owners = set(Activity.objects.filter(workspace=ws).values_list("owner_id", flat=True))
    assert activity_owners == set(owners.values_list("id", flat=True))

    # the aggregates are filled and equal a recomputation from the raw records
    assert not RecordsDirty.objects.filter(workspace=ws).exists()
    figures = {f.account_id: f for f in AccountFigures.objects.filter(workspace=ws)}
    assert len(figures) == 120
    expected: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for account_id, state, amount in Deal.objects.filter(workspace=ws).values_list(
        "account_id", "state", "amount_cents"
    ):
        if state == "won":
            expected[account_id][0] += amount or 0
            expected[account_id][1] += 1
        elif state == "open":
            expected[account_id][2] += amount or 0
    for account_id, fig in figures.items():
        assert [fig.revenue_cents, fig.won_deals, fig.open_pipeline_cents] == expected[account_id]
    by_day = Counter()
    for day, state, amount in (
        Deal.objects.filter(workspace=ws).exclude(close_date=None).values_list("close_date", "state", "amount_cents")
    ):
        by_day[(day, state)] += amount or 0
    stored = Counter()
    for day, state, amount in DealDayFigures.objects.filter(workspace=ws).values_list("day", "state", "amount_cents"):
        stored[(day, state)] += amount
    assert stored == by_day
    completed = Activity.objects.filter(workspace=ws, completed=True).count()
    assert RepDayActivity.objects.filter(workspace=ws).aggregate(n=Sum("activities"))["n"] == completed

    # the heavier CRM users among the reps sell more (rank correlation over the window)
    start = today - timedelta(days=29)
    usage = dict(
        UserDay.objects.filter(workspace=ws, day__gte=start)
        .values("crm_user_id")
        .annotate(n=Sum("events"))
        .values_list("crm_user_id", "n")
    )
    revenue = dict(
        Deal.objects.filter(workspace=ws, state="won")
        .values("owner_id")
        .annotate(n=Sum("amount_cents"))
        .values_list("owner_id", "n")
    )
    reps = sorted(activity_owners)
    assert len(reps) >= 5
    assert spearman([usage.get(r, 0) for r in reps], [revenue.get(r, 0) for r in reps]) > 0.3
    # … and more of the power features: the best half uses more of them than the other half
    ranked = sorted(reps, key=lambda r: (-revenue.get(r, 0), r))
    half = len(ranked) // 2
    used = Counter(
        Event.objects.filter(workspace=ws, crm_user_id__in=reps, feature__key__in=list(POWER_FEATURES))
        .values_list("crm_user_id", "feature__key")
        .distinct()
        .values_list("crm_user_id", flat=True)
    )
    assert sum(used[r] for r in ranked[:half]) > sum(used[r] for r in ranked[-half:])

    # a second run keeps everything as it is
    before = {m.__name__: m.objects.filter(workspace=ws).count() for m in (Account, Deal, Activity, Target)}
    deal_ids = set(Deal.objects.filter(workspace=ws).values_list("id", flat=True))
    lines, _ = run("seed_demo", "--users", "24", "--days", "30", "--events", "6000")
    assert any("already exists" in line for line in lines)
    assert not any(line.startswith("Created CRM records") for line in lines)
    assert {m.__name__: m.objects.filter(workspace=ws).count() for m in (Account, Deal, Activity, Target)} == before
    assert set(Deal.objects.filter(workspace=ws).values_list("id", flat=True)) == deal_ids

    # the page of a rep works on the demo's data (the adoption page, when it is built)
    try:
        url = reverse("api-sales-adoption-outcome", kwargs={"slug": "zylker"})
    except NoReverseMatch:
        return
    client = member_client(ws, Membership.Role.VIEWER)
    answer = client.get(url, {"start": start.isoformat(), "end": today.isoformat()})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert {row["rep"] for row in body["reps"]} == set(
        CrmUser.objects.filter(id__in=reps).values_list("external_id", flat=True)
    )
    assert body["spearman"]["interactions"] > 0


@pytest.mark.django_db
def test_seed_demo_adds_records_to_a_demo_without_them_and_reset_replaces_them():
    run("seed_demo", "--users", "12", "--days", "10", "--events", "1500")
    ws = Workspace.objects.get(slug="zylker")
    # a demo workspace from before the records: they are added on the next run, from its users
    for model in (Activity, Deal, Target, Account, Product):
        model.objects.filter(workspace=ws).delete()
    lines, _ = run("seed_demo", "--users", "12", "--days", "10", "--events", "1500")
    assert any(line.startswith("Created CRM records") for line in lines)
    assert Deal.objects.filter(workspace=ws).count() == 600
    assert not RecordsDirty.objects.filter(workspace=ws).exists()
    old = set(Deal.objects.filter(workspace=ws).values_list("id", flat=True))

    run("seed_demo", "--users", "3", "--days", "5", "--events", "300", "--reset")
    ws = Workspace.objects.get(slug="zylker")
    assert Deal.objects.filter(workspace=ws).count() == 600
    assert not set(Deal.objects.filter(id__in=old).values_list("id", flat=True))
    owners = set(Deal.objects.filter(workspace=ws).values_list("owner__workspace_id", flat=True))
    assert owners == {ws.id}
    assert Account.objects.count() == 120 and AccountFigures.objects.count() == 120
    assert UserDay.objects.filter(workspace=ws).aggregate(n=Count("id"))["n"] > 0 and datetime.now(
        UTC
    ).date() - ws.today() <= timedelta(days=1)
