"""The workspace model now belongs to ``tenancy``. State only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tenancy', '0001_initial'),
        ('useranalysis', '0002_default_days_bounds'),
    ]

    operations = [
        # The tables stay where they are (``Meta.db_table``): only Django's idea of which app owns
        # the models changes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='filterset',
                    name='workspace',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.workspace'),
                ),
            ],
            database_operations=[],
        ),
    ]
