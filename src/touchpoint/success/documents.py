"""Success frameworks as plain text: read a framework's YAML with problems that name the line and the
column, apply it to the database, and write a framework back as YAML.

    definition = validate_text(text)          # a FrameworkDefinition, or DocumentError (every problem)
    problems_of(text)                         # the same problems as a list (never raises)
    framework = apply_text(text, actor=user)  # create or update by key, in one transaction
    export_text(framework)                    # the text last applied, or YAML made from the rows

The shape of the text is success/definition.py's (its docstring is the reference for authors).
Reading happens in three passes, each only when the one before found nothing: YAML (the shared
reader, touchpoint/yaml_text.py), the shape (pydantic, its errors said in sentences at their place),
and the references outside the text (segments must exist; no other framework may have the name).

Applying matches phases and milestones by key, so a renamed phase keeps its accounts and a renamed
milestone keeps the accounts that reached it. A milestone that is left out is deleted, unless an
account has reached it: then nothing is applied and the problem names it.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import re
from typing import Any

import pydantic
import yaml
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from touchpoint.accounts.models import Segment
from touchpoint.success import definition as definition_module
from touchpoint.success.definition import FrameworkDefinition, parse
from touchpoint.success.models import (
    LifecyclePhase,
    MilestoneDefinition,
    MilestoneReached,
    SuccessFramework,
)
from touchpoint.users.models import User
from touchpoint.users.services import record_audit
from touchpoint.yaml_text import (
    LINE_BREAK,
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

__all__ = ["DocumentError", "Problem", "apply_text", "export_text", "problems_of", "validate_text"]

# A framework is a page or two of text; anything much bigger is a mistake (or an attack).
MAX_BYTES = 100 * 1024


# --- pydantic's errors as sentences -------------------------------------------------------------------

_PATTERNS = {
    r"^[a-z0-9][a-z0-9_-]*$": gettext_lazy(
        "a key is up to 64 lower-case letters, digits, “-” and “_”, starting with a letter or digit"
    ),
}


def _rule_sentence(message: str) -> str:
    """definition.py's own rules (in English, free of Django) said through gettext."""
    if message.startswith("each condition has exactly one of: "):
        return _("each condition has exactly one of: %(keys)s") % {
            "keys": message.removeprefix("each condition has exactly one of: ")
        }
    sentences = {
        "give at_least, at_most or both": _("give at_least, at_most or both"),
        "at_least is above at_most": _("at_least is above at_most"),
        "give grades, at_least or at_most": _("give grades, at_least or at_most"),
        "a rule has exactly one of: event, active_users, key_features": _(
            "a rule has exactly one of: event, active_users, key_features"
        ),
        "a product milestone needs a rule (or kind: outcome)": _(
            "a product milestone needs a rule (or kind: outcome)"
        ),
        "an outcome milestone is set by hand; it has no rule": _(
            "an outcome milestone is set by hand; it has no rule"
        ),
    }
    return str(sentences.get(message, message))


@functools.cache
def _known_keys() -> list[str]:
    """Every key a framework may use somewhere (for "did you mean" on an unknown one)."""
    return model_keys(definition_module)


def _whole_document(data: dict[str, Any], builder: Builder) -> list[Problem]:
    """The framework-wide rules (keys unique, milestones referred to exist, one first value), each at
    its place: pydantic raises the first of them on the whole framework, which would point at line 1."""
    problems: list[Problem] = []

    def problem(path: Path, message: str) -> None:
        line, column = place(builder, path, on_key=False)
        problems.append(Problem(line, column, path_text(path), message))

    milestone_keys: set[str] = set()
    for label, name in (("phase", "phases"), ("milestone", "milestones")):
        seen: dict[str, int] = {}
        for index, item in mapping_items(data, name):
            key = item.get("key")
            if not isinstance(key, str):
                continue
            if name == "milestones":
                milestone_keys.add(key)
            if key in seen:
                message = (
                    _("the phase key “%(key)s” is used twice (also at %(other)s)")
                    if label == "phase"
                    else _("the milestone key “%(key)s” is used twice (also at %(other)s)")
                )
                problem((name, index, "key"), message % {"key": key, "other": f"{name}[{seen[key]}]"})
            else:
                seen[key] = index
    for index, phase in mapping_items(data, "phases"):
        rules = phase.get("enter_when")
        for rule_index, condition in enumerate(rules if isinstance(rules, list) else []):
            if isinstance(condition, dict) and isinstance(condition.get("milestone"), str):
                key = condition["milestone"]
                if key not in milestone_keys:
                    problem(
                        ("phases", index, "enter_when", rule_index, "milestone"),
                        _("no milestone “%(key)s” in this framework%(hint)s")
                        % {"key": key, "hint": suggestion(key, sorted(milestone_keys))},
                    )
    plan = data.get("plan_template")
    if isinstance(plan, dict):
        for index, item in mapping_items(plan, "milestones"):
            key = item.get("milestone")
            if isinstance(key, str) and key not in milestone_keys:
                problem(
                    ("plan_template", "milestones", index, "milestone"),
                    _("no milestone “%(key)s” in this framework%(hint)s")
                    % {"key": key, "hint": suggestion(key, sorted(milestone_keys))},
                )
    first_values = [
        index for index, item in mapping_items(data, "milestones") if item.get("first_value") is True
    ]
    for index in first_values[1:]:
        problem(
            ("milestones", index, "first_value"),
            _("only one milestone can be the first value (the first is at milestones[%(index)d])")
            % {"index": first_values[0]},
        )
    return problems


_VOCABULARY = Vocabulary(
    known_keys=_known_keys,
    patterns=_PATTERNS,
    rule_sentence=_rule_sentence,
    whole_document=_whole_document,
)


# --- References: what must exist outside the text ---------------------------------------------------


def _reference_problems(definition: FrameworkDefinition) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    names: dict[str, int] = {}
    for index, phase in enumerate(definition.phases):
        if phase.name in names:
            found.append(
                (
                    ("phases", index, "name"),
                    _("the phase name “%(name)s” is used twice (also at phases[%(other)d])")
                    % {"name": phase.name, "other": names[phase.name]},
                )
            )
        else:
            names[phase.name] = index
    if definition.segments:
        known = set(Segment.objects.filter(name__in=definition.segments).values_list("name", flat=True))
        segment_names: list[str] | None = None
        for index, name in enumerate(definition.segments):
            if name not in known:
                if segment_names is None:
                    segment_names = list(Segment.objects.values_list("name", flat=True))
                found.append(
                    (
                        ("segments", index),
                        _("no segment is called “%(name)s”%(hint)s")
                        % {"name": name, "hint": suggestion(name, segment_names)},
                    )
                )
    other = (
        SuccessFramework.objects.filter(name=definition.name)
        .exclude(key=definition.key)
        .exclude(key="")  # a framework made before keys existed is taken over by the text of its name
        .first()
    )
    if other is not None:
        found.append(
            (
                ("name",),
                _("another success framework (key “%(key)s”) is already called “%(name)s”")
                % {"key": other.key, "name": definition.name},
            )
        )
    return found


# --- Reading ------------------------------------------------------------------------------------------


def _load(text: str) -> tuple[Any, Builder, list[Problem]]:
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        message = _("the text is over %(max)d KB; a framework is much smaller") % {"max": MAX_BYTES // 1024}
        return None, Builder(), [Problem(1, 1, "", message)]
    return load(
        text,
        empty=_("the text is empty: expected a success framework"),
        not_a_mapping=_("a success framework is a mapping of keys and values (key: …, name: …, phases: …)"),
        too_many_values=_(
            "the text expands to more than %(max)d values (aliases?); a framework is much smaller"
        ),
    )


def _checked(
    text: Any, *, references: bool = True, key: str | None = None
) -> tuple[FrameworkDefinition | None, list[Problem], Any]:
    if not isinstance(text, str):
        return None, [Problem(1, 1, "", _("a success framework is text"))], None
    data, builder, problems = _load(text)
    definition: FrameworkDefinition | None = None
    if not problems:
        for path, message in nul_problems(data):
            line, column = place(builder, path, on_key=False)
            problems.append(Problem(line, column, path_text(path), message))
    if not problems:
        try:
            definition = parse(data)
        except pydantic.ValidationError as error:
            problems = schema_problems(data, builder, error, _VOCABULARY) or [
                Problem(1, 1, "", _("this is not a success framework"))
            ]
    if definition is not None and key:
        wrong_key = key_problem(text, definition, key)
        if wrong_key is not None:
            problems.append(wrong_key)
    if definition is not None and references:
        for path, message in _reference_problems(definition):
            line, column = place(builder, path, on_key=False)
            problems.append(Problem(line, column, path_text(path), message))
    problems = [within(problem, text) for problem in problems]
    return definition, sorted(problems, key=lambda problem: (problem.line, problem.column)), builder


def problems_of(text: str, *, key: str | None = None) -> list[Problem]:
    """Every problem of a framework text, in the order of the text; empty when it is good to apply.
    With `key`, the text must define the framework of that key (the editor of one, the API's address)."""
    return _checked(text, key=key)[1]


def validate_text(text: str, *, key: str | None = None) -> FrameworkDefinition:
    """The framework a YAML text defines; DocumentError (every problem, with line and column) if any.
    With `key`, the text must define the framework of that key."""
    definition, problems, _builder = _checked(text, key=key)
    if problems or definition is None:
        raise DocumentError(problems or [Problem(1, 1, "", _("this is not a success framework"))])
    return definition


def key_problem(text: str, definition: FrameworkDefinition, key: str) -> Problem | None:
    """A problem at the text's `key:` line when it names another framework than `key` (the editor of
    one framework, and the API's address, may not turn into another framework)."""
    if definition.key == key:
        return None
    line = next(
        (number for number, row in enumerate(LINE_BREAK.split(text), start=1) if row.startswith("key:")), 1
    )
    return Problem(
        line,
        1,
        "key",
        _("the key must stay “%(key)s” (the text says “%(given)s”)") % {"key": key, "given": definition.key},
    )


# --- Applying -----------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Changes:
    created: bool = False
    fields: list[str] = dataclasses.field(default_factory=list)
    phases_added: list[str] = dataclasses.field(default_factory=list)
    phases_changed: list[str] = dataclasses.field(default_factory=list)
    phases_removed: list[str] = dataclasses.field(default_factory=list)
    milestones_added: list[str] = dataclasses.field(default_factory=list)
    milestones_changed: list[str] = dataclasses.field(default_factory=list)
    milestones_removed: list[str] = dataclasses.field(default_factory=list)

    def any(self) -> bool:
        return any(bool(value) for value in dataclasses.asdict(self).values())

    def as_audit(self) -> dict[str, Any]:
        return {name: value for name, value in dataclasses.asdict(self).items() if value}


def _set(row: Any, values: dict[str, Any]) -> list[str]:
    """Set the attributes that differ; the names of those that changed."""
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, values[name])
    return changed


def _milestone_problem(builder: Builder | None, message: str) -> DocumentError:
    line, column = place(builder, ("milestones",), on_key=True) if builder is not None else (1, 1)
    return DocumentError([Problem(line, column, "milestones", message)])


def _apply_phases(framework: SuccessFramework, definition: FrameworkDefinition, changes: _Changes) -> None:
    existing = list(LifecyclePhase.objects.select_for_update().filter(framework=framework))
    by_key = {phase.key: phase for phase in existing if phase.key}
    by_name = {phase.name: phase for phase in existing if not phase.key}  # made before keys existed
    matched: dict[str, LifecyclePhase] = {}
    for item in definition.phases:
        row = by_key.get(item.key) or by_name.pop(item.name, None)
        if row is not None:
            matched[item.key] = row
    kept = {row.pk for row in matched.values()}
    removed = [phase for phase in existing if phase.pk not in kept]
    if removed:
        changes.phases_removed = [phase.key or phase.name for phase in removed]
        # Their accounts lose the phase (SET_NULL) and are placed again after the apply.
        LifecyclePhase.objects.filter(pk__in=[phase.pk for phase in removed]).delete()
    # Names are unique in a framework: two phases swapping names would collide on the way, so the
    # renamed ones go through a name no one writes first.
    renamed = [
        row
        for item in definition.phases
        if (row := matched.get(item.key)) is not None and row.name != item.name
    ]
    for row in renamed:
        LifecyclePhase.objects.filter(pk=row.pk).update(name=f"\x1f{row.pk}")
        row.name = f"\x1f{row.pk}"
    for position, item in enumerate(definition.phases):
        values = {
            "key": item.key,
            "name": item.name,
            "position": position,
            "customer_does": item.customer_does,
            "customer_expects": item.customer_expects,
            "roles": item.roles,
            "processes": item.processes,
            "tools": item.tools,
            "entry_rules": [c.model_dump(mode="json", exclude_none=True) for c in item.enter_when],
        }
        row = matched.get(item.key)
        if row is None:
            LifecyclePhase.objects.create(framework=framework, **values)
            changes.phases_added.append(item.key)
        elif _set(row, values):
            row.save()
            changes.phases_changed.append(item.key)


def _apply_milestones(
    framework: SuccessFramework, definition: FrameworkDefinition, changes: _Changes, builder: Builder | None
) -> None:
    existing = {
        row.key: row for row in MilestoneDefinition.objects.select_for_update().filter(framework=framework)
    }
    wanted = {item.key for item in definition.milestones}
    removed = [row for key, row in existing.items() if key not in wanted]
    if removed:
        reached = sorted(
            set(
                MilestoneReached.objects.filter(milestone__in=removed).values_list(
                    "milestone__key", flat=True
                )
            )
        )
        if reached:
            raise _milestone_problem(
                builder,
                _(
                    "accounts have reached the milestones %(keys)s: they cannot be removed (keep them in the text)"
                )
                % {"keys": ", ".join(f"“{key}”" for key in reached)},
            )
        MilestoneDefinition.objects.filter(pk__in=[row.pk for row in removed]).delete()
        changes.milestones_removed = sorted(row.key for row in removed)
    # One first value per framework (a constraint): clear it before another milestone takes it.
    first_value = next((item.key for item in definition.milestones if item.first_value), None)
    MilestoneDefinition.objects.filter(framework=framework, is_first_value=True).exclude(
        key=first_value or ""
    ).update(is_first_value=False)
    for row in existing.values():
        if row.key != first_value:
            row.is_first_value = False
    for position, item in enumerate(definition.milestones):
        values = {
            "name": item.name,
            "description": item.description,
            "kind": item.kind,
            "rule": item.rule.model_dump(mode="json", exclude_none=True) if item.rule is not None else {},
            "is_first_value": item.first_value,
            "position": position,
            "stall_after_days": item.stall_after_days,
        }
        found = existing.get(item.key)
        if found is None:
            MilestoneDefinition.objects.create(framework=framework, key=item.key, **values)
            changes.milestones_added.append(item.key)
        elif _set(found, values):
            found.save()
            changes.milestones_changed.append(item.key)


@transaction.atomic
def _write(
    text: str, definition: FrameworkDefinition, builder: Builder | None, actor: User | None
) -> tuple[SuccessFramework, _Changes]:
    changes = _Changes()
    framework = SuccessFramework.objects.select_for_update().filter(key=definition.key).first()
    if framework is None:
        framework = SuccessFramework.objects.select_for_update().filter(key="", name=definition.name).first()
    if framework is None:
        framework = SuccessFramework(key=definition.key)
        changes.created = True
    if definition.default:
        # One default at most (a constraint): the text that says default takes it over.
        SuccessFramework.objects.filter(is_default=True).exclude(pk=framework.pk).update(is_default=False)
    values = {
        "key": definition.key,
        "name": definition.name,
        "description": definition.description,
        "is_default": definition.default,
        "product": definition.product,
        "plan_template": definition.plan_template.model_dump(mode="json", exclude_none=True),
    }
    changes.fields = [] if changes.created else _set(framework, values)
    if changes.created:
        _set(framework, values)
    source_changed = framework.source != text
    framework.source = text
    if changes.created or changes.fields or source_changed:
        framework.save()
    segments = list(Segment.objects.filter(name__in=definition.segments))
    if changes.created or {s.pk for s in segments} != set(framework.segments.values_list("pk", flat=True)):
        framework.segments.set(segments)
        if not changes.created:
            changes.fields.append("segments")
    _apply_phases(framework, definition, changes)
    _apply_milestones(framework, definition, changes, builder)
    if changes.any():
        record_audit(
            actor=actor,
            action="success.framework_created" if changes.created else "success.framework_changed",
            instance=framework,
            changes=changes.as_audit(),
        )
    return framework, changes


def _after_apply(framework: SuccessFramework) -> None:
    """Let the milestones (backfill) and placement parts catch up, when they are installed."""
    for module_name, function_name in (
        ("touchpoint.success.milestones", "on_definitions_changed"),
        ("touchpoint.success.placement", "place_framework"),
    ):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        function = getattr(module, function_name, None)
        if function is not None:
            function(framework)


def apply_text(
    text: str, *, actor: User | None, key: str | None = None, catch_up: bool = True
) -> SuccessFramework:
    """Create or update the framework a YAML text defines (by its key), its phases and milestones (by
    theirs), in one transaction; then backfill milestones and place the accounts again. Raises
    DocumentError with every problem, and writes nothing, when the text has any.

    With `key`, the text must define the framework of that key. `catch_up=False` leaves the backfill and placement to the caller (the demo places its accounts
    itself, before any usage exists)."""
    definition, problems, builder = _checked(text, key=key)
    if problems or definition is None:
        raise DocumentError(problems or [Problem(1, 1, "", _("this is not a success framework"))])
    framework, changes = _write(text, definition, builder, actor)
    if changes.any() and catch_up:
        _after_apply(framework)
    return framework


# --- Writing ------------------------------------------------------------------------------------------


def _unique_key(wanted: str, taken: set[str], fallback: str) -> str:
    key = (slugify(wanted) or fallback)[:60]
    if not re.match(r"^[a-z0-9]", key):
        key = fallback
    candidate, number = key, 2
    while candidate in taken:
        candidate, number = f"{key}-{number}", number + 1
    taken.add(candidate)
    return candidate


def definition_of(framework: SuccessFramework) -> FrameworkDefinition:
    """The framework as its rows are now (keys made from names for rows made before keys existed);
    pydantic.ValidationError when rows changed elsewhere (the admin) no longer make a valid one."""
    return parse(_data_of(framework))


def _data_of(framework: SuccessFramework) -> dict[str, Any]:
    phase_keys: set[str] = set()
    phases = []
    rows = list(framework.phases.order_by("position", "id"))
    phase_keys.update(phase.key for phase in rows if phase.key)
    for position, phase in enumerate(rows, start=1):
        phases.append(
            {
                "key": phase.key or _unique_key(phase.name, phase_keys, f"phase-{position}"),
                "name": phase.name,
                "customer_does": phase.customer_does[:2000],
                "customer_expects": phase.customer_expects[:2000],
                "roles": phase.roles[:2000],
                "processes": phase.processes[:2000],
                "tools": phase.tools[:2000],
                "enter_when": phase.entry_rules or [],
            }
        )
    milestones = [
        {
            "key": row.key,
            "name": row.name,
            "description": row.description[:2000],
            "kind": row.kind,
            "rule": row.rule or None,
            "first_value": row.is_first_value,
            "stall_after_days": max(row.stall_after_days, 1),
        }
        for row in framework.milestones.order_by("position", "id")
    ]
    return {
        "key": framework.key or _unique_key(framework.name, set(), "framework"),
        "name": framework.name,
        "description": framework.description[:2000],
        "default": framework.is_default,
        "segments": sorted(framework.segments.values_list("name", flat=True)),
        "product": framework.product,
        "phases": phases,
        "milestones": milestones,
        "plan_template": framework.plan_template or {},
    }


def dump(definition: FrameworkDefinition) -> str:
    """The definition as YAML (defaults left out, keys in the order of definition.py)."""
    data = definition.model_dump(mode="json", exclude_defaults=True)
    data = {"key": data.pop("key"), "name": data.pop("name"), **data}
    return yaml.dump(
        data, Dumper=Dumper, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False
    )


def export_text(framework: SuccessFramework) -> str:
    """The framework as YAML: the text last applied (comments and all) while the rows still say the
    same, else YAML made from the rows."""
    data = _data_of(framework)
    try:
        current = parse(data)
    except pydantic.ValidationError:
        # Rows edited elsewhere into something the text cannot say: give them as they are, so the
        # leader sees them and the editor shows what to fix.
        return yaml.dump(data, Dumper=Dumper, allow_unicode=True, sort_keys=False, width=100)
    if framework.source:
        applied, problems, _builder = _checked(framework.source, references=False)
        if not problems and applied == current:
            return framework.source
    return dump(current)
