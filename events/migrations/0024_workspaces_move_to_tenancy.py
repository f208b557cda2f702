"""Workspaces, memberships, ingest keys and the audit trail now belong to ``tenancy`` (its 0001):
the events models point there, and this app forgets them. State only: no table changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('events', '0023_feature_day_user_bits'),
        ('funnels', '0002_workspace_in_tenancy'),
        ('tenancy', '0001_initial'),
        ('useranalysis', '0003_workspace_in_tenancy'),
    ]

    operations = [
        # The tables stay where they are (``Meta.db_table``): only Django's idea of which app owns
        # the models changes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(
                    model_name='auditentry',
                    name='audit_ws_time',
                ),
                migrations.RemoveField(
                    model_name='ingestkey',
                    name='workspace',
                ),
                migrations.RemoveConstraint(
                    model_name='membership',
                    name='membership_unique',
                ),
                migrations.RemoveField(
                    model_name='workspace',
                    name='members',
                ),
                migrations.AlterField(
                    model_name='eventkey',
                    name='workspace',
                    field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.workspace'),
                ),
                migrations.AlterField(
                    model_name='session',
                    name='workspace',
                    field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.workspace'),
                ),
                migrations.AlterField(
                    model_name='featureaction',
                    name='workspace',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.workspace'),
                ),
                migrations.AlterField(
                    model_name='usermonth',
                    name='workspace',
                    field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.workspace'),
                ),
                migrations.AlterField(
                    model_name='userfeaturemonth',
                    name='workspace',
                    field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.workspace'),
                ),
                migrations.AlterField(
                    model_name='featureday',
                    name='workspace',
                    field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.workspace'),
                ),
                migrations.AlterField(
                    model_name='userday',
                    name='workspace',
                    field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.workspace'),
                ),
                migrations.AlterField(
                    model_name='featuremonth',
                    name='workspace',
                    field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.workspace'),
                ),
                migrations.AlterField(
                    model_name='event',
                    name='workspace',
                    field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.workspace'),
                ),
                migrations.AlterField(
                    model_name='userfeatureday',
                    name='workspace',
                    field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.workspace'),
                ),
                migrations.AlterField(
                    model_name='userfeaturedaytotal',
                    name='workspace',
                    field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.workspace'),
                ),
                migrations.AlterField(
                    model_name='crmuser',
                    name='workspace',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='crm_users', to='tenancy.workspace'),
                ),
                migrations.AlterField(
                    model_name='workspaceday',
                    name='workspace',
                    field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.workspace'),
                ),
                migrations.AlterField(
                    model_name='dirtyday',
                    name='workspace',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.workspace'),
                ),
                migrations.AlterField(
                    model_name='feature',
                    name='workspace',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='features', to='tenancy.workspace'),
                ),
                migrations.RemoveField(
                    model_name='auditentry',
                    name='actor',
                ),
                migrations.RemoveField(
                    model_name='auditentry',
                    name='workspace',
                ),
                migrations.DeleteModel(
                    name='IngestKey',
                ),
                migrations.RemoveField(
                    model_name='membership',
                    name='user',
                ),
                migrations.RemoveField(
                    model_name='membership',
                    name='workspace',
                ),
                migrations.DeleteModel(
                    name='AuditEntry',
                ),
                migrations.DeleteModel(
                    name='Membership',
                ),
                migrations.DeleteModel(
                    name='Workspace',
                ),
            ],
            database_operations=[],
        ),
    ]
