"""The domain event's account id loses its index: no query looks events up by account (consumers read
by delivery order, optionally by kind; retention by creation time), and every import writes hundreds
of thousands of events, each paying for the index.

Only the index is dropped (DROP INDEX): the field change alone would make Django rebuild the table on
SQLite."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="domainevent",
                    name="account_id",
                    field=models.BigIntegerField(blank=True, null=True),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "events_domainevent_account_id_a8439c27"',
                    'CREATE INDEX "events_domainevent_account_id_a8439c27" ON "events_domainevent" ("account_id")',
                ),
            ],
        ),
    ]
