"""Build every coarse grain (those of 0008 and 0013) from the finest rollups already stored: no raw
event is read. UserFeatureMonth gains its events, and UserMonth and WorkspaceDay are new.

The SQL is written here, for the tables as they are at this migration, rather than imported from
``events.rollups``: the app's code follows the latest schema, and a database upgraded from before
this migration does not have the later columns yet. Later migrations fill what they add from these
rows (0018 and 0022 the events per day, 0020 FeatureMonth, 0023 the user bitmaps)."""

from django.db import migrations


def backfill(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        month_of, day_of = "date_trunc('month', day)::date", "EXTRACT(DAY FROM day)::integer"
    else:
        month_of, day_of = "date(day, 'start of month')", "CAST(strftime('%d', day) AS integer)"
    # A user has one row per day here, so the sum of their days' bits is the bitmask.
    day_bit = f"(1 << ({day_of} - 1))"
    statements = [
        *(
            f"DELETE FROM events_{table}"
            for table in ("userfeaturedaytotal", "featureday", "userfeaturemonth", "usermonth", "workspaceday")
        ),
        "INSERT INTO events_userfeaturedaytotal (workspace_id, day, crm_user_id, feature_id, events) "
        "SELECT workspace_id, day, crm_user_id, feature_id, SUM(events) FROM events_userfeatureday "
        "GROUP BY workspace_id, day, crm_user_id, feature_id",
        "INSERT INTO events_featureday (workspace_id, day, feature_id, events, users) "
        "SELECT workspace_id, day, feature_id, SUM(events), COUNT(*) FROM events_userfeaturedaytotal "
        "GROUP BY workspace_id, day, feature_id",
        "INSERT INTO events_userfeaturemonth (workspace_id, month, crm_user_id, feature_id, days, events) "
        f"SELECT workspace_id, {month_of}, crm_user_id, feature_id, SUM({day_bit}), SUM(events) "
        f"FROM events_userfeaturedaytotal GROUP BY workspace_id, {month_of}, crm_user_id, feature_id",
        "INSERT INTO events_usermonth (workspace_id, month, crm_user_id, days, events, sessions, session_seconds, "
        "last_event_at) "
        f"SELECT workspace_id, {month_of}, crm_user_id, SUM({day_bit}), SUM(events), SUM(sessions), "
        f"SUM(session_seconds), MAX(last_event_at) FROM events_userday GROUP BY workspace_id, {month_of}, crm_user_id",
        "INSERT INTO events_workspaceday (workspace_id, day, events, users) "
        "SELECT workspace_id, day, SUM(events), COUNT(*) FROM events_userday GROUP BY workspace_id, day",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("events", "0013_month_and_workspace_rollups")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
