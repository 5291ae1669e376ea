"""Copy each account's framework and phase (accounts.Account, until accounts 0004) into its placement."""

from django.db import migrations
from django.db.models import Q

BATCH = 2000


def copy_to_placements(apps, schema_editor):
    alias = schema_editor.connection.alias
    Account = apps.get_model("accounts", "Account")
    AccountPlacement = apps.get_model("success", "AccountPlacement")
    placed = (
        Account.objects.using(alias)
        .filter(Q(framework__isnull=False) | Q(phase__isnull=False))
        .values_list("pk", "framework_id", "phase_id", "updated_at")
        .order_by("pk")
    )
    rows = []
    for account_id, framework_id, phase_id, updated_at in placed.iterator(chunk_size=BATCH):
        # When the account entered its phase is not known; its last change is the best guess.
        rows.append(
            AccountPlacement(
                account_id=account_id, framework_id=framework_id, phase_id=phase_id, entered_at=updated_at
            )
        )
        if len(rows) >= BATCH:
            AccountPlacement.objects.using(alias).bulk_create(rows)
            rows = []
    AccountPlacement.objects.using(alias).bulk_create(rows)


def copy_back(apps, schema_editor):
    Account = apps.get_model("accounts", "Account")
    AccountPlacement = apps.get_model("success", "AccountPlacement")
    for placement in AccountPlacement.objects.using(schema_editor.connection.alias).iterator():
        Account.objects.using(schema_editor.connection.alias).filter(pk=placement.account_id).update(
            framework_id=placement.framework_id, phase_id=placement.phase_id
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_account_name_lower"),
        ("success", "0002_account_placement"),
    ]

    operations = [migrations.RunPython(copy_to_placements, copy_back)]
