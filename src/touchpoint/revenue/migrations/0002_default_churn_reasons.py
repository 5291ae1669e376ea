"""A starting list of churn reasons; admins rename, reorder, retire and add to it."""

from django.db import migrations

DEFAULT_REASONS = [
    "Budget cut",
    "Switched to a competitor",
    "Low adoption",
    "Missing features",
    "Poor support experience",
    "Company closed or acquired",
    "Champion left",
    "Other",
]


def add_reasons(apps, schema_editor):
    ChurnReason = apps.get_model("revenue", "ChurnReason")
    for order, name in enumerate(DEFAULT_REASONS):
        ChurnReason.objects.get_or_create(name=name, defaults={"order": order})


class Migration(migrations.Migration):
    dependencies = [("revenue", "0001_initial")]
    operations = [migrations.RunPython(add_reasons, migrations.RunPython.noop)]
