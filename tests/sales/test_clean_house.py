"""Clean house: open deals past their close date, deals missing an amount or a close date, accounts
without an owner, likely duplicate accounts (records.names.duplicate_key)."""

from __future__ import annotations

import pytest

from tests.sales.builders import account, deal, get, seed

pytestmark = pytest.mark.django_db

AS_OF = "2025-06-30"


@pytest.fixture
def messy(make_workspace):
    workspace = make_workspace("acme", tz="America/New_York")[0]
    seed(
        workspace,
        ["r1"],
        accounts=[
            account("B1", "智云科技有限公司", "r1"),
            account("B2", "智云科技"),  # no owner
            account("B3", "Acme, Inc.", "r1"),
            account("B4", "ＡＣＭＥ Inc", "r1"),  # full-width letters
            account("B5", "acme"),  # no owner
            account("B6", "Acme Tools", "r1"),
            account("B7", "Zeta GmbH", deleted=True),  # deleted: neither ownerless nor a duplicate
            account("B8", "Zeta", "r1"),
            account("B9", "O'Brien & Sons", "r1"),  # punctuation and spacing
            account("B10", "OBrien  Sons", "r1"),
        ],
        deals=[
            deal("P1", "open", "10.00", "2025-06-30", "r1", account_id="B1"),  # on as_of: not past due
            deal("P2", "open", "20.00", "2025-06-29", "r1", account_id="B1"),  # the day before: 1 day
            deal("P3", "open", "30.00", "2025-01-01", None, account_id="B3"),  # 180 days
            deal("P4", "won", "40.00", "2025-01-01", "r1", account_id="B1"),  # not open
            deal("P5", "open", None, None, "r1", account_id="B1"),  # missing both
            deal("P6", "lost", None, "2025-02-01", "r1", account_id="B1"),
            deal("P7", "won", "70.00", None, "r1", account_id="B1"),
            deal("P8", "open", None, "2025-01-01", "r1", account_id="B7"),  # its account is deleted
        ],
    )
    return workspace


def test_past_due_open_deals_oldest_first(messy, member_client):
    answer = get(member_client(messy), messy, "clean-house", as_of=AS_OF)
    assert answer["as_of"] == AS_OF
    assert answer["past_due"] == [
        {"external_id": "P3", "name": "Deal P3", "account": "B3", "rep": None, "close_date": "2025-01-01",
         "days_past_due": 180, "amount": "30.00"},
        {"external_id": "P2", "name": "Deal P2", "account": "B1", "rep": "r1", "close_date": "2025-06-29",
         "days_past_due": 1, "amount": "20.00"},
    ]  # fmt: skip
    # A day later P1 is past due too.
    later = get(member_client(messy), messy, "clean-house", as_of="2025-07-01")
    assert [(d["external_id"], d["days_past_due"]) for d in later["past_due"]] == [("P3", 181), ("P2", 2), ("P1", 1)]


def test_missing_amounts_and_close_dates_over_every_state(messy, member_client):
    answer = get(member_client(messy), messy, "clean-house", as_of=AS_OF)
    assert answer["missing_amount"] == [
        {"external_id": "P5", "name": "Deal P5", "account": "B1", "rep": "r1", "state": "open", "close_date": None,
         "amount": None},
        {"external_id": "P6", "name": "Deal P6", "account": "B1", "rep": "r1", "state": "lost",
         "close_date": "2025-02-01", "amount": None},
    ]  # fmt: skip
    assert [(d["external_id"], d["state"]) for d in answer["missing_close_date"]] == [("P5", "open"), ("P7", "won")]


def test_ownerless_and_duplicate_accounts(messy, member_client):
    answer = get(member_client(messy), messy, "clean-house", as_of=AS_OF)
    assert answer["ownerless_accounts"] == [
        {"external_id": "B2", "name": "智云科技"},
        {"external_id": "B5", "name": "acme"},
    ]
    assert answer["duplicate_accounts"] == [
        {"key": "acme", "accounts": [{"external_id": "B3", "name": "Acme, Inc."},
                                     {"external_id": "B4", "name": "ＡＣＭＥ Inc"},
                                     {"external_id": "B5", "name": "acme"}]},
        {"key": "obrien sons", "accounts": [{"external_id": "B10", "name": "OBrien  Sons"},
                                            {"external_id": "B9", "name": "O'Brien & Sons"}]},
        {"key": "智云科技", "accounts": [{"external_id": "B1", "name": "智云科技有限公司"},
                                         {"external_id": "B2", "name": "智云科技"}]},
    ]  # fmt: skip
    assert not any(answer["truncated"].values())


def test_each_list_as_csv_whole(messy, member_client, monkeypatch):
    from sales.api import views
    from sales.selectors import clean_house

    monkeypatch.setattr(views, "LIST_CAP", 1)
    # The CSV reads the duplicate keys one at a time: "zeta" (Zeta GmbH is deleted) is looked at, not kept.
    monkeypatch.setattr(clean_house, "KEY_BATCH", 1)
    client = member_client(messy)
    answer = get(client, messy, "clean-house", as_of=AS_OF)
    assert [group["key"] for group in answer["duplicate_accounts"]] == ["acme"]
    assert answer["truncated"] == {"past_due": True, "missing_amount": True, "missing_close_date": True,
                                   "ownerless_accounts": True, "duplicate_accounts": True}  # fmt: skip
    url = f"/api/v1/workspaces/{messy.slug}/sales/clean-house"

    def csv(table: str | None = None) -> list[str]:
        params = {"as_of": AS_OF, "format": "csv", **({"table": table} if table else {})}
        return client.get(url, params).content.decode().splitlines()

    assert csv() == [
        "external_id,name,account,rep,close_date,days_past_due,amount",
        "P3,Deal P3,B3,,2025-01-01,180,30.00",
        "P2,Deal P2,B1,r1,2025-06-29,1,20.00",
    ]
    assert csv("missing_amount")[0] == "external_id,name,account,rep,state,close_date,amount"
    assert csv("missing_close_date")[1:] == ["P5,Deal P5,B1,r1,open,,", "P7,Deal P7,B1,r1,won,,70.00"]
    assert csv("ownerless_accounts") == ["external_id,name", "B2,智云科技", "B5,acme"]
    assert csv("duplicate_accounts") == [
        "key,external_id,name",
        'acme,B3,"Acme, Inc."',
        "acme,B4,ＡＣＭＥ Inc",
        "acme,B5,acme",
        "obrien sons,B10,OBrien  Sons",
        "obrien sons,B9,O'Brien & Sons",
        "智云科技,B1,智云科技有限公司",
        "智云科技,B2,智云科技",
    ]


def test_the_fast_paths_of_the_duplicate_key_match_the_literal_rule(monkeypatch):
    """Most names are ASCII and take a shortcut (lower() and string.punctuation); the others delete
    punctuation and symbols through a translate table filled as characters are met. On random names,
    ASCII and not, with legal suffixes and odd spacing mixed in, both give exactly the literal rule's
    key, also once the table is full (a tiny limit here) and characters are looked up afresh."""
    import random
    import unicodedata

    from records import names
    from records.names import LEGAL_ENDINGS, LEGAL_WORDS, duplicate_key

    def general(name: str) -> str:
        text = unicodedata.normalize("NFKC", name).casefold()
        text = " ".join("".join(ch for ch in text if unicodedata.category(ch)[0] not in "PS").split())
        while True:
            head, _, last = text.rpartition(" ")
            if last in LEGAL_WORDS:
                text = head
            elif ending := next((e for e in LEGAL_ENDINGS if text.endswith(e)), None):
                text = text[: -len(ending)].rstrip()
            else:
                return text

    rng = random.Random(19)
    pieces = ["Acme", "INC", "Inc.", "co", "Ltd", "&", "-", "'", " ", "  ", "\t", "GmbH", "x_y", "A.G.", "s.a", "\x1f"]
    for _ in range(3000):
        name = "".join(rng.choice(pieces + [chr(rng.randrange(128))]) for _ in range(rng.randrange(1, 8)))
        assert name.isascii() and duplicate_key(name) == general(name), repr(name)
    wide = ["有限公司", "股份有限公司", "（北京）", "・", "€", "™", "Ａｃｍｅ", "ß", "É", "\u3000", "🙂", "﹠"]
    monkeypatch.setattr(names, "_DROP_PUNCTUATION_AND_SYMBOLS", names._DropPunctuationAndSymbols())
    monkeypatch.setattr(names._DropPunctuationAndSymbols, "LIMIT", 50)
    for _ in range(3000):
        name = "".join(
            rng.choice(pieces + wide + [chr(rng.randrange(0x80, 0x30000))]) for _ in range(rng.randrange(1, 8))
        )
        if name.isascii():
            continue
        assert duplicate_key(name) == general(name), repr(name)
    assert len(names._DROP_PUNCTUATION_AND_SYMBOLS) == 50
