"""Every write to a success plan: each a keyword-only function, one transaction, a "plan_changed"
timeline entry saying what changed, and an audit row.

The plan's words are the customer's own (objectives, KPI names); the services only check that what
points elsewhere points inside the account (contacts) or its framework (milestones), and that numbers
and dates fit what can be stored and worked with.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError as PydanticValidationError

from touchpoint.accounts.models import Account, Contact
from touchpoint.accounts.services import record_on_timeline
from touchpoint.plans.models import (
    PlanKpi,
    PlanMilestone,
    PlanMilestoneStatus,
    PlanObjective,
    PlanShareLink,
    PlanStakeholder,
    PlanStatus,
    StakeholderRole,
    SuccessPlan,
)
from touchpoint.success.definition import PlanTemplate
from touchpoint.success.models import AccountPlacement, MilestoneDefinition, SuccessFramework
from touchpoint.users.models import User
from touchpoint.users.services import record_audit

# Dates a plan can hold: far enough for any real plan, near enough to compute with.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
# Decimal(18, 4): fourteen digits before the point.
KPI_LIMIT = Decimal("99999999999999.9999")
SHARE_DAYS_DEFAULT = 30
SHARE_DAYS_MAX = 365


def token_hash(token: str) -> str:
    """What is stored of a share link's token (the token itself is shown once and never kept)."""
    return hashlib.sha256(token.encode()).hexdigest()


# --- Checks ---------------------------------------------------------------------------------------


def _check_day(name: str, value: date | None) -> None:
    if value is not None and not FIRST_DAY <= value <= LAST_DAY:
        raise ValidationError(
            {name: _("Give a date between %(first)s and %(last)s.") % {"first": FIRST_DAY, "last": LAST_DAY}}
        )


def _check_number(name: str, value: Decimal | None) -> None:
    if value is None:
        return
    if not value.is_finite() or abs(value) > KPI_LIMIT:
        raise ValidationError({name: _("Give a number of at most 14 digits before the point.")})
    if value.as_tuple().exponent < -4:  # type: ignore[operator]
        raise ValidationError({name: _("Give at most 4 digits after the point.")})


def _check_text(name: str, value: str, *, limit: int, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise ValidationError({name: _("This field is required.")})
    if len(value) > limit:
        raise ValidationError({name: _("Keep it to %(limit)s characters.") % {"limit": limit}})
    if "\x00" in value:
        raise ValidationError({name: _("Null characters are not allowed.")})
    return value


def _check_contact(name: str, account: Account, contact: Contact | None) -> None:
    if contact is not None and contact.account_id != account.pk:
        raise ValidationError({name: _("Choose a contact of this account.")})


def plan_frameworks(account: Account, plan: SuccessPlan | None = None) -> set[int]:
    """The frameworks whose milestones a plan of this account may track: its plan's and its placement's."""
    ids = set(
        AccountPlacement.objects.filter(account=account, framework__isnull=False).values_list(
            "framework_id", flat=True
        )
    )
    if plan is not None and plan.framework_id is not None:
        ids.add(plan.framework_id)
    return ids


def _check_milestone(plan: SuccessPlan, milestone: MilestoneDefinition | None) -> None:
    if milestone is not None and milestone.framework_id not in plan_frameworks(plan.account, plan):
        raise ValidationError({"milestone": _("Choose a milestone of this account's success framework.")})


def _changed(
    plan: SuccessPlan, *, change: str, what: str, actor: User | None, audit: dict | None = None
) -> None:
    """The timeline entry and audit row every change writes (inside the change's transaction)."""
    record_on_timeline(
        account=plan.account,
        kind="plan_changed",
        title=f"Success plan {change.replace('_', ' ')}: {what}",
        actor=actor,
        subject=plan,
        data={"change": change, "what": what[:200]},
    )
    record_audit(actor=actor, action=f"plan.{change}", instance=plan, changes=audit or {"what": what[:200]})
    SuccessPlan.objects.filter(pk=plan.pk).update(updated_at=timezone.now())


# --- The plan -------------------------------------------------------------------------------------


def template_framework(account: Account) -> SuccessFramework | None:
    """The framework a new plan starts from: the account's own, else the default."""
    placement = AccountPlacement.objects.filter(account=account).select_related("framework").first()
    if placement is not None and placement.framework is not None:
        return placement.framework
    return SuccessFramework.objects.filter(is_default=True).first()


@transaction.atomic
def create_plan(
    *,
    account: Account,
    actor: User | None,
    framework: SuccessFramework | None = None,
    title: str = "",
    today: date | None = None,
) -> SuccessPlan:
    """A new success plan for the account, started from its framework's plan template (due dates
    counted from today)."""
    Account.objects.select_for_update().filter(pk=account.pk).first()  # one plan, even when two click
    if SuccessPlan.objects.filter(account=account).exists():
        raise ValidationError({"account": _("This account already has a success plan.")})
    today = today or timezone.localdate()
    framework = framework or template_framework(account)
    try:
        template = PlanTemplate.model_validate(framework.plan_template if framework else {})
    except PydanticValidationError:
        raise ValidationError(
            {"framework": _("The framework's plan template is not valid; fix the framework first.")}
        ) from None
    title = _check_text("title", title, limit=200, required=False) or _("Success plan for %(account)s") % {
        "account": account.name
    }
    plan = SuccessPlan.objects.create(
        account=account, title=title[:200], framework=framework, created_by=actor
    )
    for position, objective_template in enumerate(template.objectives):
        objective = PlanObjective.objects.create(plan=plan, text=objective_template.text, position=position)
        PlanKpi.objects.bulk_create(
            PlanKpi(
                objective=objective,
                name=kpi.name,
                unit=kpi.unit,
                baseline=kpi.baseline,
                target=kpi.target,
                due_on=today + timedelta(days=kpi.due_in_days) if kpi.due_in_days is not None else None,
            )
            for kpi in objective_template.kpis
        )
    tracked = {m.key: m for m in MilestoneDefinition.objects.filter(framework=framework)} if framework else {}
    PlanMilestone.objects.bulk_create(
        PlanMilestone(
            plan=plan,
            title=item.title,
            due_on=today + timedelta(days=item.due_in_days) if item.due_in_days is not None else None,
            milestone=tracked.get(item.milestone) if item.milestone else None,
            position=position,
        )
        for position, item in enumerate(template.milestones)
    )
    _changed(plan, change="created", what=plan.title, actor=actor)
    return plan


@transaction.atomic
def update_plan(*, plan: SuccessPlan, title: str, summary: str, actor: User | None) -> SuccessPlan:
    """Rename the plan or change its summary."""
    title = _check_text("title", title, limit=200)
    summary = _check_text("summary", summary, limit=5000, required=False)
    if (plan.title, plan.summary) == (title, summary):
        return plan
    plan.title, plan.summary = title, summary
    plan.save(update_fields=["title", "summary", "updated_at"])
    _changed(plan, change="details", what=title, actor=actor)
    return plan


@transaction.atomic
def agree_plan(*, plan: SuccessPlan, agreed_by: Contact, agreed_on: date, actor: User | None) -> SuccessPlan:
    """Record who at the customer agreed to the plan, and when."""
    if agreed_by is None:
        raise ValidationError({"agreed_by": _("Choose who agreed to the plan.")})
    _check_contact("agreed_by", plan.account, agreed_by)
    _check_day("agreed_on", agreed_on)
    if agreed_on > timezone.localdate():
        raise ValidationError({"agreed_on": _("The plan cannot be agreed in the future.")})
    if (plan.status, plan.agreed_by_id, plan.agreed_on) == (PlanStatus.AGREED, agreed_by.pk, agreed_on):
        return plan
    plan.status, plan.agreed_by, plan.agreed_on = PlanStatus.AGREED, agreed_by, agreed_on
    plan.save(update_fields=["status", "agreed_by", "agreed_on", "updated_at"])
    _changed(plan, change="agreed", what=f"{agreed_by.name}, {agreed_on.isoformat()}", actor=actor)
    return plan


@transaction.atomic
def close_plan(*, plan: SuccessPlan, actor: User | None) -> SuccessPlan:
    """Close the plan (done with, or replaced by a new commitment); its links stop opening."""
    if plan.status == PlanStatus.CLOSED:
        return plan
    plan.status = PlanStatus.CLOSED
    plan.save(update_fields=["status", "updated_at"])
    _changed(plan, change="closed", what=plan.title, actor=actor)
    return plan


@transaction.atomic
def reopen_plan(*, plan: SuccessPlan, actor: User | None) -> SuccessPlan:
    """Open a closed plan again: agreed if it had been agreed, else a draft."""
    if plan.status != PlanStatus.CLOSED:
        return plan
    plan.status = PlanStatus.AGREED if plan.agreed_on else PlanStatus.DRAFT
    plan.save(update_fields=["status", "updated_at"])
    _changed(plan, change="reopened", what=plan.title, actor=actor)
    return plan


# --- Objectives and KPIs --------------------------------------------------------------------------


@transaction.atomic
def add_objective(*, plan: SuccessPlan, text: str, actor: User | None) -> PlanObjective:
    """An objective in the customer's own words."""
    text = _check_text("text", text, limit=2000)
    position = plan.objectives.count()
    objective = PlanObjective.objects.create(plan=plan, text=text, position=position)
    _changed(plan, change="objective_added", what=text, actor=actor)
    return objective


@transaction.atomic
def change_objective(*, objective: PlanObjective, text: str, actor: User | None) -> PlanObjective:
    text = _check_text("text", text, limit=2000)
    if objective.text == text:
        return objective
    old = objective.text
    objective.text = text
    objective.save(update_fields=["text"])
    _changed(objective.plan, change="objective_changed", what=text, actor=actor, audit={"text": [old, text]})
    return objective


@transaction.atomic
def remove_objective(*, objective: PlanObjective, actor: User | None) -> None:
    """Remove an objective and its KPIs."""
    plan = objective.plan
    objective.delete()
    _changed(plan, change="objective_removed", what=objective.text, actor=actor)


@dataclass
class KpiValues:
    """What a KPI says: its name, unit, where it started, where it should get, where it is, by when, whose."""

    name: str
    unit: str = ""
    baseline: Decimal | None = None
    target: Decimal | None = None
    current: Decimal | None = None
    due_on: date | None = None
    owner: Contact | None = None

    def check(self, account: Account) -> KpiValues:
        self.name = _check_text("name", self.name, limit=100)
        self.unit = _check_text("unit", self.unit, limit=30, required=False)
        for name in ("baseline", "target", "current"):
            _check_number(name, getattr(self, name))
        _check_day("due_on", self.due_on)
        _check_contact("owner", account, self.owner)
        return self


KPI_FIELDS = ("name", "unit", "baseline", "target", "current", "due_on", "owner")


@transaction.atomic
def add_kpi(*, objective: PlanObjective, values: KpiValues, actor: User | None) -> PlanKpi:
    """A KPI under an objective: how both sides will know it is met."""
    plan = objective.plan
    values.check(plan.account)
    kpi = PlanKpi.objects.create(objective=objective, **{name: getattr(values, name) for name in KPI_FIELDS})
    _changed(plan, change="kpi_added", what=values.name, actor=actor)
    return kpi


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Contact):
        return value.pk
    return value


@transaction.atomic
def change_kpi(*, kpi: PlanKpi, values: KpiValues, actor: User | None) -> PlanKpi:
    """Change a KPI (usually its current value); the timeline says which fields moved."""
    plan = kpi.objective.plan
    values.check(plan.account)
    changes: dict[str, list[Any]] = {}
    for name in KPI_FIELDS:
        old = getattr(kpi, name)
        new = getattr(values, name)
        old_plain, new_plain = _plain(old), _plain(new)
        if isinstance(old, Decimal) or isinstance(new, Decimal):
            same = (old is None and new is None) or (old is not None and new is not None and old == new)
        else:
            same = old_plain == new_plain
        if not same:
            changes[name] = [old_plain, new_plain]
            setattr(kpi, name, new)
    if not changes:
        return kpi
    kpi.save()
    what = values.name
    if "current" in changes:
        what = f"{values.name} {changes['current'][0] or '—'} → {changes['current'][1] or '—'} {values.unit}".strip()
    _changed(plan, change="kpi_changed", what=what, actor=actor, audit=changes)
    return kpi


@transaction.atomic
def remove_kpi(*, kpi: PlanKpi, actor: User | None) -> None:
    plan = kpi.objective.plan
    kpi.delete()
    _changed(plan, change="kpi_removed", what=kpi.name, actor=actor)


# --- Stakeholders ---------------------------------------------------------------------------------


@transaction.atomic
def add_stakeholder(*, plan: SuccessPlan, contact: Contact, role: str, actor: User | None) -> PlanStakeholder:
    """Name a contact as the plan's champion, decision maker or executive sponsor (idempotent)."""
    if contact is None:
        raise ValidationError({"contact": _("Choose a contact of this account.")})
    _check_contact("contact", plan.account, contact)
    if role not in StakeholderRole.values:
        raise ValidationError({"role": _("Choose champion, decision maker or executive sponsor.")})
    stakeholder, created = PlanStakeholder.objects.get_or_create(plan=plan, contact=contact, role=role)
    if created:
        label = StakeholderRole(role).label
        _changed(plan, change="stakeholder_added", what=f"{contact.name} ({label})", actor=actor)
    return stakeholder


@transaction.atomic
def remove_stakeholder(*, stakeholder: PlanStakeholder, actor: User | None) -> None:
    plan = stakeholder.plan
    stakeholder.delete()
    what = f"{stakeholder.contact.name} ({StakeholderRole(stakeholder.role).label})"
    _changed(plan, change="stakeholder_removed", what=what, actor=actor)


# --- Plan milestones ------------------------------------------------------------------------------


@dataclass
class MilestoneValues:
    title: str
    due_on: date | None = None
    status: str = PlanMilestoneStatus.PLANNED
    progress: int = 0
    milestone: MilestoneDefinition | None = None

    def check(self, plan: SuccessPlan) -> MilestoneValues:
        self.title = _check_text("title", self.title, limit=100)
        _check_day("due_on", self.due_on)
        if self.status not in PlanMilestoneStatus.values:
            raise ValidationError({"status": _("Choose planned, in progress, done or missed.")})
        if not 0 <= self.progress <= 100:
            raise ValidationError({"progress": _("Progress is a percentage from 0 to 100.")})
        _check_milestone(plan, self.milestone)
        if self.status == PlanMilestoneStatus.DONE:
            self.progress = 100
        return self


MILESTONE_FIELDS = ("title", "due_on", "status", "progress", "milestone")


def _done_on(status: str, was_done_on: date | None) -> date | None:
    if status != PlanMilestoneStatus.DONE:
        return None
    return was_done_on or timezone.localdate()


@transaction.atomic
def add_milestone(*, plan: SuccessPlan, values: MilestoneValues, actor: User | None) -> PlanMilestone:
    """A dated step of the plan (optionally tracking a framework milestone)."""
    values.check(plan)
    milestone = PlanMilestone.objects.create(
        plan=plan,
        position=plan.milestones.count(),
        done_on=_done_on(values.status, None),
        **{name: getattr(values, name) for name in MILESTONE_FIELDS},
    )
    _changed(plan, change="milestone_added", what=values.title, actor=actor)
    return milestone


@transaction.atomic
def change_milestone(
    *, milestone: PlanMilestone, values: MilestoneValues, actor: User | None
) -> PlanMilestone:
    """Move a plan milestone on: its status, progress, due date or what it tracks."""
    plan = milestone.plan
    values.check(plan)
    changes = {
        name: [_plain(getattr(milestone, name)), _plain(getattr(values, name))]
        for name in MILESTONE_FIELDS
        if _plain(getattr(milestone, name)) != _plain(getattr(values, name))
    }
    if "milestone" in changes:
        changes["milestone"] = [milestone.milestone_id, values.milestone.pk if values.milestone else None]
    if not changes:
        return milestone
    for name in MILESTONE_FIELDS:
        setattr(milestone, name, getattr(values, name))
    milestone.done_on = _done_on(values.status, milestone.done_on)
    milestone.save()
    what = values.title
    if "status" in changes:
        what = f"{values.title}: {PlanMilestoneStatus(values.status).label}"
    elif "progress" in changes:
        what = f"{values.title}: {values.progress}%"
    _changed(plan, change="milestone_changed", what=what, actor=actor, audit=changes)
    return milestone


@transaction.atomic
def remove_milestone(*, milestone: PlanMilestone, actor: User | None) -> None:
    plan = milestone.plan
    milestone.delete()
    _changed(plan, change="milestone_removed", what=milestone.title, actor=actor)


# --- The whole plan at once (the API's PUT) -------------------------------------------------------


@dataclass
class ObjectiveValues:
    text: str
    kpis: list[KpiValues] = field(default_factory=list)


@dataclass
class PlanValues:
    """A whole plan, as the API's PUT sends it: what is not listed is removed."""

    title: str
    summary: str = ""
    objectives: list[ObjectiveValues] = field(default_factory=list)
    stakeholders: list[tuple[Contact, str]] = field(default_factory=list)
    milestones: list[MilestoneValues] = field(default_factory=list)
    agreed_by: Contact | None = None
    agreed_on: date | None = None
    closed: bool = False


def _snapshot(plan: SuccessPlan) -> Any:
    """The plan's content, to tell whether a PUT changed anything (ids aside)."""
    return (
        plan.title,
        plan.summary,
        plan.status,
        plan.agreed_by_id,
        plan.agreed_on,
        [
            (
                o.text,
                [
                    (*(_plain(getattr(k, n)) for n in KPI_FIELDS if n != "owner"), k.owner_id)
                    for k in o.kpis.all()
                ],
            )
            for o in plan.objectives.all()
        ],
        sorted((s.contact_id, s.role) for s in plan.stakeholders.all()),
        [(m.title, _plain(m.due_on), m.status, m.progress, m.milestone_id) for m in plan.milestones.all()],
    )


@transaction.atomic
def replace_plan(*, account: Account, values: PlanValues, actor: User | None) -> tuple[SuccessPlan, bool]:
    """Make the account's plan say exactly `values` (created when missing). Returns (plan, created).

    Sending the same plan twice changes nothing and records nothing the second time."""
    Account.objects.select_for_update().filter(pk=account.pk).first()
    plan = SuccessPlan.objects.filter(account=account).first()
    created = plan is None
    if plan is None:
        plan = SuccessPlan(account=account, created_by=actor, framework=template_framework(account))
    values.title = _check_text("title", values.title, limit=200)
    values.summary = _check_text("summary", values.summary, limit=5000, required=False)
    for index, objective in enumerate(values.objectives):
        _nested(f"objectives.{index}.text", lambda o=objective: _check_text("text", o.text, limit=2000))
        objective.text = objective.text.strip()
        for kpi_index, kpi in enumerate(objective.kpis):
            _nested(f"objectives.{index}.kpis.{kpi_index}", lambda k=kpi: k.check(account))
    for index, (contact, role) in enumerate(values.stakeholders):
        _nested(f"stakeholders.{index}.contact", lambda c=contact: _check_contact("contact", account, c))
        if role not in StakeholderRole.values:
            raise ValidationError(
                {f"stakeholders.{index}.role": _("Choose champion, decision maker or executive sponsor.")}
            )
    if len(set(values.stakeholders)) != len(values.stakeholders):
        raise ValidationError({"stakeholders": _("A contact is named twice in the same role.")})
    for index, milestone in enumerate(values.milestones):
        _nested(f"milestones.{index}", lambda m=milestone: m.check(plan))
    if (values.agreed_by is None) != (values.agreed_on is None):
        raise ValidationError({"agreed_on": _("Give both who agreed to the plan and when, or neither.")})
    if values.agreed_by is not None:
        _check_contact("agreed_by", account, values.agreed_by)
        _check_day("agreed_on", values.agreed_on)
    before = None if created else _snapshot(plan)
    plan.title, plan.summary = values.title, values.summary
    plan.agreed_by, plan.agreed_on = values.agreed_by, values.agreed_on
    if values.closed:
        plan.status = PlanStatus.CLOSED
    else:
        plan.status = PlanStatus.AGREED if values.agreed_on else PlanStatus.DRAFT
    plan.save()
    done_before = {m.title: m.done_on for m in plan.milestones.all()} if not created else {}
    plan.objectives.all().delete()
    plan.stakeholders.all().delete()
    plan.milestones.all().delete()
    for position, objective_values in enumerate(values.objectives):
        written = PlanObjective.objects.create(plan=plan, text=objective_values.text, position=position)
        PlanKpi.objects.bulk_create(
            PlanKpi(objective=written, **{name: getattr(kpi, name) for name in KPI_FIELDS})
            for kpi in objective_values.kpis
        )
    PlanStakeholder.objects.bulk_create(
        PlanStakeholder(plan=plan, contact=contact, role=role) for contact, role in values.stakeholders
    )
    PlanMilestone.objects.bulk_create(
        PlanMilestone(
            plan=plan,
            position=position,
            done_on=_done_on(m.status, done_before.get(m.title)),
            **{name: getattr(m, name) for name in MILESTONE_FIELDS},
        )
        for position, m in enumerate(values.milestones)
    )
    if created:
        _changed(plan, change="created", what=plan.title, actor=actor)
    elif _snapshot(plan) != before:
        _changed(plan, change="replaced", what=plan.title, actor=actor)
    return plan, created


def _nested(prefix: str, check: Any) -> None:
    """Run a check whose errors name a field, and name it under `prefix` instead (a.0.b)."""
    try:
        check()
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise ValidationError(
                {
                    (prefix if prefix.endswith(name) else f"{prefix}.{name}"): messages
                    for name, messages in error.message_dict.items()
                }
            ) from None
        raise


# --- Share links ----------------------------------------------------------------------------------


def link_language(plan: SuccessPlan) -> str:
    """The language a new link opens in: whoever agreed to the plan's, else the account's, else the site's."""
    if plan.agreed_by is not None and plan.agreed_by.language:
        return plan.agreed_by.language
    return plan.account.language or settings.LANGUAGE_CODE


@transaction.atomic
def create_share_link(
    *, plan: SuccessPlan, language: str, days: int = SHARE_DAYS_DEFAULT, actor: User | None
) -> tuple[PlanShareLink, str]:
    """A read-only link for the customer; returns (link, token). Only the token's hash is kept, so
    the token is shown to the person once."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose one of the site's languages.")})
    if not 1 <= days <= SHARE_DAYS_MAX:
        raise ValidationError({"days": _("A link lasts from 1 to %(max)s days.") % {"max": SHARE_DAYS_MAX}})
    if plan.status == PlanStatus.CLOSED:
        raise ValidationError({"plan": _("A closed plan cannot be shared.")})
    token = secrets.token_urlsafe(32)
    link = PlanShareLink.objects.create(
        plan=plan,
        token_hash=token_hash(token),
        language=language,
        expires_at=timezone.now() + timedelta(days=days),
        created_by=actor,
    )
    expires = link.expires_at.date().isoformat()
    _changed(plan, change="shared", what=f"{language}, {expires}", actor=actor)
    return link, token


@transaction.atomic
def revoke_share_link(*, link: PlanShareLink, actor: User | None) -> PlanShareLink:
    """Stop a link from opening (idempotent)."""
    if link.revoked_at is not None:
        return link
    link.revoked_at = timezone.now()
    link.save(update_fields=["revoked_at"])
    _changed(link.plan, change="share_revoked", what=link.created_at.date().isoformat(), actor=actor)
    return link


def note_link_opened(link: PlanShareLink) -> None:
    """Count an opening of a shared link (one UPDATE; what the CSM sees as "opened N times")."""
    from django.db.models import F

    PlanShareLink.objects.filter(pk=link.pk).update(
        times_opened=F("times_opened") + 1, last_opened_at=timezone.now()
    )
