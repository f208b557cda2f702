"""Reading a board: each tile's answer is the answer of its GET endpoint, asked internally as the
viewer through the real URL routes, so a tile can never differ from the tab it was pinned from."""

from __future__ import annotations

from typing import Any

from django.urls import Resolver404, resolve
from rest_framework.test import APIRequestFactory, force_authenticate

from tenancy.models import Workspace

_factory = APIRequestFactory()


def endpoint_answer(workspace: Workspace, viewer: Any, endpoint: str, params: dict[str, Any]) -> tuple[int, Any]:
    """``GET /api/v1/workspaces/<slug>/<endpoint>?<params>`` answered as ``viewer``: (status, JSON body).

    ``params`` values may be lists (a repeated parameter). An endpoint outside the workspace API is a
    404, as it would be over HTTP."""
    path = f"/api/v1/workspaces/{workspace.slug}/{endpoint.strip('/')}"
    try:
        match = resolve(path)
    except Resolver404:
        return 404, {"detail": "Not found."}
    request = _factory.get(path, params, HTTP_ACCEPT="application/json")
    force_authenticate(request, user=viewer)
    response = match.func(request, *match.args, **match.kwargs)
    return response.status_code, getattr(response, "data", None)
