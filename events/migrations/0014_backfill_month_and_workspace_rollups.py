"""Build every coarse grain (those of 0008 and 0013) from the finest rollups already stored: no raw
event is read. UserFeatureMonth gains its events, and UserMonth and WorkspaceDay are new."""

from django.db import migrations


def backfill(apps, schema_editor):
    from events.rollups import coarse_rollups_backfill

    Workspace = apps.get_model("events", "Workspace")
    for workspace_id in Workspace.objects.values_list("id", flat=True):
        coarse_rollups_backfill(workspace_id=workspace_id)


class Migration(migrations.Migration):
    dependencies = [("events", "0013_month_and_workspace_rollups")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
