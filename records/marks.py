"""Marks of what a write touched, for the aggregates' refresh (``records.aggregates.figures_refresh_dirty``):
aggregate keys (``RecordsDirty.Kind``), and accounts and deals as ranges of ids. Written by the batch
upsert (``records.services``), the admin and the feedback labelling (``records.labelling``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db import connection

from records.models import Deal, Feedback, FeedbackTerm, RecordsDirty
from tenancy.models import Workspace

# Accounts and deals a batch touched are marked as ranges of ids, at most this many per kind: an import
# chunk touches thousands (new accounts have consecutive ids; activities name deals at random), and
# one mark per id cost the import as much as storing its rows.
MAX_ID_RANGES = 100


def id_ranges(ids: Iterable[int], most: int) -> list[tuple[int, int]]:
    """``ids`` as inclusive ranges ``(low, high)`` of consecutive ids; when there are more than ``most``,
    as aligned blocks of 2, 4, 8… ids, widened until at most ``most`` remain. A range may so cover ids
    nobody touched: refreshing those is only work, never a wrong figure."""
    blocks = sorted(set(ids))
    size = 1
    while len(blocks) > 8 * most:  # far too many: widen eightfold at once
        size *= 8
        blocks = sorted({block // 8 for block in blocks})
    while True:
        ranges: list[tuple[int, int]] = []
        for block in blocks:
            if ranges and ranges[-1][1] == block - 1:
                ranges[-1] = (ranges[-1][0], block)
            else:
                ranges.append((block, block))
        if len(ranges) <= most:
            return [(low * size, high * size + size - 1) for low, high in ranges]
        size *= 2
        blocks = sorted({block // 2 for block in blocks})


def range_key(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}-{high}"


@dataclass
class DirtyMarks:
    """Aggregate keys a batch touched (``RecordsDirty.Kind``); accounts and deals by ranges of ids
    (``id_ranges``)."""

    keys: set[tuple[str, str]] = field(default_factory=set)
    account_ids: set[int] = field(default_factory=set)
    deal_ids: set[int] = field(default_factory=set)
    # Feedback waits for its labels (not a mark: the unlabelled rows are their own list).
    feedback_to_label: bool = False

    def account(self, account_id: int | None) -> None:
        if account_id is not None:
            self.account_ids.add(account_id)

    def close(self, day: date | None) -> None:
        self.keys.add((RecordsDirty.Kind.OPEN_STAGE, day.isoformat() if day is not None else "-"))
        if day is not None:
            self.keys.add((RecordsDirty.Kind.CLOSE_DAY, day.isoformat()))
            self.keys.add((RecordsDirty.Kind.CLOSE_MONTH, day.replace(day=1).isoformat()))

    def created(self, day: date | None) -> None:
        if day is not None:
            self.keys.add((RecordsDirty.Kind.CREATED_MONTH, day.replace(day=1).isoformat()))

    def activity(self, day: date | None) -> None:
        if day is not None:
            self.keys.add((RecordsDirty.Kind.ACTIVITY_DAY, day.isoformat()))

    def feedback_day(self, day: date | None) -> None:
        """A day of the voice's feedback aggregates (``FeedbackDayFigures``, ``FeedbackTermDayFigures``)."""
        if day is not None:
            self.keys.add((RecordsDirty.Kind.FEEDBACK_DAY, day.isoformat()))

    def feedback_of_accounts(self, account_ids: Iterable[int]) -> None:
        """Every day of the accounts' feedback (an account deleted or brought back: its feedback leaves or
        rejoins the voice's counts), its terms' days included."""
        ids = sorted(set(account_ids))
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            for model in (Feedback, FeedbackTerm):
                days = model.objects.filter(account_id__in=chunk).values_list("received_on", flat=True).distinct()
                for day in days.order_by():
                    self.feedback_day(day)

    def deal_activity(self, deal_id: int | None) -> None:
        if deal_id is not None:
            self.deal_ids.add(deal_id)

    def deal(self, deal: Deal) -> None:
        self.account(deal.account_id)
        self.close(deal.close_date)
        self.created(deal.created_on)

    def any(self) -> bool:
        return bool(self.keys or self.account_ids or self.deal_ids)

    def save(self, workspace: Workspace) -> None:
        for kind, ids in ((RecordsDirty.Kind.ACCOUNT, self.account_ids), (RecordsDirty.Kind.DEAL, self.deal_ids)):
            self.keys.update((kind, range_key(low, high)) for low, high in id_ranges(ids, MAX_ID_RANGES))
            ids.clear()
        if connection.vendor == "postgresql" and self.keys:
            # One statement and one text parameter whatever the number of marks (an import chunk
            # marks thousands; an array of strings costs more to send than the insert to run).
            # Kinds and keys hold neither spaces nor line breaks.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {RecordsDirty._meta.db_table} (workspace_id, kind, key) "
                    "SELECT %s, split_part(m, ' ', 1), split_part(m, ' ', 2) "
                    "FROM unnest(string_to_array(%s, E'\\n')) AS m ON CONFLICT DO NOTHING",
                    [workspace.pk, "\n".join(f"{kind} {key}" for kind, key in sorted(self.keys))],
                )
            return
        RecordsDirty.objects.bulk_create(
            [RecordsDirty(workspace=workspace, kind=kind, key=key) for kind, key in sorted(self.keys)],
            ignore_conflicts=True,
            batch_size=1000,
        )
