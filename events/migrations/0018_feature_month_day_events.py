"""UserFeatureMonth gains the events of each day of its month (``events_01`` … ``events_31``),
filled from the UserFeatureDayTotal rows already stored: no raw event is read.

The backfill's SQL is written here rather than imported from ``events.rollups``, so that this
migration keeps doing what it did when the app's code changes."""

from django.db import migrations, models

DAYS = range(1, 32)


def backfill(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        month_of, day_of = "date_trunc('month', day)::date", "EXTRACT(DAY FROM day)::integer"
    else:
        month_of, day_of = "date(day, 'start of month')", "CAST(strftime('%d', day) AS integer)"
    sums = ", ".join(f"SUM(CASE WHEN {day_of} = {d} THEN events ELSE 0 END) AS e{d}" for d in DAYS)
    assignments = ", ".join(f"events_{d:02} = s.e{d}" for d in DAYS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE events_userfeaturemonth AS m SET {assignments} FROM ("
            f"  SELECT workspace_id, {month_of} AS month, crm_user_id, feature_id, {sums}"
            "   FROM events_userfeaturedaytotal GROUP BY 1, 2, 3, 4"
            ") AS s WHERE m.workspace_id = s.workspace_id AND m.month = s.month"
            " AND m.crm_user_id = s.crm_user_id AND m.feature_id = s.feature_id"
        )


class Migration(migrations.Migration):
    dependencies = [("events", "0017_rollup_tables_autovacuum")]

    operations = [
        *(
            migrations.AddField(
                model_name="userfeaturemonth", name=f"events_{d:02}", field=models.IntegerField(default=0)
            )
            for d in DAYS
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
