"""The behaviour grains of 0026 (per local hour, and per day with the duration histogram) come from
the raw events, which a migration should not read all at once on a big install: every day that has
events (a WorkspaceDay row) is marked dirty instead, and the worker's refresh (or the beat sweep,
or ``refresh_rollups``) rebuilds those days with every grain. The figures of the other tabs do not
change meanwhile: a refresh replaces rows with the same values."""

import uuid

from django.db import migrations
from django.utils import timezone


def mark_days(apps, schema_editor):
    WorkspaceDay = apps.get_model("events", "WorkspaceDay")
    DirtyDay = apps.get_model("events", "DirtyDay")
    now = timezone.now()
    marked = set(DirtyDay.objects.values_list("workspace_id", "day"))
    days = WorkspaceDay.objects.values_list("workspace_id", "day").order_by("workspace_id", "day")
    DirtyDay.objects.bulk_create(
        (
            DirtyDay(workspace_id=workspace_id, day=day, token=uuid.uuid4().hex, marked_at=now)
            for workspace_id, day in days.iterator(chunk_size=10_000)
            if (workspace_id, day) not in marked
        ),
        batch_size=10_000,
    )


class Migration(migrations.Migration):
    dependencies = [("events", "0026_outcome_rollups")]

    operations = [migrations.RunPython(mark_days, migrations.RunPython.noop)]
