"""Frameworks and phases made before keys existed get one from their name (unique within their scope)."""

from django.db import migrations
from django.utils.text import slugify


def _unique(base: str, taken: set[str]) -> str:
    base = (slugify(base) or "item")[:60]
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    taken.add(key)
    return key


def give_keys(apps, schema_editor):
    Framework = apps.get_model("success", "SuccessFramework")
    Phase = apps.get_model("success", "LifecyclePhase")
    taken = set(Framework.objects.exclude(key="").values_list("key", flat=True))
    for framework in Framework.objects.filter(key="").order_by("id"):
        framework.key = _unique(framework.name, taken)
        framework.save(update_fields=["key"])
    for framework_id in Phase.objects.filter(key="").values_list("framework_id", flat=True).distinct():
        phases = Phase.objects.filter(framework_id=framework_id)
        used = set(phases.exclude(key="").values_list("key", flat=True))
        for phase in phases.filter(key="").order_by("position", "id"):
            phase.key = _unique(phase.name, used)
            phase.save(update_fields=["key"])


class Migration(migrations.Migration):
    dependencies = [("success", "0004_frameworks_rules_milestones")]

    operations = [migrations.RunPython(give_keys, migrations.RunPython.noop)]
