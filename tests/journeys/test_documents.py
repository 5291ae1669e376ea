"""Journeys as YAML: read with every problem at its line and column, references checked, dump round-trips."""

from __future__ import annotations

import re
import textwrap

import pytest
import yaml
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import FrameworkFactory, PhaseFactory
from touchpoint import yaml_text
from touchpoint.journeys import documents, fields
from touchpoint.journeys.documents import DocumentError, Problem, dump, problems_of, read
from touchpoint.journeys.models import WebhookEndpoint
from touchpoint.playbooks.models import Playbook

pytestmark = pytest.mark.django_db

GOOD = textwrap.dedent(
    """\
    # A comment the author keeps
    key: welcome
    name: Welcome
    entry: {trigger: manual}
    messages:
      hello:
        en: {subject: "Hello {{ contact.first_name }}", body: "Welcome aboard.\\n\\nThe team"}
        ja: {subject: "こんにちは", body: "ようこそ"}
    steps:
      - {id: wait-a-day, type: wait, days: 1}
      - id: healthy
        type: split
        when: {field: account.attributes.plan, op: eq, value: "on"}
        then: [{id: mail, type: email, message: hello}]
        else:
          - {id: call, type: task, title: "Call them"}
      - id: ab
        type: random
        arms:
          - {arm: A, percent: 50, steps: [{id: tag-a, type: tag, tag: "no"}]}
          - {arm: B, percent: 50}
    """
)


def journey(steps: str = "  - {id: a, type: exit}\n", head: str = "", messages: str = "") -> str:
    """A small valid journey with `steps` (YAML lines under `steps:`), extra top-level lines and messages."""
    return (
        "key: sample\nname: Sample\nentry: {trigger: manual}\n"
        + head
        + (f"messages:\n{messages}" if messages else "")
        + "steps:\n"
        + steps
    )


def only(text: str) -> Problem:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


@pytest.fixture(params=["libyaml", "python"])
def parser(request, monkeypatch):
    """Both ways of reading YAML give the same answers: libyaml when PyYAML has it, else pure Python."""
    if request.param == "python":
        monkeypatch.setattr(yaml_text, "_CLoader", None)
    elif yaml_text._CLoader is None:
        pytest.skip("PyYAML was built without libyaml")
    return request.param


@pytest.fixture
def registered_field():
    spec = fields.register_field(
        "account.test_grade",
        "Test grade",
        kind="choice",
        resolve=lambda subject, at, entry: None,
        choices=("green", "yellow", "red"),
    )
    yield spec
    fields._FIELDS.pop(spec.name, None)


# --- Reading good text --------------------------------------------------------------------------------


def test_a_good_journey_reads_and_dumps_back_to_the_same_definition(parser):
    definition = read(GOOD)
    assert definition.key == "welcome"
    assert [step.id for step in definition.steps] == ["wait-a-day", "healthy", "ab"]
    assert problems_of(GOOD) == []
    text = dump(definition)
    assert read(text) == definition
    assert dump(read(text)) == text


def test_yaml_1_1_booleans_stay_text_and_only_true_false_are_booleans():
    definition = read(
        journey(
            "  - {id: a, type: set_attribute, name: x, value: yes}\n"
            "  - {id: b, type: set_attribute, name: y, value: off}\n"
            "  - {id: c, type: set_attribute, name: z, value: true}\n"
            "  - {id: d, type: set_attribute, name: w, value: 0o17}\n"
            "  - {id: e, type: set_attribute, name: v, value: 2020-13-45}\n"
            "  - {id: f, type: set_attribute, name: u, value: 1:20}\n"
        )
    )
    assert [step.value for step in definition.steps] == ["yes", "off", True, 15, "2020-13-45", "1:20"]


def test_dump_quotes_strings_another_yaml_reader_would_take_for_something_else():
    definition = read(journey("  - {id: a, type: set_attribute, name: x, value: 'no'}\n"))
    text = dump(definition)
    assert "value: 'no'" in text
    assert yaml.safe_load(text)["steps"][0]["value"] == "no"  # PyYAML's YAML 1.1 reads it as text too


# --- Problems with line and column ----------------------------------------------------------------------


def test_an_unknown_key_is_reported_at_the_key(parser):
    problem = only(journey("  - {id: a, type: wait, dayz: 2}\n"))
    assert (problem.line, problem.column) == (5, 25)
    assert problem.message == "unknown key “dayz” (did you mean “days”?)"
    assert problem.path == "steps[0].dayz"
    assert problem.step_id == "a"
    assert str(problem) == "5:25: unknown key “dayz” (did you mean “days”?)"


def test_a_bad_value_is_reported_at_the_value_in_plain_words():
    problem = only(journey("  - id: a\n    type: wait\n    days: -2\n"))
    assert (problem.line, problem.column) == (7, 11)
    assert problem.message == "“days” must be at least 0"


def test_a_missing_key_is_reported_at_its_mapping():
    problem = only(journey("  - {id: p, type: playbook}\n"))
    assert (problem.line, problem.column) == (5, 5)
    assert problem.message == "“playbook” is missing"


def test_an_unknown_step_type_names_the_types():
    problem = only(journey("  - {id: a, type: sned_email}\n"))
    assert problem.line == 5
    assert "unknown step type “sned_email”" in problem.message and "'email'" in problem.message
    assert "union_tag" not in problem.message


def test_a_condition_picks_the_kind_the_author_meant():
    text = journey(head="goal: {field: account.attributes.x, op: bogus}\n")
    problem = only(text)
    assert problem.message.startswith("“op” cannot be “bogus”: expected 'eq'")
    assert (problem.line, problem.column) == (4, 41)
    nested = journey(head="goal: {all: [{field: account.attributes.x, op: nope}]}\n")
    assert only(nested).path == "goal.all[0].op"


def test_a_condition_that_fits_no_kind_says_which_keys_it_needs():
    problems = problems_of(journey(head="goal: {fieldd: x}\n"))
    assert [(p.line, p.message) for p in problems] == [
        (4, "this needs one of the keys field, did, all, any, not"),
        (4, "unknown key “fieldd” (did you mean “field”?)"),
    ]


def test_a_value_of_no_accepted_kind_says_what_is_accepted():
    problem = only(journey(head="goal: {field: account.attributes.x, value: {a: 1}}\n"))
    assert problem.message == "expected text, a number, true or false or a list"
    assert problem.path == "goal.value"


def test_a_language_that_is_not_offered_is_reported_at_its_key():
    problem = only(journey(messages="  hi:\n    en: {body: x}\n    fr: {body: y}\n"))
    assert (problem.line, problem.column) == (7, 5)
    assert problem.message == "“fr” is not allowed here: expected 'en', 'ja', 'ru' or 'th'"


def test_journey_wide_rules_point_at_the_step_not_at_line_one():
    text = journey(
        "  - {id: a, type: email, message: hi}\n  - {id: a, type: email, message: gone}\n",
        messages="  hi:\n    ja: {body: x}\n",
    )
    problems = problems_of(text)
    assert [(p.line, p.path) for p in problems] == [
        (5, "messages.hi"),
        (9, "steps[1].id"),
        (9, "steps[1].message"),
    ]
    assert "needs an English text" in problems[0].message
    assert "“a” is used twice" in problems[1].message
    assert "“gone”" in problems[2].message


def test_a_key_given_twice_is_a_problem(parser):
    problem = only("key: a\nname: x\nkey: b\n")
    assert (problem.line, problem.column) == (3, 1)
    assert problem.message == "“key” is given twice in this mapping (first on line 1)"


def test_yaml_syntax_errors_name_line_and_column(parser):
    problem = only("key: a\n\tname: b\n")
    assert (problem.line, problem.column) == (2, 1)
    assert problem.message.startswith("not valid YAML")
    assert only("key: [a, b\n").message.startswith("not valid YAML")
    assert only("key: \x00\n").message == "the text holds a character YAML does not allow (#x0000)"
    bad_character = only("name: 日本語\nkey: 日本\x01\n")
    assert (bad_character.line, bad_character.column) == (2, 8)
    assert only("").message == "the text is empty: expected a journey"
    assert only("- a\n- b\n").message.startswith("a journey is a mapping")
    assert only("a: 1\n---\nb: 2\n").message.startswith("not valid YAML")


def test_guards_refuse_huge_deep_and_exploding_texts(parser):
    assert only("a: " + "x" * (513 * 1024)).message == "the text is over 512 KB"
    deep_json = "[" * 300 + "]" * 300
    assert only(deep_json).message == "the text nests deeper than 50 levels"
    deep_mapping = '{"a": ' * 300 + "1" + "}" * 300
    assert only(deep_mapping).message == "the text nests deeper than 50 levels"
    assert only("[" * 100_000).message in ("the text nests deeper than 50 levels",)
    laughs = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{name}: &{name} [{', '.join(['*' + previous] * 10)}]\n"
        for previous, name in zip("abcdef", "bcdefg", strict=True)
    )
    assert "expands to more than 100000 values" in only(laughs).message
    assert only("&a [*a]").message == "the text nests deeper than 50 levels"


def test_tags_other_than_plain_values_are_refused(parser):
    assert "not supported" in only("key: !!python/object:os.system x\n").message
    assert "not a number" in only("key: !!int abc\n").message
    assert read(journey(head="description: !!str 12\n")).description == "12"


def test_document_error_is_a_validation_error_listing_every_problem():
    with pytest.raises(DocumentError) as caught:
        read(journey("  - {id: a, type: wait, dayz: 2}\n  - {id: B, type: exit}\n"))
    error = caught.value
    assert isinstance(error, ValidationError)
    assert [p.line for p in error.problems] == [5, 6]
    assert error.messages[0] == "line 5, column 25: unknown key “dayz” (did you mean “days”?)"


# --- Arbitrary text ------------------------------------------------------------------------------------

_yamlish = st.text(
    alphabet=st.sampled_from(list("-:{}[],#&*!|>'\"%@?` \n\r\t\x00\x85\u2028abkeyno01.~\\é日")), max_size=200
)
_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def _lines_of(text: str) -> int:
    return len(re.split("\r\n|\r|\n|\x85|\u2028|\u2029", text))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(_yamlish, st.text(max_size=200), _values.map(lambda v: yaml.safe_dump(v) + "\n")))
def test_any_text_gives_problems_with_real_positions_never_a_crash(text):
    try:
        read(text)
    except DocumentError as error:
        assert error.problems
        for problem in error.problems:
            assert 1 <= problem.line <= _lines_of(text)
            assert problem.column >= 1
            assert problem.message
    assert all(1 <= p.line <= _lines_of(text) for p in problems_of(text))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.dictionaries(
        st.sampled_from(["key", "name", "entry", "steps", "goal", "messages", "audience", "reentry"]),
        _values,
        max_size=6,
    )
)
def test_journey_shaped_data_of_any_content_gives_problems_never_a_crash(data):
    text = yaml.safe_dump(data)
    for problem in problems_of(text):
        assert 1 <= problem.line <= _lines_of(text)


# --- References --------------------------------------------------------------------------------------


def test_an_unknown_field_is_refused_with_a_suggestion(registered_field):
    problem = only(journey(head="goal: {field: account.test_grad, value: red}\n"))
    assert problem.message == "unknown field “account.test_grad” (did you mean “account.test_grade”?)"
    assert (problem.line, problem.column) == (4, 15)
    assert problems_of(journey(head="goal: {field: account.test_grade, value: red}\n")) == []
    assert problems_of(journey(head="goal: {field: entry.properties.plan, value: x}\n")) == []


def test_a_value_outside_a_fields_choices_is_refused(registered_field):
    problem = only(
        journey(
            "  - id: s\n    type: split\n"
            "    when: {field: account.test_grade, op: in, value: [green, purple]}\n"
            "    then: [{id: t, type: exit}]\n"
        )
    )
    assert problem.message == "account.test_grade is never “purple”: it is one of green, yellow, red"
    assert problem.step_id == "s" and problem.line == 7
    assert problems_of(journey(head="goal: {field: account.test_grade, op: exists}\n")) == []


def test_the_entry_event_must_be_a_registered_domain_event_kind():
    head = "entry: {trigger: event, event: health.grade_changd}\n"
    problem = only(f"key: sample\nname: Sample\n{head}steps:\n  - {{id: a, type: exit}}\n")
    assert (
        problem.message
        == "no domain event is called “health.grade_changd” (did you mean “health.grade_changed”?)"
    )
    assert problem.path == "entry.event" and problem.line == 3
    good = "key: sample\nname: Sample\nentry: {trigger: event, event: contact.added}\nsteps: [{id: a, type: exit}]\n"
    assert problems_of(good) == []


def test_a_wait_for_an_event_accepts_product_events_and_registered_kinds_only():
    problem = only(journey("  - {id: w, type: wait, event: health.nope, timeout_days: 3}\n"))
    assert problem.message.startswith("no domain event is called “health.nope”")
    assert problem.step_id == "w"
    assert problems_of(journey("  - {id: w, type: wait, event: report_exported, timeout_days: 3}\n")) == []
    assert (
        problems_of(journey("  - {id: w, type: wait, event: health.grade_changed, timeout_days: 3}\n")) == []
    )


def test_a_schedule_needs_a_valid_cron():
    text = "key: s\nname: S\nentry: {trigger: schedule, cron: '61 * * * *'}\nsteps: [{id: a, type: exit}]\n"
    problem = only(text)
    assert problem.path == "entry.cron" and "is not a cron expression" in problem.message
    assert problems_of(text.replace("61 *", "0 9")) == []


def test_a_playbook_step_names_an_existing_active_playbook():
    text = journey("  - {id: p, type: playbook, playbook: Quarterly chek}\n")
    Playbook.objects.create(name="Quarterly check")
    problem = only(text)
    assert problem.message == "no playbook is called “Quarterly chek” (did you mean “Quarterly check”?)"
    assert (problem.line, problem.column, problem.step_id) == (5, 39, "p")
    Playbook.objects.create(name="Quarterly chek", is_active=False)
    assert only(text).message == "the playbook “Quarterly chek” is not active"
    Playbook.objects.filter(name="Quarterly chek").update(is_active=True)
    assert problems_of(text) == []


def test_set_phase_names_a_phase_of_the_default_framework():
    text = journey("  - {id: p, type: set_phase, phase: Adoption}\n")
    assert only(text).message.startswith("the default success framework has no phase “Adoption”")
    other = FrameworkFactory(name="Other", is_default=False)
    PhaseFactory(framework=other, name="Adoption")
    assert only(text).step_id == "p"
    PhaseFactory(framework=FrameworkFactory(), name="Adoption")
    assert problems_of(text) == []


def test_a_webhook_step_names_an_active_endpoint():
    text = journey("  - {id: h, type: webhook, endpoint: crm}\n")
    assert only(text).message == "no webhook endpoint is called “crm”"
    endpoint = WebhookEndpoint.objects.create(
        name="crm", url="https://example.com/h", secret="s", is_active=False
    )
    assert only(text).message == "the webhook endpoint “crm” is not active"
    endpoint.is_active = True
    endpoint.save()
    assert problems_of(text) == []


def test_surveys_are_refused_while_no_app_provides_them(monkeypatch):
    from touchpoint.journeys import survey_steps

    monkeypatch.setattr(survey_steps, "_PROVIDER", [])
    problem = only(journey("  - {id: s, type: survey, survey: nps}\n"))
    assert problem.message == "surveys do not exist yet: a journey cannot send one"
    assert problem.step_id == "s"


def test_a_survey_step_names_a_survey_the_provider_knows(monkeypatch):
    from touchpoint.journeys import survey_steps

    provider = survey_steps.SurveyProvider(survey_keys=lambda: ["nps"], message=lambda **_kw: None)
    monkeypatch.setattr(survey_steps, "_PROVIDER", [provider])
    assert problems_of(journey("  - {id: s, type: survey, survey: nps, channel: in_app}\n")) == []
    problem = only(journey("  - {id: s, type: survey, survey: csat}\n"))
    assert problem.message == "no active survey has the key “csat”"
    assert problem.path == "steps[0].survey"


def test_message_templates_must_compile_and_stay_inside_the_message():
    steps = "  - {id: m, type: email, message: hi}\n"
    broken = journey(steps, messages="  hi:\n    en: {subject: Hi, body: 'Hello {% if contact %}'}\n")
    problem = only(broken)
    assert problem.path == "messages.hi.en.body" and problem.line == 6
    assert problem.message.startswith("message “hi” (en), body: ")
    unknown_filter = journey(
        steps, messages="  hi:\n    en: {body: x}\n    ja: {subject: '{{ a|nope }}', body: y}\n"
    )
    assert only(unknown_filter).message == "message “hi” (ja), subject: Invalid filter: 'nope'"
    include = journey(steps, messages="  hi:\n    en: {body: \"{% include 'base.html' %}\"}\n")
    assert (
        only(include).message
        == "message “hi” (en), body: the tag {% include %} is not allowed in journey messages"
    )


def test_references_are_only_checked_once_the_shape_is_right():
    # A shape problem stops there: no database question about a playbook in a broken text.
    problems = problems_of(journey("  - {id: p, type: playbook, playbook: Nope, extra: 1}\n"))
    assert [p.message for p in problems] == ["unknown key “extra”"]


def test_documents_module_checks_every_reference_it_documents():
    # The docstring is the reference for authors: keep it naming what the code checks.
    for word in ("playbook", "set_phase", "webhook", "survey", "cron", "choices", "template"):
        assert word in (documents.__doc__ or "")


# --- dump round trip ------------------------------------------------------------------------------------

_words = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=30
)
_tricky = st.sampled_from(
    [
        "no",
        "yes",
        "on",
        "off",
        "~",
        "null",
        "0x1F",
        "0o17",
        "1e3",
        ".5",
        "1:20",
        "2020-01-01",
        "'",
        '"',
        "- a",
        "# not a comment",
        " lead",
        "trail ",
        "a\n b\n",
        "x: y",
        "*a",
        "&a",
        "!t",
        "%x",
        "@x",
        "`x",
    ]
)
_text_value = st.one_of(_words, _tricky)
_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    _text_value,
)


def _leaf_step(index: int, kind: str, text: str, value) -> dict:
    step_id = f"s{index}"
    return {
        "wait": {"id": step_id, "type": "wait", "days": index % 30 + 1},
        "task": {"id": step_id, "type": "task", "title": text[:200], "notes": text},
        "attribute": {"id": step_id, "type": "set_attribute", "name": "x", "value": value},
        "tag": {"id": step_id, "type": "tag", "tag": text[:64]},
        "email": {"id": step_id, "type": "email", "message": "hello", "label": text[:200]},
    }[kind]


@st.composite
def journeys(draw):
    kinds = draw(
        st.lists(st.sampled_from(["wait", "task", "attribute", "tag", "email"]), min_size=1, max_size=6)
    )
    steps = [_leaf_step(index, kind, draw(_text_value), draw(_scalar)) for index, kind in enumerate(kinds)]
    if draw(st.booleans()):
        steps.append(
            {
                "id": "split",
                "type": "split",
                "when": {"field": "entry.plan", "op": "in", "value": draw(st.lists(_scalar, max_size=3))},
                "then": [{"id": "then-exit", "type": "exit", "reason": draw(_text_value)[:200]}],
                "else": [],
            }
        )
    return {
        "key": "round-trip",
        "name": draw(_text_value)[:200],
        "description": draw(_text_value),
        "entry": {"trigger": "manual"},
        "messages": {"hello": {"en": {"subject": draw(_text_value)[:300], "body": draw(_words)}}},
        "steps": steps,
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=journeys())
def test_dump_reads_back_to_the_same_definition(data):
    definition = documents.parse(data)
    text = dump(definition)
    assert read(text) == definition, text


@pytest.mark.parametrize(
    ("text", "message", "path"),
    [
        (
            "key: a\nname: A\nentry: {trigger: event}\nsteps: [{id: a, type: exit}]\n",
            "an entry triggered by event needs “event”",
            "entry",
        ),
        (journey(head="reentry: {policy: after_days}\n"), "re-entry after_days needs “days”", "reentry"),
        (
            journey("  - {id: w, type: wait}\n"),
            "a wait needs exactly one of: days (and/or hours), until, event",
            "steps[0]",
        ),
        (
            journey("  - {id: w, type: wait, event: signed_up}\n"),
            "a wait for an event needs “timeout_days”",
            "steps[0]",
        ),
        (
            journey("  - {id: r, type: random, arms: [{arm: a, percent: 60}, {arm: b, percent: 60}]}\n"),
            "the arms' percentages must add up to 100",
            "steps[0]",
        ),
        (
            journey("  - {id: r, type: random, arms: [{arm: a, percent: 50}, {arm: a, percent: 50}]}\n"),
            "each arm needs its own name",
            "steps[0]",
        ),
    ],
)
def test_the_definitions_own_rules_are_said_in_sentences_at_their_place(text, message, path):
    problem = only(text)
    assert (problem.message, problem.path) == (message, path)
