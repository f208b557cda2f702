"""The voice's day aggregates (``FeedbackDayFigures``, ``FeedbackTermDayFigures``) against the feedback and
terms themselves: on random labelled feedback in two workspaces, every endpoint, unit, channel and period
answers the same read either way, through the real routes; after a feedback item is deleted or moved,
an account deleted and brought back, and the vocabulary changed (every text relabelled). The refresh
per marked day leaves the same rows as a rebuild from scratch."""

from __future__ import annotations

import random
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

import pytest

import perception.selectors.voice as voice_selectors
from events.periods import Period
from perception.selectors.voice import competitor_mentions, keywords, voice
from perception.voice_queries import KeywordQuery, VoiceQuery, VoiceUnitQuery
from records.aggregates import figures_rebuild, figures_refresh_dirty
from records.labelling import labels_store
from records.models import (
    Feedback,
    FeedbackDayFigures,
    FeedbackTerm,
    FeedbackTermDayFigures,
    FeedbackTermMonthFigures,
    PerceptionSettings,
    RecordsDirty,
)
from records.services import perception_settings_replace
from records.versions import records_changed
from records.vocabulary import Labels
from tests.conftest import crm_records

pytestmark = pytest.mark.django_db

FIRST = date(2026, 3, 1)
ACCOUNTS = ["A1", "A2", "A3", "A4"]
CHANNELS = ["email", "chat", "case"]
VOCABULARY = {
    "intents": {"a": ["x"], "b": ["y"], "c": ["z"]},
    "competitors": [{"name": "K1", "aliases": []}, {"name": "K2", "aliases": []}],
}
# Periods: one day, a week across the data's start, the data's days, a stretch beyond it; and whole months
# (read from the month aggregates) alone and with days before or after them.
PERIODS = [(FIRST, FIRST), (FIRST - timedelta(days=3), FIRST + timedelta(days=6)),
           (FIRST, FIRST + timedelta(days=19)), (FIRST + timedelta(days=15), FIRST + timedelta(days=40)),
           (FIRST, date(2026, 3, 31)), (date(2026, 2, 20), date(2026, 4, 30)), (FIRST, date(2026, 4, 5)),
           (date(2026, 2, 27), date(2026, 3, 31))]  # fmt: skip
UNITS = ["responses", "contacts", "accounts"]


def item(rng: random.Random, n: int) -> dict[str, Any]:
    return {"external_id": f"F{n}", "account": rng.choice([*ACCOUNTS, None]),
            "contact": rng.choice(["", "c1", "c2", "c3"]), "channel": rng.choice(CHANNELS), "text": f"t{n}",
            "received_at": f"{FIRST + timedelta(days=rng.randrange(20))}T10:00:00+00:00",
            "deleted": rng.random() < 0.1}  # fmt: skip


def label_all(rng: random.Random, workspace: Any, intents: list[str], competitors: list[str]) -> None:
    """Random labels for the workspace's texts (some left waiting), as the worker stores them."""
    keywords = ["k1", "k2", "k3", "k4", "k5"]
    labelled = [
        (f.pk, Labels(language="en", sentiment=rng.choice(["positive", "neutral", "negative"]),
                      intents=rng.sample(intents, rng.randrange(len(intents) + 1)),
                      competitors=rng.sample(competitors, rng.randrange(len(competitors) + 1)),
                      keywords=rng.sample(keywords, rng.randrange(4))))
        for f in Feedback.objects.filter(workspace=workspace)
        if rng.random() < 0.9
    ]  # fmt: skip
    labels_store(workspace, labelled)


def figure_rows(workspace: Any) -> tuple[list[tuple[Any, ...]], ...]:
    days = FeedbackDayFigures.objects.filter(workspace=workspace).values_list("day", "channel", "sentiment", "items")
    terms = FeedbackTermDayFigures.objects.filter(workspace=workspace).values_list(
        "day", "channel", "sentiment", "kind", "term", "items"
    )
    months = FeedbackTermMonthFigures.objects.filter(workspace=workspace).values_list(
        "month", "channel", "sentiment", "kind", "term", "items"
    )
    return sorted(days), sorted(terms), sorted(months)


def reads(workspace: Any) -> dict[str, Any]:
    """Every read of the voice for every period, channel and unit, from the selectors."""
    answers: dict[str, Any] = {}
    for start, end in PERIODS:
        period = Period(start, end, workspace.tzinfo)
        for channel in [None, *CHANNELS]:
            at = f"{start} {end} {channel}"
            for by in UNITS:
                answers[f"voice {by} {at}"] = asdict(
                    voice(VoiceUnitQuery.over(workspace, period, channel=channel, by=by))
                )
            answers[f"keywords {at}"] = [
                asdict(row) for row in keywords(KeywordQuery.over(workspace, period, channel=channel, limit=500))
            ]
            answers[f"mentions {at}"] = [
                asdict(row) for row in competitor_mentions(VoiceQuery.over(workspace, period, channel=channel))
            ]
    return answers


def routes(client: Any, slug: str) -> list[Any]:
    """A few reads through the real routes."""
    period = {"start": FIRST, "end": FIRST + timedelta(days=19)}
    answers = []
    for path, params in [("voice", {}), ("voice", {"by": "contacts", "channel": "chat"}), ("keywords", {}),
                         ("competitor-mentions", {"channel": "email"})]:  # fmt: skip
        answer = client.get(f"/api/v1/workspaces/{slug}/perception/{path}", {**period, **params})
        assert answer.status_code == 200, answer.content
        answers.append(answer.json())
    return answers


@pytest.fixture
def two(make_workspace, member_client):
    rng = random.Random(77)
    workspaces = [make_workspace(slug)[0] for slug in ("acme", "other")]
    for workspace in workspaces:
        PerceptionSettings.objects.create(workspace=workspace, **VOCABULARY)
        crm_records(
            workspace, "accounts", [{"external_id": a, "name": a, "created_at": "2025-01-01"} for a in ACCOUNTS]
        )
        crm_records(workspace, "feedback", [item(rng, n) for n in range(80)])
        label_all(rng, workspace, ["a", "b", "c"], ["K1", "K2"])
    return rng, workspaces, {w.slug: member_client(w, username=f"m-{w.slug}") for w in workspaces}


def check(workspaces: list[Any], clients: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Marks pending: the reads take the rows. Refreshed: the aggregates, which give the same answers as
    the rows, and are the rows a rebuild from scratch writes."""
    for workspace in workspaces:
        assert RecordsDirty.objects.filter(workspace=workspace, kind=RecordsDirty.Kind.FEEDBACK_DAY).exists()
        figures_refresh_dirty(workspace=workspace)
        assert not RecordsDirty.objects.filter(workspace=workspace).exists()
    taken = []
    real = voice_selectors._from_day_figures
    monkeypatch.setattr(voice_selectors, "_from_day_figures", lambda query: taken.append(real(query)) or taken[-1])
    raw_taken: list[bool] = []
    for workspace in workspaces:
        # A new records version before each path: the answers cached by the other (records/versions.py)
        # are not served to it, so each path really computes.
        records_changed(workspace.pk)
        fast, fast_routes = reads(workspace), routes(clients[workspace.slug], workspace.slug)
        assert taken and all(taken), "every read here may use the aggregates"
        with monkeypatch.context() as raw:
            raw_taken.clear()
            raw.setattr(voice_selectors, "_from_day_figures", lambda query: raw_taken.append(False) or False)
            records_changed(workspace.pk)
            assert fast == reads(workspace)
            assert fast_routes == routes(clients[workspace.slug], workspace.slug)
            assert raw_taken, "the rows were read"
        refreshed = figure_rows(workspace)
        assert all(refreshed)
        figures_rebuild(workspace=workspace)
        assert figure_rows(workspace) == refreshed


def test_the_day_aggregates_answer_as_the_rows_do(two, monkeypatch):
    rng, workspaces, clients = two
    acme, other = workspaces
    check(workspaces, clients, monkeypatch)

    # A feedback item deleted, others moved (channel, day, account, contact) or brought back.
    for workspace in workspaces:
        texts = list(Feedback.objects.filter(workspace=workspace, labelled_at__isnull=False).order_by("id"))
        moved = [{"external_id": f.external_id, "deleted": True} for f in texts[:3]]
        for row in (item(rng, int(f.external_id[1:])) for f in texts[3:15]):
            row.pop("text")
            moved.append(row)
        crm_records(workspace, "feedback", moved, refresh=False)
    check(workspaces, clients, monkeypatch)

    # An account deleted (in acme only), then brought back.
    crm_records(acme, "accounts", [{"external_id": "A1", "deleted": True}], refresh=False)
    assert not RecordsDirty.objects.filter(workspace=other).exists()
    crm_records(other, "feedback", [{"external_id": "F79", "channel": "note"}], refresh=False)
    check(workspaces, clients, monkeypatch)
    crm_records(acme, "accounts", [{"external_id": "A1", "deleted": False}, {"external_id": "A2", "deleted": True}],
                refresh=False)  # fmt: skip
    crm_records(other, "feedback", [{"external_id": "F79", "channel": "case"}], refresh=False)
    check(workspaces, clients, monkeypatch)

    # A new vocabulary: every text waits for its labels again, counted with its previous ones meanwhile,
    # then relabelled with the new terms.
    for workspace in workspaces:
        perception_settings_replace(
            workspace=workspace,
            intents={"a": ["x"], "d": ["w"]},
            competitors=[{"name": "K2", "aliases": []}, {"name": "K3", "aliases": []}],
        )
        label_all(rng, workspace, ["a", "d"], ["K2", "K3"])
    check(workspaces, clients, monkeypatch)


def test_a_pending_day_of_the_period_reads_the_rows(two, monkeypatch):
    """A day marked and not yet refreshed: that period's reads take the rows (current), others the
    aggregates; an account filter always takes the rows."""
    _rng, (acme, _other), clients = two
    figures_refresh_dirty(workspace=acme)
    texts = Feedback.objects.filter(workspace=acme, deleted=False, labelled_at__isnull=False)
    target = texts.filter(received_on=FIRST + timedelta(days=5)).first()
    assert target is not None
    before = clients["acme"].get("/api/v1/workspaces/acme/perception/voice", {"start": FIRST, "end": FIRST + timedelta(days=9)}).json()  # fmt: skip
    crm_records(acme, "feedback", [{"external_id": target.external_id, "deleted": True}], refresh=False)
    taken = []
    real = voice_selectors._from_day_figures
    monkeypatch.setattr(voice_selectors, "_from_day_figures", lambda query: taken.append(real(query)) or taken[-1])
    after = clients["acme"].get("/api/v1/workspaces/acme/perception/voice", {"start": FIRST, "end": FIRST + timedelta(days=9)}).json()  # fmt: skip
    assert taken == [False] and after["units"] == before["units"] - 1
    clients["acme"].get("/api/v1/workspaces/acme/perception/keywords", {"start": FIRST + timedelta(days=6), "end": FIRST + timedelta(days=9)})  # fmt: skip
    clients["acme"].get("/api/v1/workspaces/acme/perception/keywords", {"start": FIRST, "end": FIRST + timedelta(days=9), "account": "A1"})  # fmt: skip
    assert taken == [False, True, False]


def test_a_new_time_zone_moves_the_terms_with_their_feedback(two, monkeypatch):
    """The local dates recomputed (``rebuild_record_figures_task``): the terms take their feedback's new
    day, and the rebuilt aggregates answer as the rows do."""
    from records.aggregates import local_dates_recompute

    _rng, workspaces, clients = two
    acme = workspaces[0]
    acme.timezone = "Pacific/Kiritimati"  # +14: 10:00 UTC is the next day there
    acme.save()
    acme.refresh_from_db()
    local_dates_recompute(workspace=acme)
    figures_rebuild(workspace=acme)
    days = dict(Feedback.objects.filter(workspace=acme).values_list("id", "received_on"))
    assert days and all(day > FIRST for day in days.values())
    assert all(days[t.feedback_id] == t.received_on for t in FeedbackTerm.objects.filter(workspace=acme))
    fast = reads(acme)
    with monkeypatch.context() as raw:
        raw.setattr(voice_selectors, "_from_day_figures", lambda query: False)
        assert fast == reads(acme)


def test_the_admin_marks_the_days_it_moves_feedback_between(two, client, monkeypatch):
    """Staff move a labelled text to another day and channel, and delete an account, in the admin: the
    days are marked, and once refreshed the aggregates answer as the rows do."""
    from django.contrib.auth import get_user_model

    from records.models import Account
    from tenancy.models import Membership

    _rng, workspaces, clients = two
    acme = workspaces[0]
    figures_refresh_dirty(workspace=acme)
    staff = get_user_model().objects.create_user(username="acme-admin", is_staff=True)
    Membership.objects.create(workspace=acme, user=staff, role=Membership.Role.ADMIN)
    client.force_login(staff)
    text = Feedback.objects.filter(workspace=acme, deleted=False, labelled_at__isnull=False).order_by("id").first()
    assert text is not None and text.received_on != FIRST + timedelta(days=25)
    old_day = text.received_on
    answer = client.post(
        f"/admin/records/feedback/{text.pk}/change/",
        {"workspace": acme.pk, "external_id": text.external_id, "account": text.account_id or "",
         "contact": text.contact, "channel": "note", "text": text.text,
         "received_at_0": str(FIRST + timedelta(days=25)), "received_at_1": "10:00:00"},
    )  # fmt: skip
    assert answer.status_code == 302, answer.content.decode()[:2000]
    marked = set(
        RecordsDirty.objects.filter(workspace=acme, kind=RecordsDirty.Kind.FEEDBACK_DAY).values_list("key", flat=True)
    )
    assert marked == {old_day.isoformat(), (FIRST + timedelta(days=25)).isoformat()}
    account = Account.objects.get(workspace=acme, external_id="A3")
    answer = client.post(
        f"/admin/records/account/{account.pk}/change/",
        {"workspace": acme.pk, "external_id": "A3", "name": "A3", "industry": "", "country": "", "owner": "",
         "created_at_0": "2025-01-01", "created_at_1": "00:00:00", "status": "active", "deleted": "on"},
    )  # fmt: skip
    assert answer.status_code == 302, answer.content.decode()[:2000]
    days = set(Feedback.objects.filter(account=account).values_list("received_on", flat=True))
    marked = set(
        RecordsDirty.objects.filter(workspace=acme, kind=RecordsDirty.Kind.FEEDBACK_DAY).values_list("key", flat=True)
    )
    assert days and {day.isoformat() for day in days} <= marked
    check([acme], clients, monkeypatch)


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        ("2026-03-01", "2026-03-31", ("2026-03-01", "2026-03-01")),
        ("2026-03-02", "2026-03-31", None),
        ("2026-03-01", "2026-03-30", None),
        ("2026-02-15", "2026-05-31", ("2026-03-01", "2026-05-01")),
        ("2026-01-31", "2026-03-30", ("2026-02-01", "2026-02-01")),
        ("2025-12-01", "2026-01-31", ("2025-12-01", "2026-01-01")),
        ("2026-02-01", "2026-02-28", ("2026-02-01", "2026-02-01")),
        ("2026-03-05", "2026-03-20", None),
    ],
)
def test_the_whole_months_of_a_period(start, end, months):
    from perception.selectors.voice import whole_months

    expected = months and (date.fromisoformat(months[0]), date.fromisoformat(months[1]))
    assert whole_months(date.fromisoformat(start), date.fromisoformat(end)) == expected
