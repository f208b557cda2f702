"""Formerly built the coarse rollups added in 0008. Migration 0014 builds every coarse grain (those of
0008 and the later ones) with the code of its own time, so this one no longer runs app code that
would expect columns added after it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("events", "0008_coarse_rollups_and_event_keys")]

    operations: list[migrations.operations.base.Operation] = []
