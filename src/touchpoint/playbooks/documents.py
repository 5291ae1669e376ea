"""Playbooks as plain YAML: export one, read one back with errors that say the line.

    name: Renewal
    reason: The renewal conversation starts well before the date.
    active: true
    steps:
      - title: Renewal review
        day_offset: -120        # days from the anchor (the start day, or the renewal date)
        type: review            # call, meeting, review, risk, renewal, onboarding, other
        priority: normal        # high, normal, low
        owner: account_owner    # account_owner or leader
        notes: Usage, health and stakeholders.

A file holds one playbook (a mapping) or several (a list of them). `read` checks everything and
raises one ValidationError listing every problem as "line N: …"; nothing is applied from a file
with a problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from touchpoint.playbooks.models import MAX_DAY_OFFSET, OwnerRole, Playbook, PlaybookStep
from touchpoint.tasks.models import TaskPriority, TaskType

PRIORITIES: dict[str, int] = {
    "high": TaskPriority.HIGH,
    "normal": TaskPriority.NORMAL,
    "low": TaskPriority.LOW,
}
PRIORITY_NAMES: dict[int, str] = {value: name for name, value in PRIORITIES.items()}
PLAYBOOK_KEYS = ("name", "reason", "active", "steps")
STEP_KEYS = ("title", "day_offset", "type", "priority", "owner", "notes")
MAX_STEPS = 50


@dataclass(frozen=True)
class StepSpec:
    title: str
    day_offset: int = 0
    task_type: str = TaskType.OTHER
    priority: int = TaskPriority.NORMAL
    owner_role: str = OwnerRole.ACCOUNT_OWNER
    notes: str = ""


@dataclass(frozen=True)
class PlaybookSpec:
    name: str
    reason: str = ""
    is_active: bool = True
    steps: tuple[StepSpec, ...] = field(default_factory=tuple)


# --- Export -----------------------------------------------------------------------------------


def spec_of(playbook: Playbook) -> PlaybookSpec:
    steps: list[PlaybookStep] = list(playbook.steps.order_by("position"))
    return PlaybookSpec(
        name=playbook.name,
        reason=playbook.reason,
        is_active=playbook.is_active,
        steps=tuple(
            StepSpec(
                title=s.title,
                day_offset=s.day_offset,
                task_type=s.task_type,
                priority=s.priority,
                owner_role=s.owner_role,
                notes=s.notes,
            )
            for s in steps
        ),
    )


def dump(spec: PlaybookSpec) -> str:
    """The playbook as YAML (keys in the documented order)."""
    document: dict[str, Any] = {
        "name": spec.name,
        "reason": spec.reason,
        "active": spec.is_active,
        "steps": [],
    }
    for step in spec.steps:
        entry: dict[str, Any] = {
            "title": step.title,
            "day_offset": step.day_offset,
            "type": step.task_type,
            "priority": PRIORITY_NAMES.get(step.priority, "normal"),
            "owner": step.owner_role,
        }
        if step.notes:
            entry["notes"] = step.notes
        document["steps"].append(entry)
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


def export(playbook: Playbook) -> str:
    return dump(spec_of(playbook))


# --- Reading, with line numbers ------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []

    def add(self, node: yaml.Node, message: str) -> None:
        line = node.start_mark.line + 1
        self.found.append((line, _("line %(line)d: %(message)s") % {"line": line, "message": message}))

    @property
    def messages(self) -> list[str]:
        return [message for _line, message in sorted(self.found, key=lambda found: found[0])]


class _Reader:
    def __init__(self, text: str) -> None:
        self.loader = yaml.SafeLoader(text)
        self.problems = _Problems()

    def value(self, node: yaml.Node) -> Any:
        return self.loader.construct_object(node, deep=True)

    def mapping(
        self, node: yaml.Node, allowed: tuple[str, ...], what: str
    ) -> dict[str, tuple[yaml.Node, Any]]:
        if not isinstance(node, yaml.MappingNode):
            self.problems.add(node, _("%(what)s must be a mapping of keys and values") % {"what": what})
            return {}
        found: dict[str, tuple[yaml.Node, Any]] = {}
        for key_node, value_node in node.value:
            key = self.value(key_node)
            if not isinstance(key, str) or key not in allowed:
                self.problems.add(
                    key_node,
                    _("unknown key “%(key)s”; expected one of: %(keys)s")
                    % {"key": key, "keys": ", ".join(allowed)},
                )
                continue
            if key in found:
                self.problems.add(key_node, _("“%(key)s” is given twice") % {"key": key})
                continue
            found[key] = (
                value_node,
                value_node if isinstance(value_node, yaml.CollectionNode) else self.value(value_node),
            )
        return found

    def text(
        self,
        entries: dict,
        key: str,
        parent: yaml.Node,
        *,
        required: bool = False,
        max_length: int | None = None,
    ) -> str:
        if key not in entries:
            if required:
                self.problems.add(parent, _("“%(key)s” is missing") % {"key": key})
            return ""
        node, value = entries[key]
        if value is None and not required:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problems.add(node, _("%(key)s must be text") % {"key": key})
            return ""
        text = str(value).strip()
        if "\x00" in text:
            self.problems.add(node, _("%(key)s must not contain null characters") % {"key": key})
            return ""
        if required and not text:
            self.problems.add(node, _("%(key)s must not be empty") % {"key": key})
        if max_length is not None and len(text) > max_length:
            self.problems.add(
                node, _("%(key)s is longer than %(max)d characters") % {"key": key, "max": max_length}
            )
        return text

    def choice(self, entries: dict, key: str, choices: dict[str, Any], default: Any) -> Any:
        if key not in entries:
            return default
        node, value = entries[key]
        if not isinstance(value, str) or value not in choices:
            self.problems.add(
                node, _("%(key)s must be one of: %(choices)s") % {"key": key, "choices": ", ".join(choices)}
            )
            return default
        return choices[value]

    def step(self, node: yaml.Node) -> StepSpec | None:
        entries = self.mapping(node, STEP_KEYS, _("a step"))
        if not entries and not isinstance(node, yaml.MappingNode):
            return None
        title = self.text(entries, "title", node, required=True, max_length=200)
        day_offset = 0
        if "day_offset" in entries:
            offset_node, value = entries["day_offset"]
            if isinstance(value, bool) or not isinstance(value, int):
                self.problems.add(offset_node, _("day_offset must be a whole number"))
            elif not -MAX_DAY_OFFSET <= value <= MAX_DAY_OFFSET:
                self.problems.add(
                    offset_node,
                    _("day_offset must be between -%(max)d and %(max)d days") % {"max": MAX_DAY_OFFSET},
                )
            else:
                day_offset = value
        return StepSpec(
            title=title,
            day_offset=day_offset,
            task_type=self.choice(entries, "type", {v: v for v in TaskType.values}, TaskType.OTHER),
            priority=self.choice(entries, "priority", PRIORITIES, TaskPriority.NORMAL),
            owner_role=self.choice(
                entries, "owner", {v: v for v in OwnerRole.values}, OwnerRole.ACCOUNT_OWNER
            ),
            notes=self.text(entries, "notes", node),
        )

    def playbook(self, node: yaml.Node) -> PlaybookSpec | None:
        entries = self.mapping(node, PLAYBOOK_KEYS, _("a playbook"))
        if not isinstance(node, yaml.MappingNode):
            return None
        name = self.text(entries, "name", node, required=True, max_length=120)
        reason = self.text(entries, "reason", node)
        is_active = True
        if "active" in entries:
            active_node, value = entries["active"]
            if not isinstance(value, bool):
                self.problems.add(active_node, _("active must be true or false"))
            else:
                is_active = value
        steps: list[StepSpec] = []
        if "steps" not in entries:
            self.problems.add(node, _("“steps” is missing"))
        else:
            steps_node, _value = entries["steps"]
            if not isinstance(steps_node, yaml.SequenceNode) or not steps_node.value:
                self.problems.add(steps_node, _("steps must be a list of at least one step"))
            elif len(steps_node.value) > MAX_STEPS:
                self.problems.add(steps_node, _("a playbook has at most %(max)d steps") % {"max": MAX_STEPS})
            else:
                for step_node in steps_node.value:
                    step = self.step(step_node)
                    if step is not None:
                        steps.append(step)
        return PlaybookSpec(name=name, reason=reason, is_active=is_active, steps=tuple(steps))


def read(text: str) -> list[PlaybookSpec]:
    """The playbooks a YAML text describes; a ValidationError ("file": every problem, by line) if any."""
    reader = _Reader(text)
    try:
        root = reader.loader.get_single_node()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = _("line %(line)d: ") % {"line": mark.line + 1} if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ValidationError(
            {"file": [where + _("not valid YAML (%(problem)s)") % {"problem": problem}]}
        ) from error
    if root is None:
        raise ValidationError({"file": [_("The file is empty: expected a playbook.")]})
    nodes = root.value if isinstance(root, yaml.SequenceNode) else [root]
    specs = []
    try:
        for node in nodes:
            spec = reader.playbook(node)
            if spec is not None:
                specs.append(spec)
    except yaml.YAMLError as error:  # e.g. a value PyYAML cannot construct (a bad timestamp)
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = _("line %(line)d: ") % {"line": mark.line + 1} if mark is not None else ""
        raise ValidationError({"file": [where + str(getattr(error, "problem", error))]}) from error
    names = [spec.name for spec in specs]
    for index, name in enumerate(names):
        if name and name in names[:index]:
            reader.problems.add(nodes[index], _("the playbook “%(name)s” is given twice") % {"name": name})
    if reader.problems.messages:
        raise ValidationError({"file": reader.problems.messages})
    if not specs:
        raise ValidationError({"file": [_("Expected a playbook (a mapping) or a list of playbooks.")]})
    return specs
