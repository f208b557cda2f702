"""Shared fixtures: workspaces, members with API tokens, and a declarative event builder."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from events.rollups import rollups_refresh_dirty
from events.services import events_ingest
from events.validation import parse_event
from tenancy.models import Membership, Workspace
from tenancy.services import workspace_create


@pytest.fixture(autouse=True)
def celery_in_process(request: pytest.FixtureRequest) -> Any:
    """Run tasks in-process except in integration tests, which use a real Redis-backed worker.

    ``make test`` sets CELERY_BROKER_URL for its PostgreSQL pass (settings then stop running tasks
    eagerly); every other test must not depend on a worker being there.
    """
    from crm_usage.celery import app

    if request.node.get_closest_marker("integration"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def fresh_cache() -> Any:
    """Rate-limit counters live in the cache: every test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_workspace(db: Any) -> Callable[..., tuple[Workspace, str]]:
    counter = iter(range(1, 10_000))

    def make(slug: str | None = None, tz: str = "UTC", timeout: int = 15) -> tuple[Workspace, str]:
        return workspace_create(slug=slug or f"ws{next(counter)}", timezone_name=tz, session_timeout_minutes=timeout)

    return make


@pytest.fixture
def workspace(make_workspace: Callable[..., tuple[Workspace, str]]) -> Workspace:
    return make_workspace("acme", tz="UTC")[0]


@pytest.fixture
def member_client(db: Any) -> Callable[..., APIClient]:
    """An APIClient authenticated with a personal token of a member of ``workspace`` (role given)."""

    def make(workspace: Workspace | None, role: str = Membership.Role.VIEWER, username: str = "member") -> APIClient:
        user, _ = get_user_model().objects.get_or_create(username=username)
        if workspace is not None:
            Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": role})
        _, token = AuthToken.objects.create(user, expiry=timezone.timedelta(days=1))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    return make


def run(*args: Any, stderr: io.StringIO | None = None, **options: Any) -> tuple[list[str], str]:
    """Run a management command; return its stdout lines and its stderr."""
    out, err = io.StringIO(), stderr or io.StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue().splitlines(), err.getvalue()


def journeys(workspace: Workspace, events: Iterable[tuple[Any, ...]], refresh: bool = True) -> None:
    """Store events declaratively and refresh rollups.

    Each item is ``(user, timestamp, feature, action[, detail[, record_id]][, {field: value}])``;
    ``timestamp`` is an ISO string with offset or an aware datetime; a trailing dict adds fields
    (``outcome``, ``duration_ms``…).
    """
    now = timezone.now()
    rows = []
    for n, item in enumerate(events):
        user, moment, feature, action, *rest = item
        extra = rest.pop() if rest and isinstance(rest[-1], dict) else {}
        raw = {
            "uuid": f"j{n}-{user}-{moment}",
            "user": user,
            "feature": feature,
            "action": action,
            "detail": rest[0] if rest else "",
            "record_id": rest[1] if len(rest) > 1 else "",
            "timestamp": moment.isoformat() if isinstance(moment, datetime) else moment,
            **extra,
        }
        row, errors = parse_event(raw, now=now)
        assert row is not None, errors
        rows.append(row)
    events_ingest(workspace=workspace, rows=rows, enqueue_refresh=False)
    if refresh:
        rollups_refresh_dirty(workspace=workspace)


def crm_users(workspace: Workspace, rows: Iterable[dict[str, Any]]) -> None:
    """Create or update CRM users through the same validation as the users batch endpoint."""
    from events.services import crm_users_upsert
    from events.validation import parse_user

    clean = []
    for raw in rows:
        row, errors = parse_user(raw, tz=workspace.tzinfo)
        assert row is not None, errors
        clean.append(row)
    crm_users_upsert(workspace=workspace, rows=clean)


def crm_records(workspace: Workspace, kind: str, items: Iterable[dict[str, Any]], refresh: bool = True) -> None:
    """Upsert CRM records of ``kind`` through the batch endpoint's validation, every item accepted, then
    bring the aggregates up to date (as the worker does after a batch)."""
    from records.aggregates import figures_refresh_dirty
    from records.services import records_upsert
    from records.validation import parse_record

    parsed = []
    for index, raw in enumerate(items):
        row, errors = parse_record(kind, raw, tz=workspace.tzinfo)
        assert row is not None, (raw, errors)
        parsed.append((index, row))
    result = records_upsert(workspace=workspace, kind=kind, items=parsed)
    assert not result.rejected, result.rejected
    if refresh:
        figures_refresh_dirty(workspace=workspace)
