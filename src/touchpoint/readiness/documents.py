"""Readiness maps as plain text: read a map's YAML with problems that name the line and the column,
apply it to the database, and write a map back as YAML.

    shape = validate_text(text)                 # a MapShape, or DocumentError (every problem)
    problems_of(text)                           # the same problems as a list (never raises)
    readiness_map = apply_text(text, actor=u)   # create or update by key, in one transaction
    export_text(readiness_map)                  # YAML that applies back to the same map

The shape of the text is readiness/definition.py's (its docstring is the reference for authors).
Reading happens in three passes, each only when the one before found nothing: YAML (the shared
reader, touchpoint/yaml_text.py), the shape (pydantic, its errors said in sentences at their place),
and what must exist outside the text (people by email, link kinds, web links that are links).

Applying goes through services.apply_shape: stages, functions and touchpoints are matched by key, so
a renamed touchpoint keeps its comments and history; answers are the text's.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import re
from collections.abc import Iterable
from typing import Any

import pydantic
import yaml
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from touchpoint.readiness import definition as definition_module
from touchpoint.readiness import services
from touchpoint.readiness.definition import KEY_PATTERN, MapDefinition, parse
from touchpoint.readiness.links import link_kinds
from touchpoint.readiness.models import ReadinessMap
from touchpoint.readiness.structure import (
    FunctionShape,
    MapShape,
    QuestionShape,
    StageShape,
    TouchpointShape,
)
from touchpoint.users.models import User
from touchpoint.yaml_text import (
    Builder,
    DocumentError,
    Dumper,
    Path,
    Problem,
    Vocabulary,
    load,
    mapping_items,
    model_keys,
    nul_problems,
    path_text,
    place,
    schema_problems,
    suggestion,
    within,
)

__all__ = [
    "DocumentError",
    "Problem",
    "apply_text",
    "applied",
    "export_text",
    "problems_of",
    "text_of",
    "validate_text",
]

# --- pydantic's errors as sentences -------------------------------------------------------------------

_PATTERNS = {
    KEY_PATTERN: gettext_lazy(
        "a key is up to 64 lower-case letters, digits, “-” and “_”, starting with a letter or digit"
    ),
}

_TOUCHPOINT_RULE = re.compile(r"^touchpoint (?P<key>\S+): (?P<rule>.*)$")


def _rule_sentence(message: str) -> str:
    """definition.py's own rules (in English, free of Django) said through gettext."""
    sentences = {
        definition_module.DAY_FORM: _("a date is written YYYY-MM-DD, like 2027-03-01"),
        definition_module.NOT_A_DAY: _("this day is not in the calendar"),
        definition_module.DAY_RANGE: _("give a date between %(first)s and %(last)s")
        % {"first": definition_module.FIRST_DAY, "last": definition_module.LAST_DAY},
        definition_module.NOT_A_QUESTION: _(
            "a checklist item is a question, or a mapping with question: and answer:"
        ),
        "a status set by hand needs a reason": _("a status set by hand needs a reason (reason: …)"),
        "a reason goes with a status set by hand": _(
            "a reason goes with a status set by hand (status: …); without one the checklist decides"
        ),
    }
    if message in sentences:
        return str(sentences[message])
    # The map-wide rules, when they could not be placed at their own line (see _whole_document).
    found = _TOUCHPOINT_RULE.match(message)
    if found and found["rule"] in sentences:
        return _("touchpoint %(key)s: %(rule)s") % {"key": found["key"], "rule": sentences[found["rule"]]}
    return message


@functools.cache
def _known_keys() -> list[str]:
    """Every key a map text may use somewhere (for "did you mean" on an unknown one)."""
    return model_keys(definition_module)


def _plain(value: Any) -> str | None:
    """A text value as definition.py reads it (surrounding spaces dropped); None for anything else."""
    return value.strip() if isinstance(value, str) else None


def _whole_document(data: dict[str, Any], builder: Builder) -> list[Problem]:
    """The map-wide rules (keys unique, touchpoints in the map's stages and functions, a reason with
    each status set by hand), each at its place: pydantic raises the first of them on the whole map,
    which would point at line 1."""
    problems: list[Problem] = []

    def problem(path: Path, message: str) -> None:
        line, column = place(builder, path, on_key=False)
        problems.append(Problem(line, column, path_text(path), message))

    twice = {
        "stages": _("the stage key “%(key)s” is used twice (also at %(other)s)"),
        "functions": _("the function key “%(key)s” is used twice (also at %(other)s)"),
        "touchpoints": _("the touchpoint key “%(key)s” is used twice (also at %(other)s)"),
    }
    keys: dict[str, list[str]] = {}
    for name, message in twice.items():
        seen: dict[str, int] = {}
        for index, item in mapping_items(data, name):
            key = _plain(item.get("key"))
            if key is None:
                continue
            if key in seen:
                problem((name, index, "key"), message % {"key": key, "other": f"{name}[{seen[key]}]"})
            else:
                seen[key] = index
        keys[name] = list(seen)
    for index, item in mapping_items(data, "touchpoints"):
        for field, name, message in (
            ("stage", "stages", _("no stage “%(key)s” in this map%(hint)s")),
            ("function", "functions", _("no function “%(key)s” in this map%(hint)s")),
        ):
            key = _plain(item.get(field))
            if key is not None and key not in keys[name]:
                problem(
                    ("touchpoints", index, field),
                    message % {"key": key, "hint": suggestion(key, keys[name])},
                )
        status, reason = _plain(item.get("status")) or "", _plain(item.get("reason")) or ""
        if status and not reason:
            problem(("touchpoints", index, "status"), _rule_sentence("a status set by hand needs a reason"))
        if reason and not status:
            problem(
                ("touchpoints", index, "reason"), _rule_sentence("a reason goes with a status set by hand")
            )
    return problems


_VOCABULARY = Vocabulary(
    known_keys=_known_keys,
    patterns=_PATTERNS,
    rule_sentence=_rule_sentence,
    whole_document=_whole_document,
)


# --- What must exist outside the text -----------------------------------------------------------------


def _unknown_emails(emails: Iterable[str]) -> set[str]:
    """The emails (as given) no active user has, matched without case as the services match them.
    One query for them all; a second look, email by email, only at those Python's case folding missed."""
    wanted = {email for email in emails if email}
    if not wanted:
        return set()
    query = functools.reduce(operator.or_, (Q(email__iexact=email) for email in wanted))
    known = {
        email.casefold()
        for email in User.objects.filter(query, is_active=True).values_list("email", flat=True)
    }
    return {
        email
        for email in wanted
        if email.casefold() not in known
        and not User.objects.filter(email__iexact=email, is_active=True).exists()
    }


def _reference_problems(definition: MapDefinition) -> list[tuple[Path, str]]:
    people: list[tuple[Path, str]] = [(("owner",), definition.owner)]
    people += [(("functions", index, "lead"), f.lead) for index, f in enumerate(definition.functions)]
    people += [(("touchpoints", index, "owner"), t.owner) for index, t in enumerate(definition.touchpoints)]
    unknown = _unknown_emails(email for _path, email in people)
    found = [
        (path, _("no user has the email “%(email)s”") % {"email": email})
        for path, email in people
        if email in unknown
    ]
    kinds = sorted(kind.key for kind in link_kinds.all())
    is_url = URLValidator(schemes=["http", "https"])
    for index, touchpoint in enumerate(definition.touchpoints):
        for link_index, link in enumerate(touchpoint.links):
            if link_kinds.get(link.kind) is None:
                found.append(
                    (
                        ("touchpoints", index, "links", link_index, "kind"),
                        _("no link kind “%(kind)s” is installed%(hint)s%(known)s")
                        % {
                            "kind": link.kind,
                            "hint": suggestion(link.kind, kinds),
                            "known": _(" (there are: %(kinds)s)") % {"kinds": ", ".join(kinds)}
                            if kinds
                            else _(" (there are none)"),
                        },
                    )
                )
        for question_index, question in enumerate(touchpoint.checklist):
            if question.evidence:
                try:
                    is_url(question.evidence)
                except ValidationError:
                    found.append(
                        (
                            ("touchpoints", index, "checklist", question_index, "evidence"),
                            _("the evidence must be a web link starting with http:// or https://"),
                        )
                    )
    return found


# --- Reading ------------------------------------------------------------------------------------------


def _key_problem(definition: MapDefinition, key: str, builder: Builder) -> Problem | None:
    """The editor of one map (and an API address) may not turn the text into another map."""
    if definition.key == key:
        return None
    line, column = place(builder, ("key",), on_key=False)
    return Problem(
        line,
        column,
        "key",
        _("the key must stay “%(key)s” (the text says “%(given)s”)") % {"key": key, "given": definition.key},
    )


def _checked(text: Any, *, key: str | None = None) -> tuple[MapDefinition | None, list[Problem]]:
    if not isinstance(text, str):
        return None, [Problem(1, 1, "", _("a readiness map is text"))]
    data, builder, problems = load(
        text,
        empty=_("the text is empty: expected a readiness map"),
        not_a_mapping=_("a readiness map is a mapping of keys and values (key: …, name: …, stages: …)"),
        too_many_values=_("the text expands to more than %(max)d values (aliases?); a map is much smaller"),
    )
    definition: MapDefinition | None = None
    found: list[tuple[Path, str]] = []
    if not problems:
        found = nul_problems(data)
    if not problems and not found:
        try:
            definition = parse(data)
        except pydantic.ValidationError as error:
            problems = schema_problems(data, builder, error, _VOCABULARY) or [
                Problem(1, 1, "", _("this is not a readiness map"))
            ]
    if definition is not None:
        if key is not None:
            wrong_key = _key_problem(definition, key, builder)
            if wrong_key is not None:
                problems.append(wrong_key)
        found = _reference_problems(definition)
    for path, message in found:
        line, column = place(builder, path, on_key=False)
        problems.append(Problem(line, column, path_text(path), message))
    problems = [within(problem, text) for problem in problems]
    return definition, sorted(problems, key=lambda problem: (problem.line, problem.column))


def problems_of(text: str, *, key: str | None = None) -> list[Problem]:
    """Every problem of a map text, in the order of the text; empty when it is good to apply (never
    raises). With `key`, the text must define the map of that key."""
    return _checked(text, key=key)[1]


def shape_from(definition: MapDefinition) -> MapShape:
    """The checked text as the plain data the services take."""
    return MapShape(
        key=definition.key,
        name=definition.name,
        kind=definition.kind,
        product=definition.product,
        description=definition.description,
        launch_on=definition.launch_on,
        owner_email=definition.owner,
        stages=tuple(
            StageShape(key=s.key, name=s.name, description=s.description) for s in definition.stages
        ),
        functions=tuple(
            FunctionShape(key=f.key, name=f.name, lead_email=f.lead) for f in definition.functions
        ),
        touchpoints=tuple(
            TouchpointShape(
                key=t.key,
                stage=t.stage,
                function=t.function,
                name=t.name,
                description=t.description,
                owner_email=t.owner,
                due_on=t.due_on,
                status=t.status,
                status_reason=t.reason,
                checklist=tuple(
                    QuestionShape(question=q.question, answer=q.answer, note=q.note, evidence_url=q.evidence)
                    for q in t.checklist
                ),
                links=tuple((link.kind, link.target) for link in t.links),
            )
            for t in definition.touchpoints
        ),
    )


def validate_text(text: str, *, key: str | None = None) -> MapShape:
    """The map a YAML text defines; DocumentError (every problem, with line and column) if any.
    With `key`, the text must define the map of that key."""
    definition, problems = _checked(text, key=key)
    if problems or definition is None:
        raise DocumentError(problems or [Problem(1, 1, "", _("this is not a readiness map"))])
    return shape_from(definition)


# --- Applying -----------------------------------------------------------------------------------------


def applied(text: str, *, actor: User | None, key: str | None = None) -> tuple[ReadinessMap, bool]:
    """Create or update the map a YAML text defines (by its key), in one transaction; the map and
    whether it was created. DocumentError with every problem, and nothing written, when there are any."""
    shape = validate_text(text, key=key)
    try:
        return services.apply_shape(shape, actor=actor)
    except ValidationError as error:
        # A rule only the services know of: said at the top, since they name no place in the text.
        raise DocumentError([Problem(1, 1, "", message) for message in error.messages]) from error


def apply_text(text: str, *, actor: User | None, key: str | None = None) -> ReadinessMap:
    """Create or update the map a YAML text defines, by its key; DocumentError when it has problems."""
    return applied(text, actor=actor, key=key)[0]


# --- Writing ------------------------------------------------------------------------------------------


class _Dumper(Dumper):
    """Lists indented under their key, as people write them (PyYAML puts the dashes at the key's column)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


# Choices (MapKind.PRODUCT) are text subclasses: written as their value.
_Dumper.add_multi_representer(str, lambda dumper, data: dumper.represent_str(str(data)))


def _question(question: QuestionShape) -> str | dict[str, str]:
    """A question not answered yet is written bare, as authors write it."""
    data = {
        "question": question.question,
        "answer": question.answer,
        "note": question.note,
        "evidence": question.evidence_url,
    }
    if not any((question.answer, question.note, question.evidence_url)):
        return question.question
    return {name: value for name, value in data.items() if value}


def _given(**values: Any) -> dict[str, Any]:
    """The values that say something (empty texts, no date and empty lists are the defaults)."""
    return {name: value for name, value in values.items() if value not in ("", None, [], ())}


def text_of(shape: MapShape) -> str:
    """A map's shape as YAML in definition.py's words, defaults left out."""
    data: dict[str, Any] = {
        "key": shape.key,
        "name": shape.name,
        "kind": shape.kind,
        **_given(
            product=shape.product,
            description=shape.description,
            launch_on=shape.launch_on,
            owner=shape.owner_email,
        ),
        "stages": [_given(key=s.key, name=s.name, description=s.description) for s in shape.stages],
        "functions": [_given(key=f.key, name=f.name, lead=f.lead_email) for f in shape.functions],
        "touchpoints": [
            _given(
                key=t.key,
                stage=t.stage,
                function=t.function,
                name=t.name,
                description=t.description,
                owner=t.owner_email,
                due_on=t.due_on,
                status=t.status,
                reason=t.status_reason,
                checklist=[_question(q) for q in t.checklist],
                links=[{"kind": kind, "target": target} for kind, target in t.links],
            )
            for t in shape.touchpoints
        ],
    }
    # A date is written bare (2027-03-01); the reader takes it as text and definition.py parses it.
    return yaml.dump(
        data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False
    )


def _active_only(shape: MapShape) -> MapShape:
    """The shape without the emails of people who can no longer sign in: applying the text would drop
    them anyway, and validating it would say no user has them."""
    emails = [shape.owner_email, *(f.lead_email for f in shape.functions)]
    emails += [t.owner_email for t in shape.touchpoints]
    gone = _unknown_emails(emails)
    if not gone:
        return shape

    def kept(email: str) -> str:
        return "" if email in gone else email

    return dataclasses.replace(
        shape,
        owner_email=kept(shape.owner_email),
        functions=tuple(dataclasses.replace(f, lead_email=kept(f.lead_email)) for f in shape.functions),
        touchpoints=tuple(dataclasses.replace(t, owner_email=kept(t.owner_email)) for t in shape.touchpoints),
    )


def export_text(readiness_map: ReadinessMap) -> str:
    """The map as YAML, answers and all: applying it back changes nothing."""
    return text_of(_active_only(services.shape_of(readiness_map, with_answers=True)))
