"""YAML documents with line numbers: read a text into plain data that remembers where every key and
value starts, turn pydantic's errors about that data into sentences at a line and column, and write
data back as YAML that reads the same.

Journeys (journeys/documents.py), success frameworks (success/documents.py) and readiness maps
(readiness/documents.py) read their texts through this module; each brings its own words (a
`Vocabulary`) and its own checks on top.

    data, builder, problems = load(text, empty=..., not_a_mapping=...)
    problems = schema_problems(data, builder, error, vocabulary)   # pydantic.ValidationError → Problems
    line, column = place(builder, path, on_key=False)

Reading follows YAML 1.2's core schema: only `true`/`false` are booleans (YAML 1.1 also reads `yes`,
`no`, `on`, `off` and `y` as booleans, so `country: no` would become false), `0o17` and `0x1f` are
numbers, dates stay text, `1:20` stays text. A key given twice in one mapping is a problem (PyYAML
would silently keep the last). Texts over 512 KB, nesting deeper than 50 levels and aliases that
expand to more than 100,000 values are refused before they cost anything.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pydantic
import yaml
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from yaml.composer import Composer
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

MAX_BYTES = 512 * 1024
MAX_DEPTH = 50
MAX_VALUES = 100_000

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a text: where (1-based line and column, and the path of keys,
    e.g. "steps[2].then[0].days") and what, in a sentence."""

    line: int
    column: int
    path: str
    message: str
    # The step the problem is in, for documents made of steps (the journey builder shows it there).
    step_id: str = ""

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.message}"


class DocumentError(ValidationError):
    """A text with problems; `.problems` lists them in the order of the text."""

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
    """Composes nodes only (the values are built by `Builder`), refusing nesting past MAX_DEPTH
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


class Builder:
    """Plain data from the composed nodes, remembering where every value (and its key) starts."""

    def __init__(self, too_many_values: str | None = None) -> None:
        self.where: dict[Path, _Where] = {}
        self.problems: list[Problem] = []
        self.values = 0
        self.too_many_values = too_many_values  # a "%(max)d" sentence saying what the text should be

    def build(self, node: yaml.Node, path: Path, key_mark: Any, depth: int) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise _Refused(
                node.start_mark,
                (self.too_many_values or _("the text expands to more than %(max)d values (aliases?)"))
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


def compose(text: str) -> yaml.Node | None:
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


def load(
    text: str, *, empty: str, not_a_mapping: str, too_many_values: str | None = None
) -> tuple[Any, Builder, list[Problem]]:
    """The text's data (a mapping) and where each value is; or the problems that stopped reading it.

    `empty` and `not_a_mapping` say what the text should have been ("the text is empty: expected a
    journey"); `too_many_values` (with "%(max)d") what to say when aliases blow it up.
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        return (
            None,
            Builder(),
            [Problem(1, 1, "", _("the text is over %(max)d KB") % {"max": MAX_BYTES // 1024})],
        )
    builder = Builder(too_many_values)
    try:
        root = compose(text)
        if root is None:
            return None, builder, [Problem(1, 1, "", empty)]
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
            [Problem(1, 1, "", not_a_mapping)],
        )
    return data, builder, []


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


@dataclass(frozen=True)
class Vocabulary:
    """What one kind of document adds to the generic sentences about pydantic's errors."""

    # Every key the document may use somewhere, for "did you mean" on an unknown one.
    known_keys: Callable[[], list[str]]
    # A field's regex pattern → what a value of that form is, in a sentence.
    patterns: dict[str, Any] = field(default_factory=dict)
    # The definition's own rules (its `ValueError` texts, in English) said through gettext.
    rule_sentence: Callable[[str], str] = str
    # Sentences for pydantic error types only this document meets (a union's tag): None for the generic one.
    special: Callable[[str, dict[str, Any]], str | None] = lambda kind, ctx: None
    # Document-wide rules pydantic raises on the whole document (it would point at line 1), each at
    # its own place; empty when they cannot be placed.
    whole_document: Callable[[dict[str, Any], Builder], list[Problem]] = lambda data, builder: []


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


def shown(value: Any) -> str:
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


def _sentence(error: Any, key: str | None, vocabulary: Vocabulary) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    named = f"“{key}”" if key else _("this value")
    if kind == "missing":
        return _("“%(key)s” is missing") % {"key": key}
    if kind == "extra_forbidden":
        return _("unknown key “%(key)s”%(hint)s") % {
            "key": key,
            "hint": suggestion(str(key), vocabulary.known_keys(), cutoff=0.7),
        }
    if kind in _KINDS:
        return _("%(what)s must be %(kind)s, not %(value)s") % {
            "what": named,
            "kind": _kind_text(_KINDS[kind]),
            "value": shown(value),
        }
    if kind == "literal_error":
        return _("%(what)s cannot be %(value)s: expected %(expected)s") % {
            "what": named,
            "value": shown(value),
            "expected": ctx.get("expected", ""),
        }
    special = vocabulary.special(kind, ctx)
    if special is not None:
        return special
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
        rule = vocabulary.patterns.get(ctx.get("pattern", ""))
        if rule:
            return _("%(what)s cannot be %(value)s: %(rule)s") % {
                "what": named,
                "value": shown(value),
                "rule": rule,
            }
        return _("%(what)s has the wrong form") % {"what": named}
    if kind in ("value_error", "assertion_error"):
        message = str(error.get("msg", ""))
        for prefix in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(prefix)
        return vocabulary.rule_sentence(message)
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


def schema_problems(
    data: Any, builder: Builder, error: pydantic.ValidationError, vocabulary: Vocabulary
) -> list[Problem]:
    """pydantic's errors about `data` (read by `load`) as sentences at the line and column they are about."""
    raw = error.errors(include_url=False)
    found = [_Error(_segments(data, tuple(item["loc"]), item["type"]), item) for item in raw]
    problems: list[Problem] = []
    for item in _choose(found):
        path = item.path
        kind = item.error["type"]
        on_key = any(segment[0] == "key" for segment in item.segments)
        key = path[-1] if path and isinstance(path[-1], str) else None
        if kind == "missing":
            line, column = place(builder, path[:-1], on_key=False)
        else:
            line, column = place(builder, path, on_key=on_key or kind == "extra_forbidden")
        if kind == "merged":
            message = item.error["msg"]
        elif kind == "value_error" and not path:
            problems.extend(
                vocabulary.whole_document(data, builder)
                or [Problem(line, column, "", _sentence(item.error, key, vocabulary))]
            )
            continue
        elif on_key:
            expected = (item.error.get("ctx") or {}).get("expected")
            message = (
                _("“%(key)s” is not allowed here: expected %(expected)s") % {"key": key, "expected": expected}
                if expected
                else _("“%(key)s” is not allowed here: %(why)s")
                % {"key": key, "why": _sentence(item.error, None, vocabulary)}
            )
        else:
            message = _sentence(item.error, key, vocabulary)
        problems.append(Problem(line, column, path_text(path), message))
    return unique(problems)


def unique(problems: list[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    kept = []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            kept.append(problem)
    return kept


def place(builder: Builder, path: Path, *, on_key: bool) -> tuple[int, int]:
    """The line and column of the value at `path` (or of its key), or of its nearest ancestor."""
    while path not in builder.where and path:
        path = path[:-1]
    where = builder.where.get(path)
    if where is None:
        return 1, 1
    return (where.key_line, where.key_column) if on_key else (where.line, where.column)


def suggestion(name: str, names: list[str], *, cutoff: float = 0.6) -> str:
    close = difflib.get_close_matches(name, names, n=1, cutoff=cutoff)
    return _(" (did you mean “%(name)s”?)") % {"name": close[0]} if close else ""


def model_keys(module: Any) -> list[str]:
    """Every key the pydantic models of a definition module accept (for "did you mean" on an unknown
    key): their field names, or the aliases where they have one."""
    keys: set[str] = set()
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, pydantic.BaseModel):
            keys.update(info.alias or name for name, info in value.model_fields.items())
    return sorted(keys)


def mapping_items(data: dict[str, Any], name: str) -> list[tuple[int, dict[str, Any]]]:
    """(index, item) of the mappings listed under `name`, skipping what is not one (the shape's pass
    reports those)."""
    value = data.get(name)
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, dict)]


def nul_problems(data: Any, path: Path = ()) -> list[tuple[Path, str]]:
    """Every text holding a null character (YAML's "\\0" escape), at its path: PostgreSQL cannot store
    one, so a document's texts are refused before anything is written."""
    if isinstance(data, str):
        return [(path, _("Null characters are not allowed."))] if "\x00" in data else []
    if isinstance(data, dict):
        return [found for key, value in data.items() for found in nul_problems(value, (*path, key))]
    if isinstance(data, list):
        return [found for index, value in enumerate(data) for found in nul_problems(value, (*path, index))]
    return []


# The line breaks YAML counts (PyYAML's reader also breaks lines at NEL, LS and PS).
LINE_BREAK = re.compile("\r\n|\r|\n|\x85|\u2028|\u2029")


def within(problem: Problem, text: str) -> Problem:
    """A problem at the end of the text (libyaml may point past the last line) on its last line."""
    lines = LINE_BREAK.split(text)
    if problem.line <= len(lines):
        return problem
    return dataclasses.replace(problem, line=len(lines), column=len(lines[-1]) + 1)


# --- Writing ------------------------------------------------------------------------------------------


class Dumper(yaml.SafeDumper):
    """Quotes every string that YAML 1.1 or 1.2 would read as something else (`no`, `0o17`, `1:20`)."""

    def represent_str(self, data: str) -> Any:
        if any(character in data for character in "\r\x85\u2028\u2029"):
            # Line breaks YAML folds in plain, single-quoted and block text: only escapes keep them.
            return self.represent_scalar(STR, data, style='"')
        if "\n" in data:
            return self.represent_scalar(STR, data, style="|")
        return self.represent_scalar(STR, data)


for _tag, _pattern, _first in _CORE_SCALARS:
    Dumper.add_implicit_resolver(_tag, _pattern, _first)
Dumper.add_representer(str, Dumper.represent_str)
