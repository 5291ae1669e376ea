"""Reads the journeys pages share: the list with its counts, a journey's versions, an account's enrollments."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import yaml
from django.db.models import Count, Q, QuerySet

from touchpoint.accounts.models import Account
from touchpoint.journeys.definition import JourneyDefinition, children, parse
from touchpoint.journeys.models import (
    ConsentStatus,
    DeliverySettings,
    Enrollment,
    EnrollmentStatus,
    Journey,
    JourneyStatus,
    JourneyVersion,
    MessagingConsent,
)


def journeys() -> QuerySet[Journey]:
    """Every journey but the archived ones last, with entered/active/converted counts and its live version (one query)."""
    return (
        Journey.objects.select_related("live_version")
        .annotate(
            entered=Count("enrollments"),
            active=Count("enrollments", filter=Q(enrollments__status=EnrollmentStatus.ACTIVE)),
            converted=Count("enrollments", filter=Q(enrollments__status=EnrollmentStatus.CONVERTED)),
        )
        .order_by("name", "id")
    )


def journey_by_key(key: str) -> Journey | None:
    return Journey.objects.select_related("live_version").filter(key=key).first()


def versions_of(journey: Journey) -> QuerySet[JourneyVersion]:
    """A journey's versions, newest first, with who saved each."""
    return journey.versions.select_related("created_by").order_by("-number")


def latest_version(journey: Journey) -> JourneyVersion | None:
    """The version the builder edits: the newest one (a draft on top of the live one, or the live one)."""
    return journey.versions.order_by("-number").first()


def definition_of(version: JourneyVersion) -> JourneyDefinition:
    return parse(version.definition)


def source_of(version: JourneyVersion) -> str:
    """The YAML of a version: as written, or (for versions saved without it) dumped from the definition."""
    if version.source.strip():
        return version.source
    return yaml.safe_dump(version.definition, sort_keys=False, allow_unicode=True)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "remove", "same", "hunk"
    old_number: int | None
    new_number: int | None
    text: str


def diff_lines(old: str, new: str, *, context: int = 3) -> list[DiffLine]:
    """A unified diff of two YAML sources, line by line with both line numbers, for a readable page."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    result: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        result.append(
            DiffLine(
                "hunk",
                None,
                None,
                f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@",
            )
        )
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for offset, line in enumerate(old_lines[i1:i2]):
                    result.append(DiffLine("same", i1 + offset + 1, j1 + offset + 1, line))
                continue
            if tag in ("replace", "delete"):
                for offset, line in enumerate(old_lines[i1:i2]):
                    result.append(DiffLine("remove", i1 + offset + 1, None, line))
            if tag in ("replace", "insert"):
                for offset, line in enumerate(new_lines[j1:j2]):
                    result.append(DiffLine("add", None, j1 + offset + 1, line))
    return result


# --- The flow the builder draws ----------------------------------------------------------------


@dataclass
class FlowStep:
    """A step as the builder draws it: the step, and its branches (each a label and a list of FlowSteps)."""

    step: Any
    branches: list[tuple[str, str, list[FlowStep]]]  # (key, label, steps): "then"/"else" or an arm name


def flow(steps: list[Any]) -> list[FlowStep]:
    """The nested steps as the tree the builder template walks."""
    drawn = []
    for step in steps:
        branches: list[tuple[str, str, list[FlowStep]]] = []
        if step.type == "split":
            branches = [("then", "then", flow(step.then)), ("else", "else", flow(step.else_))]
        elif step.type == "random":
            branches = [(arm.arm, f"{arm.arm} · {arm.percent}%", flow(arm.steps)) for arm in step.arms]
        else:
            assert not list(children(step))
        drawn.append(FlowStep(step=step, branches=branches))
    return drawn


# --- The account panel --------------------------------------------------------------------------


def account_enrollments(*, account: Account) -> list[Enrollment]:
    """The account's enrollments (its own and its contacts'), active first, newest first."""
    enrollments = (
        Enrollment.objects.filter(account=account)
        .select_related("journey", "version", "contact")
        .order_by("-entered_at", "-id")
    )
    return sorted(enrollments, key=lambda enrollment: not enrollment.is_active)  # stable: newest first within


def live_journeys() -> QuerySet[Journey]:
    """The journeys someone may add an account to by hand: the live ones."""
    return Journey.objects.filter(status=JourneyStatus.LIVE, live_version__isnull=False).order_by("name")


def consents_of(*, account: Account) -> dict[int, str]:
    """contact id → "subscribed"/"unsubscribed" for the contacts that said something (no row: subscribed)."""
    return dict(MessagingConsent.objects.filter(contact__account=account).values_list("contact_id", "status"))


def is_unsubscribed(status: str | None) -> bool:
    return status == ConsentStatus.UNSUBSCRIBED


def delivery_settings() -> DeliverySettings:
    """The site's delivery settings, read without writing (the row is created on the first save)."""
    return DeliverySettings.objects.filter(pk=1).first() or DeliverySettings(pk=1)
