"""Validation of incoming events and CRM users, shared by the batch endpoints and the import commands.

Plain functions rather than DRF serializers: a 1000-event batch is validated per event, and this
path must stay cheap (it is the ingest hot path). Each parser returns either a clean row or an error
dict shaped like DRF's (``{field: [message]}``) so the API and the command line report alike.
"""

from __future__ import annotations

import json
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from events.models import CrmUser

Errors = dict[str, list[str]]

MAX_FUTURE = timedelta(days=1)
EARLIEST_EVENT = datetime(1970, 1, 1, tzinfo=UTC)
MAX_PROPERTIES_BYTES = 8 * 1024
EVENT_FIELDS = ("uuid", "user", "feature", "action", "detail", "record_id", "timestamp", "properties")
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


UNSTORABLE = "Contains a character that cannot be stored (NUL or an unpaired surrogate)."


def storable(text: str) -> bool:
    """PostgreSQL refuses NUL in text and jsonb, and no encoding takes an unpaired surrogate."""
    if "\x00" in text:
        return False
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
    if isinstance(value, bool) or not isinstance(value, str | int):
        errors[field] = ["Must be a string."]
        return ""
    text = str(value).strip()
    if not storable(text):
        errors[field] = [UNSTORABLE]
    elif not text and required:
        errors[field] = ["This field may not be blank."]
    elif len(text) > max_length:
        errors[field] = [f"Ensure this field has no more than {max_length} characters."]
    return text


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
        encoded = json.dumps(properties, separators=(",", ":"), ensure_ascii=False)
        if "\\u0000" in encoded or not storable(encoded):
            errors["properties"] = [UNSTORABLE]
        elif len(encoded.encode("utf-8")) > MAX_PROPERTIES_BYTES:
            errors["properties"] = [f"Must be at most {MAX_PROPERTIES_BYTES} bytes as JSON."]

    unknown = set(raw) - set(EVENT_FIELDS)
    if unknown:
        errors["non_field_errors"] = [f"Unknown field(s): {', '.join(sorted(map(str, unknown)))}."]

    if errors or occurred_at is None:
        return None, errors
    return EventRow(uuid, user, feature, action, detail, record_id, occurred_at, properties), {}


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
        except ValueError as exc:
            errors["created_at"] = [str(exc) if "offset" in str(exc) else "Not an ISO 8601 date or timestamp."]
    unknown = set(raw) - set(USER_FIELDS)
    if unknown:
        errors["non_field_errors"] = [f"Unknown field(s): {', '.join(sorted(map(str, unknown)))}."]
    if errors:
        return None, errors
    return clean, {}
