"""Fill FeatureAction from the rollups of events stored before the table existed."""

from django.db import migrations


def backfill(apps, schema_editor):
    FeatureAction = apps.get_model("events", "FeatureAction")
    UserFeatureDay = apps.get_model("events", "UserFeatureDay")
    combos = UserFeatureDay.objects.values_list("workspace_id", "feature_id", "action", "detail").distinct()
    FeatureAction.objects.bulk_create(
        [FeatureAction(workspace_id=w, feature_id=f, action=a, detail=d) for w, f, a, d in combos.iterator()],
        ignore_conflicts=True,
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [("events", "0003_feature_actions")]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
