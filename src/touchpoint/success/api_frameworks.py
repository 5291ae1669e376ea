"""REST API: success frameworks (mounted by success/api.py).

GET /success/frameworks              every framework (a page)
GET /success/frameworks/{framework}  one, by id or key: phases, rules (as data and in words),
                                     milestones, and its YAML
PUT /success/frameworks/{framework}  create or update the framework with that key from YAML;
                                     422 naming the line and column of every problem
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from touchpoint.api_contract import (
    READ,
    WRITE,
    ErrorItem,
    ErrorOut,
    Page,
    Paging,
    Strict,
    Text,
    answers,
    caller,
    page_of,
    require_perm,
)
from touchpoint.success.definition_text import milestone_rule_in_words, rules_in_words
from touchpoint.success.documents import DocumentError, apply_text, export_text
from touchpoint.success.models import LifecyclePhase, MilestoneDefinition, SuccessFramework

router = Router(tags=["success"])

FrameworkRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="The framework's key (or, to read, its id).",
    ),
]


class FrameworkSummaryOut(Schema):
    id: int
    key: str
    name: str
    description: str
    is_default: bool
    product: str
    segments: list[str]
    phases: int
    milestones: int
    accounts: int
    updated_at: datetime


class PhaseOut(Schema):
    id: int
    key: str
    name: str
    position: int
    customer_does: str
    customer_expects: str
    roles: str
    processes: str
    tools: str
    enter_when: list[dict[str, Any]]
    rules_in_words: list[str]
    accounts: int


class MilestoneOut(Schema):
    id: int
    key: str
    name: str
    description: str
    kind: str
    rule: dict[str, Any] | None
    rule_in_words: str
    first_value: bool
    position: int
    stall_after_days: int


class FrameworkOut(FrameworkSummaryOut):
    phase_list: list[PhaseOut]
    milestone_list: list[MilestoneOut]
    plan_template: dict[str, Any]
    yaml: str


class FrameworkIn(Strict):
    # Bounded generously: the text's own limit (100 KB) answers with a 422 at line 1, in words.
    yaml: Annotated[Text, Field(max_length=1_000_000, description="The framework as YAML.")]


def frameworks_for_api() -> QuerySet[SuccessFramework]:
    return (
        SuccessFramework.objects.prefetch_related("segments")
        .annotate(
            phase_count=Count("phases", distinct=True),
            milestone_count=Count("milestones", distinct=True),
            account_count=Count("placements", distinct=True),
        )
        .order_by("name")
    )


def _summary(framework: SuccessFramework) -> dict[str, Any]:
    return {
        "id": framework.pk,
        "key": framework.key,
        "name": framework.name,
        "description": framework.description,
        "is_default": framework.is_default,
        "product": framework.product,
        "segments": sorted(segment.name for segment in framework.segments.all()),
        "phases": framework.phase_count,  # type: ignore[attr-defined]
        "milestones": framework.milestone_count,  # type: ignore[attr-defined]
        "accounts": framework.account_count,  # type: ignore[attr-defined]
        "updated_at": framework.updated_at,
    }


def _detail(framework: SuccessFramework) -> dict[str, Any]:
    framework = (
        frameworks_for_api()
        .prefetch_related(
            # With an aggregate the model's ordering is not applied: order the phases explicitly.
            Prefetch(
                "phases",
                queryset=LifecyclePhase.objects.annotate(account_count=Count("placements")).order_by(
                    "position", "id"
                ),
            ),
            Prefetch("milestones", queryset=MilestoneDefinition.objects.order_by("position", "id")),
        )
        .get(pk=framework.pk)
    )
    milestones = list(framework.milestones.all())
    names = {milestone.key: milestone.name for milestone in milestones}
    return {
        **_summary(framework),
        "phase_list": [
            {
                "id": phase.pk,
                "key": phase.key,
                "name": phase.name,
                "position": phase.position,
                "customer_does": phase.customer_does,
                "customer_expects": phase.customer_expects,
                "roles": phase.roles,
                "processes": phase.processes,
                "tools": phase.tools,
                "enter_when": phase.entry_rules or [],
                "rules_in_words": _words(phase.entry_rules, names),
                "accounts": phase.account_count,  # type: ignore[attr-defined]
            }
            for phase in framework.phases.all()
        ],
        "milestone_list": [
            {
                "id": milestone.pk,
                "key": milestone.key,
                "name": milestone.name,
                "description": milestone.description,
                "kind": milestone.kind,
                "rule": milestone.rule or None,
                "rule_in_words": _rule_words(milestone.rule),
                "first_value": milestone.is_first_value,
                "position": milestone.position,
                "stall_after_days": milestone.stall_after_days,
            }
            for milestone in milestones
        ],
        "plan_template": framework.plan_template or {},
        "yaml": export_text(framework),
    }


def _words(rules: Any, names: dict[str, str]) -> list[str]:
    try:
        return rules_in_words(rules or [], milestones=names)
    except ValueError:  # rules stored by hand (the admin) in a shape the text cannot say
        return [_("These rules cannot be read; apply the framework's text again.")]


def _rule_words(rule: Any) -> str:
    try:
        return milestone_rule_in_words(rule or None)
    except ValueError:
        return _("This rule cannot be read; apply the framework's text again.")


def _framework(ref: str) -> SuccessFramework:
    if ref.isdigit():
        found = SuccessFramework.objects.filter(pk=int(ref)).first() if len(ref) < 19 else None
        if found is not None:
            return found
    return get_object_or_404(SuccessFramework, key=ref)


@router.get(
    "/success/frameworks",
    response=answers({200: Page[FrameworkSummaryOut]}, *READ),
    summary="List success frameworks",
)
def list_frameworks(request: HttpRequest, paging: Query[Paging]):
    """Every success framework by name, with how many phases, milestones and accounts it has."""
    require_perm(request, "success.view_successframework")
    return page_of(frameworks_for_api(), paging, _summary)


@router.get(
    "/success/frameworks/{framework}",
    response=answers({200: FrameworkOut}, *READ, 404),
    summary="Get a success framework",
)
def get_framework(request: HttpRequest, framework: FrameworkRef):
    """The framework (by id or key): its phases with their rules, its milestones, and its YAML."""
    require_perm(request, "success.view_successframework")
    return _detail(_framework(framework))


@router.put(
    "/success/frameworks/{framework}",
    response=answers({200: FrameworkOut, 201: FrameworkOut}, *WRITE, 404),
    summary="Create or update a success framework from YAML",
)
def put_framework(request: HttpRequest, framework: FrameworkRef, body: FrameworkIn) -> Any:
    """Apply the YAML (its `key` must be the one in the path): 201 when it made the framework, 200
    when it updated it; 422 with every problem as "line N, column M: …" when it has any (the body is
    well-formed JSON; it is the text inside that the framework's rules refuse)."""
    require_perm(request, "success.change_successframework")
    existed = SuccessFramework.objects.filter(key=framework).exists()
    try:
        applied = apply_text(body.yaml, actor=caller(request), key=framework)
    except DocumentError as error:
        return Status(422, _problems_out(error))
    return Status(200 if existed else 201, _detail(applied))


def _problems_out(error: DocumentError) -> ErrorOut:
    return ErrorOut(
        detail=_("The framework's text has problems; nothing was saved."),
        errors=[ErrorItem(field="yaml", message=message, code="") for message in error.messages],
    )
