"""readiness.documents: a map's YAML read with problems at their line, applied by key, exported back."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import pytest
import yaml
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import UserFactory
from touchpoint.readiness import definition, services
from touchpoint.readiness.documents import (
    DocumentError,
    applied,
    apply_text,
    export_text,
    problems_of,
    validate_text,
)
from touchpoint.readiness.links import Serves, link_kinds
from touchpoint.readiness.models import ChecklistItem, ReadinessMap, Status, Touchpoint, TouchpointComment
from touchpoint.readiness.structure import FunctionShape, MapShape, QuestionShape, StageShape, TouchpointShape
from touchpoint.yaml_text import LINE_BREAK

pytestmark = pytest.mark.django_db

# Line numbers matter below: the tests name them.
SMALL = """\
key: billing-v2
name: Billing v2 launch
kind: release
product: Touchpoint Cloud
launch_on: 2099-03-01
owner: pm@example.com
stages:
  - {key: hear, name: Hear of it}
  - {key: buy, name: Buy it, description: Trial and contract}
functions:
  - {key: marketing, name: Marketing, lead: lead@example.com}
  - {key: legal, name: Legal}
touchpoints:
  - key: pricing-page
    stage: buy
    function: marketing
    name: Pricing page
    owner: pm@example.com
    due_on: 2099-02-01
    checklist:
      - Is every plan on the page?
      - {question: Prices in every currency?, answer: partly, note: EUR missing, evidence: "https://example.com/p"}
    links:
      - {kind: journey, target: welcome}
  - key: hardware
    stage: hear
    function: legal
    name: Hardware warranty
    status: not_applicable
    reason: No hardware in this launch
"""


@pytest.fixture(autouse=True)
def people():
    return UserFactory(email="pm@example.com"), UserFactory(email="lead@example.com")


@pytest.fixture(autouse=True)
def journey_links():
    """The link kind the texts use, as the journeys app would register it (the app's own is put back)."""
    installed = link_kinds.get("journey")
    link_kinds.add(
        key="journey",
        label="Journey",
        serves=Serves.AUTOMATED,
        choices=lambda: [("welcome", "Welcome series")],
        resolve=lambda key: ("Welcome series", "/journeys/welcome/") if key == "welcome" else None,
    )
    yield
    link_kinds.remove("journey")
    if installed is not None:
        link_kinds.add(**dataclasses.asdict(installed))


def only(text: str, **kwargs):
    problems = problems_of(text, **kwargs)
    assert len(problems) == 1, problems
    return problems[0]


def test_the_limits_are_the_services_limits():
    assert (definition.FIRST_DAY, definition.LAST_DAY) == (services.FIRST_DAY, services.LAST_DAY)
    assert definition.MAX_TOUCHPOINTS == services.MAX_TOUCHPOINTS
    assert definition.MAX_QUESTIONS == services.MAX_QUESTIONS
    assert definition.MAX_ROWS == services.MAX_ROWS


# --- Reading ------------------------------------------------------------------------------------------


def test_a_good_text_gives_its_shape():
    assert problems_of(SMALL) == []
    shape = validate_text(SMALL)
    assert (shape.key, shape.name, shape.kind, shape.product) == (
        "billing-v2",
        "Billing v2 launch",
        "release",
        "Touchpoint Cloud",
    )
    assert shape.launch_on == date(2099, 3, 1) and shape.owner_email == "pm@example.com"
    assert [s.key for s in shape.stages] == ["hear", "buy"]
    assert shape.functions[0] == FunctionShape("marketing", "Marketing", "lead@example.com")
    pricing, hardware = shape.touchpoints
    assert pricing.checklist == (
        QuestionShape("Is every plan on the page?"),
        QuestionShape("Prices in every currency?", "partly", "EUR missing", "https://example.com/p"),
    )
    assert pricing.links == (("journey", "welcome"),) and pricing.due_on == date(2099, 2, 1)
    assert (hardware.status, hardware.status_reason) == ("not_applicable", "No hardware in this launch")


def test_an_unknown_key_names_its_line_and_a_close_key():
    problem = only(SMALL.replace("    due_on: 2099", "    due_onn: 2099"))
    assert (problem.line, problem.column) == (19, 5)
    assert "due_onn" in problem.message and "“due_on”" in problem.message
    assert problem.path == "touchpoints[0].due_onn"


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        # people who are not users (or no longer active ones)
        ("owner: pm@example.com\nstages", "owner: pm@exampel.com\nstages", 6, "no user has the email"),
        ("lead: lead@example.com", "lead: nobody@example.com", 11, "nobody@example.com"),
        ("    owner: pm@example.com\n    due_on", "    owner: ghost@example.com\n    due_on", 18, "ghost"),
        # link kinds no app registered
        ("{kind: journey, target", "{kind: journy, target", 24, "did you mean “journey”"),
        ("{kind: journey, target", "{kind: newsletter, target", 24, "there are: "),
        # dates
        ("launch_on: 2099-03-01", "launch_on: 0001-01-01", 5, "between 2000-01-01 and 2100-12-31"),
        ("due_on: 2099-02-01", "due_on: 9999-12-31", 19, "between 2000-01-01 and 2100-12-31"),
        ("launch_on: 2099-03-01", "launch_on: 2099-02-30", 5, "not in the calendar"),
        ("launch_on: 2099-03-01", "launch_on: 20990301", 5, "YYYY-MM-DD"),
        ("launch_on: 2099-03-01", "launch_on: March", 5, "YYYY-MM-DD"),
        # texts over their limits, NUL characters, numbers for text
        ("name: Billing v2 launch", "name: " + "x" * 201, 2, "longer than 200"),
        ("    name: Pricing page", "    name: " + "x" * 201, 17, "longer than 200"),
        ("name: Hear of it", "name: " + "x" * 121, 8, "longer than 120"),
        ("reason: No hardware", "reason: " + "x" * 501 + " No hardware", 30, "longer than 500"),
        ("note: EUR missing", "note: " + "x" * 5001, 22, "longer than 5000"),
        ("name: Pricing page", 'name: "Pricing\\0page"', 17, "Null characters"),
        ("product: Touchpoint Cloud", "product: 99999999999999999999999", 4, "must be text"),
        ("product: Touchpoint Cloud", f"product: {2**63}", 4, "must be text"),
        # the map's own rules
        ("    stage: buy\n", "    stage: bye\n", 15, "no stage “bye” in this map (did you mean “buy”?)"),
        ("    function: legal\n", "    function: legl\n", 27, "did you mean “legal”"),
        ("  - key: hardware", "  - key: pricing-page", 25, "touchpoint key “pricing-page” is used twice"),
        (
            "description: Trial and contract}\n",
            "description: Trial and contract}\n  - {key: hear, name: Again}\n",
            10,
            "stage key “hear” is used twice",
        ),
        ("    reason: No hardware in this launch\n", "", 29, "needs a reason"),
        ("    status: not_applicable\n", "", 29, "a reason goes with a status set by hand"),
        ("    status: not_applicable", "    status: done", 29, "expected"),
        ("answer: partly", "answer: maybe", 22, "“maybe”"),
        ('evidence: "https://example.com/p"', "evidence: ftp://example.com/p", 22, "http://"),
        ("key: billing-v2", "key: Billing V2", 1, "lower-case"),
        ("kind: release", "kind: launch", 3, "“launch”"),
        ("      - Is every plan on the page?", "      - 42", 21, "a checklist item is a question"),
        ("kind: release\n", "kind: release\ntouchpionts: []\n", 4, "did you mean “touchpoints”"),
    ],
)
def test_each_problem_is_at_its_line(old, new, line, words):
    assert old in SMALL
    problem = only(SMALL.replace(old, new, 1))
    assert problem.line == line, problem
    assert words in problem.message, problem
    assert problem.column >= 1


def test_a_user_who_can_no_longer_sign_in_is_not_a_user(people):
    pm, _lead = people
    pm.is_active = False
    pm.save()
    problems = problems_of(SMALL)
    assert [problem.line for problem in problems] == [6, 18]


def test_emails_are_matched_without_case():
    assert problems_of(SMALL.replace("owner: pm@example.com", "owner: PM@Example.COM")) == []


def test_every_problem_is_said_at_once():
    text = SMALL.replace("lead: lead@example.com", "lead: x@example.com").replace(
        "kind: journey", "kind: nothing"
    )
    assert [problem.line for problem in problems_of(text)] == [11, 24]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("- a\n- b\n", "mapping"),
        ("key: [unclosed\n", "YAML"),
        ("key: a\nkey: b\n", "twice"),
        ("key: a\nname: \x00\n", "does not allow"),
        ("description: " + "[" * 300 + "]" * 300 + "\n", "deeper"),
        (json.dumps({"key": "a", "description": json.loads("[" * 300 + "]" * 300)}), "deeper"),
        ("key: a\ndescription: " + "x" * (513 * 1024) + "\n", "512 KB"),
        ("key: a\nname: A\nstages: []\nfunctions: [{key: f, name: F}]\n", "at least 1"),
        (
            "key: a\nname: A\nstages:\n" + "".join(f"  - {{key: s{i}, name: S}}\n" for i in range(31)),
            "more than 30",
        ),
        ("key: a\nname: A\nfunctions: [{key: f, name: F}]\n", "“stages” is missing"),
    ],
)
def test_bad_text_is_a_problem_with_a_line_never_an_error(text, words):
    problems = problems_of(text)
    assert any(words in problem.message for problem in problems), problems
    for problem in problems:
        assert problem.line >= 1 and problem.column >= 1
    with pytest.raises(DocumentError) as error:
        validate_text(text)
    assert all(message.startswith("line ") for message in error.value.messages)


def test_text_that_is_not_text_is_a_problem():
    assert problems_of(None)[0].line == 1  # type: ignore[arg-type]


def test_with_a_key_the_text_must_define_that_map():
    problem = only(SMALL, key="another")
    assert problem.line == 1 and "another" in problem.message and "billing-v2" in problem.message
    assert problems_of(SMALL, key="billing-v2") == []


def test_two_maps_may_share_a_name():
    """Names are not unique (a launch may be called the same in two markets): the key tells maps apart."""
    apply_text(SMALL, actor=None)
    assert problems_of(SMALL.replace("key: billing-v2", "key: billing-v2-japan")) == []


_yaml_ish = st.text(
    alphabet=st.sampled_from(list("key:name stages-[]{},\n #'\"&*!|>?@`%\t0129az_.\\")), max_size=300
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(_yaml_ish, st.text(max_size=200)))
def test_any_text_gives_problems_on_its_own_lines_and_never_an_error(text):
    problems = problems_of(text)
    lines = LINE_BREAK.split(text)
    for problem in problems:
        assert 1 <= problem.line <= len(lines)
        assert problem.column >= 1 and problem.message


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["2027-03-01", "0001-01-01", "9999-12-31", "yes", "no", "pm@example.com", "journey"]),
)
_keys = st.sampled_from(
    ["key", "name", "stage", "function", "status", "reason", "checklist", "answer", "links", "kind", "x"]
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=12,
)


@st.composite
def maps(draw):
    """Data shaped like a map, with every field sometimes wrong."""
    row = st.fixed_dictionaries(
        {"key": st.sampled_from(["a", "b", "B!", ""]), "name": st.text(max_size=5)},
        optional={"description": _values, "lead": _values},
    )
    touchpoint = st.fixed_dictionaries(
        {
            "key": st.sampled_from(["t", "u", "T"]),
            "stage": st.sampled_from(["a", "b", "z"]),
            "function": st.sampled_from(["a", "b", "z"]),
            "name": st.text(max_size=5),
        },
        optional={
            "due_on": _scalars,
            "status": st.sampled_from(["", "ready", "gap", "bad"]),
            "reason": _scalars,
            "owner": _scalars,
            "checklist": st.lists(
                st.one_of(_scalars, st.dictionaries(_keys, _values, max_size=3)), max_size=3
            ),
            "links": st.lists(_values, max_size=2),
        },
    )
    return draw(
        st.fixed_dictionaries(
            {"key": st.just("m"), "name": st.text(max_size=5)},
            optional={
                "kind": _scalars,
                "launch_on": _scalars,
                "owner": _scalars,
                "stages": st.lists(row, max_size=3),
                "functions": st.lists(row, max_size=3),
                "touchpoints": st.lists(touchpoint, max_size=3),
                "x": _values,
            },
        )
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(maps(), _values))
def test_any_nested_data_is_read_or_refused_with_lines(data):
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    problems = problems_of(text)
    lines = LINE_BREAK.split(text)
    for problem in problems:
        assert 1 <= problem.line <= len(lines), problem
        assert problem.message
    if not problems:
        assert validate_text(text).key == "m"


# --- Applying -----------------------------------------------------------------------------------------


def test_apply_creates_the_map_with_its_answers_owners_and_links(people):
    pm, lead = people
    readiness_map, created = applied(SMALL, actor=lead)
    assert created
    assert (readiness_map.key, readiness_map.kind, readiness_map.owner) == ("billing-v2", "release", pm)
    assert list(readiness_map.stages.values_list("key", "position")) == [("hear", 0), ("buy", 1)]
    assert readiness_map.functions.get(key="marketing").lead == lead
    pricing = readiness_map.touchpoints.get(key="pricing-page")
    assert (pricing.owner, pricing.due_on, pricing.status) == (pm, date(2099, 2, 1), Status.AT_RISK)
    assert list(pricing.checklist.values_list("answer", "note")) == [("", ""), ("partly", "EUR missing")]
    assert list(pricing.links.values_list("kind", "target")) == [("journey", "welcome")]
    hardware = readiness_map.touchpoints.get(key="hardware")
    assert (hardware.status, hardware.status_by_hand) == (Status.NOT_APPLICABLE, True)
    assert applied(SMALL, actor=lead) == (readiness_map, False)


def test_a_text_with_problems_writes_nothing():
    with pytest.raises(DocumentError) as error:
        apply_text(SMALL.replace("stage: buy", "stage: bye"), actor=None)
    assert error.value.problems[0].line == 15
    assert not ReadinessMap.objects.exists()


def test_apply_by_key_keeps_what_the_text_does_not_say(people):
    """A renamed touchpoint is the same touchpoint (its comments stay); answers given in the app stay
    when the text applied is the export taken after them."""
    pm, _lead = people
    readiness_map = apply_text(SMALL, actor=pm)
    pricing = readiness_map.touchpoints.get(key="pricing-page")
    comment = services.add_comment(touchpoint=pricing, body="Waiting on finance.", actor=pm)
    first = pricing.checklist.get(position=0)
    services.answer_question(item=first, answer="yes", actor=pm, evidence_url="https://example.com/plans")
    text = export_text(readiness_map).replace("name: Pricing page", "name: Pricing and plans page")
    apply_text(text, actor=pm)
    pricing.refresh_from_db()
    assert pricing.name == "Pricing and plans page"
    assert TouchpointComment.objects.get(pk=comment.pk).touchpoint_id == pricing.pk
    assert list(pricing.checklist.values_list("answer", "evidence_url")) == [
        ("yes", "https://example.com/plans"),
        ("partly", "https://example.com/p"),
    ]


def test_the_text_answers_for_the_map_when_applied():
    """apply_shape gives the checklist the text's answers: an older text takes back a newer answer."""
    readiness_map = apply_text(SMALL, actor=None)
    item = ChecklistItem.objects.get(question="Prices in every currency?")
    services.answer_question(item=item, answer="yes", actor=None)
    apply_text(SMALL, actor=None)
    assert ChecklistItem.objects.get(question="Prices in every currency?").answer == "partly"
    assert readiness_map.touchpoints.get(key="pricing-page").status == Status.AT_RISK


def test_left_out_rows_go_and_new_ones_come():
    readiness_map = apply_text(SMALL, actor=None)
    text = SMALL.replace(
        "  - key: hardware\n    stage: hear\n    function: legal\n    name: Hardware warranty\n"
        "    status: not_applicable\n    reason: No hardware in this launch\n",
        "  - {key: contract, stage: hear, function: support, name: Contract}\n",
    ).replace("  - {key: legal, name: Legal}\n", "  - {key: support, name: Support}\n")
    apply_text(text, actor=None)
    assert list(readiness_map.functions.values_list("key", flat=True)) == ["marketing", "support"]
    assert sorted(readiness_map.touchpoints.values_list("key", flat=True)) == ["contract", "pricing-page"]


def test_a_rule_only_the_services_know_comes_back_as_a_problem(monkeypatch):
    """None is known today (the text is checked against the same limits first); should the services
    grow one, it must reach the author as a problem, not a crash."""

    def refuse(shape, *, actor):
        raise ValidationError({"name": "Something the services refuse."})

    monkeypatch.setattr(services, "apply_shape", refuse)
    with pytest.raises(DocumentError) as error:
        apply_text(SMALL, actor=None)
    assert [(p.line, p.column, p.message) for p in error.value.problems] == [
        (1, 1, "Something the services refuse.")
    ]


# --- Writing ------------------------------------------------------------------------------------------


def _state(readiness_map: ReadinessMap):
    touchpoints = Touchpoint.objects.filter(map=readiness_map)
    return (
        services.shape_of(readiness_map),
        sorted(touchpoints.values_list("pk", "status", "status_by_hand")),
        sorted(readiness_map.stages.values_list("pk", flat=True)),
    )


def test_export_applies_back_to_the_same_map_and_validates():
    readiness_map = apply_text(SMALL, actor=None)
    text = export_text(readiness_map)
    assert problems_of(text) == []
    before = _state(readiness_map)
    assert apply_text(text, actor=None) == readiness_map
    assert _state(readiness_map) == before
    assert export_text(readiness_map) == text
    assert validate_text(text) == services.shape_of(readiness_map)


def test_export_reads_like_a_hand_written_text():
    text = export_text(apply_text(SMALL, actor=None))
    assert text.startswith("key: billing-v2\nname: Billing v2 launch\nkind: release\n")
    assert "launch_on: 2099-03-01\n" in text  # a date, not a quoted string
    assert "  - Is every plan on the page?\n" in text  # a question not answered yet is bare
    assert "    answer: partly\n" in text
    assert "    reason: No hardware in this launch\n" in text
    assert "description: ''" not in text and "links: []" not in text  # defaults left out


def test_export_leaves_out_people_who_can_no_longer_sign_in(people):
    pm, _lead = people
    readiness_map = apply_text(SMALL, actor=None)
    pm.is_active = False
    pm.save()
    text = export_text(readiness_map)
    assert "pm@example.com" not in text and "lead@example.com" in text
    assert problems_of(text) == []


def test_a_map_made_in_the_app_exports_to_a_valid_text():
    grid = MapShape(
        key="template",
        name="Template",
        stages=(StageShape("use", "Use it and get it fixed"),),
        functions=(FunctionShape("support", "Support"),),
        touchpoints=(
            TouchpointShape(
                key="sla",
                stage="use",
                function="support",
                name="SLA",
                checklist=(QuestionShape("Published?"),),
            ),
        ),
    )
    readiness_map = services.create_map(name="Our launch: 1:20 — no", actor=None, start_from=grid)
    stage = readiness_map.stages.get()
    services.add_row(readiness_map=readiness_map, kind="function", name="Legal & compliance", actor=None)
    services.add_touchpoint(
        readiness_map=readiness_map,
        stage=stage,
        function=readiness_map.functions.get(key="support"),
        name="yes",
        actor=None,
        questions=["no", "0o17", "- a list?", "#hash", "multi\nline"],
    )
    text = export_text(readiness_map)
    assert problems_of(text) == []
    assert validate_text(text) == services.shape_of(readiness_map)


_tricky = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        st.sampled_from(list(":#-'\"{}[]&*!|>%@` \n\t\r")),
    ),
    min_size=1,
    max_size=30,
).filter(lambda text: text.strip())
_answers = st.sampled_from(["", "yes", "partly", "no", "not_applicable"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=_tricky,
    description=st.one_of(st.just(""), _tricky),
    question=_tricky,
    answer=_answers,
    note=st.one_of(st.just(""), _tricky),
    due_on=st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2100, 12, 31))),
)
def test_any_stored_text_round_trips(name, description, question, answer, note, due_on):
    shape = MapShape(
        key="round",
        name=name,
        description=description,
        stages=(StageShape("s", name, description[:500]),),
        functions=(FunctionShape("f", name),),
        touchpoints=(
            TouchpointShape(
                key="t",
                stage="s",
                function="f",
                name=name,
                description=description,
                due_on=due_on,
                checklist=(QuestionShape(question, answer, note),),
                links=((("journey", name.strip()[:128].strip()),) if answer else ()),
            ),
        ),
    )
    readiness_map, _created = services.apply_shape(shape, actor=None)
    text = export_text(readiness_map)
    assert problems_of(text) == [], text
    assert validate_text(text) == services.shape_of(readiness_map)
