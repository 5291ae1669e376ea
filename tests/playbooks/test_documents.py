"""Playbooks as YAML: export and apply round-trip, apply is idempotent, problems name their line."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchpoint.playbooks import documents, services
from touchpoint.playbooks.documents import PRIORITIES, PlaybookSpec, StepSpec
from touchpoint.playbooks.models import MAX_DAY_OFFSET, OwnerRole, Playbook, PlaybookRun
from touchpoint.tasks.models import TaskType

pytestmark = pytest.mark.django_db

# Text as people type it: letters, digits, punctuation, symbols and spaces in any script, trimmed.
_text = st.text(
    alphabet=st.characters(whitelist_categories=("L", "N", "P", "S", "Zs")), min_size=1, max_size=60
).map(str.strip)
steps = st.builds(
    StepSpec,
    title=_text.filter(bool),
    day_offset=st.integers(-MAX_DAY_OFFSET, MAX_DAY_OFFSET),
    task_type=st.sampled_from(TaskType.values),
    priority=st.sampled_from(list(PRIORITIES.values())),
    owner_role=st.sampled_from(OwnerRole.values),
    notes=st.one_of(st.just(""), _text),
)
specs = st.builds(
    PlaybookSpec,
    name=_text.filter(bool),
    reason=st.one_of(st.just(""), _text),
    is_active=st.booleans(),
    steps=st.lists(steps, min_size=1, max_size=6).map(tuple),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=specs)
def test_export_then_apply_round_trips(spec):
    assert documents.read(documents.dump(spec)) == [spec]
    [(playbook, _outcome)] = services.apply_playbooks(specs=[spec], actor=None)
    assert documents.spec_of(playbook) == spec
    text = documents.export(playbook)
    assert services.apply_playbooks_yaml(text=text, actor=None) == [(playbook, "unchanged")]
    assert documents.export(Playbook.objects.get(pk=playbook.pk)) == text


def test_apply_updates_by_name_and_replaces_the_steps(shipped, csm, tmp_path):
    from touchpoint.accounts.models import Account
    from touchpoint.playbooks.services import start_playbook

    account = Account.objects.create(name="Runs on", owner=csm)
    run = start_playbook(account=account, playbook=shipped["Onboarding"], actor=csm)
    text = (
        "name: Onboarding\n"
        "reason: Shorter\n"
        "steps:\n"
        "  - title: Kickoff\n"
        "    day_offset: 0\n"
        "    priority: high\n"
        "    type: meeting\n"
    )
    path = tmp_path / "onboarding.yaml"
    path.write_text(text, encoding="utf-8")
    call_command("playbook", "apply", str(path))
    playbook = Playbook.objects.get(name="Onboarding")
    assert playbook.pk == shipped["Onboarding"].pk
    assert [s.title for s in playbook.steps.all()] == ["Kickoff"]
    # The run started before keeps its four steps and their titles.
    assert [s.title for s in PlaybookRun.objects.get(pk=run.pk).run_steps.all()][:2] == [
        "Kickoff call",
        "Training session",
    ]
    assert services.apply_playbooks_yaml(text=text, actor=None) == [(playbook, "unchanged")]


def test_export_command_writes_the_playbook(shipped, tmp_path, capsys):
    call_command("playbook", "export", "Renewal")
    out = capsys.readouterr().out
    assert "day_offset: -120" in out and out.startswith("name: Renewal")
    call_command("playbook", "export", "Renewal", str(tmp_path / "r.yaml"))
    assert (tmp_path / "r.yaml").read_text(encoding="utf-8") == out
    with pytest.raises(CommandError, match="No playbook named"):
        call_command("playbook", "export", "Nope")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: X\nsteps:\n  - title: a\n    day_offset: 1.5\n", "line 4: day_offset must be a whole number"),
        ("name: X\nsteps:\n  - title: a\n    day_offset: '7'\n", "line 4: day_offset must be a whole number"),
        ("name: X\nsteps:\n  - title: a\n    day_offset: 9999\n", "line 4: day_offset must be between"),
        (
            "name: X\nsteps:\n  - title: a\n    priority: urgent\n",
            "line 4: priority must be one of: high, normal, low",
        ),
        ("name: X\nsteps:\n  - title: a\n    colour: red\n", "line 4: unknown key “colour”"),
        ("name: X\nsteps:\n  - day_offset: 3\n", "line 3: “title” is missing"),
        ("name: X\nsteps: []\n", "line 2: steps must be a list of at least one step"),
        ("name: X\n", "line 1: “steps” is missing"),
        ("name: ''\nsteps:\n  - title: a\n", "line 1: name must not be empty"),
        ("name: X\nactive: maybe\nsteps:\n  - title: a\n", "line 2: active must be true or false"),
        ("name: X\nsteps:\n  - title: a\n    owner: boss\n", "line 4: owner must be one of"),
        ("name: X\nsteps:\n  - [a, b]\n", "line 3: a step must be a mapping"),
        ("name: X\nsteps:\n  - title: a\n   day_offset: 2\n", "line 4: not valid YAML"),
        (
            "- name: X\n  steps: [{title: a}]\n- name: X\n  steps: [{title: b}]\n",
            "line 3: the playbook “X” is given twice",
        ),
        ("", "The file is empty"),
        ("just text", "a playbook must be a mapping"),
    ],
)
def test_problems_are_reported_with_their_line_and_nothing_is_applied(text, message):
    before = Playbook.objects.count()
    with pytest.raises(ValidationError) as error:
        services.apply_playbooks_yaml(text=text, actor=None)
    messages = error.value.message_dict["file"]
    assert any(message in m for m in messages), messages
    assert Playbook.objects.count() == before


def test_apply_command_lists_every_problem(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: X\nsteps:\n  - title: a\n    day_offset: x\n    type: lunch\n", encoding="utf-8")
    with pytest.raises(CommandError) as error:
        call_command("playbook", "apply", str(path))
    assert "line 4: day_offset must be a whole number" in str(error.value)
    assert "line 5: type must be one of" in str(error.value)
