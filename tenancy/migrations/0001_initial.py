"""Workspaces, memberships, ingest keys and the audit trail move here from the ``events`` app.

State only: their tables keep their names (``events_workspace``…). Existing content types (and so
permissions and admin log entries) are relabelled to this app."""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import tenancy.models
from django.conf import settings
from django.db import migrations, models


MOVED = ("workspace", "membership", "ingestkey", "auditentry")


def _relabel(apps, old, new):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not content_type.objects.filter(app_label=new, model=model).exists():
            content_type.objects.filter(app_label=old, model=model).update(app_label=new)


def content_types_follow(apps, schema_editor):
    _relabel(apps, "events", "tenancy")


def content_types_go_back(apps, schema_editor):
    _relabel(apps, "tenancy", "events")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('events', '0023_feature_day_user_bits'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The tables stay where they are (``Meta.db_table``): only Django's idea of which app owns
        # the models changes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Membership',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('role', models.CharField(choices=[('admin', 'Admin'), ('analyst', 'Analyst'), ('viewer', 'Viewer')], default='viewer', max_length=16)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'events_membership',
                    },
                ),
                migrations.CreateModel(
                    name='Workspace',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('slug', models.SlugField(max_length=64, unique=True)),
                        ('name', models.CharField(max_length=200)),
                        ('timezone', models.CharField(default='UTC', help_text='IANA name. Day boundaries of every metric are in this zone.', max_length=64, validators=[tenancy.models.validate_timezone_name])),
                        ('session_timeout_minutes', models.PositiveIntegerField(default=15, help_text='A gap longer than this between two events of a user starts a new session.', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(1440)])),
                        ('raw_event_retention_days', models.PositiveIntegerField(blank=True, help_text='Delete raw events older than this many days (empty: keep them). Rollups are kept, so every tab keeps its history; funnels need raw events and only reach back this far. Older events are refused.', null=True, validators=[django.core.validators.MinValueValidator(7)])),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('rollups_version', models.UUIDField(editable=False, null=True)),
                        ('members', models.ManyToManyField(related_name='workspaces', through='tenancy.Membership', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'events_workspace',
                        'ordering': ['name'],
                    },
                ),
                migrations.AddField(
                    model_name='membership',
                    name='workspace',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='tenancy.workspace'),
                ),
                migrations.CreateModel(
                    name='IngestKey',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('label', models.CharField(default='default', max_length=100)),
                        ('digest', models.CharField(editable=False, max_length=64, unique=True)),
                        ('hint', models.CharField(editable=False, max_length=16)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('last_used_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('revoked_at', models.DateTimeField(blank=True, null=True)),
                        ('expires_at', models.DateTimeField(blank=True, help_text='Set by a rotation: the old key keeps working until then.', null=True)),
                        ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='ingest_keys', to='tenancy.workspace')),
                    ],
                    options={
                        'db_table': 'events_ingestkey',
                    },
                ),
                migrations.CreateModel(
                    name='AuditEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('actor_name', models.CharField(blank=True, default='', help_text='Kept if the user is deleted.', max_length=150)),
                        ('action', models.CharField(choices=[('created', 'Created'), ('updated', 'Edited'), ('shared', 'Visibility changed'), ('deleted', 'Deleted'), ('key_issued', 'Ingest key issued'), ('key_rotated', 'Ingest key rotated'), ('key_revoked', 'Ingest key revoked'), ('role_changed', 'Member role changed'), ('member_removed', 'Member removed'), ('user_erased', 'CRM user erased')], max_length=32)),
                        ('target_type', models.CharField(max_length=64)),
                        ('target_id', models.CharField(blank=True, default='', max_length=64)),
                        ('target_repr', models.CharField(blank=True, default='', max_length=200)),
                        ('changes', models.JSONField(blank=True, default=dict)),
                        ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='audit_entries', to='tenancy.workspace')),
                    ],
                    options={
                        'verbose_name_plural': 'audit entries',
                        'db_table': 'events_auditentry',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='membership',
                    constraint=models.UniqueConstraint(fields=('workspace', 'user'), name='membership_unique'),
                ),
                migrations.AddIndex(
                    model_name='auditentry',
                    index=models.Index(fields=['workspace', '-created_at'], name='audit_ws_time'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_follow, content_types_go_back, elidable=True),
    ]
