"""Writing CRM records (docs/records.md#ingestion): upsert by external id, references resolved in the
workspace, the aggregates marked for refresh in the same transaction.

``records_upsert`` is the one entry point of the batch endpoint and ``import_records``. Items are
taken in order; a later item for the same external id updates the earlier one field by field. An
item is rejected, naming the field, when a reference is unknown or a field required on creation is
missing; the others are stored.
"""

from __future__ import annotations

import functools
import logging
import operator
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Max
from django.utils import timezone
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from events.models import CrmUser
from events.validation import Errors
from records.labelling import COPIED, terms_follow
from records.marks import DirtyMarks
from records.models import (
    Account,
    Activity,
    Contract,
    Deal,
    DealLineItem,
    DealStageChange,
    Feedback,
    PerceptionSettings,
    Product,
    RetentionSpend,
    SurveyResponse,
    Target,
)
from records.names import duplicate_key
from records.validation import CROSS_CHECKED, REQUIRED_ON_CREATION, cross_errors
from records.versions import records_changed
from tenancy.models import Workspace

logger = logging.getLogger(__name__)

MODELS: dict[str, type[models.Model]] = {
    "accounts": Account,
    "products": Product,
    "deals": Deal,
    "activities": Activity,
    "targets": Target,
    "surveys": SurveyResponse,
    "contracts": Contract,
    "retention-spend": RetentionSpend,
    "feedback": Feedback,
}
KIND_OF_MODEL = {model: kind for kind, model in MODELS.items()}
# Which fields name another record, and of which kind (CRM users for owners).
REFERENCES: dict[str, dict[str, str]] = {
    "accounts": {"owner": "users"},
    "products": {},
    "deals": {"account": "accounts", "owner": "users"},
    "activities": {"owner": "users", "account": "accounts", "deal": "deals"},
    "targets": {"owner": "users"},
    "surveys": {"account": "accounts"},
    "contracts": {"account": "accounts"},
    "retention-spend": {"account": "accounts"},
    "feedback": {"account": "accounts"},
}
REFERENCE_MODELS: dict[str, type[models.Model]] = {
    "users": CrmUser,
    "accounts": Account,
    "deals": Deal,
    "products": Product,
}


# The tables a kind's rows land in (a deal's line items and stage changes with it).
KIND_TABLES: dict[str, tuple[type[models.Model], ...]] = {
    **{kind: (model,) for kind, model in MODELS.items()},
    "deals": (Deal, DealLineItem, DealStageChange),
}


def records_tables_analyze(kinds: Iterable[str]) -> None:
    """``ANALYZE`` the tables of these kinds on PostgreSQL (nothing on SQLite), after a bulk load.

    The aggregates' refresh right after a load reads the new rows joined to one another. If the
    tables' statistics are from when they were empty, the planner takes them for one row each and
    nests loops of full scans: the demo's 2,000 line items then took over five minutes to group on
    PostgreSQL instead of 50 ms. Autovacuum would fix the statistics, but only after the load
    committed and a minute passed; ANALYZE samples the rows (also uncommitted ones of this
    transaction) in a few milliseconds."""
    if connection.vendor != "postgresql":
        return
    tables = sorted({model._meta.db_table for kind in kinds for model in KIND_TABLES[kind]})
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(tables)}")


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


def _ids_by_external_id(model: type[models.Model], workspace: Workspace, external_ids: Sequence[str]) -> dict[str, int]:
    """``{external_id: id}`` of the workspace's rows among ``external_ids``. PostgreSQL: one
    ``= ANY(array)`` statement (an IN list of thousands of parameters costs more to build and parse
    than to run); elsewhere IN lists of 900."""
    if not external_ids:
        return {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT external_id, id FROM {connection.ops.quote_name(model._meta.db_table)} "
                "WHERE workspace_id = %s AND external_id = ANY(%s)",
                [workspace.pk, list(external_ids)],
            )
            return dict(cursor.fetchall())
    found: dict[str, int] = {}
    ids = list(external_ids)
    for start in range(0, len(ids), 900):
        found.update(
            model._default_manager.filter(workspace=workspace, external_id__in=ids[start : start + 900]).values_list(
                "external_id", "id"
            )
        )
    return found


class References:
    """External ids resolved to ids, per kind of record referred to. An import keeps one for the whole
    file: the records it refers to (users, accounts, products, deals) are not created by it, so an id
    found once stays right, and each chunk asks only for the ids it has not seen."""

    def __init__(self) -> None:
        self.known: dict[str, dict[str, int]] = defaultdict(dict)

    def resolve(self, workspace: Workspace, wanted: dict[str, set[str]]) -> dict[str, dict[str, int]]:
        for target, external_ids in wanted.items():
            known = self.known[target]
            missing = [e for e in external_ids if e not in known]
            known.update(_ids_by_external_id(REFERENCE_MODELS[target], workspace, missing))
        return self.known


def references_wanted(kind: str, items: Sequence[tuple[int, dict[str, Any]]]) -> dict[str, set[str]]:
    """The external ids ``items`` refer to, per kind of record referred to."""
    wanted: dict[str, set[str]] = defaultdict(set)
    references = REFERENCES[kind]
    for _index, row in items:
        for name, target in references.items():
            if row.get(name) is not None:
                wanted[target].add(row[name])
        for line in row.get("line_items") or ():
            wanted["products"].add(line["product"])
    return wanted


CONFLICT_RETRIES = 3


def records_upsert(
    *,
    workspace: Workspace,
    kind: str,
    items: Sequence[tuple[int, dict[str, Any]]],
    enqueue_refresh: bool = True,
    references: References | None = None,
    prepared: Prepared | None = None,
) -> UpsertResult:
    """Upsert the parsed ``items`` (``(index, clean dict)``) of ``kind``; see the module's docstring.
    ``enqueue_refresh=False``: the caller refreshes the aggregates itself (an import, once at its end).
    ``references``: a cache shared by the chunks of one import. ``prepared``: ``prepare_chunk(items)``.

    Two batches creating the same new external id at the same moment: the second meets the first's
    row at the unique constraint, and is simply run again, when it finds the row and updates it."""
    references = references or References()
    for attempt in range(CONFLICT_RETRIES):
        try:
            # A run again starts from scratch: the prepared rows assumed records that now exist.
            return _upsert(workspace, kind, items, enqueue_refresh, references, prepared if attempt == 0 else None)
        except IntegrityError:
            if attempt == CONFLICT_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _upsert(
    workspace: Workspace,
    kind: str,
    items: Sequence[tuple[int, dict[str, Any]]],
    enqueue_refresh: bool,
    cache: References,
    prepared: Prepared | None,
) -> UpsertResult:
    result = UpsertResult()
    if not items:
        return result
    model = MODELS[kind]
    wanted = references_wanted(kind, items)
    with transaction.atomic():
        resolved = cache.resolve(workspace, wanted)
        # Each item's references are checked only when some of the batch's are unknown.
        all_known = all(ids <= resolved[target].keys() for target, ids in wanted.items())
        ext_ids = sorted({row["external_id"] for _index, row in items})
        existing: dict[str, Any] = {}
        # Most rows of an import are new: ask which exist before loading (and locking) any.
        known = sorted(_ids_by_external_id(model, workspace, ext_ids))
        for start in range(0, len(known), 900):
            existing.update(
                (obj.external_id, obj)  # type: ignore[attr-defined]
                for obj in model._default_manager.select_for_update().filter(
                    workspace=workspace, external_id__in=known[start : start + 900]
                )
            )
        if prepared is not None and any(ids & resolved[target].keys() for target, ids in prepared.unknown.items()):
            prepared = None  # a record referred to appeared since: its items are no longer rejected
        if prepared is not None and not existing:  # as prepared: every record is new
            merged, result.rejected = prepared.merged, list(prepared.rejected)
        else:
            prepared = None
            merged = _merge(kind, items, existing, resolved, all_known, result.rejected)
        marks = DirtyMarks()
        writer = _WRITERS[kind]
        created, updated = writer(workspace, merged, existing, resolved, marks, prepared)
        touched = marks.any()
        marks.save(workspace)
        if created or updated:  # the last statement of the chunk's transaction: see records.versions
            records_changed(workspace.pk, [kind])
        if touched and enqueue_refresh:
            transaction.on_commit(lambda: enqueue_figures_refresh(workspace.id))
        if marks.feedback_to_label and enqueue_refresh:
            transaction.on_commit(lambda: enqueue_feedback_labelling(workspace.id))
    result.created, result.updated = created, updated
    return result


def _merge(
    kind: str,
    items: Sequence[tuple[int, dict[str, Any]]],
    existing: Any,
    resolved: dict[str, dict[str, Any]],
    all_known: bool,
    rejected: list[dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """The items' values per external id, later items over earlier ones; the rejected ones (an unknown
    reference; a field required on creation missing for a record not in ``existing``) go to ``rejected``."""
    references = REFERENCES[kind]
    merged: dict[str, dict[str, Any]] = {}
    for index, row in items:
        errors = {} if all_known else _reference_errors(row, references, resolved)
        earlier = merged.get(row["external_id"])
        values = row if earlier is None else {**earlier, **row}
        if row["external_id"] not in existing:
            for name, stored_as in REQUIRED_ON_CREATION[kind]:
                if stored_as not in values and name not in errors:
                    errors[name] = ["This field is required for a new record."]
        if kind in CROSS_CHECKED:
            errors = cross_errors(kind, values, existing.get(row["external_id"])) | errors
        if errors:
            rejected.append({"index": index, "errors": errors})
        else:
            merged[row["external_id"]] = values
    return merged


@dataclass
class Prepared:
    """A chunk made ready before its transaction, as if none of its records existed: its merged values,
    its rejections and its new rows. ``import_records`` prepares chunk N+1 on its reading thread while the
    writer stores chunk N; the writer uses it when the existence check finds none of the records, and
    otherwise does it all again itself."""

    merged: dict[str, dict[str, Any]]
    rejected: list[dict[str, Any]]
    new_rows: list[Any]
    unknown: dict[str, set[str]]  # references not found then (their items are among ``rejected``)


def prepare_chunk(
    workspace: Workspace, kind: str, items: Sequence[tuple[int, dict[str, Any]]], cache: References
) -> Prepared:
    """``Prepared`` for ``items``, their references resolved into ``cache`` (pure Python after that)."""
    wanted = references_wanted(kind, items)
    resolved = cache.resolve(workspace, wanted)
    all_known = all(ids <= resolved[target].keys() for target, ids in wanted.items())
    rejected: list[dict[str, Any]] = []
    merged = _merge(kind, items, {}, resolved, all_known, rejected)
    new_rows, *_ = _apply(MODELS[kind], workspace, merged, {}, resolved)
    if connection.vendor == "postgresql" and new_rows:
        _draw_ids(MODELS[kind], new_rows)
    unknown = {target: ids - resolved[target].keys() for target, ids in wanted.items()}
    return Prepared(merged, rejected, new_rows, {target: ids for target, ids in unknown.items() if ids})


def _reference_errors(row: dict[str, Any], references: dict[str, str], resolved: dict[str, dict[str, Any]]) -> Errors:
    errors: Errors = {}
    noun = {"users": "CRM user", "accounts": "account", "deals": "deal", "products": "product"}
    for name, target in references.items():
        value = row.get(name)
        if value is not None and value not in resolved.get(target, {}):
            errors[name] = [f"No {noun[target]} with external id {value!r} in this workspace."]
    missing = [
        line["product"] for line in row.get("line_items") or () if line["product"] not in resolved.get("products", {})
    ]
    if missing:
        errors["line_items"] = [f"No product with external id {p!r} in this workspace." for p in dict.fromkeys(missing)]
    return errors


def _local_date(values: dict[str, Any], moment: str, day: str, tz: Any) -> date:
    """The local date ``parse_record`` put beside the moment (an item from elsewhere: worked out here)."""
    return values[day] if day in values else values[moment].astimezone(tz).date()


def _id(resolved: dict[str, dict[str, Any]], target: str, value: str | None) -> int | None:
    return None if value is None else resolved[target][value]


def _apply(
    model: type[models.Model],
    workspace: Workspace,
    merged: dict[str, dict[str, Any]],
    existing: dict[str, Any],
    resolved: Any,
    prepared: Prepared | None = None,
) -> tuple[list[Any], list[Any], list[tuple[Any, Any]], set[str]]:
    """New rows (``NewRow``) and changed objects: ``_ATTRS[kind]`` gives model attributes for the fields
    sent. ``prepared``: the new rows already built (``prepare_chunk``), when none of them exists."""
    if prepared is not None and not existing:
        return prepared.new_rows, [], [], set()
    new: list[Any] = []
    changed: list[Any] = []
    before: list[tuple[Any, Any]] = []
    fields: set[str] = set()
    defaults = _insert_fields(model)[1]
    convert, tz = _ATTRS[model], workspace.tzinfo
    for external_id, values in merged.items():
        attrs = convert(values, resolved, tz)
        obj = existing.get(external_id)
        if obj is None:
            new.append(
                NewRow(**{**defaults, "id": None, "workspace_id": workspace.pk, "external_id": external_id, **attrs})
            )
            continue
        snapshot = model(**{f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields})
        diff = {k: v for k, v in attrs.items() if getattr(obj, k) != v}
        for key, value in diff.items():
            setattr(obj, key, value)
        fields |= diff.keys()
        changed.append(obj)
        before.append((snapshot, obj))
    return new, changed, before, fields


class NewRow(SimpleNamespace):
    """A record to insert: its attributes by ``attname``, the rest taken from the fields' defaults.
    Lighter than a model instance, which an import would build a million times only to read back."""


@functools.cache
def _insert_fields(model: type[models.Model]) -> tuple[list[Any], dict[str, Any]]:
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields if f.has_default() or f.null}
    return fields, defaults


def _insert(model: type[models.Model], rows: list[NewRow]) -> None:
    """Insert new records (accounts, deals, activities…) and set their ``id``. PostgreSQL: ids drawn from
    the sequence, then one ``COPY`` (a bulk INSERT spends most of an import building and binding
    parameters). Elsewhere ``bulk_create``, which sets the ids itself."""
    if not rows:
        return
    fields, defaults = _insert_fields(model)
    now = timezone.now()
    stamped = {f.attname: now for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)}
    base = {**defaults, **stamped}  # a row sets none of the stamped fields
    if connection.vendor != "postgresql":
        objs = [model(**(base | vars(row))) for row in rows]
        model._default_manager.bulk_create(objs, batch_size=500)
        for row, obj in zip(rows, objs, strict=True):
            row.id = obj.pk
        return
    table = connection.ops.quote_name(model._meta.db_table)
    if any(row.id is None for row in rows):  # prepare_chunk may have drawn them already
        _draw_ids(model, rows)
    # A new row holds every column but the stamped ones (``_apply``: defaults, id, attributes): its
    # values are picked in one C call, the stamped ones appended.
    plain = ["id", *(f.attname for f in fields if f.attname not in stamped)]
    columns = ", ".join(connection.ops.quote_name(name) for name in [*plain, *stamped])
    pick, tail = operator.itemgetter(*plain), tuple(stamped.values())
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        write_row = copy.write_row
        for row in rows:
            write_row(pick(vars(row)) + tail)


def _draw_ids(model: type[models.Model], rows: list[NewRow]) -> None:
    """Ids for new rows from the table's sequence (PostgreSQL), so they go in with them and nothing is
    read back. A sequence is outside transactions: ids drawn for rows that are not stored leave a gap,
    as any rolled-back insert does."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, len(rows)],
        )
        for row, (new_id,) in zip(rows, cursor.fetchall(), strict=True):
            row.id = new_id


def _insert_tuples(model: type[models.Model], columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert rows that give every column but the id (a deal's lines and stage history, millions in an
    import: nobody needs their ids, and a tuple is the lightest thing to build)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        objs = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model._default_manager.bulk_create(objs, batch_size=500)
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        write_row = copy.write_row
        for row in rows:
            write_row(row)


def _save(model: type[models.Model], new: list[Any], changed: list[Any], fields: Iterable[str]) -> None:
    _insert(model, new)
    if fields and changed:
        model.objects.bulk_update(changed, sorted(fields), batch_size=500)  # type: ignore[attr-defined]


def _account_attrs(values: dict[str, Any], resolved: Any, tz: Any) -> dict[str, Any]:
    attrs = {k: v for k, v in values.items() if k in {"name", "industry", "country", "status", "deleted"}}
    if "name" in values:
        attrs["name_key"] = values["name_key"] if "name_key" in values else duplicate_key(values["name"])
    if "owner" in values:
        attrs["owner_id"] = _id(resolved, "users", values["owner"])
    if "created_at" in values:
        attrs["created_at"] = values["created_at"]
        attrs["created_on"] = _local_date(values, "created_at", "created_on", tz)
    return attrs


def _write_accounts(
    workspace: Workspace, merged: Any, existing: Any, resolved: Any, marks: DirtyMarks, prepared: Any = None
) -> tuple[int, int]:
    new, changed, before, fields = _apply(Account, workspace, merged, existing, resolved, prepared)
    _save(Account, new, changed, fields)
    # Whether the account counts (active, not deleted) shapes every figure of its deals.
    flipped = [obj.id for old, obj in before if (old.status, old.deleted) != (obj.status, obj.deleted)]
    # An account deleted or brought back: its feedback leaves or rejoins the voice's counts.
    marks.feedback_of_accounts(obj.id for old, obj in before if old.deleted != obj.deleted)
    for obj in new:
        marks.account(obj.id)
    for _old, obj in before:
        marks.account(obj.id)
    if flipped:
        for close_date, created_on in (
            Deal.objects.filter(account_id__in=flipped).values_list("close_date", "created_on").distinct()
        ):
            marks.close(close_date)
            marks.created(created_on)
    return len(new), len(before)


def _product_attrs(values: dict[str, Any], resolved: Any, tz: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k in {"name", "category", "deleted"}}


def _write_products(
    workspace: Workspace, merged: Any, existing: Any, resolved: Any, marks: DirtyMarks, prepared: Any = None
) -> tuple[int, int]:
    new, changed, before, fields = _apply(Product, workspace, merged, existing, resolved, prepared)
    _save(Product, new, changed, fields)
    return len(new), len(before)


_DEAL_PLAIN = {"name", "amount_cents", "stage", "probability", "forecast_category", "close_date", "state", "deleted"}


def _deal_attrs(values: dict[str, Any], resolved: Any, tz: Any) -> dict[str, Any]:
    attrs = {k: v for k, v in values.items() if k in _DEAL_PLAIN}
    if "account" in values:
        attrs["account_id"] = _id(resolved, "accounts", values["account"])
    if "owner" in values:
        attrs["owner_id"] = _id(resolved, "users", values["owner"])
    if "created_at" in values:
        attrs["created_at"] = values["created_at"]
        attrs["created_on"] = _local_date(values, "created_at", "created_on", tz)
    return attrs


def _write_deals(
    workspace: Workspace, merged: Any, existing: Any, resolved: Any, marks: DirtyMarks, prepared: Any = None
) -> tuple[int, int]:
    new, changed, before, fields = _apply(Deal, workspace, merged, existing, resolved, prepared)
    for old, _obj in before:
        marks.deal(old)
    # When the deal entered its stage: the latest history entry, else its creation. A deal whose
    # history was not sent keeps its stored entries.
    stored_latest = dict(
        DealStageChange.objects.filter(deal_id__in=[obj.id for _o, obj in before])
        .values("deal_id")
        .annotate(latest=Max("entered_at"))
        .values_list("deal_id", "latest")
    )
    by_external = {obj.external_id: obj for obj in new} | {obj.external_id: obj for _o, obj in before}
    for external_id, values in merged.items():
        obj = by_external[external_id]
        if "stage_history" in values:
            latest = max((e["entered_at"] for e in values["stage_history"]), default=None)
        else:
            latest = stored_latest.get(obj.id) if obj.id else None
        entered: datetime = latest or obj.created_at
        if getattr(obj, "stage_entered_at", None) != entered:
            obj.stage_entered_at = entered
            if obj.id:
                fields.add("stage_entered_at")
    _save(Deal, new, changed, fields)
    for obj in by_external.values():
        marks.deal(obj)
    lists = [(by_external[e], v) for e, v in merged.items()]
    history = [(obj, v["stage_history"]) for obj, v in lists if "stage_history" in v]
    lines = [(obj, v["line_items"]) for obj, v in lists if "line_items" in v]
    known = {obj.id for _o, obj in before}  # only these can have stored lists to replace
    if history:
        DealStageChange.objects.filter(deal_id__in=[obj.id for obj, _h in history if obj.id in known]).delete()
        _insert_tuples(
            DealStageChange,
            ("deal_id", "stage", "entered_at"),
            [(obj.id, e["stage"], e["entered_at"]) for obj, entries in history for e in entries],
        )
    if lines:
        DealLineItem.objects.filter(deal_id__in=[obj.id for obj, _l in lines if obj.id in known]).delete()
        products = resolved.get("products", {})
        _insert_tuples(
            DealLineItem,
            ("deal_id", "product_id", "quantity", "amount_cents", "position"),
            [
                (obj.id, products[line["product"]], line["quantity"], line["amount_cents"], position)
                for obj, items in lines
                for position, line in enumerate(items)
            ],
        )
    return len(new), len(before)


def _activity_attrs(values: dict[str, Any], resolved: Any, tz: Any) -> dict[str, Any]:
    attrs = {k: v for k, v in values.items() if k in {"kind", "completed", "deleted"}}
    for name, target in (("owner", "users"), ("account", "accounts"), ("deal", "deals")):
        if name in values:
            attrs[f"{name}_id"] = _id(resolved, target, values[name])
    if "occurred_at" in values:
        attrs["occurred_at"] = values["occurred_at"]
        attrs["occurred_on"] = _local_date(values, "occurred_at", "occurred_on", tz)
    return attrs


def _write_activities(
    workspace: Workspace, merged: Any, existing: Any, resolved: Any, marks: DirtyMarks, prepared: Any = None
) -> tuple[int, int]:
    new, changed, before, fields = _apply(Activity, workspace, merged, existing, resolved, prepared)
    _save(Activity, new, changed, fields)
    for obj in [*new, *(o for pair in before for o in pair)]:
        marks.account(obj.account_id)
        marks.activity(obj.occurred_on)
        marks.deal_activity(obj.deal_id)
    return len(new), len(before)


def _target_attrs(values: dict[str, Any], resolved: Any, tz: Any) -> dict[str, Any]:
    attrs = {
        k: v for k, v in values.items() if k in {"month", "pipeline_target_cents", "revenue_quota_cents", "deleted"}
    }
    if "owner" in values:
        attrs["owner_id"] = _id(resolved, "users", values["owner"])
    return attrs


def _write_targets(
    workspace: Workspace, merged: Any, existing: Any, resolved: Any, marks: DirtyMarks, prepared: Any = None
) -> tuple[int, int]:
    new, changed, before, fields = _apply(Target, workspace, merged, existing, resolved, prepared)
    _save(Target, new, changed, fields)
    return len(new), len(before)


def _plain_attrs(plain: frozenset[str], moment: tuple[str, str] | None = None) -> Any:
    """The attribute converter of a perception record: ``plain`` fields as sent, the account as its id,
    ``moment`` (``(moment, local date)``) with its local date beside it."""

    def attrs(values: dict[str, Any], resolved: Any, tz: Any) -> dict[str, Any]:
        result = {k: v for k, v in values.items() if k in plain}
        if "account" in values:
            result["account_id"] = _id(resolved, "accounts", values["account"])
        if moment is not None and moment[0] in values:
            result[moment[0]] = values[moment[0]]
            result[moment[1]] = _local_date(values, *moment, tz)
        return result

    return attrs


def _write_plain(model: type[models.Model], figures_of_account: bool) -> Any:
    """The writer of a perception record: stored; with ``figures_of_account``, its account (before and
    after) marked, whose figures read it (``AccountFigures``' perception columns)."""

    def write(
        workspace: Workspace, merged: Any, existing: Any, resolved: Any, marks: DirtyMarks, prepared: Any = None
    ) -> tuple[int, int]:
        new, changed, before, fields = _apply(model, workspace, merged, existing, resolved, prepared)
        _save(model, new, changed, fields)
        if figures_of_account:
            for obj in [*new, *(o for pair in before for o in pair)]:
                marks.account(obj.account_id)
        return len(new), len(changed)

    return write


def _write_feedback(
    workspace: Workspace, merged: Any, existing: Any, resolved: Any, marks: DirtyMarks, prepared: Any = None
) -> tuple[int, int]:
    """Stored like the others; a new text, or a changed one, waits for its labels (``labelled_at``
    null), which a worker sets after the commit (``records.labelling``)."""
    new, changed, before, fields = _apply(Feedback, workspace, merged, existing, resolved, prepared)
    for old, obj in before:
        if old.text != obj.text:
            obj.labelled_at = None
            fields.add("labelled_at")
    _save(Feedback, new, changed, fields)
    marks.feedback_to_label = marks.feedback_to_label or bool(new) or "labelled_at" in fields
    for old, obj in before:  # a labelled text moved to another account, or deleted; new ones wait for labels
        if (old.account_id, old.deleted) != (obj.account_id, obj.deleted):
            marks.account(old.account_id)
            marks.account(obj.account_id)
    for old, obj in before:  # where a labelled text counts in the voice's day aggregates
        if any(getattr(old, f) != getattr(obj, f) for f in COPIED):
            marks.feedback_day(old.received_on)
            marks.feedback_day(obj.received_on)
    # Its terms carry where the feedback is (channel, account, day…): they follow it.
    terms_follow([obj for old, obj in before if any(getattr(old, f) != getattr(obj, f) for f in COPIED)])
    return len(new), len(before)


_ATTRS: dict[type[models.Model], Any] = {
    Account: _account_attrs,
    Product: _product_attrs,
    Deal: _deal_attrs,
    Activity: _activity_attrs,
    Target: _target_attrs,
    SurveyResponse: _plain_attrs(
        frozenset({"contact", "kind", "score", "comment", "deleted"}), ("responded_at", "responded_on")
    ),
    Contract: _plain_attrs(frozenset({"start", "end", "monthly_value_cents", "status", "deleted"})),
    RetentionSpend: _plain_attrs(frozenset({"period", "amount_cents", "deleted"})),
    Feedback: _plain_attrs(frozenset({"contact", "channel", "text", "deleted"}), ("received_at", "received_on")),
}
_WRITERS = {
    "accounts": _write_accounts,
    "products": _write_products,
    "deals": _write_deals,
    "activities": _write_activities,
    "targets": _write_targets,
    "surveys": _write_plain(SurveyResponse, figures_of_account=True),
    "contracts": _write_plain(Contract, figures_of_account=True),
    "retention-spend": _write_plain(RetentionSpend, figures_of_account=False),
    "feedback": _write_feedback,
}


# --- refreshing the aggregates -------------------------------------------------------------------------

BROKER_RETRY_AFTER_SECONDS = 30.0
_broker_down_until = 0.0


def perception_settings_replace(
    *, workspace: Workspace, intents: dict[str, list[str]], competitors: list[dict[str, Any]]
) -> None:
    """Replace the workspace's vocabulary (``records.validation.parse_perception_settings`` checked it) and
    set every text waiting for its labels again; a worker relabels them after the commit."""
    with transaction.atomic():
        PerceptionSettings.objects.update_or_create(
            workspace=workspace, defaults={"intents": intents, "competitors": competitors}
        )
        Feedback.objects.filter(workspace=workspace).update(labelled_at=None)
        transaction.on_commit(lambda: enqueue_feedback_labelling(workspace.pk))


def enqueue_feedback_labelling(workspace_id: int) -> None:
    """Ask a worker to label the workspace's new feedback; like ``enqueue_figures_refresh``, never fails
    the batch (the sweep finds unlabelled feedback later)."""
    from records.tasks import label_feedback_task

    _enqueue(label_feedback_task, workspace_id, "feedback labelling")


def enqueue_figures_refresh(workspace_id: int) -> None:
    """Ask a worker to refresh the aggregates a batch marked. Never fails the batch: when the broker
    is down the marks stay and the periodic sweep (``CELERY_BEAT_SCHEDULE``) catches up."""
    from records.tasks import refresh_record_figures_task

    _enqueue(refresh_record_figures_task, workspace_id, "record figures refresh")


def _enqueue(task: Any, workspace_id: int, what: str) -> None:
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        return
    try:
        task.delay(workspace_id)
    except (KombuError, RedisError, OSError):
        _broker_down_until = time.monotonic() + BROKER_RETRY_AFTER_SECONDS
        logger.warning("The broker is unreachable; the %s of workspace %s waits for the sweep.", what, workspace_id)
    except Exception:
        logger.exception("The %s of workspace %s failed to enqueue; the sweep catches up.", what, workspace_id)
