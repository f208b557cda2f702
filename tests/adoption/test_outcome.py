"""Adoption × outcome (API.md ``sales/adoption-outcome``, DESIGN.md section 6): a hand-checked scenario
through the selector, the API, the CSV, the page and the chart JSON; Spearman and quartile edge cases;
errors and isolation."""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from adoption.queries import AdoptionQuery
from adoption.selectors import adoption_outcome, average_ranks, quartile_cut, spearman_rho
from records.models import RecordsDirty
from tenancy.models import Membership, Workspace
from tests.conftest import crm_records, crm_users, journeys

pytestmark = pytest.mark.django_db

PERIOD = {"start": "2026-06-01", "end": "2026-06-30"}
API = "/api/v1/workspaces/{}/sales/adoption-outcome"


def account(external_id: str, owner: str | None = None) -> dict[str, Any]:
    return {"external_id": external_id, "name": f"Account {external_id}", "owner": owner, "created_at": "2026-01-05"}


def deal(external_id: str, owner: str, amount: Any, state: str, close: str | None, **extra: Any) -> dict[str, Any]:
    return {"external_id": external_id, "account": "A1", "name": external_id, "owner": owner, "amount": amount,
            "stage": "Closed" if state != "open" else "Proposal", "created_at": "2026-04-01T09:00:00+00:00",
            "close_date": close, "state": state, **extra}  # fmt: skip


def activity(external_id: str, owner: str, kind: str, at: str, completed: bool = True) -> dict[str, Any]:
    return {"external_id": external_id, "kind": kind, "owner": owner, "occurred_at": at, "completed": completed}


@pytest.fixture
def acme(make_workspace: Any) -> Workspace:
    return build_acme(make_workspace("acme", tz="UTC")[0])


def build_acme(workspace: Workspace) -> Workspace:
    """UTC, June 2026. Reps r1…r5 (owners of a deal or an activity); u9 uses the CRM but owns nothing.

    Results in June (won deals closing in it; completed activities):
      r1: D1 1000.00 (Jun 10) + D2 500.50 (Jun 20) won; D8 100.00 won May 31 (outside)
          → revenue 1500.50, 2 won; calls Jun 2 and Jun 3 completed, one not completed → 2 activities
      r2: D3 800.00 won Jun 5; D10 700.00 won Jun 6 but deleted → 800.00, 1 won, 0 activities
      r3: D4 800.00 won Jun 30; D9 won Jun 15 without an amount (adds 0, still a deal) → 800.00, 2 won
      r4: D5 300.00 won Jul 1 (outside), D6 lost Jun 12, D7 open; email Jul 2 (outside) → 0.00, 0, 0
      r5: no deal; a meeting Jun 12 → 0.00, 0 won, 1 activity
    Usage in June (DESIGN.md section 3; timeout 15 min):
      r1: Jun 2 09:00 Leads view, 09:10 Deals edit; Jun 3 10:00 Reports view
          → attendance 2, sessions 10 min + 0 = 10.0 min, features 3, interactions 3
      r2: Jun 4 08:00 Leads view, 08:05 Leads create, 08:20 Deals view (a 15-minute gap is not longer
          than the timeout: one session) → 1 day, 20.0 min, 2 features, 3 interactions
      r3: Jun 6, 7, 8 at 14:00: Reports view, Reports export, Leads view → 3 days, 0.0, 2, 3
      r4: Jun 9 09:00 and 09:30 Calendar views (two sessions) → 1, 0.0, 1, 2
      r5: May 20 Leads view only (outside) → 0, 0.0, 0, 0
      u9: Tasks in June, not a rep: never listed, its feature never counted.

    Revenue desc, ties by id: r1 150050, r2 80000, r3 80000, r4 0, r5 0.
    Average ranks of revenue (ascending): r4 = r5 = (1+2)/2 = 1.5, r2 = r3 = (3+4)/2 = 3.5, r1 = 5.
    Spearman (Pearson on ranks; mean rank 3; revenue deviations r1..r5 = 2, .5, .5, −1.5, −1.5, Σd² = 9):
      attendance 2,1,3,1,0 → ranks 4, 2.5, 5, 2.5, 1 → dev 1, −.5, 2, −.5, −2 (Σd² 9.5);
          Σ products 2 − .25 + 1 + .75 + 3 = 6.5 → 6.5 / √(9.5·9) = 0.70296 → 0.703
      minutes 10,20,0,0,0 → ranks 4, 5, 2, 2, 2 → dev 1, 2, −1, −1, −1 (Σd² 8);
          Σ 2 + 1 − .5 + 1.5 + 1.5 = 5.5 → 5.5 / √72 = 0.64818 → 0.648
      features 3,2,2,1,0 → ranks 5, 3.5, 3.5, 2, 1 → dev 2, .5, .5, −1, −2 (Σd² 9.5);
          Σ 4 + .25 + .25 + 1.5 + 3 = 9 → 9 / √85.5 = 0.97333 → 0.973
      interactions 3,3,3,2,0 → ranks 4, 4, 4, 2, 1 → dev 1, 1, 1, −1, −2 (Σd² 8);
          Σ 2 + .5 + .5 + 1.5 + 3 = 7.5 → 7.5 / √72 = 0.88388 → 0.884
    Quartiles: n = 5, ⌈5/4⌉ = 2; 2nd highest 80000 → top r1, r2, r3 (r3 ties in); 2nd lowest 0 →
    bottom r4, r5.
    Features (top 3 reps, bottom 2): Leads 3/3 = 100.0 vs 0/2 = 0.0 → 100.0; Deals 2/3 = 66.7 vs 0.0 →
    66.7; Reports 66.7 vs 0.0 → 66.7 (tie: Deals before Reports); Calendar 0.0 vs 1/2 = 50.0 → −50.0.
    """
    crm_users(workspace, [{"external_id": f"r{n}", "name": f"Rep {n}", "country": "CN" if n % 2 else "IN"}
                          for n in range(1, 6)] + [{"external_id": "u9", "name": "Not a rep"}])  # fmt: skip
    crm_records(workspace, "accounts", [account("A1", "r1")])
    crm_records(
        workspace,
        "deals",
        [
            deal("D1", "r1", "1000.00", "won", "2026-06-10"),
            deal("D2", "r1", "500.50", "won", "2026-06-20"),
            deal("D8", "r1", 100, "won", "2026-05-31"),
            deal("D3", "r2", 800, "won", "2026-06-05"),
            deal("D10", "r2", 700, "won", "2026-06-06", deleted=True),
            deal("D4", "r3", 800, "won", "2026-06-30"),
            deal("D9", "r3", None, "won", "2026-06-15"),
            deal("D5", "r4", 300, "won", "2026-07-01"),
            deal("D6", "r4", 999, "lost", "2026-06-12"),
            deal("D7", "r4", 50, "open", "2026-08-01"),
        ],
    )
    crm_records(
        workspace,
        "activities",
        [
            activity("C1", "r1", "call", "2026-06-02T10:00:00+00:00"),
            activity("C2", "r1", "call", "2026-06-03T10:00:00+00:00"),
            activity("C3", "r1", "call", "2026-06-04T10:00:00+00:00", completed=False),
            activity("C4", "r4", "email", "2026-07-02T10:00:00+00:00"),
            activity("C5", "r5", "meeting", "2026-06-12T10:00:00+00:00"),
        ],
    )
    journeys(
        workspace,
        [
            ("r1", "2026-06-02T09:00:00+00:00", "Leads", "view"),
            ("r1", "2026-06-02T09:10:00+00:00", "Deals", "edit"),
            ("r1", "2026-06-03T10:00:00+00:00", "Reports", "view"),
            ("r2", "2026-06-04T08:00:00+00:00", "Leads", "view"),
            ("r2", "2026-06-04T08:05:00+00:00", "Leads", "create"),
            ("r2", "2026-06-04T08:20:00+00:00", "Deals", "view"),
            ("r3", "2026-06-06T14:00:00+00:00", "Reports", "view"),
            ("r3", "2026-06-07T14:00:00+00:00", "Reports", "export"),
            ("r3", "2026-06-08T14:00:00+00:00", "Leads", "view"),
            ("r4", "2026-06-09T09:00:00+00:00", "Calendar", "view"),
            ("r4", "2026-06-09T09:30:00+00:00", "Calendar", "view"),
            ("r5", "2026-05-20T09:00:00+00:00", "Leads", "view"),
            ("u9", "2026-06-09T09:00:00+00:00", "Tasks", "view"),
            ("u9", "2026-06-10T09:00:00+00:00", "Tasks", "view"),
        ],
    )
    return workspace


@pytest.fixture
def other(make_workspace: Any) -> Workspace:
    """Another workspace with the same external ids and other figures: nothing may cross."""
    workspace = make_workspace("other", tz="UTC")[0]
    crm_users(workspace, [{"external_id": f"r{n}"} for n in range(1, 4)])
    crm_records(workspace, "accounts", [account("A1", "r1")])
    crm_records(workspace, "deals", [deal("D1", "r3", 99999, "won", "2026-06-10"),
                                     deal("D2", "r2", 5, "won", "2026-06-11")])  # fmt: skip
    crm_records(workspace, "activities", [activity("C1", "r1", "task", "2026-06-02T10:00:00+00:00")])
    journeys(workspace, [("r3", "2026-06-02T09:00:00+00:00", "Secret", "view"),
                         ("r1", "2026-06-05T09:00:00+00:00", "Leads", "view")])  # fmt: skip
    return workspace


EXPECTED_REPS = [
    {"rep": "r1", "attendance_days": 2, "session_minutes": 10.0, "features_used": 3, "interactions": 3,
     "revenue": "1500.50", "deals_won": 2, "activities": 2},
    {"rep": "r2", "attendance_days": 1, "session_minutes": 20.0, "features_used": 2, "interactions": 3,
     "revenue": "800.00", "deals_won": 1, "activities": 0},
    {"rep": "r3", "attendance_days": 3, "session_minutes": 0.0, "features_used": 2, "interactions": 3,
     "revenue": "800.00", "deals_won": 2, "activities": 0},
    {"rep": "r4", "attendance_days": 1, "session_minutes": 0.0, "features_used": 1, "interactions": 2,
     "revenue": "0.00", "deals_won": 0, "activities": 0},
    {"rep": "r5", "attendance_days": 0, "session_minutes": 0.0, "features_used": 0, "interactions": 0,
     "revenue": "0.00", "deals_won": 0, "activities": 1},
]  # fmt: skip
EXPECTED_SPEARMAN = {"attendance_days": 0.703, "session_minutes": 0.648, "features_used": 0.973, "interactions": 0.884}
EXPECTED_FEATURES = [
    {"feature": "Leads", "top_pct": 100.0, "bottom_pct": 0.0, "gap_pts": 100.0},
    {"feature": "Deals", "top_pct": 66.7, "bottom_pct": 0.0, "gap_pts": 66.7},
    {"feature": "Reports", "top_pct": 66.7, "bottom_pct": 0.0, "gap_pts": 66.7},
    {"feature": "Calendar", "top_pct": 0.0, "bottom_pct": 50.0, "gap_pts": -50.0},
]


def login(client: Client, workspace: Workspace | None, username: str = "ann") -> None:
    user, _ = get_user_model().objects.get_or_create(username=username)
    if workspace is not None:
        Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": "viewer"})
    client.force_login(user)


def text_of(html: str) -> str:
    html = re.sub(r"<(script|style|template)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def table(html: str, table_id: str) -> str:
    match = re.search(rf'<table class="table table--compact" id="{table_id}">(.*?)</table>', html, flags=re.S)
    assert match, table_id
    return match.group(1)


# --- the hand-checked scenario ---------------------------------------------------------------------------


def test_the_api_answers_the_hand_checked_figures(acme, other, member_client):
    body = member_client(acme).get(API.format("acme"), PERIOD).json()
    assert body["period"] == {"start": "2026-06-01", "end": "2026-06-30"}
    assert body["currency"] == "USD"
    assert body["reps"] == EXPECTED_REPS
    assert body["spearman"] == EXPECTED_SPEARMAN
    assert body["top_quartile"] == [{"rep": "r1"}, {"rep": "r2"}, {"rep": "r3"}]
    assert body["bottom_quartile"] == [{"rep": "r4"}, {"rep": "r5"}]
    assert body["features"] == EXPECTED_FEATURES


def test_the_other_workspace_has_its_own_figures(acme, other, member_client):
    # other: r3 99999.00 won, r2 5.00 won, r1 a task (a rep with 0); r3 and r1 used the CRM once each.
    body = member_client(other).get(API.format("other"), PERIOD).json()
    assert [(r["rep"], r["revenue"], r["deals_won"], r["activities"], r["interactions"]) for r in body["reps"]] == [
        ("r3", "99999.00", 1, 0, 1),
        ("r2", "5.00", 1, 0, 0),
        ("r1", "0.00", 0, 1, 1),
    ]
    # n = 3, ⌈3/4⌉ = 1: top r3, bottom r1. Secret: r3 yes, r1 no → +100.0; Leads: r1 only → −100.0.
    assert body["top_quartile"] == [{"rep": "r3"}] and body["bottom_quartile"] == [{"rep": "r1"}]
    assert body["features"] == [
        {"feature": "Secret", "top_pct": 100.0, "bottom_pct": 0.0, "gap_pts": 100.0},
        {"feature": "Leads", "top_pct": 0.0, "bottom_pct": 100.0, "gap_pts": -100.0},
    ]
    # interactions 1, 0, 1 against revenue ranks 3, 2, 1: ranks 2.5, 1, 2.5 → dev .5, −1, .5 and 1, 0, −1
    # → Σ = 0 → rho 0.0. Attendance is the same series; minutes are all 0 (constant) → null.
    assert body["spearman"] == {"attendance_days": 0.0, "session_minutes": None, "features_used": 0.0,
                                "interactions": 0.0}  # fmt: skip


def test_the_selector_gives_the_same_rows(acme):
    query = AdoptionQuery.parse(PERIOD, workspace=acme)
    outcome = adoption_outcome(query)
    assert [(r.rep, r.name, r.revenue_cents) for r in outcome.reps] == [
        ("r1", "Rep 1", 150050), ("r2", "Rep 2", 80000), ("r3", "Rep 3", 80000), ("r4", "Rep 4", 0),
        ("r5", "Rep 5", 0),
    ]  # fmt: skip
    assert [(g.feature, g.top_reps, g.bottom_reps) for g in outcome.features] == [
        ("Leads", 3, 0), ("Deals", 2, 0), ("Reports", 2, 0), ("Calendar", 0, 1),
    ]  # fmt: skip


def test_the_user_filters_narrow_the_reps(acme, member_client):
    # CN: r1, r3, r5 → revenue 150050, 80000, 0; ⌈3/4⌉ = 1 → top r1, bottom r5.
    body = member_client(acme).get(API.format("acme"), {**PERIOD, "country": "CN"}).json()
    assert [r["rep"] for r in body["reps"]] == ["r1", "r3", "r5"]
    assert body["top_quartile"] == [{"rep": "r1"}] and body["bottom_quartile"] == [{"rep": "r5"}]
    # attendance 2, 3, 0 vs revenue ranks 3, 2, 1: ranks 2, 3, 1 → dev 0, 1, −1 and 1, 0, −1 → 1 / 2 = 0.5
    assert body["spearman"]["attendance_days"] == 0.5


def test_the_default_period_is_the_30_days_to_today(acme, member_client):
    body = member_client(acme).get(API.format("acme")).json()
    today = acme.today()
    assert body["period"]["end"] == today.isoformat()
    assert [r["revenue"] for r in body["reps"]] == ["0.00"] * 5  # June is long gone: every rep, nothing won


def test_csv_is_the_reps_table(acme, member_client):
    answer = member_client(acme).get(API.format("acme"), {**PERIOD, "format": "csv"})
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    assert 'filename="acme-adoption-outcome.csv"' in answer["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [dict(r) for r in rows] == [{k: str(v) for k, v in r.items()} for r in EXPECTED_REPS]


def test_csv_without_reps_keeps_its_header(make_workspace, member_client):
    make_workspace("empty")
    ws = Workspace.objects.get(slug="empty")
    answer = member_client(ws).get(API.format("empty"), {**PERIOD, "format": "csv"})
    header = answer.content.decode("utf-8-sig").splitlines()[0]
    assert header == "rep,attendance_days,session_minutes,features_used,interactions,revenue,deals_won,activities"


# --- Spearman and quartiles -------------------------------------------------------------------------------


def test_average_ranks_share_tied_positions():
    assert average_ranks([]) == []
    assert average_ranks([10, 20, 20, 30]) == [1, 2.5, 2.5, 4]
    assert average_ranks([5, 5, 5]) == [2, 2, 2]
    assert average_ranks([3.5, 1.0, 3.5, 0.0, 1.0]) == [4.5, 2.5, 4.5, 1, 2.5]


def test_spearman_edge_cases():
    assert spearman_rho([], []) is None
    assert spearman_rho([1, 2], [1, 2]) is None  # fewer than 3 reps
    assert spearman_rho([1, 2, 3], [5, 5, 5]) is None  # constant revenue
    assert spearman_rho([0, 0, 0], [1, 2, 3]) is None  # constant usage
    assert spearman_rho([1, 2, 3], [10, 20, 30]) == 1.0
    assert spearman_rho([1, 2, 3], [30, 20, 10]) == -1.0
    assert spearman_rho([1, 2, 3, 4], [1, 3, 2, 4]) == 0.8  # 1 − 6·2 / (4·15)
    # Ties: ranks 1.5, 1.5, 3 and 1, 2, 3 → dev −.5, −.5, 1 and −1, 0, 1 → 1.5 / √(1.5·2) = 0.866
    assert spearman_rho([7, 7, 9], [1, 2, 3]) == 0.866
    assert spearman_rho([1, 2, 3], [2, 1, 2]) == 0.0  # never "-0.0"
    assert str(spearman_rho([1, 2, 3], [2, 1, 2])) == "0.0"


def test_quartile_thresholds():
    assert quartile_cut([]) is None
    assert quartile_cut([7]) == (7, 7)  # one rep is both
    assert quartile_cut([1, 2, 3, 4]) == (4, 1)  # ⌈4/4⌉ = 1
    assert quartile_cut([1, 2, 3, 4, 5]) == (4, 2)  # ⌈5/4⌉ = 2
    # ⌈9/4⌉ = 3: the 3rd highest is 5 (five reps join the top), the 3rd lowest 1 (0, 0, 1, 1 the bottom)
    assert quartile_cut([5, 5, 5, 5, 5, 1, 1, 0, 0]) == (5, 1)


def test_two_reps_have_no_correlation_and_are_each_a_quartile(make_workspace, member_client):
    ws = make_workspace("two")[0]
    crm_users(ws, [{"external_id": "a"}, {"external_id": "b"}])
    crm_records(ws, "accounts", [account("A1")])
    crm_records(ws, "deals", [deal("D1", "a", 10, "won", "2026-06-03"), deal("D2", "b", 20, "won", "2026-06-04")])
    journeys(ws, [("a", "2026-06-03T10:00:00+00:00", "Leads", "view")])
    body = member_client(ws).get(API.format("two"), PERIOD).json()
    assert body["spearman"] == dict.fromkeys(EXPECTED_SPEARMAN, None)
    assert body["top_quartile"] == [{"rep": "b"}] and body["bottom_quartile"] == [{"rep": "a"}]
    assert body["features"] == [{"feature": "Leads", "top_pct": 0.0, "bottom_pct": 100.0, "gap_pts": -100.0}]


def test_equal_revenue_puts_every_rep_in_both_quartiles(make_workspace, member_client):
    ws = make_workspace("flat")[0]
    crm_users(ws, [{"external_id": x} for x in "abc"])
    crm_records(ws, "accounts", [account("A1")])
    crm_records(ws, "deals", [deal(f"D{x}", x, 10, "won", "2026-06-03") for x in "abc"])
    journeys(ws, [("a", "2026-06-03T10:00:00+00:00", "Leads", "view")])
    body = member_client(ws).get(API.format("flat"), PERIOD).json()
    assert [r["rep"] for r in body["reps"]] == ["a", "b", "c"]  # equal revenue: by external id
    assert body["top_quartile"] == body["bottom_quartile"] == [{"rep": "a"}, {"rep": "b"}, {"rep": "c"}]
    assert body["spearman"] == dict.fromkeys(EXPECTED_SPEARMAN, None)  # constant revenue
    assert body["features"] == [{"feature": "Leads", "top_pct": 33.3, "bottom_pct": 33.3, "gap_pts": 0.0}]


# --- errors and access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-13-01"}, "start"),
        ({"start": "2026-06-10", "end": "2026-06-01"}, "start"),
        ({"end": "2999-01-01"}, "end"),
        ({"status": "asleep"}, "status"),
        ({"days": "0"}, "days"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(acme, member_client, params, field):
    answer = member_client(acme).get(API.format("acme"), params)
    assert answer.status_code == 400
    assert field in answer.json(), answer.json()


def test_non_members_and_anonymous_get_no_figures(acme, other, member_client):
    stranger = member_client(other, username="stranger")
    assert stranger.get(API.format("acme"), PERIOD).status_code == 404
    assert member_client(acme).get(API.format("nope"), PERIOD).status_code == 404
    assert Client().get(API.format("acme"), PERIOD).status_code in (401, 403)


# --- the page and its chart -------------------------------------------------------------------------------


def test_the_page_shows_the_figures_links_and_readings(acme, other, client):
    login(client, acme)
    answer = client.get(reverse("adoption-tab", kwargs={"slug": "acme"}), {**PERIOD, "rep": "r3"})
    assert answer.status_code == 200
    html = answer.content.decode()
    reps = table(html, "reps-table")
    assert re.findall(r'<tr data-rep="([^"]+)"', reps) == ["r1", "r2", "r3", "r4", "r5"]
    assert 'data-rep="r3" class="is-selected" id="highlighted-rep" aria-current="true"' in reps
    assert "$1,500.50" in reps and "$800.00" in reps
    row_r1 = text_of(re.search(r'<tr data-rep="r1".*?</tr>', reps, flags=re.S).group(0))
    assert row_r1 == "Rep 1 r1 Top quartile 2 10 min 3 3 $1,500.50 2 2"
    assert "Bottom quartile" in text_of(re.search(r'<tr data-rep="r5".*?</tr>', reps, flags=re.S).group(0))
    assert "users/r1/?start=2026-06-01&amp;end=2026-06-30" in reps  # the rep's usage page, same period
    spearman = text_of(table(html, "spearman-table"))
    assert "Attendance days 0.703 strong" in spearman
    assert "Session minutes 0.648 moderate" in spearman
    assert "Features used 0.973 strong Reps with more features used tend to bring in more revenue." in spearman
    features = text_of(table(html, "features-table"))
    assert "Leads 100.0% 0.0% +100.0 used by 100% of top reps, 0% of bottom reps" in features
    assert "Calendar 0.0% 50.0% -50.0 used by 0% of top reps, 50% of bottom reps" in features
    assert "Secret" not in html and "Tasks" not in html  # the other workspace's, and a non-rep's
    assert "/api/v1/workspaces/acme/sales/adoption-outcome?start=2026-06-01&amp;end=2026-06-30&amp;format=csv" in html
    assert 'data-chart-type="scatter"' in html
    assert "still being processed" not in html


def test_the_chart_json_draws_every_rep(acme, client):
    login(client, acme)
    url = reverse("adoption-chart-scatter", kwargs={"slug": "acme"})
    data = client.get(url, {**PERIOD, "figure": "session_minutes", "rep": "r2"}).json()
    assert data["labels"][0] == "Rep 1 (r1) · Session minutes: 10.0"
    (dataset,) = data["datasets"]
    assert dataset["data"] == [{"x": 10.0, "y": 1500.5}, {"x": 20.0, "y": 800.0}, {"x": 0.0, "y": 800.0},
                               {"x": 0.0, "y": 0.0}, {"x": 0.0, "y": 0.0}]  # fmt: skip
    assert dataset["pointRadius"] == [5, 8, 5, 5, 5]  # r2 highlighted
    bad = client.get(url, {**PERIOD, "figure": "mood"})
    assert bad.status_code == 400 and "figure" in bad.json()["errors"]


def test_a_bad_page_parameter_is_a_400_with_the_message(acme, client):
    login(client, acme)
    url = reverse("adoption-tab", kwargs={"slug": "acme"})
    answer = client.get(url, {"start": "2026-02-30"})
    assert answer.status_code == 400
    assert "Enter a date as YYYY-MM-DD." in text_of(answer.content.decode())
    answer = client.get(url, {**PERIOD, "rep": "ghost"})
    assert answer.status_code == 400
    assert "Highlight rep: No CRM user has the external ID or email 'ghost'." in text_of(answer.content.decode())


def test_a_user_who_is_not_a_rep_is_said_so(acme, client):
    login(client, acme)
    html = client.get(reverse("adoption-tab", kwargs={"slug": "acme"}), {**PERIOD, "rep": "u9"}).content.decode()
    assert 'id="not-a-rep"' in html and "is-selected" not in html


def test_the_page_is_404_for_a_non_member_and_asks_anonymous_to_log_in(acme, other, client):
    url = reverse("adoption-tab", kwargs={"slug": "acme"})
    assert client.get(url).status_code == 302
    login(client, other, username="stranger")
    assert client.get(url).status_code == 404


def test_empty_states(make_workspace, client):
    ws = make_workspace("bare")[0]
    login(client, ws)
    url = reverse("adoption-tab", kwargs={"slug": "bare"})
    html = client.get(url).content.decode()
    assert "No deals yet — send them with POST /api/v1/records/deals/batch or manage.py import_records" in html
    assert "No events yet" in html
    crm_users(ws, [{"external_id": "a"}])
    crm_records(ws, "accounts", [account("A1")])
    crm_records(ws, "deals", [deal("D1", "a", 10, "won", "2026-06-03")])
    html = client.get(url).content.decode()
    assert "No deals yet" not in html and "No events yet" in html


def test_still_being_processed(acme, client):
    RecordsDirty.objects.create(workspace=acme, kind="close_day", key="2026-06-10")
    login(client, acme)
    html = client.get(reverse("adoption-tab", kwargs={"slug": "acme"}), PERIOD).content.decode()
    assert 'id="records-pending"' in html


def test_the_user_page_links_to_the_rep_row(acme, client):
    login(client, acme)
    html = client.get(reverse("users-detail", kwargs={"slug": "acme", "external_id": "r2"}), PERIOD).content.decode()
    match = re.search(r'<a href="([^"]+)">Sales results</a>', html)
    assert match
    link = unescape(match.group(1))
    assert link.startswith("/w/acme/sales/adoption/?rep=r2&start=2026-06-01&end=2026-06-30")
    assert client.get(link.split("#")[0]).status_code == 200


def test_csv_cells_never_run_as_formulas(make_workspace, member_client):
    ws = make_workspace("evil")[0]
    crm_users(ws, [{"external_id": "=1+1"}])
    crm_records(ws, "accounts", [account("A1")])
    crm_records(ws, "deals", [deal("D1", "=1+1", 10, "won", "2026-06-03")])
    text = member_client(ws).get(API.format("evil"), {**PERIOD, "format": "csv"}).content.decode("utf-8-sig")
    assert not any(cell.startswith("=") for row in csv.reader(io.StringIO(text)) for cell in row)
