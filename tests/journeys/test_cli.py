"""`touchpoint journey …`: validate with FILE:LINE:COLUMN output, apply → export round trip, launch, pause."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import AccountFactory
from tests.live import TOUCHPOINT
from touchpoint.accounts.models import Account
from touchpoint.journeys import documents
from touchpoint.journeys.models import Enrollment, Journey, JourneyStatus, subject_key_of

pytestmark = pytest.mark.django_db

GOOD = """\
# Welcome series: comments survive an apply and an export
key: welcome
name: Welcome
entry: {trigger: manual}
messages:
  hello:
    en: {subject: Hello, body: "Hello {{ contact.first_name }}"}
steps:
  - {id: wait, type: wait, days: 1}
  - {id: mail, type: email, message: hello}
"""

BAD = """\
key: welcome
name: Welcome
entry: {trigger: manual}
steps:
  - {id: wait, type: wait, dayz: 1}
  - {id: Mail, type: exit}
"""


def run(*args: str) -> str:
    out = StringIO()
    call_command("journey", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def files(tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(GOOD, encoding="utf-8")
    bad.write_text(BAD, encoding="utf-8")
    return good, bad


def test_validate_prints_every_problem_as_file_line_column_and_fails(files):
    good, bad = files
    assert run("validate", str(good)) == f"{good}: OK\n"
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("journey", "validate", str(good), str(bad), stdout=out)
    assert caught.value.returncode == 1
    lines = out.getvalue().splitlines()
    assert lines[0] == f"{good}: OK"
    assert lines[1] == f"{bad}:5:28: unknown key “dayz” (did you mean “days”?)"
    assert lines[2].startswith(f"{bad}:6:10: “id” cannot be “Mail”")
    assert len(lines) == 3


def test_validate_exits_1_from_the_shell(files):
    _good, bad = files
    done = subprocess.run(
        [str(TOUCHPOINT), "journey", "validate", str(bad)],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert f"{bad}:5:28: unknown key “dayz” (did you mean “days”?)" in done.stdout
    assert "2 problem(s)" in done.stderr


def test_apply_then_export_gives_back_the_text_and_a_normalized_equivalent(files, tmp_path):
    good, _bad = files
    assert run("apply", str(good), "--note", "first") == "welcome: version 1 saved\n"
    assert run("export", "welcome") == GOOD
    normalized = run("export", "welcome", "--normalized")
    assert "#" not in normalized
    assert documents.read(normalized) == documents.read(GOOD)
    # Applying the export again changes nothing; a changed text is version 2.
    assert run("apply", str(good)) == "welcome: version 1 saved\n"
    good.write_text(GOOD.replace("days: 1", "days: 2"), encoding="utf-8")
    assert run("apply", str(good)) == "welcome: version 2 saved\n"
    assert "days: 1" in run("export", "welcome", "--version", "1")
    target = tmp_path / "out.yaml"
    assert run("export", "welcome", "-o", str(target)) == f"Wrote {target}\n"
    assert "days: 2" in target.read_text(encoding="utf-8")
    with pytest.raises(CommandError, match="has no version 7"):
        run("export", "welcome", "--version", "7")
    with pytest.raises(CommandError, match="No journey with key 'nope'"):
        run("export", "nope")


def test_apply_refuses_a_bad_file_with_its_problems_and_saves_nothing(files):
    _good, bad = files
    out = StringIO()
    with pytest.raises(CommandError, match="nothing saved"):
        call_command("journey", "apply", str(bad), stdout=out)
    assert f"{bad}:5:28: unknown key “dayz” (did you mean “days”?)" in out.getvalue()
    assert not Journey.objects.exists()


def test_launch_pause_resume_archive_from_the_command_line(files, leader):
    good, _bad = files
    assert run("apply", str(good), "--launch", "--actor", leader.email).splitlines() == [
        "welcome: version 1 saved",
        "welcome: version 1 is live",
    ]
    journey = Journey.objects.get(key="welcome")
    account = AccountFactory()
    Enrollment.objects.create(
        journey=journey,
        version=journey.live_version,
        account=account,
        subject_key=subject_key_of(account.pk, None),
        step_id="mail",
    )
    good.write_text(GOOD.replace("days: 1", "days: 3"), encoding="utf-8")
    run("apply", str(good))
    assert run("launch", "welcome", "--move-enrollments") == (
        "welcome: version 2 is live; 1 enrollment(s) moved to it, 0 stay on older versions\n"
    )
    assert run("pause", "welcome") == "welcome: paused\n"
    with pytest.raises(CommandError, match="Only a live journey can be paused"):
        run("pause", "welcome")
    assert run("resume", "welcome") == "welcome: live\n"
    with pytest.raises(CommandError, match="Pause the journey before archiving it"):
        run("archive", "welcome")
    run("pause", "welcome")
    assert run("archive", "welcome") == "welcome: archived\n"
    assert Journey.objects.get().status == JourneyStatus.ARCHIVED
    with pytest.raises(CommandError, match="No user with email"):
        run("launch", "welcome", "--actor", "nobody@example.com")


SIMULATED = """\
key: new-account-welcome
name: New account welcome
entry: {trigger: date, date: account_created, days: 1}
messages:
  hello:
    en: {subject: "Welcome, {{ account.name }}", body: "Hello from the team"}
steps:
  - {id: wait, type: wait, days: 2}
  - {id: mail, type: email, message: hello}
"""


def test_simulate_prints_the_simulation_as_json_or_as_a_summary(tmp_path):
    account = AccountFactory(name="Fresh Co")
    Account.objects.filter(pk=account.pk).update(created_at=account.created_at - timedelta(days=10))
    file = tmp_path / "sim.yaml"
    file.write_text(SIMULATED, encoding="utf-8")
    result = json.loads(run("simulate", str(file), "--days", "30", "--json"))
    assert result["journey"] == "new-account-welcome" and result["days"] == 30
    assert result["entered"] == 1
    summary = run("simulate", str(file), "--days", "30")
    assert summary.startswith("new-account-welcome: 30 days")
    assert "Entered: 1" in summary
    assert "Steps:" in summary and "  mail: " in summary
    with pytest.raises(CommandError, match="--days must be between 1 and 3650"):
        run("simulate", str(file), "--days", "0")
    file.write_text(SIMULATED.replace("days: 2", "dayz: 2"), encoding="utf-8")
    out = StringIO()
    with pytest.raises(CommandError, match="nothing simulated"):
        call_command("journey", "simulate", str(file), stdout=out)
    assert ":8:28: unknown key “dayz” (did you mean “days”?)" in out.getvalue()
