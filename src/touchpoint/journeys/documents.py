"""Journeys as plain text: read a journey's YAML with problems that name the line and the column,
check what it refers to, and write a definition back as YAML.

    definition = read(text)          # a JourneyDefinition, or DocumentError listing every problem
    problems_of(text)                # the same problems as a list (never raises)
    dump(definition)                 # YAML text that reads back to the same definition

Reading happens in three passes, each only when the one before found nothing:

1. YAML. PyYAML composes the text into nodes, which keep where each key and value starts. The
   scalars follow YAML 1.2's core schema: only `true`/`false` are booleans (YAML 1.1 also reads
   `yes`, `no`, `on`, `off` and `y` as booleans, so `country: no` would become false), `0o17` and
   `0x1f` are numbers, dates stay text, `1:20` stays text. A key given twice in one mapping is a
   problem (PyYAML would silently keep the last). Texts over 512 KB, nesting deeper than 50 levels
   and aliases that expand to more than 100,000 values are refused before they cost anything.
2. Shape. pydantic checks the data against journeys/definition.py; each of its errors is mapped
   back through the nodes to the line and column of the key or value it is about, and said in a
   sentence (through gettext) instead of pydantic's codes.
3. References. Whatever names something outside the text must exist now, so a journey fails at
   validation rather than at run time:

   - a condition's `field` is a registered field (journeys/fields.py) or under an open prefix
     (`account.attributes.<key>`, `entry.<path>`); for a field that declares its choices, the
     values compared with it are among them;
   - `entry.event` (trigger: event) is a registered domain event kind;
   - a wait's `event`: a name with a dot (`health.grade_changed`) must be a registered domain event
     kind; a name without a dot (`report_exported`) is a product event, which needs no registration
     (product events arrive by name from the tracking API, often before anyone has seen one);
     for the same reason `did:` conditions and `entry.product_event` accept any product event name;
   - `entry.cron` (trigger: schedule) is a valid cron expression;
   - a playbook step names an active playbook, a set_phase step a phase of the default success
     framework, a webhook step an active webhook endpoint; a survey step a survey the registered survey
     provider knows (journeys/survey_steps.py; refused while no app provides surveys);
   - every message's subject, body and button are Django templates that compile, and use none of
     the tags that reach outside the message (include, extends, load, ssi, debug).

Each problem carries the line and column of the step, condition or message that holds it.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterator
from typing import Any

import pydantic
import yaml
from django.template import Engine, TemplateSyntaxError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from touchpoint.journeys import definition as definition_module
from touchpoint.journeys import fields
from touchpoint.journeys.definition import (
    STEP_ID,
    Condition,
    DidCondition,
    FieldCondition,
    JourneyDefinition,
    children,
    parse,
)
from touchpoint.yaml_text import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_VALUES,
    Builder,
    DocumentError,
    Dumper,
    Path,
    Problem,
    Vocabulary,
    load,
    model_keys,
    path_text,
    place,
    schema_problems,
    shown,
    suggestion,
    within,
)

# Re-exported: the YAML layer moved to touchpoint/yaml_text.py, which success frameworks share.
__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_VALUES", "DocumentError", "Problem", "path_text"]

# --- pydantic's errors as sentences at a place -----------------------------------------------------

_PATTERNS = {
    STEP_ID: gettext_lazy(
        "a step id is up to 64 lower-case letters, digits, “-” and “_”, starting with a letter or digit"
    ),
    r"^[a-z0-9][a-z0-9-]{0,79}$": gettext_lazy(
        "a journey key is up to 80 lower-case letters, digits and “-”, starting with a letter or digit"
    ),
    r"^[A-Za-z0-9_-]{1,32}$": gettext_lazy("an arm's name is up to 32 letters, digits, “-” and “_”"),
    r"^[A-Za-z0-9_.-]{1,64}$": gettext_lazy(
        "an attribute name is up to 64 letters, digits, “-”, “_” and “.”"
    ),
}


def _rule_sentence(message: str) -> str:
    """definition.py's own rules, said through gettext (definition.py stays free of Django)."""
    entry = re.fullmatch(r"an entry triggered by (\w+) needs '(\w+)'", message)
    if entry:
        return _("an entry triggered by %(trigger)s needs “%(key)s”") % {
            "trigger": entry.group(1),
            "key": entry.group(2),
        }
    sentences = {
        "re-entry after_days needs 'days'": _("re-entry after_days needs “days”"),
        "a wait needs exactly one of: days/hours, until, event": _(
            "a wait needs exactly one of: days (and/or hours), until, event"
        ),
        "a wait for an event needs 'timeout_days'": _("a wait for an event needs “timeout_days”"),
        "the arms' percentages must add up to 100": _("the arms' percentages must add up to 100"),
        "each arm needs its own name": _("each arm needs its own name"),
    }
    return str(sentences.get(message, message))


@functools.cache
def _known_keys() -> list[str]:
    """Every key a journey may use somewhere (for "did you mean" on an unknown one)."""
    return model_keys(definition_module)


def _consistency_problems(data: dict[str, Any], builder: Builder) -> list[Problem]:
    """The journey-wide rules (step ids unique, messages defined and in English…), each at its place:
    pydantic raises the first of them on the whole journey, which would point at line 1."""
    problems: list[Problem] = []

    def problem(path: Path, message: str, *, on_key: bool = False) -> None:
        line, column = place(builder, path, on_key=on_key)
        problems.append(Problem(line, column, path_text(path), message))

    messages = data.get("messages") or {}
    seen: dict[str, Path] = {}
    for path, step in _raw_steps(data.get("steps") or [], ("steps",)):
        step_id = step.get("id")
        if isinstance(step_id, str):
            if step_id in seen:
                problem(
                    (*path, "id"),
                    _("step id “%(id)s” is used twice (also at %(other)s); each step needs its own id")
                    % {"id": step_id, "other": path_text(seen[step_id])},
                )
            else:
                seen[step_id] = path
        message = step.get("message")
        if isinstance(message, str) and message not in messages:
            problem(
                (*path, "message"),
                _("step “%(id)s” sends the message “%(message)s”, which “messages” does not define")
                % {"id": step_id, "message": message},
            )
    for key, by_language in messages.items():
        if isinstance(by_language, dict) and "en" not in by_language:
            problem(
                ("messages", key),
                _("message “%(key)s” needs an English text (the last fallback)") % {"key": key},
                on_key=True,
            )
    count = len(seen)
    if count > 200:
        problem(("steps",), _("a journey has at most %(max)d steps") % {"max": 200})
    if data.get("subject", "account") == "account" and (data.get("audience") or {}).get("roles"):
        problem(("audience", "roles"), _("audience.roles picks contacts: use it with subject: contact"))
    return problems


def _raw_steps(steps: Any, prefix: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    if not isinstance(steps, list):
        return
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        path = (*prefix, index)
        yield path, step
        for branch in ("then", "else"):
            yield from _raw_steps(step.get(branch), (*path, branch))
        arms = step.get("arms")
        if isinstance(arms, list):
            for arm_index, arm in enumerate(arms):
                if isinstance(arm, dict):
                    yield from _raw_steps(arm.get("steps"), (*path, "arms", arm_index, "steps"))


def _special(kind: str, ctx: dict[str, Any]) -> str | None:
    """A step's `type` is the tag of the steps' union: its errors are about steps."""
    if kind == "union_tag_invalid":
        return _("unknown step type %(value)s: expected %(expected)s") % {
            "value": shown(ctx.get("tag")),
            "expected": ctx.get("expected_tags", ""),
        }
    if kind == "union_tag_not_found":
        return _("a step needs a “type” (wait, split, random, email, task…)")
    return None


_VOCABULARY = Vocabulary(
    known_keys=_known_keys,
    patterns=_PATTERNS,
    rule_sentence=_rule_sentence,
    special=_special,
    whole_document=_consistency_problems,
)


# --- References: what must exist outside the text ---------------------------------------------------

# The engine journeys/rendering.py renders messages with: Django's built-in tags and filters only, no
# loaders, no project tag libraries. A template that compiles here compiles there.
_MESSAGE_ENGINE = Engine(autoescape=True, string_if_invalid="")
FORBIDDEN_TAGS = re.compile(r"{%-?\s*(include|extends|load|ssi|debug)\b")


def steps_with_paths(steps: list[Any], prefix: Path = ("steps",)) -> Iterator[tuple[Path, Any]]:
    """Every step of a definition with its path in the text, depth first."""
    for index, step in enumerate(steps):
        path = (*prefix, index)
        yield path, step
        if step.type == "split":
            yield from steps_with_paths(step.then, (*path, "then"))
            yield from steps_with_paths(step.else_, (*path, "else"))
        elif step.type == "random":
            for arm_index, arm in enumerate(step.arms):
                yield from steps_with_paths(arm.steps, (*path, "arms", arm_index, "steps"))
        else:
            assert not list(children(step))


def _conditions(condition: Condition | None, path: Path) -> Iterator[tuple[Path, Any]]:
    if condition is None:
        return
    if isinstance(condition, FieldCondition | DidCondition):
        yield path, condition
    elif hasattr(condition, "all"):
        for index, inner in enumerate(condition.all):
            yield from _conditions(inner, (*path, "all", index))
    elif hasattr(condition, "any"):
        for index, inner in enumerate(condition.any):
            yield from _conditions(inner, (*path, "any", index))
    else:
        yield from _conditions(condition.not_, (*path, "not"))


def _all_conditions(definition: JourneyDefinition) -> Iterator[tuple[Path, Any]]:
    yield from _conditions(definition.audience.when, ("audience", "when"))
    yield from _conditions(definition.entry.where, ("entry", "where"))
    yield from _conditions(definition.goal, ("goal",))
    for index, condition in enumerate(definition.exit_when):
        yield from _conditions(condition, ("exit_when", index))
    for path, step in steps_with_paths(definition.steps):
        if step.type == "split":
            yield from _conditions(step.when, (*path, "when"))


def _field_problems(path: Path, condition: FieldCondition) -> Iterator[tuple[Path, str]]:
    if not fields.known(condition.field):
        names = [spec.name for spec in fields.registered_fields()]
        yield (
            (*path, "field"),
            _("unknown field “%(field)s”%(hint)s")
            % {"field": condition.field, "hint": suggestion(condition.field, names)},
        )
        return
    spec = fields.field_named(condition.field)
    if spec is None or not spec.choices or condition.op in ("exists", "missing", "gt", "gte", "lt", "lte"):
        return
    values = condition.value if isinstance(condition.value, list) else [condition.value]
    for value in values:
        if value is not None and str(value) not in spec.choices:
            yield (
                (*path, "value"),
                _("%(field)s is never %(value)s: it is one of %(choices)s")
                % {"field": condition.field, "value": shown(value), "choices": ", ".join(spec.choices)},
            )


def _event_kind_problem(name: str, *, product_events_allowed: bool) -> str | None:
    from touchpoint.events.registry import is_registered, registered_kinds

    if is_registered(name):
        return None
    if product_events_allowed and "." not in name:
        return None
    kinds = [kind.kind for kind in registered_kinds()]
    return _("no domain event is called “%(name)s”%(hint)s") % {
        "name": name,
        "hint": suggestion(name, kinds),
    }


def _template_problem(text: str) -> str | None:
    if not text:
        return None
    forbidden = FORBIDDEN_TAGS.search(text)
    if forbidden:
        return _("the tag {%% %(tag)s %%} is not allowed in journey messages") % {"tag": forbidden.group(1)}
    try:
        _MESSAGE_ENGINE.from_string(text)
    except TemplateSyntaxError as error:
        return str(error)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError) as error:  # odd tag arguments
        return _("the template cannot be read (%(error)s)") % {"error": error}
    return None


def _reference_problems(definition: JourneyDefinition) -> list[tuple[Path, str]]:
    from croniter import croniter

    from touchpoint.journeys.models import WebhookEndpoint
    from touchpoint.playbooks.models import Playbook
    from touchpoint.success.models import LifecyclePhase

    found: list[tuple[Path, str]] = []
    for path, condition in _all_conditions(definition):
        if isinstance(condition, FieldCondition):
            found.extend(_field_problems(path, condition))
    entry = definition.entry
    if entry.trigger == "event" and entry.event:
        problem = _event_kind_problem(entry.event, product_events_allowed=False)
        if problem:
            found.append((("entry", "event"), problem))
    if entry.trigger == "schedule" and entry.cron and not croniter.is_valid(entry.cron):
        found.append(
            (
                ("entry", "cron"),
                _("“%(cron)s” is not a cron expression (minute hour day month weekday)")
                % {"cron": entry.cron},
            )
        )
    for path, step in steps_with_paths(definition.steps):
        if step.type == "wait" and step.event is not None:
            problem = _event_kind_problem(step.event, product_events_allowed=True)
            if problem:
                found.append(((*path, "event"), problem))
        elif step.type == "playbook":
            playbook = Playbook.objects.filter(name=step.playbook).first()
            if playbook is None:
                names = list(Playbook.objects.values_list("name", flat=True))
                found.append(
                    (
                        (*path, "playbook"),
                        _("no playbook is called “%(name)s”%(hint)s")
                        % {"name": step.playbook, "hint": suggestion(step.playbook, names)},
                    )
                )
            elif not playbook.is_active:
                found.append(
                    (
                        (*path, "playbook"),
                        _("the playbook “%(name)s” is not active") % {"name": step.playbook},
                    )
                )
        elif step.type == "set_phase":
            phases = LifecyclePhase.objects.filter(framework__is_default=True)
            if not phases.filter(name=step.phase).exists():
                names = list(phases.values_list("name", flat=True))
                found.append(
                    (
                        (*path, "phase"),
                        _("the default success framework has no phase “%(name)s”%(hint)s")
                        % {"name": step.phase, "hint": suggestion(step.phase, names)},
                    )
                )
        elif step.type == "webhook":
            endpoint = WebhookEndpoint.objects.filter(name=step.endpoint).first()
            if endpoint is None:
                found.append(
                    (
                        (*path, "endpoint"),
                        _("no webhook endpoint is called “%(name)s”") % {"name": step.endpoint},
                    )
                )
            elif not endpoint.is_active:
                found.append(
                    (
                        (*path, "endpoint"),
                        _("the webhook endpoint “%(name)s” is not active") % {"name": step.endpoint},
                    )
                )
        elif step.type == "survey":
            from touchpoint.journeys.survey_steps import survey_provider

            provider = survey_provider()
            if provider is None:
                found.append(((*path, "type"), _("surveys do not exist yet: a journey cannot send one")))
            elif step.survey not in provider.survey_keys():
                found.append(
                    (
                        (*path, "survey"),
                        _("no active survey has the key “%(key)s”") % {"key": step.survey},
                    )
                )
    for key, by_language in definition.messages.items():
        for language, message in by_language.items():
            for part in ("subject", "body", "cta_label", "cta_url"):
                problem = _template_problem(getattr(message, part))
                if problem:
                    found.append(
                        (
                            ("messages", key, language, part),
                            _("message “%(key)s” (%(language)s), %(part)s: %(problem)s")
                            % {"key": key, "language": language, "part": part, "problem": problem},
                        )
                    )
    return found


# --- The public functions ---------------------------------------------------------------------------


def _check(text: str) -> tuple[JourneyDefinition | None, list[Problem], Any]:
    if not isinstance(text, str):
        return None, [Problem(1, 1, "", _("a journey is text"))], None
    data, builder, problems = load(
        text,
        empty=_("the text is empty: expected a journey"),
        not_a_mapping=_("a journey is a mapping of keys and values (key: …, name: …, steps: …)"),
        too_many_values=_(
            "the text expands to more than %(max)d values (aliases?); a journey is much smaller"
        ),
    )
    if problems:
        return None, problems, data
    try:
        definition = parse(data)
    except pydantic.ValidationError as error:
        return (
            None,
            schema_problems(data, builder, error, _VOCABULARY) or [Problem(1, 1, "", str(error))],
            data,
        )
    problems = []
    for path, message in _reference_problems(definition):
        line, column = place(builder, path, on_key=False)
        problems.append(Problem(line, column, path_text(path), message))
    return definition, problems, data


def _step_id_at(data: Any, path: str) -> str:
    """The id of the innermost step a problem's path ("steps[1].then[0].days") runs through."""
    parts: list[str | int] = [
        int(index) if index else name for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path)
    ]
    node, parent, step_id = data, None, ""
    for part in parts:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node, parent = node[part], part
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            if (
                parent in ("steps", "then", "else")
                and isinstance(node, dict)
                and isinstance(node.get("id"), str)
            ):
                step_id = node["id"]
        else:
            break
    return step_id


def _checked(text: str) -> tuple[JourneyDefinition | None, list[Problem]]:
    definition, problems, data = _check(text)
    if isinstance(text, str):
        problems = [within(problem, text) for problem in problems]
    if isinstance(data, dict):
        problems = [
            dataclasses.replace(problem, step_id=_step_id_at(data, problem.path)) for problem in problems
        ]
    return definition, sorted(problems, key=lambda problem: (problem.line, problem.column))


def problems_of(text: str) -> list[Problem]:
    """Every problem of a journey text, in the order of the text; empty when it is good to save."""
    _definition, problems = _checked(text)
    return problems


def read(text: str) -> JourneyDefinition:
    """The journey a YAML text defines; DocumentError (every problem, with line and column) if any."""
    definition, problems = _checked(text)
    if problems or definition is None:
        raise DocumentError(problems or [Problem(1, 1, "", _("not a journey"))])
    return definition


def as_data(definition: JourneyDefinition) -> dict[str, Any]:
    """The definition as JSON-ready data, aliases as the YAML spells them (`else`, `not`)."""
    return definition.model_dump(mode="json", by_alias=True)


def dump(definition: JourneyDefinition) -> str:
    """The definition as YAML (defaults left out, keys in the order of definition.py)."""
    data = definition.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data = {"key": data.pop("key"), "name": data.pop("name"), **data}
    return yaml.dump(
        data, Dumper=Dumper, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False
    )
