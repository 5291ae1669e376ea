"""REST API: milestones reached and time to value (mounted by success/api.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from touchpoint.accounts.models import Account, Contact
from touchpoint.accounts.rules import readable_accounts_q
from touchpoint.accounts.schemas import Ref
from touchpoint.api_contract import READ, WRITE, Day, Id, Strict, answers, caller, require_perm
from touchpoint.success import milestones
from touchpoint.success.milestone_selectors import (
    AccountMilestone,
    Stats,
    account_milestones,
    framework_of,
    parse_cohort,
    stats_of,
    time_to_value,
)
from touchpoint.success.models import MilestoneDefinition, SuccessFramework

router = Router(tags=["success"])

MilestoneKey = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


class MilestoneOut(Schema):
    key: str
    name: str
    kind: str
    first_value: bool
    position: int
    reached_on: date | None
    days_from_start: int | None
    source: str | None
    evidence: str
    evidence_url: str
    confirmed_by_contact: Ref | None
    confirmed_by_name: str


class AccountMilestonesOut(Schema):
    account: int
    framework: Ref | None
    milestones: list[MilestoneOut]


class OutcomeIn(Strict):
    reached_on: Day
    evidence: Annotated[str, Field(min_length=1, max_length=5000)]
    evidence_url: Annotated[str, Field(max_length=500)] = ""
    confirmed_by_contact: Id | None = None
    confirmed_by_name: Annotated[str, Field(max_length=200)] = ""


class BucketOut(Schema):
    low: int
    high: int | None
    count: int


class StatsOut(Schema):
    count: int
    median: float | None
    p75: float | None
    histogram: list[BucketOut]


class SegmentStatsOut(Schema):
    segment: str
    stats: StatsOut


class CohortStatsOut(Schema):
    cohort: str  # YYYY-MM
    stats: StatsOut


class StepOut(Schema):
    milestone: str
    previous: str | None  # null: from the start
    stats: StatsOut


class TimeToValueOut(Schema):
    framework: Ref | None  # null: there is no success framework yet
    first_value: str | None
    accounts: int
    reached: int
    overall: StatsOut
    by_segment: list[SegmentStatsOut]
    by_cohort: list[CohortStatsOut]
    steps: list[StepOut]


class TimeToValueQuery(Schema):
    framework: Id | None = None
    segment: Id | None = None
    cohort: Annotated[str, Field(pattern=r"^(19\d\d|2\d\d\d)-(0[1-9]|1[0-2])$")] | None = None


def _stats(stats: Stats) -> StatsOut:
    return StatsOut(
        count=stats.count,
        median=stats.median,
        p75=stats.p75,
        histogram=[BucketOut(low=b.low, high=b.high, count=b.count) for b in stats.histogram],
    )


def _milestone_out(row: AccountMilestone) -> MilestoneOut:
    reach = row.reach
    contact = reach.confirmed_by_contact if reach else None
    return MilestoneOut(
        key=row.milestone.key,
        name=row.milestone.name,
        kind=row.milestone.kind,
        first_value=row.milestone.is_first_value,
        position=row.milestone.position,
        reached_on=reach.reached_on if reach else None,
        days_from_start=row.days_from_start,
        source=reach.source if reach else None,
        evidence=reach.evidence if reach else "",
        evidence_url=reach.evidence_url if reach else "",
        confirmed_by_contact=Ref(id=contact.pk, name=contact.name) if contact else None,
        confirmed_by_name=reach.confirmed_by_name if reach else "",
    )


def _account_milestones(account: Account) -> AccountMilestonesOut:
    framework = framework_of(account)
    return AccountMilestonesOut(
        account=account.pk,
        framework=Ref(id=framework.pk, name=framework.name) if framework else None,
        milestones=[_milestone_out(row) for row in account_milestones(account, framework)],
    )


def _outcome_milestone(account: Account, key: str) -> MilestoneDefinition:
    framework = framework_of(account)
    milestone = (
        MilestoneDefinition.objects.select_related("framework").filter(framework=framework, key=key).first()
        if framework
        else None
    )
    if milestone is None:
        raise Http404(_("No such milestone in this account's success framework."))
    return milestone


@router.get(
    "/success/time-to-value",
    response=answers({200: TimeToValueOut}, *READ, 404),
    summary="Time to first value and between milestones",
)
def get_time_to_value(request: HttpRequest, filters: Query[TimeToValueQuery]):
    """Days from each account's start to its first-value milestone (median, p75, histogram), by
    segment and by start cohort (month), and between consecutive milestones; over the accounts the
    caller may read. `framework` defaults to the default framework."""
    require_perm(request, "success.view_successframework")
    framework: SuccessFramework | None
    if filters.framework is not None:
        framework = get_object_or_404(SuccessFramework, pk=filters.framework)
    else:
        framework = SuccessFramework.objects.filter(is_default=True).first()
    if framework is None:
        empty = _stats(stats_of([]))
        return TimeToValueOut(
            framework=None,
            first_value=None,
            accounts=0,
            reached=0,
            overall=empty,
            by_segment=[],
            by_cohort=[],
            steps=[],
        )
    found = time_to_value(
        framework=framework,
        segment_id=filters.segment,
        cohort=parse_cohort(filters.cohort) if filters.cohort else None,
        accounts_q=readable_accounts_q(caller(request)),
    )
    return TimeToValueOut(
        framework=Ref(id=framework.pk, name=framework.name),
        first_value=found.first_value.key if found.first_value else None,
        accounts=found.accounts,
        reached=found.reached,
        overall=_stats(found.overall),
        by_segment=[SegmentStatsOut(segment=name, stats=_stats(s)) for name, s in found.by_segment],
        by_cohort=[CohortStatsOut(cohort=f"{month:%Y-%m}", stats=_stats(s)) for month, s in found.by_cohort],
        steps=[
            StepOut(
                milestone=s.milestone.key,
                previous=s.previous.key if s.previous else None,
                stats=_stats(s.stats),
            )
            for s in found.steps
        ],
    )


@router.get(
    "/accounts/{account_id}/milestones",
    response=answers({200: AccountMilestonesOut}, *READ, 404),
    summary="An account's milestones, reached and not yet",
)
def get_account_milestones(request: HttpRequest, account_id: Id):
    """The milestones of the framework the account walks, in order, each with the day it was reached
    (null: not yet), how, and the evidence for outcome milestones."""
    account = get_object_or_404(Account, pk=account_id)
    require_perm(request, "accounts.view_account", account)
    return _account_milestones(account)


@router.post(
    "/accounts/{account_id}/milestones/{milestone_key}",
    response=answers({200: AccountMilestonesOut}, *WRITE, 404, 409),
    summary="Record an outcome milestone the customer reached",
)
def post_outcome(request: HttpRequest, account_id: Id, milestone_key: MilestoneKey, body: OutcomeIn):
    """Outcome milestones only (product milestones are found in usage): the day, the evidence, and
    who at the customer confirmed it (a contact of the account, or a name). 409 when already recorded."""
    account = get_object_or_404(Account, pk=account_id)
    require_perm(request, "accounts.change_account", account)
    milestone = _outcome_milestone(account, milestone_key)
    contact = None
    if body.confirmed_by_contact is not None:
        contact = Contact.objects.filter(pk=body.confirmed_by_contact, account=account).first()
        if contact is None:
            from django.core.exceptions import ValidationError

            raise ValidationError({"confirmed_by_contact": _("No such contact on this account.")})
    milestones.record_outcome(
        account=account,
        milestone=milestone,
        reached_on=body.reached_on,
        evidence=body.evidence,
        evidence_url=body.evidence_url,
        confirmed_by_contact=contact,
        confirmed_by_name=body.confirmed_by_name,
        actor=caller(request),
    )
    return _account_milestones(account)


@router.delete(
    "/accounts/{account_id}/milestones/{milestone_key}",
    response=answers({200: AccountMilestonesOut}, *READ, 404),
    summary="Undo an outcome milestone recorded by hand",
)
def delete_outcome(request: HttpRequest, account_id: Id, milestone_key: MilestoneKey):
    """Take back an outcome milestone (and its timeline entry); 404 when it was not recorded."""
    account = get_object_or_404(Account, pk=account_id)
    require_perm(request, "accounts.change_account", account)
    milestone = _outcome_milestone(account, milestone_key)
    if not milestones.undo_outcome(account=account, milestone=milestone, actor=caller(request)):
        raise Http404(_("This milestone is not recorded for this account."))
    return _account_milestones(account)
