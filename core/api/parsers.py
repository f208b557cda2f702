"""The API's JSON parser and paginator (``REST_FRAMEWORK`` defaults). A module of its own: DRF
imports it while it sets up its views, so it must not import them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.pagination import PageNumberPagination
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


class CheckedPagination(PageNumberPagination):
    """DRF's page-number pagination, with a ``page`` that is not a whole number of 1 or more a 400
    naming it (DRF answers 404 for it, as for a page past the last, which stays a 404)."""

    def get_page_number(self, request: Any, paginator: Any) -> Any:
        raw = request.query_params.get(self.page_query_param) or 1
        if raw in self.last_page_strings:
            return raw
        try:
            number = int(raw)
        except (TypeError, ValueError):
            number = 0
        if number < 1:
            raise ValidationError({self.page_query_param: [_("Enter a whole number, 1 or more.")]})
        return number
