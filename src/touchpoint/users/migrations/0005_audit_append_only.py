"""The audit log becomes append-only, enforced by the database (issue 17).

Triggers refuse UPDATE and DELETE of `users_auditlogentry` (and TRUNCATE on PostgreSQL). The one
UPDATE let through is a redaction: only `object_repr`, `changes` (to the text an `AuditRedaction` row
of that entry holds) and `actor_id` (to NULL, when that row says so); never the action, object or
time. `users_auditredaction` itself refuses UPDATE, DELETE and TRUNCATE.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

REFUSED = "The audit log is append-only: % of % is refused (entries are redacted only through touchpoint.users.audit.redact_entries)."

# A redaction row of the entry holding exactly the new text; the action, object and time unchanged;
# the actor unchanged or cleared (cleared only when the redaction row says so).
SQLITE_REDACTION_ALLOWED = """
    NEW.id = OLD.id
    AND NEW.action IS OLD.action
    AND NEW.object_type IS OLD.object_type
    AND NEW.object_id IS OLD.object_id
    AND NEW.created_at IS OLD.created_at
    AND EXISTS (
        SELECT 1 FROM users_auditredaction AS r
        WHERE r.entry_id = OLD.id
          AND r.object_repr IS NEW.object_repr
          AND r.changes IS NEW.changes
          AND (NEW.actor_id IS OLD.actor_id OR (NEW.actor_id IS NULL AND r.clears_actor))
    )
"""

SQLITE_FORWARD = [
    f"""CREATE TRIGGER users_auditlogentry_no_update BEFORE UPDATE ON users_auditlogentry
    WHEN NOT ({SQLITE_REDACTION_ALLOWED})
    BEGIN SELECT RAISE(ABORT, '{REFUSED.replace("% of %", "UPDATE of users_auditlogentry")}'); END""",
    f"""CREATE TRIGGER users_auditlogentry_no_delete BEFORE DELETE ON users_auditlogentry
    BEGIN SELECT RAISE(ABORT, '{REFUSED.replace("% of %", "DELETE of users_auditlogentry")}'); END""",
    f"""CREATE TRIGGER users_auditredaction_no_update BEFORE UPDATE ON users_auditredaction
    BEGIN SELECT RAISE(ABORT, '{REFUSED.replace("% of %", "UPDATE of users_auditredaction")}'); END""",
    f"""CREATE TRIGGER users_auditredaction_no_delete BEFORE DELETE ON users_auditredaction
    BEGIN SELECT RAISE(ABORT, '{REFUSED.replace("% of %", "DELETE of users_auditredaction")}'); END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS users_auditlogentry_no_update",
    "DROP TRIGGER IF EXISTS users_auditlogentry_no_delete",
    "DROP TRIGGER IF EXISTS users_auditredaction_no_update",
    "DROP TRIGGER IF EXISTS users_auditredaction_no_delete",
]

POSTGRESQL_FORWARD = [
    f"""CREATE OR REPLACE FUNCTION users_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'users_auditlogentry' THEN
            IF NEW.id = OLD.id
               AND NEW.action IS NOT DISTINCT FROM OLD.action
               AND NEW.object_type IS NOT DISTINCT FROM OLD.object_type
               AND NEW.object_id IS NOT DISTINCT FROM OLD.object_id
               AND NEW.created_at IS NOT DISTINCT FROM OLD.created_at
               AND EXISTS (
                   SELECT 1 FROM users_auditredaction AS r
                   WHERE r.entry_id = OLD.id
                     AND r.object_repr IS NOT DISTINCT FROM NEW.object_repr
                     AND r.changes IS NOT DISTINCT FROM NEW.changes
                     AND (NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
                          OR (NEW.actor_id IS NULL AND r.clears_actor))
               )
            THEN
                RETURN NEW;
            END IF;
        END IF;
        RAISE EXCEPTION '{REFUSED}', TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END;
    $$""",
    """CREATE TRIGGER users_auditlogentry_append_only BEFORE UPDATE OR DELETE ON users_auditlogentry
    FOR EACH ROW EXECUTE FUNCTION users_audit_append_only()""",
    """CREATE TRIGGER users_auditlogentry_no_truncate BEFORE TRUNCATE ON users_auditlogentry
    FOR EACH STATEMENT EXECUTE FUNCTION users_audit_append_only()""",
    """CREATE TRIGGER users_auditredaction_append_only BEFORE UPDATE OR DELETE ON users_auditredaction
    FOR EACH ROW EXECUTE FUNCTION users_audit_append_only()""",
    """CREATE TRIGGER users_auditredaction_no_truncate BEFORE TRUNCATE ON users_auditredaction
    FOR EACH STATEMENT EXECUTE FUNCTION users_audit_append_only()""",
]
POSTGRESQL_BACKWARD = [
    "DROP TRIGGER IF EXISTS users_auditlogentry_append_only ON users_auditlogentry",
    "DROP TRIGGER IF EXISTS users_auditlogentry_no_truncate ON users_auditlogentry",
    "DROP TRIGGER IF EXISTS users_auditredaction_append_only ON users_auditredaction",
    "DROP TRIGGER IF EXISTS users_auditredaction_no_truncate ON users_auditredaction",
    "DROP FUNCTION IF EXISTS users_audit_append_only()",
]

STATEMENTS = {
    "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD),
    "postgresql": (POSTGRESQL_FORWARD, POSTGRESQL_BACKWARD),
}


def _run(schema_editor, forward: bool) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise RuntimeError(
            f"No audit-log triggers for the {vendor} database; Touchpoint runs on SQLite or PostgreSQL."
        )
    for sql in STATEMENTS[vendor][0 if forward else 1]:
        schema_editor.execute(sql, params=None)


def create_triggers(apps, schema_editor) -> None:
    _run(schema_editor, forward=True)


def drop_triggers(apps, schema_editor) -> None:
    _run(schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0004_people_sign_in_links"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditlogentry",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="auditlogentry",
            index=models.Index(fields=["actor", "created_at"], name="users_audit_actor_created"),
        ),
        migrations.AddIndex(
            model_name="auditlogentry",
            index=models.Index(fields=["action", "created_at"], name="users_audit_action_created"),
        ),
        migrations.CreateModel(
            name="AuditRedaction",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("redacted_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("reason", models.CharField(max_length=255)),
                ("object_repr", models.CharField(blank=True, max_length=255)),
                ("changes", models.JSONField(blank=True, default=dict)),
                ("clears_actor", models.BooleanField(default=False)),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "entry",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="redactions",
                        to="users.auditlogentry",
                    ),
                ),
            ],
            options={
                "verbose_name": "audit redaction",
                "verbose_name_plural": "audit redactions",
                "ordering": ["-redacted_at", "-id"],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
