"""Each user gets a number per workspace (``CrmUser.bit_index``), and each FeatureDay row the bitmap
of its users under those numbers (``user_bits``), filled from the UserFeatureDayTotal rows already
stored: no raw event is read.

The backfill is written here rather than imported from ``events.rollups``, so that this migration
keeps doing what it did when the app's code changes. It numbers users as the rollups do: 0, 1, 2…
per workspace in id order."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        indexes = "string_agg(u.bit_index::text, ',')"
    else:
        indexes = "group_concat(u.bit_index)"
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE events_crmuser SET bit_index = numbered.n FROM ("
            "  SELECT id, ROW_NUMBER() OVER (PARTITION BY workspace_id ORDER BY id) - 1 AS n FROM events_crmuser"
            ") AS numbered WHERE events_crmuser.id = numbered.id"
        )
        cursor.execute(
            f"SELECT t.workspace_id, t.day, t.feature_id, {indexes} FROM events_userfeaturedaytotal AS t "
            "JOIN events_crmuser AS u ON u.id = t.crm_user_id GROUP BY t.workspace_id, t.day, t.feature_id"
        )
        updates = []
        for workspace_id, day, feature_id, bit_indexes in cursor.fetchall():
            value = 0
            for index in bit_indexes.split(","):
                value |= 1 << int(index)
            bits = value.to_bytes((value.bit_length() + 7) // 8, "little")
            updates.append((bits, workspace_id, day, feature_id))
        cursor.executemany(
            "UPDATE events_featureday SET user_bits = %s WHERE workspace_id = %s AND day = %s AND feature_id = %s",
            updates,
        )


class Migration(migrations.Migration):
    dependencies = [("events", "0022_user_month_day_events")]

    operations = [
        migrations.AddField(
            model_name="crmuser",
            name="bit_index",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddConstraint(
            model_name="crmuser",
            constraint=models.UniqueConstraint(fields=("workspace", "bit_index"), name="crmuser_unique_bit_index"),
        ),
        migrations.AddField(model_name="featureday", name="user_bits", field=models.BinaryField(default=b"")),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
