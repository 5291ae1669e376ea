"""The audit log's actor loses its own index: users_audit_actor_created (actor, created_at) serves it.

Only the index is dropped (DROP INDEX): the field change alone would make Django rebuild the table on
SQLite, and a rebuilt table loses the append-only triggers of 0005."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0006_access_key_scopes_rate_limits"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditlogentry",
                    name="actor",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "users_auditlogentry_actor_id_d189c8e9"',
                    'CREATE INDEX "users_auditlogentry_actor_id_d189c8e9" ON "users_auditlogentry" ("actor_id")',
                ),
            ],
        ),
    ]
