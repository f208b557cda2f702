"""Steps of ``make bench`` that run inside Django (one process per step, so each step's peak RSS is
its own). Called by ``bench/run.py``; prints one JSON object on its last line.

    python bench/django_steps.py setup SLUG TZ USERS_CSV      workspace + ingest key, users, superuser + token
    python bench/django_steps.py rebuild SLUG                 rollups_rebuild (the --full path), timed
    python bench/django_steps.py refresh SLUG                 rollups_refresh_dirty, timed
    python bench/django_steps.py refresh_day SLUG DAY         DAY marked dirty again, then refresh
    python bench/django_steps.py count SLUG                   events and rollup rows of the workspace
    python bench/django_steps.py token                        a new API token of the bench superuser
    python bench/django_steps.py lows                         the duration histogram's bucket bounds
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from contextlib import redirect_stdout
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_usage.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402
from knox.models import AuthToken  # noqa: E402

from events.models import (  # noqa: E402
    Event,
    FeatureDay,
    Session,
    UserDay,
    UserFeatureDay,
    UserFeatureDayTotal,
    UserFeatureMonth,
    UserMonth,
    WorkspaceDay,
)
from events.rollups import rollups_rebuild, rollups_refresh_dirty  # noqa: E402
from events.services import mark_days_dirty  # noqa: E402
from tenancy.models import Workspace  # noqa: E402
from tenancy.services import workspace_create  # noqa: E402


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (VmHWM: unlike ru_maxrss, only since exec)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def setup(slug: str, tz: str, users_csv: str) -> dict:
    workspace, key = workspace_create(slug=slug, name=slug, timezone_name=tz)
    with redirect_stdout(io.StringIO()):
        call_command("import_users", users_csv, workspace=slug, stdout=io.StringIO())
    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_superuser": True, "is_staff": True}
    )
    _, token = AuthToken.objects.create(user, expiry=timezone.timedelta(days=1))
    return {"workspace_id": workspace.pk, "ingest_key": key, "token": token}


def lows() -> dict:
    """The lower bounds of the duration histogram's buckets (the plain-SQL reference buckets with them)."""
    from events.durations import LOWS

    return {"lows": LOWS}


def token() -> dict:
    """A new personal token of the bench's superuser (``bench/columnar.py`` on a kept database)."""
    user = get_user_model().objects.get(username="bench")
    _, key = AuthToken.objects.create(user, expiry=timezone.timedelta(days=1))
    return {"token": key}


def rebuild(slug: str) -> dict:
    workspace = Workspace.objects.get(slug=slug)
    started = time.perf_counter()
    days = rollups_rebuild(workspace=workspace)
    return {"seconds": time.perf_counter() - started, "days": days, "peak_rss_mib": peak_rss_mib()}


def refresh(slug: str) -> dict:
    workspace = Workspace.objects.get(slug=slug)
    started = time.perf_counter()
    days = rollups_refresh_dirty(workspace=workspace)
    return {
        "seconds": time.perf_counter() - started,
        "days": [d.isoformat() for d in days],
        "peak_rss_mib": peak_rss_mib(),
    }


def refresh_day(slug: str, day: str) -> dict:
    """A day already rolled up marked dirty again, as late events for it would, then refreshed:
    the incremental refresh in the middle of a month, where it also rewrites the month's rows."""
    workspace = Workspace.objects.get(slug=slug)
    mark_days_dirty(workspace_id=workspace.pk, days=[date.fromisoformat(day)])
    return refresh(slug)


def count(slug: str) -> dict:
    workspace = Workspace.objects.get(slug=slug)
    return {
        "workspace_id": workspace.pk,
        "events": Event.objects.filter(workspace=workspace).count(),
        "user_feature_days": UserFeatureDay.objects.filter(workspace=workspace).count(),
        "user_feature_day_totals": UserFeatureDayTotal.objects.filter(workspace=workspace).count(),
        "feature_days": FeatureDay.objects.filter(workspace=workspace).count(),
        "user_feature_months": UserFeatureMonth.objects.filter(workspace=workspace).count(),
        "user_days": UserDay.objects.filter(workspace=workspace).count(),
        "user_months": UserMonth.objects.filter(workspace=workspace).count(),
        "workspace_days": WorkspaceDay.objects.filter(workspace=workspace).count(),
        "sessions": Session.objects.filter(workspace=workspace).count(),
    }


def retention(month: str, *slugs: str) -> dict:
    """Keep raw events from the month after ``month`` (YYYY-MM) on in these workspaces, then apply
    retention as the periodic task does: whole partitions first, then row by row (and the keys)."""
    from datetime import date

    from events.partitions import event_partitions, event_partitions_drop_expired
    from events.periods import month_end
    from events.privacy import raw_events_apply_retention

    first = date.fromisoformat(month + "-01")
    keep_from = month_end(first) + timezone.timedelta(days=1)
    workspaces = list(Workspace.objects.filter(slug__in=slugs))
    for workspace in workspaces:
        workspace.raw_event_retention_days = (workspace.today() - keep_from).days
        workspace.save(update_fields=["raw_event_retention_days"])
        assert workspace.retention_start() == keep_from, (workspace.retention_start(), keep_from)
    before = set(event_partitions())
    started = time.perf_counter()
    dropped = event_partitions_drop_expired()
    drop_seconds = time.perf_counter() - started
    started = time.perf_counter()
    deleted = sum(raw_events_apply_retention(workspace=w) for w in workspaces)
    rest_seconds = time.perf_counter() - started
    return {
        "dropped_events": sum(dropped.values()),
        "dropped_partitions": sorted(m.isoformat() for m in before - set(event_partitions())),
        "drop_seconds": drop_seconds,
        "deleted_after": deleted,
        "rest_seconds": rest_seconds,
    }


STEPS = {
    "setup": setup,
    "rebuild": rebuild,
    "refresh": refresh,
    "refresh_day": refresh_day,
    "count": count,
    "token": token,
    "lows": lows,
    "retention": retention,
}

if __name__ == "__main__":
    result = STEPS[sys.argv[1]](*sys.argv[2:])
    print(json.dumps(result))
