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
     framework, a webhook step an active webhook endpoint; survey steps are refused while Touchpoint
     has no surveys;
   - every message's subject, body and button are Django templates that compile, and use none of
     the tags that reach outside the message (include, extends, load, ssi, debug).

Each problem carries the line and column of the step, condition or message that holds it.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pydantic
import yaml
from django.core.exceptions import ValidationError
from django.template import Engine, TemplateSyntaxError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from yaml.composer import Composer
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

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

MAX_BYTES = 512 * 1024
MAX_DEPTH = 50
MAX_VALUES = 100_000

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a journey text: where (1-based line and column, and the path of keys,
    e.g. "steps[2].then[0].days") and what, in a sentence."""

    line: int
    column: int
    path: str
    message: str
    step_id: str = ""  # the step the problem is in, when it is in one (for the builder)

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.message}"


class DocumentError(ValidationError):
    """A journey text with problems; `.problems` lists them in the order of the text."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda problem: (problem.line, problem.column))
        super().__init__(
            [
                _("line %(line)d, column %(column)d: %(message)s")
                % {"line": problem.line, "column": problem.column, "message": problem.message}
                for problem in self.problems
            ]
        )


def path_text(path: Path) -> str:
    """("steps", 2, "then", 0, "days") as "steps[2].then[0].days"."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


# --- YAML, the 1.2 core schema, with positions --------------------------------------------------

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"

_CORE_SCALARS: list[tuple[str, re.Pattern[str], list[str]]] = [
    (BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")),
    (NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]),
    (INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")),
    (
        FLOAT,
        re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"),
        list("-+.0123456789"),
    ),
]


class _CoreResolver(BaseResolver):
    """Plain scalars as YAML 1.2's core schema reads them (no yes/no/on/off booleans, no dates)."""


for _tag, _pattern, _first in _CORE_SCALARS:
    _CoreResolver.add_implicit_resolver(_tag, _pattern, _first)


class _TooDeep(yaml.MarkedYAMLError):
    pass


class _Loader(Reader, Scanner, Parser, Composer, _CoreResolver):
    """Composes nodes only (the values are built by `_Builder`), refusing nesting past MAX_DEPTH
    before PyYAML's recursive composer could exhaust the stack."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _CoreResolver.__init__(self)
        self.depth = 0

    def _deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            event = self.peek_event()
            raise _TooDeep(problem="too deep", problem_mark=event.start_mark)

    def compose_sequence_node(self, anchor: Any) -> Any:
        self._deeper()
        node = super().compose_sequence_node(anchor)
        self.depth -= 1
        return node

    def compose_mapping_node(self, anchor: Any) -> Any:
        self._deeper()
        node = super().compose_mapping_node(anchor)
        self.depth -= 1
        return node


_CLoader: Any = None
if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _CoreCLoader(CParser, _CoreResolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _CoreResolver.__init__(self)

    _CLoader = _CoreCLoader


@dataclass(frozen=True)
class _Where:
    line: int
    column: int
    key_line: int
    key_column: int


def _at(mark: Any) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1


class _Refused(Exception):
    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.line, self.column = _at(mark)
        self.message = message


class _Builder:
    """Plain data from the composed nodes, remembering where every value (and its key) starts."""

    def __init__(self) -> None:
        self.where: dict[Path, _Where] = {}
        self.problems: list[Problem] = []
        self.values = 0

    def build(self, node: yaml.Node, path: Path, key_mark: Any, depth: int) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise _Refused(
                node.start_mark,
                _("the text expands to more than %(max)d values (aliases?); a journey is much smaller")
                % {"max": MAX_VALUES},
            )
        if depth > MAX_DEPTH:
            raise _Refused(
                node.start_mark, _("the text nests deeper than %(max)d levels") % {"max": MAX_DEPTH}
            )
        line, column = _at(node.start_mark)
        key_line, key_column = _at(key_mark) if key_mark is not None else (line, column)
        self.where[path] = _Where(line, column, key_line, key_column)
        if isinstance(node, yaml.MappingNode):
            if node.tag != MAP:
                raise _Refused(node.start_mark, _unsupported_tag(node.tag))
            mapping: dict[Any, Any] = {}
            first_seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise _Refused(
                        key_node.start_mark, _("a key must be a plain name, not a list or a mapping")
                    )
                key = self.scalar(key_node)
                if key in first_seen:
                    key_line, _column = _at(key_node.start_mark)
                    self.problems.append(
                        Problem(
                            key_line,
                            _column,
                            path_text((*path, str(key))),
                            _("“%(key)s” is given twice in this mapping (first on line %(first)d)")
                            % {"key": key, "first": first_seen[key]},
                        )
                    )
                    continue
                first_seen[key] = key_node.start_mark.line + 1
                mapping[key] = self.build(value_node, (*path, key), key_node.start_mark, depth + 1)
            return mapping
        if isinstance(node, yaml.SequenceNode):
            if node.tag != SEQ:
                raise _Refused(node.start_mark, _unsupported_tag(node.tag))
            return [
                self.build(item, (*path, index), None, depth + 1) for index, item in enumerate(node.value)
            ]
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        tag, value = node.tag, node.value
        if tag == STR:
            return value
        if tag == NULL:
            if value not in ("", "~", "null", "Null", "NULL"):
                raise _Refused(node.start_mark, _("“%(value)s” is not null") % {"value": value})
            return None
        if tag == BOOL:
            if value.lower() not in ("true", "false"):
                raise _Refused(node.start_mark, _("“%(value)s” is not true or false") % {"value": value})
            return value.lower() == "true"
        try:
            if tag == INT:
                if value.startswith("0o"):
                    return int(value[2:], 8)
                if value.startswith("0x"):
                    return int(value[2:], 16)
                return int(value)
            if tag == FLOAT:
                number = float(value)
                if number in (float("inf"), float("-inf")):
                    raise ValueError(value)
                return number
        except ValueError:
            raise _Refused(
                node.start_mark, _("“%(value)s” is not a number this can read") % {"value": value[:40]}
            ) from None
        raise _Refused(node.start_mark, _unsupported_tag(tag))


def _unsupported_tag(tag: str) -> str:
    return _("the tag “%(tag)s” is not supported here: write plain values") % {"tag": tag}


def _position(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    line = before.count("\n") + 1
    return line, index - (before.rfind("\n") + 1) + 1


def _compose(text: str) -> yaml.Node | None:
    """The text's node tree. With libyaml (20 times faster than PyYAML's Python parser on a 500 KB
    text) the events are read once first to refuse deep nesting, since its composer recurses in C."""
    if _CLoader is None:
        loader: Any = _Loader(text)
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()
    loader = _CLoader(text)
    try:
        depth = 0
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _TooDeep(problem="too deep", problem_mark=event.start_mark)  # type: ignore[arg-type]
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        loader.dispose()
    loader = _CLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _load(text: str) -> tuple[Any, _Builder, list[Problem]]:
    """The text's data and where each value is; or the problems that stopped reading it."""
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        return (
            None,
            _Builder(),
            [Problem(1, 1, "", _("the text is over %(max)d KB") % {"max": MAX_BYTES // 1024})],
        )
    builder = _Builder()
    try:
        root = _compose(text)
        if root is None:
            return None, builder, [Problem(1, 1, "", _("the text is empty: expected a journey"))]
        data = builder.build(root, (), None, 1)
    except _TooDeep as error:
        line, column = _at(error.problem_mark)
        return (
            None,
            builder,
            [Problem(line, column, "", _("the text nests deeper than %(max)d levels") % {"max": MAX_DEPTH})],
        )
    except _Refused as error:
        return None, builder, [*builder.problems, Problem(error.line, error.column, "", error.message)]
    except UnicodeEncodeError as error:  # a lone surrogate: no file or form gives one, but a caller might
        line, column = _position(text, error.start)
        return (
            None,
            builder,
            [Problem(line, column, "", _("the text holds a character that is not Unicode text"))],
        )
    except yaml.reader.ReaderError as error:
        position = error.position
        if _CLoader is not None:  # libyaml counts bytes of UTF-8
            position = len(text.encode("utf-8")[:position].decode("utf-8", errors="ignore"))
        line, column = _position(text, position)
        return (
            None,
            builder,
            [
                Problem(
                    line,
                    column,
                    "",
                    _("the text holds a character YAML does not allow (#x%(code)04x)")
                    % {"code": error.character}
                    if isinstance(error.character, int)
                    else _("the text holds a character YAML does not allow"),
                )
            ],
        )
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = _at(mark) if mark is not None else (1, 1)
        said = " ".join(part for part in (error.context, error.problem) if part)
        return (
            None,
            builder,
            [Problem(line, column, "", _("not valid YAML: %(problem)s") % {"problem": said})],
        )
    except yaml.YAMLError as error:
        return None, builder, [Problem(1, 1, "", _("not valid YAML: %(problem)s") % {"problem": error})]
    except RecursionError:  # a guard above should stop this first; never let it escape as a crash
        return None, builder, [Problem(1, 1, "", _("the text nests too deeply"))]
    if builder.problems:
        return None, builder, builder.problems
    if not isinstance(data, dict):
        return (
            None,
            builder,
            [Problem(1, 1, "", _("a journey is a mapping of keys and values (key: …, name: …, steps: …)"))],
        )
    return data, builder, []


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

_KINDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "none_required": "nothing (null)",
    "list_type": "a list",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
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
    keys: set[str] = set()
    for value in vars(definition_module).values():
        if isinstance(value, type) and issubclass(value, pydantic.BaseModel):
            keys.update(info.alias or name for name, info in value.model_fields.items())
    return sorted(keys)


def _kind_text(kind: str) -> str:
    return {
        "text": _("text"),
        "a whole number": _("a whole number"),
        "a number": _("a number"),
        "true or false": _("true or false"),
        "nothing (null)": _("nothing (null)"),
        "a list": _("a list"),
        "a mapping (key: value)": _("a mapping (key: value)"),
    }[kind]


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return _("a mapping")
    if isinstance(value, list):
        return _("a list")
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return f"“{text[:40]}…”" if len(text) > 40 else f"“{text}”"


def _sentence(error: Any, key: str | None) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    named = f"“{key}”" if key else _("this value")
    if kind == "missing":
        return _("“%(key)s” is missing") % {"key": key}
    if kind == "extra_forbidden":
        return _("unknown key “%(key)s”%(hint)s") % {
            "key": key,
            "hint": _suggestion(str(key), _known_keys(), cutoff=0.7),
        }
    if kind in _KINDS:
        return _("%(what)s must be %(kind)s, not %(value)s") % {
            "what": named,
            "kind": _kind_text(_KINDS[kind]),
            "value": _shown(value),
        }
    if kind == "literal_error":
        return _("%(what)s cannot be %(value)s: expected %(expected)s") % {
            "what": named,
            "value": _shown(value),
            "expected": ctx.get("expected", ""),
        }
    if kind == "union_tag_invalid":
        return _("unknown step type %(value)s: expected %(expected)s") % {
            "value": _shown(ctx.get("tag")),
            "expected": ctx.get("expected_tags", ""),
        }
    if kind == "union_tag_not_found":
        return _("a step needs a “type” (wait, split, random, email, task…)")
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return _("%(what)s must not be empty") % {"what": named}
        return _("%(what)s needs at least %(min)d characters") % {
            "what": named,
            "min": ctx.get("min_length", 0),
        }
    if kind == "string_too_long":
        return _("%(what)s is longer than %(max)d characters") % {
            "what": named,
            "max": ctx.get("max_length", 0),
        }
    if kind == "too_short":
        return _("%(what)s needs at least %(min)d item(s)") % {"what": named, "min": ctx.get("min_length", 0)}
    if kind == "too_long":
        return _("%(what)s has more than %(max)d items") % {"what": named, "max": ctx.get("max_length", 0)}
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {
            "greater_than_equal": "ge",
            "greater_than": "gt",
            "less_than_equal": "le",
            "less_than": "lt",
        }[kind]
        sentences = {
            "ge": _("%(what)s must be at least %(bound)s"),
            "gt": _("%(what)s must be more than %(bound)s"),
            "le": _("%(what)s must be at most %(bound)s"),
            "lt": _("%(what)s must be less than %(bound)s"),
        }
        return sentences[bound] % {"what": named, "bound": ctx.get(bound)}
    if kind == "string_pattern_mismatch":
        rule = _PATTERNS.get(ctx.get("pattern", ""))
        if rule:
            return _("%(what)s cannot be %(value)s: %(rule)s") % {
                "what": named,
                "value": _shown(value),
                "rule": rule,
            }
        return _("%(what)s has the wrong form") % {"what": named}
    if kind in ("value_error", "assertion_error"):
        message = str(error.get("msg", ""))
        for prefix in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(prefix)
        return _rule_sentence(message)
    return str(error.get("msg", kind))


@dataclass
class _Error:
    segments: list[tuple[str, Any]]  # ("k", key or index) into the data, or ("t", union member)
    error: Any

    @property
    def path(self) -> Path:
        return tuple(value for kind, value in self.segments if kind == "k")

    def first_tag(self) -> int | None:
        for index, (kind, _value) in enumerate(self.segments):
            if kind == "t":
                return index
        return None


def _segments(data: Any, loc: tuple[Any, ...], kind: str) -> list[tuple[str, Any]]:
    """A loc from pydantic split into real keys of the data and the union members it went through."""
    segments: list[tuple[str, Any]] = []
    node = data
    tagged = False  # the step's type was read as the union's tag here (a playbook step has a `playbook` key)
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if part == "[key]":
            segments.append(("key", None))
            continue
        if isinstance(node, dict) and not tagged and not last and node.get("type") == part:
            segments.append(("t", part))
            tagged = True
            continue
        in_mapping = isinstance(node, dict) and not isinstance(part, int) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_mapping or in_list:
            segments.append(("k", part))
            node = node[part]
            tagged = False
        elif last and kind == "missing":
            segments.append(("k", part))  # the key that is not there
        else:
            segments.append(("t", part))  # a union member pydantic tried (a model's name, a tag)
    return segments


def _score(errors: list[_Error], depth: int) -> tuple[int, int]:
    """How far an alternative of a union is from fitting: keys it misses or does not know at this
    mapping first (a condition with `all:` is an AllOf, whatever fails inside), then errors in all."""
    direct = sum(
        1
        for error in errors
        if error.error["type"] in ("missing", "extra_forbidden") and len(error.path) == depth + 1
    )
    return direct, len(errors)


def _choose(errors: list[_Error]) -> list[_Error]:
    """Of the errors pydantic reports for every member of a plain union, keep those of the member
    the author meant (or one sentence for all when nothing tells them apart)."""
    while True:
        tagged = [(error, error.first_tag()) for error in errors]
        at = next(((error, index) for error, index in tagged if index is not None), None)
        if at is None:
            return errors
        first, index = at
        assert index is not None
        prefix = first.segments[:index]
        same: list[_Error] = []
        others: list[_Error] = []
        for error, tag_index in tagged:
            if tag_index == index and error.segments[:index] == prefix:
                same.append(error)
            else:
                others.append(error)
        groups: dict[Any, list[_Error]] = {}
        for error in same:
            groups.setdefault(error.segments[index][1], []).append(error)
        depth = len([kind for kind, _value in prefix if kind == "k"])
        scores = {tag: _score(group, depth) for tag, group in groups.items()}
        best = min(scores.values())
        tied = [tag for tag, score in scores.items() if score == best]
        if len(tied) > 1 and all(len(error.path) <= depth + 1 for tag in tied for error in groups[tag]):
            chosen = _merged(prefix, [groups[tag] for tag in tied])
        else:
            chosen = groups[tied[0]]
            for error in chosen:
                del error.segments[index]
        errors = others + chosen


def _merged(prefix: list[tuple[str, Any]], groups: list[list[_Error]]) -> list[_Error]:
    """One sentence for a value that fits no member of a union and leans to none of them."""
    here = list(prefix)
    missing: list[str] = []
    kinds: list[str] = []
    extra: dict[Any, _Error] = {}
    for group in groups:
        for error in group:
            kind = error.error["type"]
            if kind == "missing":
                key = error.path[-1]
                if str(key) not in missing:
                    missing.append(str(key))
            elif kind == "extra_forbidden":
                extra.setdefault(error.path[-1], error)
            elif kind in _KINDS and _KINDS[kind] not in kinds:
                kinds.append(_KINDS[kind])
    merged: list[_Error] = []
    if missing:
        sentence = _("this needs one of the keys %(keys)s") % {"keys": ", ".join(missing)}
        merged.append(_Error(list(here), {"type": "merged", "msg": sentence}))
        for key, error in extra.items():
            merged.append(_Error([*here, ("k", key)], error.error))
    elif kinds:
        if "a number" in kinds and "a whole number" in kinds:
            kinds.remove("a whole number")
        names = [_kind_text(kind) for kind in kinds]
        listed = (
            _("%(some)s or %(last)s") % {"some": ", ".join(names[:-1]), "last": names[-1]}
            if len(names) > 1
            else names[0]
        )
        sentence = _("expected %(kinds)s") % {"kinds": listed}
        merged.append(_Error(list(here), {"type": "merged", "msg": sentence}))
    else:
        chosen = groups[0]
        for error in chosen:
            error.segments = [segment for segment in error.segments if segment[0] != "t"]
        merged.extend(chosen)
    return merged


def _schema_problems(data: Any, builder: _Builder, error: pydantic.ValidationError) -> list[Problem]:
    raw = error.errors(include_url=False)
    found = [_Error(_segments(data, tuple(item["loc"]), item["type"]), item) for item in raw]
    problems: list[Problem] = []
    for item in _choose(found):
        path = item.path
        kind = item.error["type"]
        on_key = any(segment[0] == "key" for segment in item.segments)
        key = path[-1] if path and isinstance(path[-1], str) else None
        if kind == "missing":
            line, column = _place(builder, path[:-1], on_key=False)
        else:
            line, column = _place(builder, path, on_key=on_key or kind == "extra_forbidden")
        if kind == "merged":
            message = item.error["msg"]
        elif kind == "value_error" and not path:
            problems.extend(
                _consistency_problems(data, builder)
                or [Problem(line, column, "", _sentence(item.error, key))]
            )
            continue
        elif on_key:
            expected = (item.error.get("ctx") or {}).get("expected")
            message = (
                _("“%(key)s” is not allowed here: expected %(expected)s") % {"key": key, "expected": expected}
                if expected
                else _("“%(key)s” is not allowed here: %(why)s")
                % {"key": key, "why": _sentence(item.error, None)}
            )
        else:
            message = _sentence(item.error, key)
        problems.append(Problem(line, column, path_text(path), message))
    return _unique(problems)


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    unique = []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            unique.append(problem)
    return unique


def _place(builder: _Builder, path: Path, *, on_key: bool) -> tuple[int, int]:
    """The line and column of the value at `path` (or of its key), or of its nearest ancestor."""
    while path not in builder.where and path:
        path = path[:-1]
    where = builder.where.get(path)
    if where is None:
        return 1, 1
    return (where.key_line, where.key_column) if on_key else (where.line, where.column)


def _consistency_problems(data: dict[str, Any], builder: _Builder) -> list[Problem]:
    """The journey-wide rules (step ids unique, messages defined and in English…), each at its place:
    pydantic raises the first of them on the whole journey, which would point at line 1."""
    problems: list[Problem] = []

    def problem(path: Path, message: str, *, on_key: bool = False) -> None:
        line, column = _place(builder, path, on_key=on_key)
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


def _suggestion(name: str, names: list[str], *, cutoff: float = 0.6) -> str:
    close = difflib.get_close_matches(name, names, n=1, cutoff=cutoff)
    return _(" (did you mean “%(name)s”?)") % {"name": close[0]} if close else ""


def _field_problems(path: Path, condition: FieldCondition) -> Iterator[tuple[Path, str]]:
    if not fields.known(condition.field):
        names = [spec.name for spec in fields.registered_fields()]
        yield (
            (*path, "field"),
            _("unknown field “%(field)s”%(hint)s")
            % {"field": condition.field, "hint": _suggestion(condition.field, names)},
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
                % {"field": condition.field, "value": _shown(value), "choices": ", ".join(spec.choices)},
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
        "hint": _suggestion(name, kinds),
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
                        % {"name": step.playbook, "hint": _suggestion(step.playbook, names)},
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
                        % {"name": step.phase, "hint": _suggestion(step.phase, names)},
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
            found.append(((*path, "type"), _("surveys do not exist yet: a journey cannot send one")))
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
    data, builder, problems = _load(text)
    if problems:
        return None, problems, data
    try:
        definition = parse(data)
    except pydantic.ValidationError as error:
        return None, _schema_problems(data, builder, error) or [Problem(1, 1, "", str(error))], data
    problems = []
    for path, message in _reference_problems(definition):
        line, column = _place(builder, path, on_key=False)
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


# The line breaks YAML counts (PyYAML's reader also breaks lines at NEL, LS and PS).
LINE_BREAK = re.compile("\r\n|\r|\n|\x85|\u2028|\u2029")


def _within(problem: Problem, text: str) -> Problem:
    """A problem at the end of the text (libyaml may point past the last line) on its last line."""
    lines = LINE_BREAK.split(text)
    if problem.line <= len(lines):
        return problem
    return dataclasses.replace(problem, line=len(lines), column=len(lines[-1]) + 1)


def _checked(text: str) -> tuple[JourneyDefinition | None, list[Problem]]:
    definition, problems, data = _check(text)
    if isinstance(text, str):
        problems = [_within(problem, text) for problem in problems]
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


# --- Writing ------------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Quotes every string that YAML 1.1 or 1.2 would read as something else (`no`, `0o17`, `1:20`)."""

    def represent_str(self, data: str) -> Any:
        if any(character in data for character in "\r\x85\u2028\u2029"):
            # Line breaks YAML folds in plain, single-quoted and block text: only escapes keep them.
            return self.represent_scalar(STR, data, style='"')
        if "\n" in data:
            return self.represent_scalar(STR, data, style="|")
        return self.represent_scalar(STR, data)


for _tag, _pattern, _first in _CORE_SCALARS:
    _Dumper.add_implicit_resolver(_tag, _pattern, _first)
_Dumper.add_representer(str, _Dumper.represent_str)


def as_data(definition: JourneyDefinition) -> dict[str, Any]:
    """The definition as JSON-ready data, aliases as the YAML spells them (`else`, `not`)."""
    return definition.model_dump(mode="json", by_alias=True)


def dump(definition: JourneyDefinition) -> str:
    """The definition as YAML (defaults left out, keys in the order of definition.py)."""
    data = definition.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data = {"key": data.pop("key"), "name": data.pop("name"), **data}
    return yaml.dump(
        data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False
    )
