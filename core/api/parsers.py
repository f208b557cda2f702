"""The API's JSON parser (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``). A module of its own: DRF
imports it while it sets up its views, so it must not import them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from events.validation import json_loads_bounded


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, with a body nested deeper than ``MAX_JSON_DEPTH`` (or than Python's parser
    can follow) a 400 like any other malformed JSON, never a ``RecursionError``."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json_loads_bounded(stream.read().decode(encoding))
        except ValueError as exc:  # JsonTooDeep, JSONDecodeError, UnicodeDecodeError
            raise ParseError(f"JSON parse error - {exc}") from None
