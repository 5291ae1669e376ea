"""`touchpoint readiness …`: list, validate with FILE:LINE:COLUMN output and exit status 1, apply (created,
then updated), export to a file or standard output, and the shipped template as a text."""

from __future__ import annotations

import os
import subprocess
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import UserFactory
from tests.live import TOUCHPOINT
from touchpoint.readiness import library, services
from touchpoint.readiness.documents import problems_of
from touchpoint.readiness.management.commands.readiness import Command
from touchpoint.readiness.models import ReadinessMap
from touchpoint.readiness.structure import FunctionShape, MapShape, QuestionShape, StageShape, TouchpointShape
from touchpoint.users.models import AuditLogEntry

pytestmark = pytest.mark.django_db

GOOD = """\
key: billing-v2
name: Billing v2 launch
kind: release
owner: pm@example.com
stages:
  - key: buy
    name: Buy it
functions:
  - key: marketing
    name: Marketing
touchpoints:
  - key: pricing-page
    stage: buy
    function: marketing
    name: Pricing page
    checklist:
      - question: Is every plan on the page?
        answer: 'yes'
  - key: launch-post
    stage: buy
    function: marketing
    name: Launch post
    checklist:
      - Drafted?
"""

BAD = """\
key: billing-v2
name: Billing v2 launch
stages:
  - {key: buy, name: Buy it}
functions:
  - {key: marketing, name: Marketing}
touchpoints:
  - {key: pricing-page, stage: bye, function: marketing, name: Pricing page, ownr: x}
"""


def run(*args: str) -> str:
    out = StringIO()
    call_command("readiness", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def pm():
    return UserFactory(email="pm@example.com")


@pytest.fixture
def files(tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(GOOD, encoding="utf-8")
    bad.write_text(BAD, encoding="utf-8")
    return good, bad


def test_validate_prints_every_problem_as_file_line_column_and_fails(files, pm):
    good, bad = files
    assert run("validate", str(good)) == f"{good}: no problems\n"
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("readiness", "validate", str(good), str(bad), stdout=out)
    assert caught.value.returncode == 1 and "1 problem found" in str(caught.value)
    assert out.getvalue().splitlines() == [
        f"{good}: no problems",
        f"{bad}:8:78: unknown key “ownr” (did you mean “owner”?)",
    ]
    bad.write_text(BAD.replace(", ownr: x", ""), encoding="utf-8")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("readiness", "validate", str(bad), stdout=out)
    assert out.getvalue() == f"{bad}:8:32: no stage “bye” in this map (did you mean “buy”?)\n"


def test_validate_exits_1_from_the_shell(files):
    good, bad = files
    good.write_text(GOOD.replace("owner: pm@example.com\n", ""), encoding="utf-8")  # no database needed
    # Without the system checks: they import every app's pages, which are not this command's concern.
    done = subprocess.run(
        [str(TOUCHPOINT), "readiness", "--skip-checks", "validate", str(good), str(bad)],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        f"{good}: no problems",
        f"{bad}:8:78: unknown key “ownr” (did you mean “owner”?)",
    ]
    assert "1 problem found." in done.stderr


def test_a_missing_file_is_an_error_not_a_crash(tmp_path):
    with pytest.raises(CommandError, match="nope.yaml"):
        run("validate", str(tmp_path / "nope.yaml"))


def test_apply_says_created_then_updated_and_export_gives_back_an_equal_map(files, pm, tmp_path):
    good, _bad = files
    assert run("apply", str(good), "--as", "pm@example.com") == (
        "Created billing-v2 (Billing v2 launch): 2 touchpoints.\n"
    )
    assert AuditLogEntry.objects.filter(action="readiness.map_created", actor=pm).count() == 1
    assert run("apply", str(good)) == "Updated billing-v2 (Billing v2 launch): 2 touchpoints.\n"
    readiness_map = ReadinessMap.objects.get()
    exported = run("export", "billing-v2")
    assert problems_of(exported) == []
    assert exported == GOOD  # written as the text was, since it says nothing more than the defaults
    target = tmp_path / "out.yaml"
    assert run("export", "billing-v2", "-o", str(target)) == f"Wrote {target}\n"
    assert target.read_text(encoding="utf-8") == exported
    before = services.shape_of(readiness_map)
    run("apply", str(target))
    assert services.shape_of(readiness_map) == before


def test_apply_refuses_a_bad_file_with_its_problems_and_writes_nothing(files):
    _good, bad = files
    out = StringIO()
    with pytest.raises(CommandError, match="Nothing was applied") as caught:
        call_command("readiness", "apply", str(bad), stdout=out)
    assert caught.value.returncode == 1
    assert out.getvalue().startswith(f"{bad}:8:78: unknown key “ownr”")
    assert not ReadinessMap.objects.exists()


def test_apply_as_someone_unknown_is_refused(files):
    good, _bad = files
    with pytest.raises(CommandError, match="nobody@example.com"):
        run("apply", str(good), "--as", "nobody@example.com")
    assert not ReadinessMap.objects.exists()


def test_export_of_an_unknown_key_names_the_keys_there_are(files, pm):
    with pytest.raises(CommandError, match=r"there are: none"):
        run("export", "nope")
    run("apply", str(files[0]))
    with pytest.raises(CommandError, match=r"nope.*there are: billing-v2"):
        run("export", "nope")


def test_list_shows_each_map_with_its_counts(files, pm):
    assert run("list") == "No readiness maps yet.\n"
    run("apply", str(files[0]))
    archived = services.create_map(name="Old launch", actor=None)
    services.archive_map(readiness_map=archived, actor=None)
    lines = run("list").splitlines()
    assert lines[0] == "KEY\tNAME\tKIND\tTOUCHPOINTS\tREADY\tGAP\tAT RISK"
    assert lines[1] == "billing-v2\tBilling v2 launch\trelease\t2\t1\t1\t0"
    assert lines[2] == "old-launch\tOld launch (archived)\tproduct\t0\t0\t0\t0"


SHIPPED = library.LIBRARY / "standard.yaml"


def test_template_writes_the_template_in_the_language_asked(monkeypatch, tmp_path):
    """library.template stands in for the shipped file (another part of the app writes it)."""
    asked = []

    def template(key, language):
        asked.append((key, language))
        return MapShape(
            key=key,
            name="標準" if language == "ja" else "Standard",
            stages=(StageShape("hear", "Hear of it"),),
            functions=(FunctionShape("marketing", "Marketing"),),
            touchpoints=(
                TouchpointShape(
                    key="website",
                    stage="hear",
                    function="marketing",
                    name="Website",
                    checklist=(QuestionShape("Live?"),),
                ),
            ),
        )

    monkeypatch.setattr(library, "template", template)
    text = run("template", "--language", "ja")
    assert text.startswith("key: standard\nname: 標準\n") and "      - Live?\n" in text
    assert problems_of(text) == []
    target = tmp_path / "map.yaml"
    run("template", "-o", str(target))
    assert asked == [("standard", "ja"), ("standard", "en")]
    assert "name: Standard\n" in target.read_text(encoding="utf-8")


def test_template_without_the_shipped_file_is_an_error(monkeypatch):
    def template(key, language):
        raise KeyError(key)

    monkeypatch.setattr(library, "template", template)
    with pytest.raises(CommandError, match="standard"):
        run("template")


@pytest.mark.skipif(not SHIPPED.exists(), reason="library/standard.yaml is not written yet")
@pytest.mark.parametrize("language", ["en", "ja", "ru", "th"])
def test_the_shipped_template_is_a_valid_map_text(language, tmp_path):
    target = tmp_path / "standard.yaml"
    run("template", "--language", language, "-o", str(target))
    text = target.read_text(encoding="utf-8")
    assert problems_of(text) == []
    run("apply", str(target))
    assert ReadinessMap.objects.get(key="standard").touchpoints.exists()


def test_the_help_names_every_subcommand():
    out = StringIO()
    Command().create_parser("touchpoint", "readiness").print_help(out)
    for name in ("list", "validate", "apply", "export", "template"):
        assert name in out.getvalue()
