from __future__ import annotations

from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command

from tests.factories import SegmentFactory
from touchpoint.health.models import Scorecard, ScorecardVersion

pytestmark = pytest.mark.django_db


def test_export_then_apply_round_trips_and_changes_make_versions(tmp_path, admin_user):
    SegmentFactory(name="Enterprise")
    path = tmp_path / "scorecards.yaml"
    call_command("scorecard", "export", str(path), stdout=StringIO())
    document = yaml.safe_load(path.read_text())
    assert document["scorecards"][0]["segment"] is None
    # Unchanged: no new version.
    call_command("scorecard", "apply", str(path), stdout=StringIO())
    assert ScorecardVersion.objects.count() == 1
    default = document["scorecards"][0]
    default["measures"]["billing"]["weight"] = 4
    document["scorecards"].append(
        {
            "name": "Enterprise health",
            "segment": "Enterprise",
            "grades": {"green": 80, "red": 50},
            "measures": {"usage_trend": {"weight": 1, "green": 10, "red": -30}},
        }
    )
    path.write_text(yaml.safe_dump(document))
    call_command("scorecard", "apply", str(path), "--actor", admin_user.email, stdout=StringIO())
    default_card = Scorecard.objects.get(segment=None)
    assert default_card.current_version.number == 2 and default_card.current_version.created_by == admin_user
    assert default_card.versions.get(number=1).definition != default_card.current_version.definition
    enterprise = Scorecard.objects.get(segment__name="Enterprise")
    assert enterprise.current_version.definition["grades"] == {"green": 80.0, "red": 50.0}


@pytest.mark.parametrize(
    "text, field",
    [
        (
            "scorecards: [{measures: {nope: {weight: 1, green: 1, red: 0}}}]",
            "scorecards.0.measures.0.measure",
        ),
        (
            "scorecards: [{measures: {billing: {weight: -1, green: 0, red: 1}}}]",
            "scorecards.0.measures.0.weight",
        ),
        (
            "scorecards: [{segment: Nowhere, measures: {billing: {weight: 1, green: 0, red: 1}}}]",
            "scorecards.0.segment",
        ),
        (
            "scorecards: [{measures: {billing: {weight: 1, green: 0, red: 0}}}]",
            "scorecards.0.measures.0.green",
        ),
        ("{{{", "file"),
        ("- 1", "scorecards"),
    ],
)
def test_apply_rejects_bad_yaml_naming_the_field(tmp_path, text, field):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    before = ScorecardVersion.objects.count()  # the default scorecard's first version, from migrate
    with pytest.raises(CommandError, match=field.replace(".", r"\.")):
        call_command("scorecard", "apply", str(path), stdout=StringIO())
    assert ScorecardVersion.objects.count() == before


def test_a_version_cannot_be_edited(admin_user):
    from django.core.exceptions import ValidationError

    from touchpoint.health.services import ensure_default_scorecard

    version = ensure_default_scorecard().current_version
    version.note = "rewritten"
    with pytest.raises(ValidationError):
        version.save()
