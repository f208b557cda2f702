"""6. Clean house (seed 003: keep the reps' pipeline current): open deals past their close date, deals
without an amount or a close date, accounts without an owner, and likely duplicate accounts.

Each list is read through an index — (state, close_date) for past-due deals, amount and close_date
(``IS NULL``) for the missing ones, (workspace, owner) and (workspace, name_key) for the accounts —
and cut to the rows asked for (``LIST_CAP`` in JSON, all in CSV)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count

from records.models import Account, Deal
from records.selectors import Capped, capped_rows, visible_accounts, visible_deals
from sales.selectors.common import DealRow, deal_row, deal_rows

if TYPE_CHECKING:
    from sales.queries import CleanHouseQuery

KEY_BATCH = 2000  # duplicate keys looked at per round when the whole list is asked for (CSV)


@dataclass(frozen=True)
class PastDue:
    deal: DealRow
    days_past_due: int


@dataclass(frozen=True)
class AccountRow:
    external_id: str
    name: str


@dataclass(frozen=True)
class DuplicateGroup:
    key: str
    accounts: list[AccountRow]  # by external id


def past_due(query: CleanHouseQuery, limit: int | None) -> Capped[PastDue]:
    """Open deals whose close date is before as_of, oldest first (ties by external id)."""
    deals = (
        visible_deals(query.workspace)
        .filter(state=Deal.State.OPEN, close_date__lt=query.as_of)
        .order_by("close_date", "external_id")
    )
    rows, more = deal_rows(deals, limit)
    return Capped([PastDue(deal_row(r), (query.as_of - r["close_date"]).days) for r in rows], more)


def missing_amount(query: CleanHouseQuery, limit: int | None) -> Capped[DealRow]:
    """Deals of any state without an amount, by external id."""
    deals = visible_deals(query.workspace).filter(amount_cents__isnull=True).order_by("external_id")
    rows, more = deal_rows(deals, limit)
    return Capped([deal_row(r) for r in rows], more)


def missing_close_date(query: CleanHouseQuery, limit: int | None) -> Capped[DealRow]:
    """Deals of any state without a close date, by external id."""
    deals = visible_deals(query.workspace).filter(close_date__isnull=True).order_by("external_id")
    rows, more = deal_rows(deals, limit)
    return Capped([deal_row(r) for r in rows], more)


def ownerless_accounts(query: CleanHouseQuery, limit: int | None) -> Capped[AccountRow]:
    """Accounts (not deleted, any status) without an owner, by external id."""
    accounts = visible_accounts(query.workspace).filter(owner__isnull=True).order_by("external_id")
    rows, more = capped_rows(accounts.values("external_id", "name"), limit)
    return Capped([AccountRow(r["external_id"], r["name"]) for r in rows], more)


def duplicate_accounts(query: CleanHouseQuery, limit: int | None) -> Capped[DuplicateGroup]:
    """Groups of two accounts or more (not deleted) sharing a duplicate key (``Account.name_key``:
    records.names.duplicate_key), by key, each by external id; the first ``limit`` groups (None: all).

    The keys two accounts share, deleted ones counted, come from the (workspace, name_key) index alone
    and in order, a batch at a time; the accounts of those keys are then read and a group kept when
    two of them at least are not deleted."""
    workspace = query.workspace
    groups: list[DuplicateGroup] = []
    batch = KEY_BATCH if limit is None else max(limit + 1, 10)
    after: str | None = None
    while limit is None or len(groups) <= limit:
        candidates = Account.objects.filter(workspace=workspace)
        if after is not None:
            candidates = candidates.filter(name_key__gt=after)
        keys = list(
            candidates.values("name_key")
            .annotate(accounts=Count("name_key"))
            .filter(accounts__gte=2)
            .order_by("name_key")
            .values_list("name_key", flat=True)[:batch]
        )
        found: dict[str, list[AccountRow]] = {key: [] for key in keys}
        for start in range(0, len(keys), 500):  # a bounded IN (…) per query
            accounts = (
                visible_accounts(workspace)
                .filter(name_key__in=keys[start : start + 500])
                .order_by("name_key", "external_id")
                .values_list("name_key", "external_id", "name")
            )
            for key, external_id, name in accounts:
                found[key].append(AccountRow(external_id, name))
        groups += [DuplicateGroup(key, rows) for key, rows in found.items() if len(rows) >= 2]
        if len(keys) < batch:
            break
        after = keys[-1]
    if limit is None:
        return Capped(groups)
    return Capped(groups[:limit], len(groups) > limit)


@dataclass(frozen=True)
class CleanHouse:
    past_due: Capped[PastDue]
    missing_amount: Capped[DealRow]
    missing_close_date: Capped[DealRow]
    ownerless_accounts: Capped[AccountRow]
    duplicate_accounts: Capped[DuplicateGroup]


def clean_house_report(query: CleanHouseQuery, limit: int | None) -> CleanHouse:
    return CleanHouse(
        past_due(query, limit),
        missing_amount(query, limit),
        missing_close_date(query, limit),
        ownerless_accounts(query, limit),
        duplicate_accounts(query, limit),
    )
