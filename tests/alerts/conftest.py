"""Shared scenario of the alert tests: a workspace whose interactions per day are set by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from alerts.models import Alert
from tenancy.models import Membership, Workspace
from tests.conftest import journeys


def daily(workspace: Workspace, counts: dict[date, int], user: str = "u1", hour: int = 10) -> None:
    """``counts[day]`` Deals·edit events by ``user`` on each local day (at ``hour``:mm local)."""
    tz = workspace.tzinfo
    rows = [
        (user, datetime(day.year, day.month, day.day, hour, n, tzinfo=tz), "Deals", "edit")
        for day, n_events in counts.items()
        for n in range(n_events)
    ]
    journeys(workspace, rows)


def days_from(first: date, values: list[int]) -> dict[date, int]:
    return {first + timedelta(days=i): v for i, v in enumerate(values) if v}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def owner(db: Any) -> Any:
    return get_user_model().objects.create_user(username="owner", password="pw")


def make_alert(workspace: Workspace, owner: Any, **fields: Any) -> Alert:
    Membership.objects.get_or_create(workspace=workspace, user=owner, defaults={"role": Membership.Role.ANALYST})
    values: dict[str, Any] = {
        "name": "Busy",
        "metric": "interactions",
        "params": {"days": 1},
        "condition": "threshold",
        "op": ">",
        "value": 2,
        "interval": "daily",
        "recipients": ["ops@example.com"],
        **fields,
    }
    return Alert.objects.create(workspace=workspace, owner=owner, **values)
