"""API wiring of the project: every error body a JSON object, and a JSON 404 for unknown API paths."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.api.parsers import BodyTooLarge


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with every error body a JSON object (``{"detail": …}`` or ``{field: [msg]}``),
    rendered as JSON even when the request asked for CSV. A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``
    is a JSON 413 (Django's own answer would be an HTML 400)."""
    if isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge(_body_too_large_message())
    response = drf_exception_handler(exc, context)
    if response is not None:
        if isinstance(response.data, list):
            response.data = {"non_field_errors": response.data}
        request = context.get("request")
        if request is not None:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
    return response


def _body_too_large_message() -> str:
    return BodyTooLarge.message % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}


@csrf_exempt  # it changes nothing; without this a cookie-carrying DELETE would get an HTML 403 instead
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any /api/ path that matches no route: a JSON 404 like every other API error (not an HTML page)."""
    return JsonResponse({"detail": "Not found."}, status=404)
