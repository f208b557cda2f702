"""PostgreSQL: autovacuum the rollup tables after 2 % of their rows changed, not the default 20 %.

Every refresh rewrites the rows of the days (and months) it recomputes, so these tables collect dead
rows quickly, and the tabs read them through index-only scans, which must visit the heap for every
row of a page autovacuum has not marked all-visible yet.
"""

from django.db import migrations

TABLES = (
    "events_userfeatureday",
    "events_userfeaturedaytotal",
    "events_featureday",
    "events_userday",
    "events_workspaceday",
    "events_session",
    "events_userfeaturemonth",
    "events_usermonth",
)
SETTINGS = ("autovacuum_vacuum_scale_factor", "autovacuum_vacuum_insert_scale_factor", "autovacuum_analyze_scale_factor")


def _alter_each(schema_editor, clause: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"ALTER TABLE {table} {clause}")


def tune(apps, schema_editor):
    _alter_each(schema_editor, f"SET ({', '.join(f'{name} = 0.02' for name in SETTINGS)})")


def untune(apps, schema_editor):
    _alter_each(schema_editor, f"RESET ({', '.join(SETTINGS)})")


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0016_event_keys_and_month_partitions"),
    ]

    operations = [migrations.RunPython(tune, untune)]
