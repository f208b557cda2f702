"""Schemathesis hooks for the stateful run of ``tests/test_fuzz_api.py`` (loaded through
``SCHEMATHESIS_HOOKS``): half the bodies for saving a funnel or a filter set are valid ones over the
fuzz workspace's catalog, so that sequences get past the 400 to create, change, read and delete
real configurations; the other half stay as generated. Answers are asked for in JSON."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import strategies as st

# The fuzz workspace's catalog (the journeys of the test's fixture).
STEPS = [
    {"feature": "Leads", "action": "create"},
    {"feature": "Leads", "action": "view", "detail": "detail_view"},
    {"feature": "Leads", "action": "convert"},
]
NAMES = st.text(min_size=1, max_size=40).filter(lambda name: name.strip() != "" and "\x00" not in name)

VALID_FUNNELS = st.fixed_dictionaries(
    {"name": NAMES, "steps": st.lists(st.sampled_from(STEPS), min_size=2, max_size=4)},
    optional={
        "visibility": st.sampled_from(["private", "workspace"]),
        "window_days": st.integers(1, 365),
        "unit": st.sampled_from(["user", "record"]),
    },
)
VALID_FILTER_SETS = st.fixed_dictionaries(
    {"name": NAMES},
    optional={
        "conditions": st.fixed_dictionaries(
            {},
            optional={
                "activity": st.lists(
                    st.fixed_dictionaries(
                        {
                            "metric": st.sampled_from(["last_seen_days", "interactions", "session_count"]),
                            "op": st.sampled_from([">", ">=", "<", "<=", "="]),
                            "value": st.integers(0, 100),
                        }
                    ),
                    max_size=3,
                ),
                "features": st.lists(
                    st.fixed_dictionaries({"feature": st.just("Leads"), "action": st.sampled_from(["create", "view"])}),
                    max_size=2,
                ),
            },
        ),
        "group_by": st.sampled_from(["", "country", "language"]),
        "visibility": st.sampled_from(["private", "workspace"]),
        "default_days": st.integers(1, 731),
    },
)


@schemathesis.hook
def before_generate_body(context: Any, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    operation = context.operation
    if operation is None or operation.method.upper() not in {"POST", "PUT", "PATCH"}:
        return strategy
    if operation.path.endswith(("/funnels/", "/funnels/{id}")):
        return st.one_of(strategy, VALID_FUNNELS)
    if operation.path.endswith(("/filter-sets/", "/filter-sets/{id}/")):
        return st.one_of(strategy, VALID_FILTER_SETS)
    return strategy


@schemathesis.hook
def map_query(context: Any, query: dict[str, Any] | None) -> dict[str, Any] | None:
    """JSON answers only: a CSV answer carries no ``id`` for the links to pass on (the CSV exports
    are fuzzed by the stateless run)."""
    if query:
        query.pop("format", None)
    return query
