"""Indexes a composite index already serves, dropped (each is written for every row):
- a movement's account: movement_account_day (account, occurred_on);
- a renewal opportunity's subscription: the unique key (subscription, renewal_date);
- a subscription's status (and its pattern index on PostgreSQL): subscription_renewals (status, renewal_date).
Only the indexes are dropped (on SQLite the field changes alone would rebuild the tables)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_timeline_key_indexes_covered"),
        ("revenue", "0007_merge_voids_and_renewals"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="mrrmovement",
                    name="account",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="mrr_movements",
                        to="accounts.account",
                    ),
                ),
                migrations.AlterField(
                    model_name="renewalopportunity",
                    name="subscription",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="renewal_opportunities",
                        to="revenue.subscription",
                        verbose_name="subscription",
                    ),
                ),
                migrations.AlterField(
                    model_name="subscription",
                    name="status",
                    field=models.CharField(
                        choices=[
                            ("trialing", "Trialing"),
                            ("active", "Active"),
                            ("past_due", "Past due"),
                            ("canceled", "Canceled"),
                        ],
                        default="active",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "revenue_mrrmovement_account_id_0763d5ce"',
                    'CREATE INDEX "revenue_mrrmovement_account_id_0763d5ce" ON "revenue_mrrmovement" ("account_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "revenue_renewalopportunity_subscription_id_6b27d1cb"',
                    'CREATE INDEX "revenue_renewalopportunity_subscription_id_6b27d1cb" '
                    'ON "revenue_renewalopportunity" ("subscription_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "revenue_subscription_status_f0776095"',
                    'CREATE INDEX "revenue_subscription_status_f0776095" ON "revenue_subscription" ("status")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "revenue_subscription_status_f0776095_like"',
                    migrations.RunSQL.noop,  # PostgreSQL made it for LIKE on the column; nothing asks that
                ),
            ],
        ),
    ]
