"""UserMonth gains the interactions of each day of its month (``events_01`` … ``events_31``), filled
from the UserDay rows already stored: no raw event is read.

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
            f"UPDATE events_usermonth AS m SET {assignments} FROM ("
            f"  SELECT workspace_id, {month_of} AS month, crm_user_id, {sums}"
            "   FROM events_userday GROUP BY 1, 2, 3"
            ") AS s WHERE m.workspace_id = s.workspace_id AND m.month = s.month AND m.crm_user_id = s.crm_user_id"
        )


class Migration(migrations.Migration):
    dependencies = [("events", "0021_feature_month_index_covers_days")]

    operations = [
        *(
            migrations.AddField(model_name="usermonth", name=f"events_{d:02}", field=models.IntegerField(default=0))
            for d in DAYS
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
