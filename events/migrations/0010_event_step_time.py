from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0009_backfill_coarse_rollups"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                fields=["workspace", "feature", "action", "occurred_at", "crm_user"], name="event_step_time"
            ),
        ),
    ]
