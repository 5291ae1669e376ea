"""Every live subscription with a renewal date gets the opportunity for that date (as sync_opportunity makes)."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations

MAX_EXPECTED_ARR = Decimal("999999999999.99")
BATCH = 1000


def backfill(apps, schema_editor):
    subscription_model = apps.get_model("revenue", "Subscription")
    opportunity_model = apps.get_model("revenue", "RenewalOpportunity")
    live = (
        subscription_model.objects.filter(status__in=["active", "past_due"], renewal_date__isnull=False)
        .order_by("pk")
        .values_list("pk", "account_id", "account__owner_id", "renewal_date", "mrr")
    )
    batch = []
    for pk, account_id, owner_id, renewal_date, mrr in live.iterator(chunk_size=BATCH):
        batch.append(
            opportunity_model(
                subscription_id=pk,
                account_id=account_id,
                owner_id=owner_id,
                renewal_date=renewal_date,
                expected_arr=min((mrr * 12).quantize(Decimal("0.01"), ROUND_HALF_UP), MAX_EXPECTED_ARR),
            )
        )
        if len(batch) >= BATCH:
            opportunity_model.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    opportunity_model.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("revenue", "0005_renewal_opportunity")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
