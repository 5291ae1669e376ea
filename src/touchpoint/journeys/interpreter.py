"""What a journey does next, decided without touching the database: shared by the engine and the simulation.

The engine (journeys/engine.py) and the simulation (journeys/simulation.py) both ask `advance`:
"this enrollment stands here at this moment: what happens now?". The answer (`Advance`) lists the
steps visited, the effects to make (emails, tasks… as `Effect`s), where the enrollment now waits
and until when, or how it ended. The engine writes that down in one transaction (state, visits,
outbox rows); the simulation only records it. Because both use this one function, a simulation
shows the paths the live engine would take.

Everything the interpreter needs to know about the world comes through a `Context`: whether a
condition holds for a subject at a moment, and the subject's engagement model and dates. The live
context reads today's data; the simulation's reads history as of the simulated moment.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from touchpoint.journeys.definition import ACTION_TYPES, JourneyDefinition, children

MAX_STEPS_PER_ADVANCE = 500  # more than any journey has: a guard, not a limit anyone meets


@dataclass(frozen=True)
class Subject:
    account_id: int
    contact_id: int | None = None


class Context(Protocol):
    def holds(self, condition: Any, subject: Subject, at: datetime, entry_data: dict[str, Any]) -> bool:
        """Whether a definition.Condition holds for the subject at that moment."""

    def engagement_model(self, subject: Subject, at: datetime) -> str:
        """ "high_touch", "low_touch" or "hybrid"."""

    def anchor_date(self, subject: Subject, anchor: str, at: datetime) -> date | None:
        """The subject's next "renewal" (or its "subscription_start") as of that moment, if any."""


@dataclass
class Position:
    """Where an enrollment stands: the interpreter's input and (updated) output."""

    step_id: str
    step_entered_at: datetime
    wake_at: datetime | None = None
    waiting_for: str = ""
    event_seen_at: datetime | None = None
    choices: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Effect:
    """One thing a step makes happen: kind is an OutboxKind value; params are the step's settings."""

    kind: str
    step_id: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Visit:
    step_id: str
    at: datetime
    outcome: str = ""


@dataclass
class Advance:
    position: Position
    visits: list[Visit] = field(default_factory=list)  # steps entered during this advance, in order
    left: list[Visit] = field(default_factory=list)  # steps left (with their outcome)
    effects: list[Effect] = field(default_factory=list)
    ended: str = ""  # "" (still active), or an EnrollmentStatus value: converted, exited, completed
    reason: str = ""


@dataclass(frozen=True)
class Node:
    step: Any
    next_id: str  # the step after this one on its path ("" at the end of the journey)


class Graph:
    """The definition's nested steps as a map id → (step, the id that follows it)."""

    def __init__(self, definition: JourneyDefinition) -> None:
        self.definition = definition
        self.nodes: dict[str, Node] = {}
        self._link(definition.steps, after="")
        self.first = definition.steps[0].id

    def _link(self, steps: list[Any], *, after: str) -> None:
        for index, step in enumerate(steps):
            following = steps[index + 1].id if index + 1 < len(steps) else after
            self.nodes[step.id] = Node(step=step, next_id=following)
            for branch in children(step):
                self._link(branch, after=following)

    def first_of(self, branch: list[Any], *, otherwise: str) -> str:
        return branch[0].id if branch else otherwise


def start(graph: Graph, at: datetime) -> Position:
    return Position(step_id=graph.first, step_entered_at=at)


def draw_arm(step: Any, seed: str) -> Any:
    """The arm an enrollment gets: stable for the same seed, spread by the percentages."""
    point = int(hashlib.sha256(f"{seed}:{step.id}".encode()).hexdigest()[:8], 16) % 100
    total = 0
    for arm in step.arms:
        total += arm.percent
        if point < total:
            return arm
    return step.arms[-1]


def advance(
    graph: Graph,
    position: Position,
    *,
    subject: Subject,
    now: datetime,
    context: Context,
    seed: str,
    entry_data: dict[str, Any] | None = None,
) -> Advance:
    """Move the enrollment on from `position` as far as it can go at `now`.

    `seed` makes random splits repeatable (the engine passes the enrollment's id). Each call first
    checks the goal and the exit rules, then walks steps until one has to wait or the journey ends.
    """
    entry = entry_data or {}
    definition = graph.definition
    result = Advance(position=position)
    if definition.goal is not None and context.holds(definition.goal, subject, now, entry):
        result.ended, result.reason = "converted", "goal"
        return result
    for rule in definition.exit_when:
        if context.holds(rule, subject, now, entry):
            result.ended, result.reason = "exited", "exit rule"
            return result

    for _ in range(MAX_STEPS_PER_ADVANCE):
        if not position.step_id:
            result.ended = "completed"
            return result
        node = graph.nodes[position.step_id]
        step = node.step
        outcome = ""
        if step.type == "wait":
            waited = _wait(step, position, subject=subject, now=now, context=context)
            if waited is None:
                return result  # still waiting; position.wake_at says until when
            outcome = waited
            if outcome == "timeout" and step.on_timeout == "exit":
                result.left.append(Visit(step.id, now, outcome))
                result.ended, result.reason = "exited", "timeout"
                return result
            next_id = node.next_id
        elif step.type == "split":
            holds = context.holds(step.when, subject, now, entry)
            outcome = "then" if holds else "else"
            next_id = graph.first_of(step.then if holds else step.else_, otherwise=node.next_id)
        elif step.type == "random":
            name = position.choices.get(step.id)
            arm = next((a for a in step.arms if a.arm == name), None) or draw_arm(step, seed)
            position.choices[step.id] = outcome = arm.arm
            next_id = graph.first_of(arm.steps, otherwise=node.next_id)
        elif step.type == "exit":
            result.left.append(Visit(step.id, now, "exit"))
            result.ended, result.reason = "exited", step.reason or "exit step"
            return result
        elif step.type in ACTION_TYPES:
            result.effects.extend(_effects_of(step, subject=subject, now=now, context=context))
            next_id = node.next_id
        else:  # pragma: no cover - the definition's union lists every type
            raise ValueError(f"unknown step type {step.type!r}")
        result.left.append(Visit(step.id, now, outcome))
        position.step_id, position.step_entered_at = next_id, now
        position.wake_at, position.waiting_for, position.event_seen_at = None, "", None
        if next_id:
            result.visits.append(Visit(next_id, now))
    raise RuntimeError("journey did not settle: a step leads back to itself")


def _wait(step: Any, position: Position, *, subject: Subject, now: datetime, context: Context) -> str | None:
    """ "done"/"event"/"timeout" once the wait is over; None (with wake_at set) while it lasts."""
    if step.event is not None:
        if position.event_seen_at is not None:
            return "event"
        deadline = position.step_entered_at + timedelta(days=step.timeout_days or 0)
        if now >= deadline:
            return "timeout"
        position.waiting_for, position.wake_at = step.event, deadline
        return None
    if step.until is not None:
        anchor = context.anchor_date(subject, step.until, position.step_entered_at)
        if anchor is None:
            return "done"  # no renewal to wait for: go on rather than wait for ever
        due = datetime.combine(anchor - timedelta(days=step.days_before), datetime.min.time(), now.tzinfo)
    else:
        due = position.step_entered_at + timedelta(days=step.days, hours=step.hours)
    if now >= due:
        return "done"
    position.wake_at = due
    return None


def _effects_of(step: Any, *, subject: Subject, now: datetime, context: Context) -> list[Effect]:
    params = step.model_dump(mode="json", exclude={"id", "label", "type"})
    if step.type in ("email", "in_app") and step.by_engagement:
        model = context.engagement_model(subject, now)
        task = Effect(
            "task", step.id, {"title": step.task_title, "message": step.message, "from_message": True}
        )
        message = Effect(step.type, step.id, params)
        if model == "high_touch":
            return [task]
        if model == "hybrid":
            return [message, task]
        return [message]
    if step.type == "survey":
        # A message like any other (journeys/survey_steps.py): its row is an email or in-app row
        # whose payload names the survey, so consent, caps and exactly-once delivery hold for it.
        return [Effect(step.channel, step.id, {"survey": step.survey, "to": list(step.to)})]
    return [Effect(step.type, step.id, params)]
