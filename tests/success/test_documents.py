"""success.documents: a framework's YAML read with problems at their line, applied by key, exported back."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import AccountFactory, FrameworkFactory, PhaseFactory, SegmentFactory
from touchpoint.success import documents
from touchpoint.success.documents import DocumentError, apply_text, export_text, problems_of, validate_text
from touchpoint.success.models import (
    AccountPlacement,
    LifecyclePhase,
    MilestoneDefinition,
    MilestoneReached,
    MilestoneSource,
    SuccessFramework,
)
from touchpoint.users.models import AuditLogEntry
from touchpoint.yaml_text import LINE_BREAK

LIBRARY = Path(documents.__file__).parent / "library"

SMALL = """\
key: small
name: Small
phases:
  - key: start
    name: Start
  - key: later
    name: Later
    enter_when:
      - days_since_start: {at_least: 30}
      - milestone: first
milestones:
  - key: first
    name: First report
    first_value: true
    rule: {event: Report created}
  - key: outcome
    name: Outcome
    kind: outcome
"""


def only(text: str):
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


# --- Reading ------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["standard.yaml", "self-serve.yaml"])
def test_the_shipped_frameworks_are_valid(name):
    definition = validate_text((LIBRARY / name).read_text())
    assert definition.phases and definition.milestones
    assert sum(m.first_value for m in definition.milestones) == 1


@pytest.mark.django_db
def test_an_unknown_key_names_its_line_and_column_and_a_close_key():
    problem = only(SMALL.replace("    name: Later\n", "    name: Later\n    enter_wen: []\n"))
    assert (problem.line, problem.column) == (8, 5)
    assert "enter_wen" in problem.message and "enter_when" in problem.message
    assert problem.path == "phases[1].enter_wen"


@pytest.mark.django_db
def test_a_milestone_a_phase_names_must_be_in_the_framework():
    problem = only(SMALL.replace("milestone: first\n", "milestone: frist\n"))
    assert (problem.line, problem.column) == (10, 20)
    assert "frist" in problem.message and "first" in problem.message


@pytest.mark.django_db
def test_a_key_used_twice_points_at_the_second():
    text = SMALL.replace("  - key: later\n", "  - key: start\n")
    problem = only(text)
    assert problem.line == 6 and "start" in problem.message


@pytest.mark.django_db
def test_two_first_values_point_at_the_second():
    text = SMALL.replace("    kind: outcome\n", "    kind: outcome\n    first_value: true\n")
    problem = only(text)
    assert problem.line == 19 and "first value" in problem.message


@pytest.mark.django_db
def test_a_condition_with_two_keys_is_refused_at_its_line():
    text = SMALL.replace(
        "      - milestone: first\n", "      - {milestone: first, days_to_renewal: {at_most: 3}}\n"
    )
    problem = only(text)
    assert problem.line == 10 and "exactly one" in problem.message


@pytest.mark.django_db
def test_a_product_milestone_needs_a_rule():
    problem = only(SMALL.replace("    rule: {event: Report created}\n", ""))
    assert problem.line == 12 and "rule" in problem.message


@pytest.mark.django_db
def test_segments_must_exist():
    SegmentFactory(name="SMB")
    problem = only(SMALL.replace("phases:\n", "segments: [SMB, Enterprize]\nphases:\n", 1))
    assert problem.line == 3 and "Enterprize" in problem.message
    SegmentFactory(name="Enterprise")
    assert problems_of(SMALL.replace("phases:\n", "segments: [SMB, Enterprise]\nphases:\n", 1)) == []


@pytest.mark.django_db
def test_another_framework_may_not_have_the_name():
    SuccessFramework.objects.create(key="other", name="Small")
    problem = only(SMALL)
    assert problem.line == 2 and "other" in problem.message


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("- a\n- b\n", "mapping"),
        ("key: [unclosed\n", "YAML"),
        ("key: x\nkey: y\nname: n\nphases: [{key: a, name: A}]\n", "twice"),
        ("a: " + "[" * 300 + "]" * 300 + "\n", "deeper"),
        ("key: x\nname: y\ndescription: " + "x" * (101 * 1024) + "\n", "100 KB"),
        ("key: x\nname: y\nphases: [{key: a, name: A}]\nsurprise: 1\n", "surprise"),
        ("key: X Y\nname: y\nphases: [{key: a, name: A}]\n", "lower-case"),
        (
            "key: x\nname: y\nphases: [{key: a, name: A, enter_when: [{health: {grades: [purple]}}]}]\n",
            "purple",
        ),
        ("key: x\nname: y\nphases: [{key: a, name: A, enter_when: [{days_since_start: {}}]}]\n", "at_least"),
    ],
)
def test_bad_text_is_a_problem_with_a_line(text, words):
    problems = problems_of(text)
    assert problems, text[:80]
    assert any(words in problem.message for problem in problems), problems
    for problem in problems:
        assert problem.line >= 1 and problem.column >= 1
    with pytest.raises(DocumentError) as error:
        validate_text(text)
    assert all(message.startswith("line ") for message in error.value.messages)


def test_text_that_is_not_text_is_a_problem():
    assert problems_of(None)[0].line == 1  # type: ignore[arg-type]


_yaml_ish = st.text(
    alphabet=st.sampled_from(list("key:name phases-[]{},\n #'\"&*!|>?@`%\t0129az_.")), max_size=300
)


@pytest.mark.django_db
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(_yaml_ish, st.text(max_size=200)))
def test_any_text_gives_problems_on_its_own_lines_and_never_an_error(text):
    problems = problems_of(text)
    lines = LINE_BREAK.split(text)
    for problem in problems:
        assert 1 <= problem.line <= len(lines)
        assert problem.column >= 1
        assert problem.message


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.text(max_size=20))
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["key", "name", "at_least", "rule", "kind", "x"]), inner, max_size=4),
    ),
    max_leaves=12,
)
_conditions = st.dictionaries(
    st.sampled_from(
        [
            "days_since_start",
            "milestone",
            "active_users",
            "key_features",
            "health",
            "subscription",
            "days_to_renewal",
            "oops",
        ]
    ),
    _values,
    max_size=2,
)


@st.composite
def frameworks(draw):
    milestones = draw(
        st.lists(
            st.fixed_dictionaries(
                {"key": st.sampled_from(["a", "b", "c", "B!"]), "name": st.text(min_size=1, max_size=5)},
                optional={
                    "rule": _values,
                    "kind": st.sampled_from(["product", "outcome", "other"]),
                    "first_value": st.booleans(),
                    "stall_after_days": st.integers(-5, 5000),
                },
            ),
            max_size=4,
        )
    )
    phases = draw(
        st.lists(
            st.fixed_dictionaries(
                {"key": st.sampled_from(["p", "q", "r"]), "name": st.text(min_size=1, max_size=5)},
                optional={"enter_when": st.lists(_conditions, max_size=3)},
            ),
            max_size=3,
        )
    )
    return {"key": "fw", "name": "Framework", "phases": phases, "milestones": milestones}


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=frameworks())
def test_any_framework_shaped_data_is_read_or_refused_with_lines(data):
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    problems = problems_of(text)
    lines = LINE_BREAK.split(text)
    for problem in problems:
        assert 1 <= problem.line <= len(lines), problem
        assert problem.message
    if not problems:
        assert validate_text(text).key == "fw"


# --- Applying -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_apply_creates_the_framework_its_phases_and_milestones(leader):
    framework = apply_text(SMALL, actor=leader)
    assert (framework.key, framework.name, framework.source) == ("small", "Small", SMALL)
    phases = list(framework.phases.order_by("position"))
    assert [(p.key, p.name, p.position) for p in phases] == [("start", "Start", 0), ("later", "Later", 1)]
    assert phases[1].entry_rules == [{"days_since_start": {"at_least": 30}}, {"milestone": "first"}]
    milestones = list(framework.milestones.order_by("position"))
    assert [(m.key, m.kind, m.is_first_value, m.rule) for m in milestones] == [
        ("first", "product", True, {"event": "Report created", "count": 1}),
        ("outcome", "outcome", False, {}),
    ]
    assert AuditLogEntry.objects.filter(action="success.framework_created", actor=leader).count() == 1


@pytest.mark.django_db
def test_applying_the_same_text_twice_changes_nothing(leader):
    first = apply_text(SMALL, actor=leader)
    phase_ids = set(first.phases.values_list("id", flat=True))
    again = apply_text(SMALL, actor=leader)
    assert again.pk == first.pk and set(again.phases.values_list("id", flat=True)) == phase_ids
    assert AuditLogEntry.objects.filter(action__startswith="success.framework").count() == 1


@pytest.mark.django_db
def test_a_renamed_phase_keeps_its_accounts_and_names_can_swap(leader):
    framework = apply_text(SMALL, actor=leader)
    later = framework.phases.get(key="later")
    account = AccountFactory()
    AccountPlacement.objects.create(account=account, framework=framework, phase=later)
    swapped = (
        SMALL.replace("name: Start", "name: TMP")
        .replace("name: Later", "name: Start")
        .replace("name: TMP", "name: Later")
    )
    apply_text(swapped, actor=leader, catch_up=False)  # the rename alone, without re-placing
    later.refresh_from_db()
    assert later.name == "Start"
    assert AccountPlacement.objects.get(account=account).phase == later
    assert AuditLogEntry.objects.filter(action="success.framework_changed").last().changes[
        "phases_changed"
    ] == [
        "start",
        "later",
    ]


@pytest.mark.django_db
def test_a_removed_phase_goes_and_its_accounts_lose_it(leader):
    framework = apply_text(SMALL, actor=leader)
    account = AccountFactory()
    AccountPlacement.objects.create(
        account=account, framework=framework, phase=framework.phases.get(key="later")
    )
    text = SMALL.replace(
        "  - key: later\n    name: Later\n    enter_when:\n      - days_since_start: {at_least: 30}\n      - milestone: first\n",
        "",
    )
    apply_text(text, actor=leader)
    assert list(framework.phases.values_list("key", flat=True)) == ["start"]
    assert AccountPlacement.objects.get(account=account).phase is None


@pytest.mark.django_db
def test_a_reached_milestone_cannot_be_removed_and_nothing_is_applied(leader):
    framework = apply_text(SMALL, actor=leader)
    milestone = framework.milestones.get(key="outcome")
    MilestoneReached.objects.create(
        account=AccountFactory(), milestone=milestone, reached_on="2026-01-02", source=MilestoneSource.MANUAL
    )
    text = SMALL.replace("  - key: outcome\n    name: Outcome\n    kind: outcome\n", "").replace(
        "name: Small", "name: Smaller"
    )
    with pytest.raises(DocumentError) as error:
        apply_text(text, actor=leader)
    assert "outcome" in error.value.messages[0] and error.value.problems[0].line == 11
    framework.refresh_from_db()
    assert framework.name == "Small" and framework.milestones.count() == 2


@pytest.mark.django_db
def test_an_unreached_milestone_is_removed_and_first_value_can_move(leader):
    framework = apply_text(SMALL, actor=leader)
    text = (
        SMALL.replace("    first_value: true\n", "")
        .replace("      - milestone: first\n", "")
        .replace("  - key: first\n    name: First report\n    rule: {event: Report created}\n", "")
        .replace("    kind: outcome\n", "    kind: outcome\n    first_value: true\n")
    )
    apply_text(text, actor=leader)
    assert list(framework.milestones.values_list("key", "is_first_value")) == [("outcome", True)]
    assert not MilestoneDefinition.objects.filter(key="first").exists()


@pytest.mark.django_db
def test_the_default_moves_to_the_framework_that_says_so(leader):
    old = FrameworkFactory(name="Old", is_default=True, key="old")
    framework = apply_text(SMALL.replace("phases:\n", "default: true\nphases:\n", 1), actor=leader)
    old.refresh_from_db()
    assert framework.is_default and not old.is_default


@pytest.mark.django_db
def test_a_framework_made_before_keys_is_taken_over_by_its_name(leader):
    legacy = SuccessFramework.objects.create(name="Small")
    phase = PhaseFactory(framework=legacy, name="Start")
    framework = apply_text(SMALL, actor=leader)
    phase.refresh_from_db()
    assert framework.pk == legacy.pk and framework.key == "small" and phase.key == "start"


@pytest.mark.django_db
def test_apply_calls_the_milestone_and_placement_parts_when_they_exist(leader, monkeypatch):
    import importlib

    called = []
    real_import = importlib.import_module

    class Fake:
        @staticmethod
        def on_definitions_changed(framework):
            called.append(("milestones", framework.key))

        @staticmethod
        def place_framework(framework):
            called.append(("placement", framework.key))

    def fake_import(name, *args, **kwargs):
        if name in ("touchpoint.success.milestones", "touchpoint.success.placement"):
            return Fake
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(documents.importlib, "import_module", fake_import)
    apply_text(SMALL, actor=leader)
    assert called == [("milestones", "small"), ("placement", "small")]
    called.clear()
    apply_text(SMALL, actor=leader)  # nothing changed: nothing to catch up
    assert called == []
    apply_text(SMALL, actor=leader, catch_up=False)
    assert called == []


# --- Writing ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_gives_back_the_applied_text_with_its_comments(leader):
    text = (LIBRARY / "standard.yaml").read_text()
    framework = apply_text(text, actor=leader)
    assert export_text(framework) == text


@pytest.mark.django_db
def test_export_after_a_change_elsewhere_is_made_from_the_rows_and_reads_back(leader):
    framework = apply_text((LIBRARY / "self-serve.yaml").read_text(), actor=leader)
    LifecyclePhase.objects.filter(framework=framework, key="adoption").update(name="Habit")
    exported = export_text(framework)
    assert "Habit" in exported and "#" not in exported
    assert validate_text(exported) == documents.definition_of(framework)
    again = apply_text(exported, actor=leader)
    assert again.pk == framework.pk


@pytest.mark.django_db
def test_export_of_a_framework_made_by_hand_makes_keys_from_names():
    framework = SuccessFramework.objects.create(name="Hand made")
    PhaseFactory(framework=framework, name="First use", position=0)
    PhaseFactory(framework=framework, name="First use!", position=1)
    definition = validate_text(export_text(framework))
    assert definition.key == "hand-made"
    assert [p.key for p in definition.phases] == ["first-use", "first-use-2"]


@pytest.mark.django_db
def test_a_null_character_and_a_phase_name_used_twice_are_problems_not_database_errors():
    nul = only(SMALL.replace("name: Start", 'name: "St\\0art"'))
    assert nul.line == 5 and "Null" in nul.message
    twice = only(SMALL.replace("name: Later", "name: Start"))
    assert twice.line == 7 and "Start" in twice.message


@pytest.mark.django_db(transaction=False)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=frameworks())
def test_any_framework_shaped_data_is_applied_or_refused_never_an_error(leader, data):
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    try:
        framework = apply_text(text, actor=leader)
    except DocumentError as error:
        assert error.problems and all(problem.line >= 1 for problem in error.problems)
        return
    assert framework.key == "fw"
    assert list(framework.phases.values_list("key", flat=True)) == [p["key"] for p in data["phases"]]
    assert export_text(framework) == text
