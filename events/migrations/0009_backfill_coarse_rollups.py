"""Build the coarse rollups added in 0008 from the existing finest rollup (no raw events read)."""

from django.db import migrations


def backfill(apps, schema_editor):
    from events.rollups import coarse_rollups_backfill

    Workspace = apps.get_model("events", "Workspace")
    for workspace_id in Workspace.objects.values_list("id", flat=True):
        coarse_rollups_backfill(workspace_id=workspace_id)


class Migration(migrations.Migration):
    dependencies = [("events", "0008_coarse_rollups_and_event_keys")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
