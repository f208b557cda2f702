"""FeatureMonth: distinct users and events per feature and month, filled from the UserFeatureMonth
rows already stored (no raw event is read). The SQL is written here rather than imported from
``events.rollups``, so that this migration keeps doing what it did when the app's code changes."""

import django.db.models.deletion
from django.db import migrations, models


def backfill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO events_featuremonth (workspace_id, month, feature_id, users, events) "
            "SELECT workspace_id, month, feature_id, COUNT(*), SUM(events) FROM events_userfeaturemonth "
            "GROUP BY workspace_id, month, feature_id"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0019_action_index_covers_user_and_events"),
    ]

    operations = [
        migrations.CreateModel(
            name="FeatureMonth",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.DateField(help_text="First day of the local month.")),
                ("users", models.PositiveIntegerField()),
                ("events", models.PositiveIntegerField()),
                (
                    "feature",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="events.feature",
                    ),
                ),
                (
                    "workspace",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="events.workspace",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("workspace", "month", "feature"), name="featuremonth_unique")
                ],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
