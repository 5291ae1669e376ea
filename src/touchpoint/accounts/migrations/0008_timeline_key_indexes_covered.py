"""Timeline entries' account and subject type lose their own indexes: timeline_account_recent and
timeline_subject start with them. Only the indexes are dropped (on SQLite the field change alone
would rebuild the table)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_account_attributes_account_language_contact_language_and_more"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="timelineentry",
                    name="account",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="timeline",
                        to="accounts.account",
                    ),
                ),
                migrations.AlterField(
                    model_name="timelineentry",
                    name="subject_type",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to="contenttypes.contenttype",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "accounts_timelineentry_account_id_14ead7c3"',
                    'CREATE INDEX "accounts_timelineentry_account_id_14ead7c3" ON "accounts_timelineentry" ("account_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "accounts_timelineentry_subject_type_id_c54c3a80"',
                    'CREATE INDEX "accounts_timelineentry_subject_type_id_c54c3a80" '
                    'ON "accounts_timelineentry" ("subject_type_id")',
                ),
            ],
        ),
    ]
