"""What a journey did: per journey and per step, entered / waiting / converted / exited, messages sent,
failed, suppressed (and opened / clicked when tracking is on), and each A/B arm's conversion rate
with a 95% confidence interval.

Every number is an aggregate in SQL: a handful of GROUP BY queries whatever the journey's size, so
the stats page costs the same for ten enrollments and a million.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q
from django.db.models.fields.json import KT

from touchpoint.journeys.definition import JourneyDefinition, parse, walk
from touchpoint.journeys.models import (
    EXTERNAL_KINDS,
    Enrollment,
    EnrollmentStatus,
    Journey,
    JourneyVersion,
    OutboxRow,
    OutboxStatus,
    StepVisit,
)
from touchpoint.journeys.selectors import delivery_settings


def wilson_interval(successes: int, trials: int, *, confidence: float = 0.95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (None without trials): honest near 0% and 100%,
    where the textbook p ± 1.96·√(p(1−p)/n) runs outside [0, 1] or shrinks to nothing."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError("successes must lie between 0 and the number of trials")
    # Imported here: scipy is heavy, and only the stats page needs it (the worker starts without it).
    from scipy.stats import binomtest

    interval = binomtest(successes, trials).proportion_ci(confidence_level=confidence, method="wilson")
    return float(interval.low), float(interval.high)


@dataclass
class StepStats:
    step_id: str
    label: str
    type: str
    depth: int
    entered: int = 0
    waiting: int = 0
    pending: int = 0
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    opened: int = 0
    clicked: int = 0
    in_definition: bool = True


@dataclass
class ArmStats:
    step_id: str
    arm: str
    percent: int | None
    entered: int
    converted: int

    @property
    def rate(self) -> float | None:
        return self.converted / self.entered if self.entered else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.converted, self.entered)


@dataclass
class JourneyStats:
    journey: Journey
    version: JourneyVersion | None  # the filter: None is every version
    tracking: bool
    entered: int = 0
    waiting: int = 0
    converted: int = 0
    exited: int = 0
    completed: int = 0
    failed: int = 0
    sent: int = 0
    failed_messages: int = 0
    suppressed: int = 0
    opened: int = 0
    clicked: int = 0
    steps: list[StepStats] = field(default_factory=list)
    arms: list[ArmStats] = field(default_factory=list)

    @property
    def conversion_rate(self) -> float | None:
        return self.converted / self.entered if self.entered else None


def _depths(steps: list[Any], depth: int = 0) -> dict[str, int]:
    found: dict[str, int] = {}
    for step in steps:
        found[step.id] = depth
        if step.type == "split":
            found.update(_depths(step.then, depth + 1))
            found.update(_depths(step.else_, depth + 1))
        elif step.type == "random":
            for arm in step.arms:
                found.update(_depths(arm.steps, depth + 1))
    return found


def _shown_definition(journey: Journey, version: JourneyVersion | None) -> JourneyDefinition | None:
    chosen = version or journey.live_version or journey.versions.order_by("-number").first()
    return parse(chosen.definition) if chosen is not None else None


def journey_stats(*, journey: Journey, version: JourneyVersion | None = None) -> JourneyStats:
    """The journey's numbers (of one version, or all), per step in the order of the shown definition."""
    enrollments = Enrollment.objects.filter(journey=journey)
    visits = StepVisit.objects.filter(enrollment__journey=journey)
    # Messages and webhooks: the effects that leave the building (a task or a tag is "sent" once
    # applied, which says nothing about delivery).
    outbox = OutboxRow.objects.filter(enrollment__journey=journey, kind__in=EXTERNAL_KINDS)
    if version is not None:
        enrollments = enrollments.filter(version=version)
        visits = visits.filter(version=version)
        outbox = outbox.filter(enrollment__version=version)

    result = JourneyStats(
        journey=journey, version=version, tracking=delivery_settings().track_opens_and_clicks
    )
    by_status = dict(enrollments.values_list("status").annotate(n=Count("id")).order_by())
    result.entered = sum(by_status.values())
    result.waiting = by_status.get(EnrollmentStatus.ACTIVE, 0)
    result.converted = by_status.get(EnrollmentStatus.CONVERTED, 0)
    result.exited = by_status.get(EnrollmentStatus.EXITED, 0)
    result.completed = by_status.get(EnrollmentStatus.COMPLETED, 0)
    result.failed = by_status.get(EnrollmentStatus.FAILED, 0)

    definition = _shown_definition(journey, version)
    steps: dict[str, StepStats] = {}
    if definition is not None:
        depths = _depths(definition.steps)
        for shown_step in walk(definition.steps):
            steps[shown_step.id] = StepStats(
                shown_step.id, shown_step.label, shown_step.type, depths[shown_step.id]
            )

    def step_named(step_id: str) -> StepStats:
        if step_id not in steps:  # a step of another version
            steps[step_id] = StepStats(step_id, "", "", 0, in_definition=False)
        return steps[step_id]

    for step_id, count in visits.values_list("step_id").annotate(n=Count("id")).order_by():
        step_named(step_id).entered = count
    waiting = enrollments.filter(status=EnrollmentStatus.ACTIVE).exclude(step_id="")
    for step_id, count in waiting.values_list("step_id").annotate(n=Count("id")).order_by():
        step_named(step_id).waiting = count
    rows = outbox.values_list("step_id", "status").annotate(
        n=Count("id"),
        opened=Count("id", filter=Q(opened_at__isnull=False)),
        clicked=Count("id", filter=Q(clicked_at__isnull=False)),
    )
    for step_id, status, count, opened, clicked in rows.order_by():
        shown = step_named(step_id)
        if status == OutboxStatus.SENT:
            shown.sent += count
            result.sent += count
        elif status == OutboxStatus.FAILED:
            shown.failed += count
            result.failed_messages += count
        elif status == OutboxStatus.SUPPRESSED:
            shown.suppressed += count
            result.suppressed += count
        else:
            shown.pending += count
        shown.opened += opened
        shown.clicked += clicked
        result.opened += opened
        result.clicked += clicked
    result.steps = list(steps.values())
    result.arms = _arms(definition, enrollments)
    return result


def _arms(definition: JourneyDefinition | None, enrollments: Any) -> list[ArmStats]:
    """Each random split's arms: how many enrollments drew it (their `choices`) and how many converted.

    One GROUP BY per random split of the definition (a journey has a few), not per enrollment.
    """
    if definition is None:
        return []
    arms = []
    for split in (step for step in walk(definition.steps) if step.type == "random"):
        rows = (
            enrollments.filter(choices__has_key=split.id)
            .annotate(arm=KT(f"choices__{split.id}"))
            .values_list("arm")
            .annotate(
                n=Count("id"),
                converted=Count("id", filter=Q(status=EnrollmentStatus.CONVERTED)),
            )
            .order_by()
        )
        counted = {arm: (count, converted) for arm, count, converted in rows}
        for arm in split.arms:
            entered, converted = counted.get(arm.arm, (0, 0))
            arms.append(ArmStats(split.id, arm.arm, arm.percent, entered, converted))
    return arms
