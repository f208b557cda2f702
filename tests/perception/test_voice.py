"""The voice of the customer (API.md "Customer perception"): hand-checked counts by responses, contacts
and accounts, the keyword and competitor tables, the feedback list and its filters, the vocabulary
settings; in two workspaces with the same external ids. Labels are written here as a worker would
store them, so these numbers do not depend on the text analysis (tests/records/test_text_analysis.py)."""

from __future__ import annotations

import csv
import io

import pytest

from records.labelling import labels_store
from records.models import Feedback, PerceptionSettings
from records.vocabulary import Labels
from tenancy.models import AuditEntry, Membership
from tests.conftest import crm_records

pytestmark = pytest.mark.django_db

PERIOD = {"start": "2026-03-01", "end": "2026-03-31"}
VOCABULARY = {
    "intents": {"complaint": ["slow"], "question": ["how"], "renewal": ["renew"]},
    "competitors": [{"name": "HubSpot", "aliases": []}, {"name": "Zoho", "aliases": ["卓豪"]}],
}
# external_id: (account, contact, channel, received, sentiment, intents, competitors, keywords, deleted)
ITEMS = {
    "F1": ("A1", "c1", "email", "2026-03-02", "negative", ["complaint"], ["HubSpot"], ["export", "slow"], False),
    "F2": ("A1", "c1", "chat", "2026-03-05", "negative", ["complaint", "question"], [], ["export"], False),
    "F3": ("A1", "c2", "email", "2026-03-10", "positive", [], ["HubSpot"], ["support"], False),
    "F4": ("A2", "", "case", "2026-03-20", "neutral", ["question"], ["Zoho"], ["export", "invoice"], False),
    "F5": (None, "c3", "note", "2026-03-31", "positive", ["renewal"], [], ["support"], False),
    "F6": ("A1", "c1", "email", "2026-02-28", "negative", ["complaint"], [], ["export"], False),  # before
    "F7": ("A2", "c4", "email", "2026-03-12", "negative", ["complaint"], ["Zoho"], ["export"], True),  # deleted
    "F8": ("A2", "c5", "call", "2026-03-15", "", [], [], [], False),  # waiting for its labels
}


def store(workspace, items, vocabulary=VOCABULARY):
    PerceptionSettings.objects.update_or_create(workspace=workspace, defaults=vocabulary)
    crm_records(
        workspace,
        "accounts",
        [{"external_id": a, "name": a, "created_at": "2025-01-01"} for a in ("A1", "A2")],
    )
    crm_records(
        workspace,
        "feedback",
        [
            {"external_id": key, "account": account, "contact": contact, "channel": channel,
             "text": f"text of {key}", "received_at": f"{day}T12:00:00+00:00", "deleted": deleted}
            for key, (account, contact, channel, day, *_labels, deleted) in items.items()
        ],
    )  # fmt: skip
    # The labels as a worker stores them (records.labelling: labels, terms, marks), given rather than
    # analysed, so these counts do not depend on the text analysis (tests/records/test_text_analysis.py).
    labelled = [
        (Feedback.objects.get(workspace=workspace, external_id=key).pk,
         Labels(language="en", sentiment=sentiment, intents=intents, competitors=competitors, keywords=keywords))
        for key, (*_fields, sentiment, intents, competitors, keywords, _deleted) in items.items()
        if sentiment
    ]  # fmt: skip
    assert labels_store(workspace, labelled) == len(labelled)


@pytest.fixture
def two(make_workspace, member_client):
    acme, other = make_workspace("acme")[0], make_workspace("other")[0]
    store(acme, ITEMS)
    # The same external ids elsewhere, every item positive about Zoho: none of it may reach acme.
    store(other, {k: (*v[:4], "positive", [], ["Zoho"], ["zoho"], False) for k, v in ITEMS.items()})
    return acme, other, member_client(acme)


def get(client, path, **params):
    answer = client.get(f"/api/v1/workspaces/acme/perception/{path}", {**PERIOD, **params})
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_voice_by_responses(two):
    *_, client = two
    assert get(client, "voice") == {
        "units": 5,
        "sentiment": [
            {"sentiment": "positive", "count": 2, "share_pct": 40.0},
            {"sentiment": "neutral", "count": 1, "share_pct": 20.0},
            {"sentiment": "negative", "count": 2, "share_pct": 40.0},
        ],
        "intents": [{"intent": "complaint", "count": 2}, {"intent": "question", "count": 2},
                    {"intent": "renewal", "count": 1}],
        "competitors": [{"competitor": "HubSpot", "count": 2, "share_pct": 66.7},
                        {"competitor": "Zoho", "count": 1, "share_pct": 33.3}],
        "keywords": [{"keyword": "export", "frequency": 3, "sentiment": "negative"},
                     {"keyword": "support", "frequency": 2, "sentiment": "positive"},
                     {"keyword": "invoice", "frequency": 1, "sentiment": "neutral"},
                     {"keyword": "slow", "frequency": 1, "sentiment": "negative"}],
    }  # fmt: skip


def test_voice_by_contacts_and_by_accounts_leaves_out_items_without_one(two):
    *_, client = two
    by_contacts = get(client, "voice", by="contacts")
    assert by_contacts["units"] == 3  # c1, c2, c3; F4 has no contact
    assert [(r["count"], r["share_pct"]) for r in by_contacts["sentiment"]] == [(2, 66.7), (0, 0.0), (1, 33.3)]
    assert by_contacts["intents"] == [{"intent": "complaint", "count": 1}, {"intent": "question", "count": 1},
                                      {"intent": "renewal", "count": 1}]  # fmt: skip
    assert by_contacts["competitors"] == [{"competitor": "HubSpot", "count": 2, "share_pct": 100.0},
                                          {"competitor": "Zoho", "count": 0, "share_pct": 0.0}]  # fmt: skip
    by_accounts = get(client, "voice", by="accounts")
    assert by_accounts["units"] == 2  # A1, A2; F5 has no account
    assert [(r["count"], r["share_pct"]) for r in by_accounts["sentiment"]] == [(1, 33.3), (1, 33.3), (1, 33.3)]
    assert by_accounts["intents"] == [{"intent": "question", "count": 2}, {"intent": "complaint", "count": 1},
                                      {"intent": "renewal", "count": 0}]  # fmt: skip
    assert by_accounts["competitors"] == [{"competitor": "HubSpot", "count": 1, "share_pct": 50.0},
                                          {"competitor": "Zoho", "count": 1, "share_pct": 50.0}]  # fmt: skip


def test_the_keyword_and_competitor_tables(two):
    *_, client = two
    assert get(client, "keywords") == {"keywords": [
        {"keyword": "export", "frequency": 3, "sources": ["email", "case", "chat"], "severity": 66.7,
         "sentiment": "negative"},
        {"keyword": "support", "frequency": 2, "sources": ["email", "note"], "severity": 0.0, "sentiment": "positive"},
        {"keyword": "invoice", "frequency": 1, "sources": ["case"], "severity": 0.0, "sentiment": "neutral"},
        {"keyword": "slow", "frequency": 1, "sources": ["email"], "severity": 100.0, "sentiment": "negative"},
    ]}  # fmt: skip
    assert [k["keyword"] for k in get(client, "keywords", limit=2)["keywords"]] == ["export", "support"]
    assert get(client, "competitor-mentions") == {"competitors": [
        {"competitor": "HubSpot", "mentions": 2, "positive": 1, "neutral": 0, "negative": 1},
        {"competitor": "Zoho", "mentions": 1, "positive": 0, "neutral": 1, "negative": 0},
    ]}  # fmt: skip
    exported = client.get("/api/v1/workspaces/acme/perception/keywords", {**PERIOD, "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == {"keyword": "export", "frequency": "3", "sources": "email; case; chat", "severity": "66.7",
                       "sentiment": "negative"}  # fmt: skip


def test_a_keyword_s_sentiment_ties_go_to_negative_then_neutral(make_workspace, member_client):
    workspace = make_workspace("acme")[0]
    store(workspace, {
        "T1": ("A1", "", "email", "2026-03-02", "positive", [], [], ["tie", "calm"], False),
        "T2": ("A1", "", "email", "2026-03-03", "negative", [], [], ["tie"], False),
        "T3": ("A1", "", "email", "2026-03-04", "neutral", [], [], ["calm"], False),
    })  # fmt: skip
    rows = get(member_client(workspace), "keywords")["keywords"]
    assert [(r["keyword"], r["sentiment"]) for r in rows] == [("calm", "neutral"), ("tie", "negative")]


def test_the_channel_and_account_filters_narrow_every_count(two):
    *_, client = two
    assert get(client, "voice", channel="email")["units"] == 2  # F1, F3
    assert get(client, "voice", account="A2")["sentiment"][1] == {"sentiment": "neutral", "count": 1,
                                                                  "share_pct": 100.0}  # fmt: skip
    assert get(client, "competitor-mentions", account="A2")["competitors"][0]["competitor"] == "Zoho"


def test_the_feedback_list_newest_first_with_its_filters(two):
    *_, client = two
    listing = get(client, "feedback")
    assert [item["external_id"] for item in listing["results"]] == ["F5", "F4", "F8", "F3", "F2", "F1"]
    waiting = listing["results"][2]
    assert waiting["sentiment"] is None and waiting["language"] is None and waiting["account"] == "A2"
    assert listing["results"][1] == {
        "external_id": "F4", "account": "A2", "contact": "", "channel": "case", "text": "text of F4",
        "received_at": "2026-03-20T12:00:00+00:00", "language": "en", "sentiment": "neutral",
        "intents": ["question"], "competitors": ["Zoho"], "keywords": ["export", "invoice"],
    }  # fmt: skip

    def ids(**params):
        return [item["external_id"] for item in get(client, "feedback", **params)["results"]]

    assert ids(sentiment="negative") == ["F2", "F1"]
    assert ids(intent="question") == ["F4", "F2"]
    assert ids(competitor="HubSpot") == ["F3", "F1"]
    assert ids(channel="email") == ["F3", "F1"]
    assert ids(account="A2") == ["F4", "F8"]
    assert ids(intent="nothing-like-it") == []
    page = get(client, "feedback", page_size=2, page=3)
    assert page["count"] == 6 and [i["external_id"] for i in page["results"]] == ["F2", "F1"]
    exported = client.get("/api/v1/workspaces/acme/perception/feedback", {**PERIOD, "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [row["external_id"] for row in rows] == ["F5", "F4", "F8", "F3", "F2", "F1"]
    assert rows[1]["keywords"] == "export; invoice"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("voice", {"by": "deals"}, "by"),
        ("voice", {"account": "ghost"}, "account"),
        ("feedback", {"sentiment": "angry"}, "sentiment"),
        ("feedback", {"channel": "fax"}, "channel"),
        ("feedback", {"page": "0"}, "page"),
        ("keywords", {"limit": "501"}, "limit"),
        ("competitor-mentions", {"start": "2026-04-01"}, "start"),  # after end
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(two, path, params, field):
    *_, client = two
    answer = client.get(f"/api/v1/workspaces/acme/perception/{path}", {**PERIOD, **params})
    assert answer.status_code == 400 and field in answer.json(), answer.content


def test_another_workspace_is_a_404(two, member_client):
    _acme, other, client = two
    assert client.get("/api/v1/workspaces/other/perception/voice", PERIOD).status_code == 404
    theirs = member_client(other, username="them").get("/api/v1/workspaces/other/perception/voice", PERIOD).json()
    assert theirs["units"] == 7 and theirs["sentiment"][0]["count"] == 7  # F1–F5, F7 and F8: kept and positive there


def test_settings_are_read_by_members_and_replaced_by_admins_only(two, member_client):
    acme, other, viewer = two
    assert get(viewer, "settings") == VOCABULARY
    new = {"intents": {"refund": ["退款", "refund"]}, "competitors": [{"name": "Pipedrive", "aliases": ["PD"]}]}
    assert viewer.put("/api/v1/workspaces/acme/perception/settings", new, format="json").status_code == 403
    admin = member_client(acme, role=Membership.Role.ADMIN, username="boss")
    bad = admin.put("/api/v1/workspaces/acme/perception/settings", {"intents": {"x": []}, "competitors": []},
                    format="json")  # fmt: skip
    assert bad.status_code == 400 and "intents.x" in bad.json()
    assert PerceptionSettings.objects.get(workspace=acme).intents == VOCABULARY["intents"]  # unchanged
    answer = admin.put("/api/v1/workspaces/acme/perception/settings", new, format="json")
    assert answer.status_code == 200 and answer.json() == new
    # Every text of acme waits to be labelled again with the new vocabulary; other's keep theirs.
    assert not Feedback.objects.filter(workspace=acme, labelled_at__isnull=False).exists()
    assert Feedback.objects.filter(workspace=other, labelled_at__isnull=False).count() == 8
    assert PerceptionSettings.objects.get(workspace=other).intents == VOCABULARY["intents"]
    entry = AuditEntry.objects.get(workspace=acme, target_type="perceptionsettings")
    assert entry.actor.username == "boss" and entry.changes["after"] == new
    # Meanwhile the voice counts the previous labels, and lists the intents now configured.
    assert [i["intent"] for i in get(admin, "voice")["intents"]] == ["refund"]
    assert get(admin, "voice")["units"] == 5


def test_terms_follow_their_feedback_when_it_moves(two, django_capture_on_commit_callbacks):
    acme, _other, client = two
    assert get(client, "voice", channel="chat")["units"] == 1  # F2
    crm_records(acme, "feedback", [
        {"external_id": "F1", "channel": "chat"},  # email → chat
        {"external_id": "F3", "deleted": True},
        {"external_id": "F4", "account": "A1"},  # A2 → A1
    ])  # fmt: skip
    chat = get(client, "voice", channel="chat")
    assert chat["units"] == 2 and chat["competitors"][0] == {"competitor": "HubSpot", "count": 1, "share_pct": 100.0}
    mentions = {r["competitor"]: r["mentions"] for r in get(client, "competitor-mentions")["competitors"]}
    assert mentions == {"HubSpot": 1, "Zoho": 1}  # F3 deleted
    assert get(client, "competitor-mentions", account="A2")["competitors"][1]["mentions"] == 0  # Zoho left A2
    crm_records(acme, "accounts", [{"external_id": "A1", "deleted": True}])
    keywords = {r["keyword"]: r["frequency"] for r in get(client, "keywords")["keywords"]}
    assert keywords == {"support": 1}  # only F5 (no account) is left


def test_random_feedback_counts_as_its_labels_say(make_workspace, member_client):
    """Random labelled feedback in two workspaces, then random moves (channel, account, day, contact,
    deleted, accounts deleted); every voice figure equals a recomputation from the feedback rows and
    their labels, for random periods, channels, accounts and units."""
    import random
    from collections import Counter
    from datetime import date, timedelta

    from perception.selectors.voice import most_common_sentiment

    rng = random.Random(2020)
    vocabulary = {"intents": {"a": ["x"], "b": ["y"], "c": ["z"]}, "competitors": [{"name": "K1", "aliases": []},
                                                                                    {"name": "K2", "aliases": []}]}  # fmt: skip
    accounts = ["A1", "A2", "A3"]
    workspaces = [make_workspace(slug)[0] for slug in ("acme", "other")]
    first = date(2026, 3, 1)
    for workspace in workspaces:
        PerceptionSettings.objects.create(workspace=workspace, **vocabulary)
        crm_records(
            workspace, "accounts", [{"external_id": a, "name": a, "created_at": "2025-01-01"} for a in accounts]
        )

        def item(n):
            return {"external_id": f"F{n}", "account": rng.choice([*accounts, None]),
                    "contact": rng.choice(["", "c1", "c2", "c3"]), "channel": rng.choice(["email", "chat", "case"]),
                    "text": f"t{n}", "received_at": f"{first + timedelta(days=rng.randrange(20))}T10:00:00+00:00",
                    "deleted": rng.random() < 0.1}  # fmt: skip

        crm_records(workspace, "feedback", [item(n) for n in range(60)])
        labelled = [
            (f.pk, Labels(language="en", sentiment=rng.choice(["positive", "neutral", "negative"]),
                          intents=rng.sample(["a", "b", "c"], rng.randrange(3)),
                          competitors=rng.sample(["K1", "K2"], rng.randrange(3)),
                          keywords=rng.sample(["k1", "k2", "k3", "k4"], rng.randrange(4))))
            for f in Feedback.objects.filter(workspace=workspace)
        ]  # fmt: skip
        labels_store(workspace, labelled)
        moved = [item(n) for n in rng.sample(range(60), 20)]
        for row in moved:
            row.pop("text")
        crm_records(workspace, "feedback", moved)
        crm_records(workspace, "accounts", [{"external_id": "A3", "deleted": True}])
    acme = workspaces[0]
    client = member_client(acme)
    rows = list(Feedback.objects.filter(workspace=acme).select_related("account"))

    def kept(f, start, end, channel, account):
        return (not f.deleted and f.sentiment and start <= f.received_on <= end
                and not (f.account and f.account.deleted) and (not channel or f.channel == channel)
                and (not account or (f.account and f.account.external_id == account)))  # fmt: skip

    def unit(f, by):
        return {"responses": f.pk, "contacts": f.contact or None, "accounts": f.account_id}[by]

    for _ in range(12):
        start = first + timedelta(days=rng.randrange(10))
        end = start + timedelta(days=rng.randrange(12))
        channel, account, by = (
            rng.choice(["", "email", "chat"]),
            rng.choice(["", "A1", "A2"]),
            rng.choice(["responses", "contacts", "accounts"]),
        )
        params = {"start": start, "end": end, "by": by, **({"channel": channel} if channel else {}),
                  **({"account": account} if account else {})}  # fmt: skip
        items = [f for f in rows if kept(f, start, end, channel, account)]
        units = [f for f in items if unit(f, by) is not None]
        voice = get(client, "voice", **params)
        assert voice["units"] == len({unit(f, by) for f in units}), params
        pairs = Counter(s for s in {(unit(f, by), f.sentiment) for f in units} for s in [s[1]])
        assert [r["count"] for r in voice["sentiment"]] == [pairs[s] for s in ("positive", "neutral", "negative")]
        intents = {n: len({unit(f, by) for f in units if n in f.intents}) for n in ("a", "b", "c")}
        assert {r["intent"]: r["count"] for r in voice["intents"]} == intents, params
        competitors = {n: len({unit(f, by) for f in units if n in f.competitors}) for n in ("K1", "K2")}
        assert {r["competitor"]: r["count"] for r in voice["competitors"]} == competitors, params
        keywords = get(client, "keywords", **{k: v for k, v in params.items() if k != "by"})["keywords"]
        expected = {}
        for word in ("k1", "k2", "k3", "k4"):
            having = [f for f in items if word in f.keywords]
            if having:
                counts = Counter(f.sentiment for f in having)
                expected[word] = (len(having), most_common_sentiment(counts),
                                  round(counts["negative"] / len(having) * 100, 1))  # fmt: skip
        assert {r["keyword"]: (r["frequency"], r["sentiment"], r["severity"]) for r in keywords} == expected, params
        mentions = get(client, "competitor-mentions", **{k: v for k, v in params.items() if k != "by"})
        assert {r["competitor"]: r["mentions"] for r in mentions["competitors"]} == {
            n: sum(1 for f in items if n in f.competitors) for n in ("K1", "K2")
        }, params
