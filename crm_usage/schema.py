"""OpenAPI post-processing: every operation documents the errors every operation can return.

Authentication (401), membership and roles (403/404), validation (400) and rate limits (429) are
enforced in one place for all endpoints, so they are documented in one place too.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "description": 'Either {"detail": "message"} or {"field": ["message", …]} (nested for nested input).',
    "additionalProperties": True,
}
COMMON_ERRORS = {
    "400": "Bad input; the body names each field at fault.",
    "401": "No credentials, or invalid, expired or revoked ones.",
    "403": "Authenticated, but your role does not allow this.",
    "404": "No such workspace or object, or you may not see it.",
    "429": "Rate limited; retry after the number of seconds in Retry-After.",
}
HTTP_METHODS = {"get", "put", "patch", "post", "delete"}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for methods in result.get("paths", {}).values():
        for method, operation in methods.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code, description in COMMON_ERRORS.items():
                response = responses.setdefault(code, {"description": description})
                response.setdefault("content", error_content)
            for code, response in responses.items():
                if code[0] in "45":
                    response.setdefault("content", error_content)
    return result


def add_links(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """OpenAPI links between a collection and its items: the ``id`` a ``POST`` returns addresses
    the item's operations, and after the item's ``DELETE`` its ``GET`` is a 404. Clients read them
    as documentation; schemathesis's stateful mode follows them."""
    paths = result.get("paths", {})
    for collection, methods in paths.items():
        created = methods.get("post", {}).get("responses", {}).get("201")
        if created is None:
            continue
        slug = {"slug": "$request.path.slug"} if "{slug}" in collection else {}
        for path, operations in paths.items():
            if not path.startswith(collection + "{id}"):
                continue
            for method, operation in operations.items():
                if method in HTTP_METHODS:
                    created.setdefault("links", {})[operation["operationId"]] = {
                        "operationId": operation["operationId"],
                        "parameters": {**slug, "id": "$response.body#/id"},
                    }
            deleted = operations.get("delete", {}).get("responses", {}).get("204")
            if deleted is not None and "get" in operations:
                read = operations["get"]["operationId"]
                deleted.setdefault("links", {})[read] = {
                    "operationId": read,
                    "parameters": {**slug, "id": "$request.path.id"},
                }
    return result
