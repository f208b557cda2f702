"""Validation of incoming CRM records (docs/records.md#ingestion), shared by the batch endpoint and
``import_records``. As for events and users: plain functions returning a clean dict of the fields
sent (an upsert sets only those) or DRF-shaped errors ``{field: [message]}``.

References (account, owner, deal, product) stay external ids here; ``records.services`` resolves
them, since only it knows the workspace's records, and rejects an unknown one naming the field.
Whether a field required on creation is present is also checked there: an update may omit it.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from events.validation import Errors, _text, parse_timestamp, storable
from records.models import Account, Activity, Contract, Deal, Feedback, SurveyResponse
from records.names import duplicate_key

MAX_CENTS = 10**15  # ten trillion in the base currency: beyond any CRM's deal, inside a 64-bit sum
MAX_NESTED = 200  # line items or stage-history entries of one deal

# Sent as an amount, stored as whole cents under ``NAME_cents``.
AMOUNT_FIELDS = ("amount", "pipeline_target", "revenue_quota", "monthly_value")
_REQUIRED_ON_CREATION: dict[str, tuple[str, ...]] = {
    "accounts": ("name", "created_at"),
    "products": ("name",),
    "deals": ("account", "name", "stage", "created_at", "state"),
    "activities": ("kind", "owner", "occurred_at"),
    "targets": ("month",),
    "surveys": ("account", "kind", "score", "responded_at"),
    "contracts": ("account", "start", "end", "monthly_value", "status"),
    "retention-spend": ("period", "amount"),
    "feedback": ("channel", "text", "received_at"),
}

# (field as sent, as parsed): an amount is parsed into whole cents under another name.
REQUIRED_ON_CREATION: dict[str, tuple[tuple[str, str], ...]] = {
    kind: tuple((name, f"{name}_cents" if name in AMOUNT_FIELDS else name) for name in names)
    for kind, names in _REQUIRED_ON_CREATION.items()
}

FIELDS: dict[str, tuple[str, ...]] = {
    "accounts": ("external_id", "name", "industry", "country", "owner", "created_at", "status", "deleted"),
    "products": ("external_id", "name", "category", "deleted"),
    "deals": (
        "external_id", "account", "name", "owner", "amount", "stage", "probability", "forecast_category",
        "created_at", "close_date", "state", "line_items", "stage_history", "deleted",
    ),
    "activities": ("external_id", "kind", "owner", "account", "deal", "occurred_at", "completed", "deleted"),
    "targets": ("external_id", "owner", "month", "pipeline_target", "revenue_quota", "deleted"),
    # Customer perception (DESIGN.md section 7).
    "surveys": ("external_id", "account", "contact", "kind", "score", "comment", "responded_at", "deleted"),
    "contracts": ("external_id", "account", "start", "end", "monthly_value", "status", "deleted"),
    "retention-spend": ("external_id", "period", "amount", "account", "deleted"),
    "feedback": ("external_id", "account", "contact", "channel", "text", "received_at", "deleted"),
}  # fmt: skip
KINDS = tuple(FIELDS)
FIELD_SETS = {kind: frozenset(fields) for kind, fields in FIELDS.items()}
# The local date stored beside a moment (the workspace's zone).
DERIVED_DATES = (
    ("created_at", "created_on"),
    ("occurred_at", "occurred_on"),
    ("responded_at", "responded_on"),
    ("received_at", "received_on"),
)

# CSV cells holding JSON (a deal's lists).
JSON_COLUMNS = ("line_items", "stage_history")


def parse_cents(value: Any) -> int:
    """An amount (number or string, ≥ 0, at most 2 decimals) as whole cents."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("Must be a number or a numeric string, e.g. 1250.50.")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"Not a number: {str(value)[:40]!r}.") from None
    if not amount.is_finite():
        raise ValueError("Must be a finite number.")
    if amount < 0:
        raise ValueError("Must not be negative.")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError("At most 2 decimals.")
    if cents >= MAX_CENTS:
        raise ValueError(f"Must be less than {MAX_CENTS // 100:,}.")
    return int(cents)


def parse_moment(value: Any, tz: zoneinfo.ZoneInfo) -> datetime:
    """A timestamp with an offset, or a bare date: the start of that day in the workspace's zone."""
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            moment = datetime.combine(date.fromisoformat(value.strip()), time.min, tzinfo=tz)
        except ValueError:
            raise ValueError("Not an ISO 8601 date or timestamp.") from None
    else:
        moment = parse_timestamp(value)
    try:
        # 9999-12-31T23:59:59-14:00, or 0001-01-01 east of UTC, lies past the calendar's end in UTC.
        moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("Out of range: the moment must lie between years 1 and 9999 in UTC.") from None
    return moment


def parse_date(value: Any) -> date:
    text = value.strip() if isinstance(value, str) else ""
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError("Not a date: use YYYY-MM-DD.") from None


def parse_month(value: Any) -> date:
    if not isinstance(value, str):
        raise ValueError("Must be a month, YYYY-MM.")
    text = value.strip()
    try:
        if len(text) != 7:
            raise ValueError
        return date.fromisoformat(text + "-01")
    except ValueError:
        raise ValueError("Not a month: use YYYY-MM, e.g. 2026-03.") from None


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "yes"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "0", "no"}:
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError("Must be true or false.")


def parse_whole(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise ValueError("Must be a whole number.")
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("-").isdigit() or len(text) > 12:
            raise ValueError("Must be a whole number.")
        value = int(text)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise ValueError("Must be a whole number.")
    if not low <= value <= high:
        raise ValueError(f"Must be between {low} and {high}.")
    return value


def _choice(choices: list[str]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or value.strip() not in choices:
            raise ValueError(f"Must be one of: {', '.join(choices)}.")
        return value.strip()

    return parse


def _reference(value: Any) -> str | None:
    """An external id of another record (None: none, where allowed)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("Must be the external id (a string) of the record.")
    text = str(value).strip()
    if not text:
        raise ValueError("Must not be blank; send null for none.")
    if len(text) > 128:
        raise ValueError("Ensure this field has no more than 128 characters.")
    return text


def _required_reference(value: Any) -> str:
    if value is None:
        raise ValueError("This field may not be null.")
    result = _reference(value)
    assert result is not None
    return result


@dataclass(frozen=True)
class Field:
    parse: Callable[[Any], Any]
    nullable: bool = False


@functools.lru_cache(maxsize=64)
def _fields(tz: zoneinfo.ZoneInfo) -> dict[str, dict[str, Field]]:
    moment = Field(lambda v: parse_moment(v, tz))
    deleted = Field(parse_bool)
    return {
        "accounts": {
            "owner": Field(_reference, nullable=True),
            "created_at": moment,
            "status": Field(_choice(Account.Status.values)),
            "deleted": deleted,
        },
        "products": {"deleted": deleted},
        "deals": {
            "account": Field(_required_reference),
            "owner": Field(_reference, nullable=True),
            "amount": Field(parse_cents, nullable=True),
            "probability": Field(lambda v: parse_whole(v, 0, 100)),
            "forecast_category": Field(_choice(Deal.ForecastCategory.values)),
            "created_at": moment,
            "close_date": Field(parse_date, nullable=True),
            "state": Field(_choice(Deal.State.values)),
            "deleted": deleted,
        },
        "activities": {
            "kind": Field(_choice(Activity.Kind.values)),
            "owner": Field(_required_reference),
            "account": Field(_reference, nullable=True),
            "deal": Field(_reference, nullable=True),
            "occurred_at": moment,
            "completed": Field(parse_bool),
            "deleted": deleted,
        },
        "targets": {
            "owner": Field(_reference, nullable=True),
            "month": Field(parse_month),
            "pipeline_target": Field(parse_cents, nullable=True),
            "revenue_quota": Field(parse_cents, nullable=True),
            "deleted": deleted,
        },
        "surveys": {
            "account": Field(_required_reference),
            "kind": Field(_choice(SurveyResponse.Kind.values)),
            "score": Field(lambda v: parse_whole(v, 0, 10)),  # and on its kind's scale (cross_errors)
            "responded_at": moment,
            "deleted": deleted,
        },
        "contracts": {
            "account": Field(_required_reference),
            "start": Field(parse_date),
            "end": Field(parse_date),
            "monthly_value": Field(parse_cents),
            "status": Field(_choice(Contract.Status.values)),
            "deleted": deleted,
        },
        "retention-spend": {
            "period": Field(parse_month),
            "amount": Field(parse_cents),
            "account": Field(_reference, nullable=True),
            "deleted": deleted,
        },
        "feedback": {
            "account": Field(_reference, nullable=True),
            "channel": Field(_choice(Feedback.Channel.values)),
            "received_at": moment,
            "deleted": deleted,
        },
    }


TEXT_LIMITS: dict[str, dict[str, int]] = {
    "accounts": {"name": 300, "industry": 100, "country": 64},
    "products": {"name": 300, "category": 100},
    "deals": {"name": 300, "stage": 100},
    "activities": {},
    "targets": {},
    "surveys": {"contact": 128, "comment": 5000},
    "contracts": {},
    "retention-spend": {},
    "feedback": {"contact": 128, "text": 5000},
}
REQUIRED_TEXT = {"name", "stage", "text"}  # may not be blank when sent


CROSS_CHECKED = frozenset({"surveys", "contracts"})


def cross_errors(kind: str, values: dict[str, Any], stored: Any = None) -> Errors:
    """Rules between two fields of one record, on the values sent over the ``stored`` record's (None:
    a new one): a survey's score on its kind's scale, a contract ending on or after its start. An
    update may send one field of the pair, so this runs where the stored record is known too."""
    errors: Errors = {}
    if kind == "surveys" and "score" in values:
        survey_kind = str(values.get("kind", getattr(stored, "kind", "")))
        low, high = SurveyResponse.SCALES.get(survey_kind, (0, 10))
        if not low <= values["score"] <= high:
            errors["score"] = [f"A {survey_kind} score must be between {low} and {high}."]
    elif kind == "surveys" and "kind" in values and stored is not None:
        low, high = SurveyResponse.SCALES[values["kind"]]
        if not low <= stored.score <= high:
            errors["kind"] = [f"The stored score {stored.score} is not on the {values['kind']} scale ({low}–{high})."]
    if kind == "contracts":
        start = values.get("start", getattr(stored, "start", None))
        end = values.get("end", getattr(stored, "end", None))
        if start is not None and end is not None and end < start:
            errors["end" if "end" in values else "start"] = ["A contract must end on or after its start."]
    return errors


def _line_items(value: Any, errors: Errors) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        errors["line_items"] = ["Must be a list of {product, quantity, amount}."]
        return []
    if len(value) > MAX_NESTED:
        errors["line_items"] = [f"At most {MAX_NESTED} line items."]
        return []
    items = []
    for position, raw in enumerate(value):
        problem = None
        if not isinstance(raw, dict):
            problem = "Must be an object {product, quantity, amount}."
        elif set(raw) - {"product", "quantity", "amount"}:
            problem = f"Unknown field(s): {', '.join(sorted(map(str, set(raw) - {'product', 'quantity', 'amount'})))}."
        elif raw.get("product") in (None, ""):
            problem = "product: This field is required."
        elif raw.get("amount") in (None, ""):
            problem = "amount: This field is required."
        else:
            try:
                product = _required_reference(raw["product"])
            except ValueError as exc:
                problem = f"product: {exc}"
            else:
                try:
                    quantity = parse_whole(raw["quantity"], 0, 10**9) if raw.get("quantity") is not None else 1
                except ValueError as exc:
                    problem = f"quantity: {exc}"
                else:
                    try:
                        cents = parse_cents(raw["amount"])
                    except ValueError as exc:
                        problem = f"amount: {exc}"
                    else:
                        items.append({"product": product, "quantity": quantity, "amount_cents": cents})
        if problem:
            errors.setdefault("line_items", []).append(f"Item {position}: {problem}")
    return items


def _stage_history(value: Any, tz: zoneinfo.ZoneInfo, errors: Errors) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        errors["stage_history"] = ["Must be a list of {stage, entered_at}."]
        return []
    if len(value) > MAX_NESTED:
        errors["stage_history"] = [f"At most {MAX_NESTED} entries."]
        return []
    entries = []
    for position, raw in enumerate(value):
        problem = None
        if not isinstance(raw, dict):
            problem = "Must be an object {stage, entered_at}."
        elif set(raw) - {"stage", "entered_at"}:
            problem = f"Unknown field(s): {', '.join(sorted(map(str, set(raw) - {'stage', 'entered_at'})))}."
        else:
            local: Errors = {}
            stage = _text(raw, "stage", 100, local, required=True)
            entered = None
            if raw.get("entered_at") in (None, ""):
                local["entered_at"] = ["This field is required."]
            else:
                try:
                    entered = parse_moment(raw["entered_at"], tz)
                except ValueError as exc:
                    local["entered_at"] = [str(exc)]
            if local:
                problem = "; ".join(f"{k}: {' '.join(v)}" for k, v in local.items())
            else:
                entries.append({"stage": stage, "entered_at": entered})
        if problem:
            errors.setdefault("stage_history", []).append(f"Entry {position}: {problem}")
    return entries


def parse_record(kind: str, raw: Any, *, tz: zoneinfo.ZoneInfo) -> tuple[dict[str, Any] | None, Errors]:
    """One item of ``kind`` for upsert: the fields sent, cleaned (amounts as ``*_cents``), or errors."""
    if not isinstance(raw, dict):
        return None, {"non_field_errors": ["Each item must be a JSON object."]}
    errors: Errors = {}
    clean: dict[str, Any] = {"external_id": _text(raw, "external_id", 128, errors, required=True)}
    for field, limit in TEXT_LIMITS[kind].items():
        if field in raw:
            if raw[field] is None and field not in REQUIRED_TEXT:
                clean[field] = ""
                continue
            clean[field] = _text(raw, field, limit, errors, required=field in REQUIRED_TEXT)
    for field, spec in _fields(tz)[kind].items():
        if field not in raw:
            continue
        value = raw[field]
        if value is None or (value == "" and spec.nullable):
            if spec.nullable:
                clean[field] = None
            else:
                errors[field] = ["This field may not be null."]
            continue
        try:
            clean[field] = spec.parse(value)
        except ValueError as exc:
            errors[field] = [str(exc)]
    if kind == "deals":
        if "line_items" in raw:
            clean["line_items"] = _line_items(raw["line_items"] if raw["line_items"] is not None else [], errors)
        if "stage_history" in raw:
            history = raw["stage_history"] if raw["stage_history"] is not None else []
            clean["stage_history"] = _stage_history(history, tz, errors)
    for field in AMOUNT_FIELDS:
        if field in clean:
            clean[f"{field}_cents"] = clean.pop(field)
    unknown = raw.keys() - FIELD_SETS[kind]
    if unknown:
        errors["non_field_errors"] = [f"Unknown field(s): {', '.join(sorted(map(str, unknown)))}."]
    if kind in CROSS_CHECKED and not errors:
        errors.update(cross_errors(kind, clean))
    if errors:
        return None, errors
    # What is stored beside the fields, worked out here: an import parses on its reading thread while
    # its writer thread stores the chunk before (import_records), so this is work taken off the writer.
    if kind == "accounts" and "name" in clean:
        clean["name_key"] = duplicate_key(clean["name"])
    for moment, day in DERIVED_DATES:
        if moment in clean:
            clean[day] = clean[moment].astimezone(tz).date()
    return clean, {}


# The vocabulary of feedback labelling (API.md, perception ``settings``): bounded, so relabelling stays cheap.
MAX_INTENTS = 50
MAX_COMPETITORS = 200
MAX_TERMS = 100  # keywords of one intent; aliases of one competitor
MAX_TERM_LENGTH = 100


def _terms(value: Any, where: str, errors: Errors, *, allow_empty: bool) -> list[str]:
    """A list of distinct non-blank terms (order kept), or an error under ``where``."""
    if not isinstance(value, list) or not all(isinstance(term, str) for term in value):
        errors[where] = ["Must be a list of strings."]
        return []
    terms = list(dict.fromkeys(term.strip() for term in value))
    if any(not term for term in terms):
        errors[where] = ["Terms may not be blank."]
    elif any(len(term) > MAX_TERM_LENGTH or not storable(term) for term in terms):
        errors[where] = [f"Each term must be storable text of at most {MAX_TERM_LENGTH} characters."]
    elif len(terms) > MAX_TERMS:
        errors[where] = [f"At most {MAX_TERMS} terms."]
    elif not terms and not allow_empty:
        errors[where] = ["Give at least one keyword."]
    return terms


def parse_perception_settings(raw: Any) -> tuple[dict[str, Any] | None, Errors]:
    """``{intents: {NAME: [keyword]}, competitors: [{name, aliases}]}`` cleaned (terms stripped, repeats
    dropped), or errors naming the field (``intents.NAME``, ``competitors[N].name``…)."""
    if not isinstance(raw, dict):
        return None, {"non_field_errors": ["Must be a JSON object with intents and competitors."]}
    errors: Errors = {}
    unknown = set(raw) - {"intents", "competitors"}
    if unknown:
        errors["non_field_errors"] = [f"Unknown field(s): {', '.join(sorted(map(str, unknown)))}."]
    intents: dict[str, list[str]] = {}
    raw_intents = raw.get("intents")
    if not isinstance(raw_intents, dict):
        errors["intents"] = ["Required: an object of intent name → list of keywords."]
    elif len(raw_intents) > MAX_INTENTS:
        errors["intents"] = [f"At most {MAX_INTENTS} intents."]
    else:
        for name, keywords in raw_intents.items():
            clean_name = name.strip()
            if not clean_name or len(clean_name) > MAX_TERM_LENGTH or not storable(clean_name):
                errors[f"intents.{name[:40]}"] = [f"An intent's name: 1–{MAX_TERM_LENGTH} characters."]
                continue
            intents[clean_name] = _terms(keywords, f"intents.{clean_name}", errors, allow_empty=False)
    competitors: list[dict[str, Any]] = []
    raw_competitors = raw.get("competitors")
    if not isinstance(raw_competitors, list):
        errors["competitors"] = ["Required: a list of {name, aliases}."]
    elif len(raw_competitors) > MAX_COMPETITORS:
        errors["competitors"] = [f"At most {MAX_COMPETITORS} competitors."]
    else:
        seen: set[str] = set()
        for position, item in enumerate(raw_competitors):
            where = f"competitors[{position}]"
            if not isinstance(item, dict) or set(item) - {"name", "aliases"}:
                errors[where] = ["Must be an object {name, aliases}."]
                continue
            name = item.get("name")
            if not isinstance(name, str) or not 0 < len(name.strip()) <= MAX_TERM_LENGTH or not storable(name):
                errors[f"{where}.name"] = [f"Required: 1–{MAX_TERM_LENGTH} characters."]
                continue
            if name.strip().casefold() in seen:
                errors[f"{where}.name"] = [f"{name.strip()!r} is listed twice."]
                continue
            seen.add(name.strip().casefold())
            aliases = _terms(item.get("aliases", []), f"{where}.aliases", errors, allow_empty=True)
            competitors.append({"name": name.strip(), "aliases": aliases})
    if errors:
        return None, errors
    return {"intents": intents, "competitors": competitors}, {}
