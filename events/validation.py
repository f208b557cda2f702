"""Validation of incoming events and CRM users, shared by the batch endpoints and the import commands.

Plain functions rather than DRF serializers: a 1000-event batch is validated per event, and this
path must stay cheap (it is the ingest hot path). Each parser returns either a clean row or an error
dict shaped like DRF's (``{field: [message]}``) so the API and the command line report alike.
"""

from __future__ import annotations

import json
import re
import uuid as uuidlib
import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from operator import ne
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from events.models import MAX_DURATION_MS, CrmUser, Device, Outcome

Errors = dict[str, list[str]]

MAX_FUTURE = timedelta(days=1)
EARLIEST_EVENT = datetime(1970, 1, 1, tzinfo=UTC)
MAX_PROPERTIES_BYTES = 8 * 1024
MAX_PROPERTIES_DEPTH = 32  # objects and lists inside ``properties``
MAX_JSON_DEPTH = 64  # a request body: deeper is a 400, not a parser's recursion


class JsonTooDeep(ValueError):
    pass


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests objects or lists more than ``limit`` levels (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def json_loads_bounded(text: str | bytes, *, max_depth: int | None = MAX_JSON_DEPTH) -> Any:
    """``json.loads``, with nesting deeper than the parser can follow (or than ``max_depth``) a
    ``ValueError`` like any other malformed JSON, not a ``RecursionError``."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonTooDeep("nested too deeply") from None
    if max_depth is not None and json_depth_exceeds(value, max_depth):
        raise JsonTooDeep(f"nested more than {max_depth} levels deep")
    return value


# What the operation came to (DESIGN.md section 5), each optional.
OUTCOME_FIELDS = ("outcome", "error_code", "duration_ms", "device")
EVENT_FIELDS = (
    "uuid", "user", "feature", "action", "detail", "record_id", "timestamp", "properties", *OUTCOME_FIELDS
)  # fmt: skip
USER_FIELDS = ("external_id", "email", "name", "language", "country", "timezone", "status", "role", "created_at")
_TIMEZONES = zoneinfo.available_timezones()


@dataclass(frozen=True, slots=True)
class EventRow:
    uuid: str | None
    user: str
    feature: str
    action: str
    detail: str
    record_id: str
    occurred_at: datetime
    properties: dict[str, Any] | None
    outcome: str = ""
    error_code: str = ""
    duration_ms: int | None = None
    device: str = ""


@dataclass(slots=True)
class EventColumns:
    """Validated events as columns, what ``events.services`` stores: equal-length sequences, one item
    per event, with the values ``parse_event`` would give (uuids already chosen).

    A big import validates and stores its rows a chunk at a time in this form: a handful of C-level
    passes over each column instead of a dict and an ``EventRow`` per row."""

    uuids: Sequence[str]
    users: Sequence[str]
    features: Sequence[str]
    actions: Sequence[str]
    details: Sequence[str]
    record_ids: Sequence[str]
    moments: Sequence[datetime]  # aware
    # ISO 8601 text of ``moments`` as PostgreSQL reads it (the client's own text on the CSV fast path).
    stamps: Sequence[str]
    # True when every stamp is UTC written 'YYYY-MM-DDTHH:MM:SS[.ffffff](+00:00|Z)' with six fraction
    # digits or none (never '.000000'): then the local day and SQLite's text form come from the text.
    utc_stamps: bool
    properties: Sequence[str | None] | None  # JSON text, or None when no event has properties
    # outcome, error_code, duration_ms, device: None when no event has any of them.
    outcomes: OutcomeColumns | None = None

    def __len__(self) -> int:
        return len(self.uuids)

    @classmethod
    def from_rows(cls, rows: Sequence[EventRow]) -> EventColumns:
        properties = [
            json.dumps(r.properties) if r.properties is not None else None for r in rows
        ]  # fmt: skip
        moments = [r.occurred_at for r in rows]
        with_outcome = any(r.outcome or r.error_code or r.duration_ms is not None or r.device for r in rows)
        return cls(
            uuids=[r.uuid or uuidlib.uuid4().hex for r in rows],
            users=[r.user for r in rows],
            features=[r.feature for r in rows],
            actions=[r.action for r in rows],
            details=[r.detail for r in rows],
            record_ids=[r.record_id for r in rows],
            moments=moments,
            stamps=[m.isoformat() for m in moments],
            utc_stamps=False,
            properties=properties if any(p is not None for p in properties) else None,
            outcomes=OutcomeColumns(
                outcomes=[r.outcome for r in rows],
                error_codes=[r.error_code for r in rows],
                durations=[r.duration_ms for r in rows],
                devices=[r.device for r in rows],
            )
            if with_outcome
            else None,
        )


@dataclass(slots=True)
class OutcomeColumns:
    """The optional outcome fields of ``EventColumns``, one item per event ("" / None: unknown)."""

    outcomes: Sequence[str]
    error_codes: Sequence[str]
    durations: Sequence[int | None]
    devices: Sequence[str]

    def rows(self) -> Iterator[tuple[str, str, int | None, str]]:
        return zip(self.outcomes, self.error_codes, self.durations, self.devices, strict=True)


UNSTORABLE = "Contains a character that cannot be stored (NUL or an unpaired surrogate)."


def storable(text: str) -> bool:
    """PostgreSQL refuses NUL in text and jsonb, and no encoding takes an unpaired surrogate."""
    return "\x00" not in text and (text.isascii() or _encodable(text))  # ASCII: no surrogate to find


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(raw: dict[str, Any], field: str, max_length: int, errors: Errors, *, required: bool) -> str:
    value = raw.get(field)
    if value is None or value == "":
        if required:
            errors[field] = ["This field is required."]
        return ""
    if not isinstance(value, str):  # the common case costs one test
        if isinstance(value, bool) or not isinstance(value, int):
            errors[field] = ["Must be a string."]
            return ""
        value = str(value)
    text = value.strip()
    if not storable(text):
        errors[field] = [UNSTORABLE]
    elif not text and required:
        errors[field] = ["This field may not be blank."]
    elif len(text) > max_length:
        errors[field] = [f"Ensure this field has no more than {max_length} characters."]
    return text


def properties_error(properties: dict[str, Any]) -> str | None:
    """Why ``properties`` cannot be stored (as PostgreSQL's jsonb and SQLite's JSON take it), or None."""
    if json_depth_exceeds(properties, MAX_PROPERTIES_DEPTH):
        return f"Nested more than {MAX_PROPERTIES_DEPTH} levels deep."
    try:
        encoded = json.dumps(properties, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError:
        return "Numbers must be finite: no NaN, Infinity or values beyond ±1.8e308."
    if "\\u0000" in encoded or not storable(encoded):
        return UNSTORABLE
    if len(encoded.encode("utf-8")) > MAX_PROPERTIES_BYTES:
        return f"Must be at most {MAX_PROPERTIES_BYTES} bytes as JSON."
    return None


def parse_timestamp(value: Any) -> datetime:
    """An ISO 8601 timestamp with a UTC offset; naive times are refused as ambiguous."""
    if not isinstance(value, str) or not storable(value):
        raise ValueError("Must be an ISO 8601 string, e.g. 2025-10-04T09:30:00+08:00.")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"Not an ISO 8601 timestamp: {value[:40]!r}.") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("The timestamp needs a UTC offset (e.g. 2025-10-04T09:30:00+08:00 or …Z).")
    return moment


def parse_event(raw: Any, *, now: datetime) -> tuple[EventRow | None, Errors]:
    if not isinstance(raw, dict):
        return None, {"non_field_errors": ["Each event must be a JSON object."]}
    errors: Errors = {}
    uuid = _text(raw, "uuid", 64, errors, required=False) or None
    user = _text(raw, "user", 128, errors, required=True)
    feature = _text(raw, "feature", 100, errors, required=True)
    action = _text(raw, "action", 64, errors, required=True)
    detail = _text(raw, "detail", 128, errors, required=False)
    record_id = _text(raw, "record_id", 128, errors, required=False)

    occurred_at = None
    if raw.get("timestamp") in (None, ""):
        errors["timestamp"] = ["This field is required."]
    else:
        try:
            occurred_at = parse_timestamp(raw["timestamp"])
        except ValueError as exc:
            errors["timestamp"] = [str(exc)]
        else:
            if occurred_at > now + MAX_FUTURE:
                errors["timestamp"] = ["Must not be more than 1 day in the future."]
            elif occurred_at < EARLIEST_EVENT:
                errors["timestamp"] = ["Must not be before 1970-01-01."]

    properties = raw.get("properties")
    if properties in (None, ""):
        properties = None
    elif not isinstance(properties, dict):
        errors["properties"] = ["Must be a JSON object."]
    else:
        message = properties_error(properties)
        if message:
            errors["properties"] = [message]

    outcome = _choice(raw, "outcome", Outcome.values, errors)
    error_code = _text(raw, "error_code", 64, errors, required=False)
    if error_code and outcome != Outcome.FAILURE and "outcome" not in errors:
        errors["error_code"] = ['Only with "outcome": "failure".']
    duration_ms = _duration(raw.get("duration_ms"), errors)
    device = _choice(raw, "device", Device.values, errors)

    unknown = set(raw) - set(EVENT_FIELDS)
    if unknown:
        errors["non_field_errors"] = [f"Unknown field(s): {', '.join(sorted(map(str, unknown)))}."]

    if errors or occurred_at is None:
        return None, errors
    row = EventRow(
        uuid, user, feature, action, detail, record_id, occurred_at, properties, outcome, error_code, duration_ms, device
    )  # fmt: skip
    return row, {}


def _choice(raw: dict[str, Any], field: str, choices: Sequence[str], errors: Errors) -> str:
    """An optional value from a fixed list; absent or empty: ""."""
    value = raw.get(field)
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or value not in choices:
        errors[field] = [f"Must be one of: {', '.join(choices)}."]
        return ""
    return value


def _duration(value: Any, errors: Errors) -> int | None:
    """``duration_ms``: a whole number of milliseconds, 0 to a day; from a CSV cell, its digits."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdecimal() and value.strip().isascii():
        value = int(value.strip())
    elif isinstance(value, float) and value.is_integer():
        value = int(value)  # 1500.0 from a JSON encoder that writes every number as a float
    if isinstance(value, bool) or not isinstance(value, int):
        errors["duration_ms"] = ["Must be a whole number of milliseconds."]
        return None
    if not 0 <= value <= MAX_DURATION_MS:
        errors["duration_ms"] = [f"Must be between 0 and {MAX_DURATION_MS:,} (a day)."]
        return None
    return value


# --- the bulk fast path ------------------------------------------------------------------------------

# The limits of parse_event's text fields, and which are required.
_TEXT_FIELDS = (("uuid", 64), ("user", 128), ("feature", 100), ("action", 64), ("detail", 128), ("record_id", 128))
_REQUIRED = frozenset(("uuid", "user", "feature", "action"))  # uuid: an empty one takes the row path
# Timestamps of the fast path, one a line: what both fromisoformat and PostgreSQL read alike
# (PostgreSQL refuses offsets past 15:59). Anything else takes the row path, which decides.
_STAMPS = re.compile(r"(?:\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:[+-](?:0\d|1[0-4])(?::[0-5]\d)?|Z)\n)*")
_UTC_STAMPS = re.compile(r"(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{6})?(?:\+00:00|Z)\n)*")


def event_columns_fast(
    by_name: Mapping[str, Sequence[str]], n: int, *, now: datetime, not_before: datetime | None = None
) -> EventColumns | None:
    """``n`` CSV rows, given as their columns (name → the ``n`` values), as ``EventColumns`` when
    every one of them is plainly valid, else None: then the caller checks them one by one with
    ``parse_event``, which names the errors. Accepts only rows that ``parse_event`` accepts (with
    blank cells dropped, as the CSV reader does) and gives the same values; whatever is unusual (a
    blank or padded cell, properties, an empty uuid, a timestamp in another form…) goes to the row
    path. Events before ``not_before`` (the retention start) are refused too.

    Each check is one pass over a column in C (join, count, max, map, a regex over the joined text),
    not Python code per row: this is the inner loop of ``import_events``.
    """
    if not n:
        return None
    texts: dict[str, Sequence[str]] = {}
    for name, max_length in _TEXT_FIELDS:
        column = by_name.get(name)
        if column is None:
            continue
        joined = "\x00".join(column)
        if (
            joined.count("\x00") != n - 1  # a NUL in a value
            or (not joined.isascii() and not _encodable(joined))  # an unpaired surrogate
            or max(map(len, column)) > max_length
            or (name in _REQUIRED and "" in column)
            or any(map(ne, map(str.strip, column), column))  # padded or whitespace-only values
        ):
            return None
        texts[name] = column
    if "properties" in by_name and by_name["properties"].count("") != n:
        return None
    if any(name in by_name and by_name[name].count("") != n for name in OUTCOME_FIELDS):
        return None  # checked and converted row by row (rarer than the plain columns)
    stamps = by_name["timestamp"]
    joined = "\n".join(stamps) + "\n"
    utc = _UTC_STAMPS.fullmatch(joined) is not None and ".000000" not in joined
    if not utc and _STAMPS.fullmatch(joined) is None:
        return None
    try:
        moments = list(map(datetime.fromisoformat, stamps))
    except ValueError:  # a 31st of February…
        return None
    earliest = max(EARLIEST_EVENT, not_before) if not_before is not None else EARLIEST_EVENT
    if min(moments) < earliest or max(moments) > now + MAX_FUTURE:
        return None
    empty = [""] * n
    return EventColumns(
        uuids=texts["uuid"] if "uuid" in texts else [uuidlib.uuid4().hex for _ in range(n)],
        users=texts["user"],
        features=texts["feature"],
        actions=texts["action"],
        details=texts.get("detail", empty),
        record_ids=texts.get("record_id", empty),
        moments=moments,
        stamps=stamps,
        utc_stamps=utc,
        properties=None,
    )


_FAST_JSON_KEYS = frozenset(name for name, _ in _TEXT_FIELDS) | {"timestamp"}


def event_batch_fast(items: Sequence[Any], *, now: datetime, not_before: datetime | None = None) -> EventColumns | None:
    """A JSON batch (the batch endpoint's ``events``) as ``EventColumns`` when every event is plainly
    valid, else None (then each goes through ``parse_event``, which names the errors): the same
    column checks as ``event_columns_fast``, for events that are objects with the same keys, all
    of them text fields or the timestamp, and every value a string."""
    if not items or not all(type(item) is dict for item in items):
        return None
    keys = items[0].keys()
    if not keys <= _FAST_JSON_KEYS or "timestamp" not in keys or any(item.keys() != keys for item in items):
        return None
    by_name = {key: [item[key] for item in items] for key in keys}
    if not all(type(value) is str for column in by_name.values() for value in column):
        return None
    return event_columns_fast(by_name, len(items), now=now, not_before=not_before)


def parse_user(raw: Any, *, tz: zoneinfo.ZoneInfo) -> tuple[dict[str, Any] | None, Errors]:
    """A CRM user for upsert: only the fields present are returned, so an update keeps the rest."""
    if not isinstance(raw, dict):
        return None, {"non_field_errors": ["Each user must be a JSON object."]}
    errors: Errors = {}
    clean: dict[str, Any] = {"external_id": _text(raw, "external_id", 128, errors, required=True)}
    limits = {"email": 254, "name": 200, "language": 16, "country": 64, "timezone": 64, "status": 16, "role": 100}
    for field, max_length in limits.items():
        if field in raw:
            clean[field] = _text(raw, field, max_length, errors, required=False)
    if clean.get("email"):
        try:
            validate_email(clean["email"])
        except ValidationError:
            errors["email"] = ["Enter a valid email address."]
    if clean.get("timezone") and clean["timezone"] not in _TIMEZONES:
        errors["timezone"] = ["Not an IANA time zone name (e.g. Asia/Shanghai)."]
    if "status" in clean:
        if clean["status"] == "":
            del clean["status"]
        elif clean["status"] not in CrmUser.Status.values:
            errors["status"] = [f"Must be one of: {', '.join(CrmUser.Status.values)}."]
    if raw.get("created_at") not in (None, ""):
        value = raw["created_at"]
        try:
            if isinstance(value, str) and len(value.strip()) == 10:
                # A bare date is the start of that day in the workspace's time zone.
                clean["created_at"] = datetime.combine(date.fromisoformat(value.strip()), time.min, tzinfo=tz)
            else:
                clean["created_at"] = parse_timestamp(value)
            clean["created_at"].astimezone(UTC)  # 9999-12-31T23:59:59-14:00 is past the calendar's end in UTC
        except OverflowError:
            errors["created_at"] = ["Out of range: the moment must lie between years 1 and 9999 in UTC."]
        except ValueError as exc:
            errors["created_at"] = [str(exc) if "offset" in str(exc) else "Not an ISO 8601 date or timestamp."]
    unknown = set(raw) - set(USER_FIELDS)
    if unknown:
        errors["non_field_errors"] = [f"Unknown field(s): {', '.join(sorted(map(str, unknown)))}."]
    if errors:
        return None, errors
    return clean, {}
