"""The default scorecard exists from the first migrate, so no page has to create it on a read."""

from django.db import migrations

DEFAULT_SCORECARD_NAME = "Default"  # as health.services.DEFAULT_SCORECARD_NAME


def create_default_scorecard(apps, schema_editor):
    from touchpoint.health.scoring import default_definition

    Scorecard = apps.get_model("health", "Scorecard")
    ScorecardVersion = apps.get_model("health", "ScorecardVersion")
    db = schema_editor.connection.alias
    scorecard = Scorecard.objects.using(db).filter(segment__isnull=True).first()
    if scorecard is None:
        if Scorecard.objects.using(db).filter(name=DEFAULT_SCORECARD_NAME).exists():
            return  # someone named a segment's scorecard "Default": leave it to the services
        scorecard = Scorecard.objects.using(db).create(name=DEFAULT_SCORECARD_NAME, segment=None)
    if scorecard.current_version_id is not None:
        return
    version = ScorecardVersion.objects.using(db).create(
        scorecard=scorecard,
        number=1,
        definition=default_definition().as_dict(),
        note="Default scorecard from the measures' defaults",
    )
    scorecard.current_version = version
    scorecard.save(update_fields=["current_version"])


class Migration(migrations.Migration):
    dependencies = [("health", "0001_initial")]

    operations = [migrations.RunPython(create_default_scorecard, migrations.RunPython.noop)]
