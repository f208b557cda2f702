"""The API's JSON parser and paginator (``REST_FRAMEWORK`` defaults). A module of its own: DRF
imports it while it sets up its views, so it must not import them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser

from events.validation import json_loads_bounded


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"
    message = "The body is larger than %(limit)s bytes."


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, with a body nested deeper than ``MAX_JSON_DEPTH`` (or than Python's parser
    can follow) a 400 like any other malformed JSON, never a ``RecursionError``; and a body larger
    than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` a 413 read no further (DRF checks that size through
    ``request.body`` in some versions and reads the stream directly in others)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise BodyTooLarge(BodyTooLarge.message % {"limit": limit})
        try:
            return json_loads_bounded(body.decode(encoding))
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
