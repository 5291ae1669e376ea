"""REST API for advocacy: advocates (with what they did), asks and their status transitions, rewards,
candidates, the pool and the settings. Every row is checked against its account's book, as the pages
check it (advocacy/rules.py). A refused ask (the quarter limit) is a 422 naming `contact`, whose
message says the limit and the day the contact can be asked again."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from touchpoint.accounts.models import Contact
from touchpoint.accounts.schemas import Ref
from touchpoint.advocacy import selectors, services
from touchpoint.advocacy.models import AdvocacySettings, Advocate, Ask, Candidate, Reward
from touchpoint.api_contract import (
    READ,
    WRITE,
    Day,
    Id,
    Page,
    Paging,
    Strict,
    answers,
    caller,
    page_of,
    require_perm,
)

router = Router(tags=["advocacy"])

ActivityKindValue = Literal[
    "reference_call", "review", "testimonial", "case_study", "referral", "speaking", "advisory_board"
]
AskStatusValue = Literal["asked", "accepted", "done", "declined"]
NextStatusValue = Literal["accepted", "done", "declined"]
RewardKindValue = Literal["gift", "discount", "swag", "donation", "other"]
NOTE = Field("", max_length=5000)


class ContactRef(Schema):
    id: int
    name: str
    account: Ref


class ActivityOut(Schema):
    id: int
    kind: ActivityKindValue
    occurred_on: date
    note: str
    link: str
    ask_id: int | None


class AdvocateOut(Schema):
    id: int
    contact: ContactRef
    since: date
    notes: str
    activity_counts: dict[str, int] = Field(description="Activities by kind.")
    activities: int
    last_activity_on: date | None


class AdvocateDetailOut(AdvocateOut):
    recent_activities: list[ActivityOut]


class AdvocateIn(Strict):
    contact: Id
    since: Day | None = None
    notes: str = NOTE


class AdvocatePatch(Strict):
    since: Day = None  # type: ignore[assignment]
    notes: str = Field(None, max_length=5000)  # type: ignore[assignment]


class ActivityIn(Strict):
    kind: ActivityKindValue
    occurred_on: Day | None = None
    note: str = NOTE
    link: str = Field("", max_length=500)


class AskOut(Schema):
    id: int
    contact: ContactRef
    kind: ActivityKindValue
    status: AskStatusValue
    asked_on: date
    asked_by: str | None
    note: str
    outcome_note: str
    closed_on: date | None
    activity_id: int | None


class AskIn(Strict):
    contact: Id
    kind: ActivityKindValue
    asked_on: Day | None = Field(
        None, description="Default today; the quarter rule counts the asks of its quarter."
    )
    note: str = NOTE


class AskStatusIn(Strict):
    status: NextStatusValue
    on: Day | None = Field(None, description="When it happened (default today).")
    outcome_note: str = NOTE
    link: str = Field("", max_length=500, description="For done: where the review, recording or story is.")


class RewardOut(Schema):
    id: int
    advocate_id: int
    contact: ContactRef
    kind: RewardKindValue
    value: Decimal
    currency: str
    given_on: date
    note: str


class RewardIn(Strict):
    kind: RewardKindValue
    value: Decimal = Field(
        Decimal(0), ge=0, le=Decimal("9999999999.99"), max_digits=12, decimal_places=2, strict=False
    )
    currency: str = Field("", max_length=3, pattern=r"^([A-Z]{3})?$")
    given_on: Day | None = None
    note: str = NOTE


class CandidateOut(Schema):
    contact: ContactRef
    is_candidate: bool
    source: Literal["survey", "manual"]
    nps_score: int | None
    category: str
    scored_at: datetime | None
    answer_id: int | None
    since: datetime


class CandidateIn(Strict):
    contact: Id


class PoolOut(CandidateOut):
    grade: str
    arr: Decimal | None
    last_asked_on: date | None


class SettingsOut(Schema):
    max_asks_per_quarter: int
    pool_quiet_days: int


class SettingsIn(Strict):
    max_asks_per_quarter: int = Field(None, ge=1, le=50)  # type: ignore[assignment]
    pool_quiet_days: int = Field(None, ge=1, le=3650)  # type: ignore[assignment]


# --- Shaping -------------------------------------------------------------------------------------------


def _contact(contact: Contact) -> ContactRef:
    return ContactRef(
        id=contact.pk, name=contact.name, account=Ref(id=contact.account.pk, name=contact.account.name)
    )


def _activity_out(activity) -> ActivityOut:
    return ActivityOut(
        id=activity.pk,
        kind=activity.kind,
        occurred_on=activity.occurred_on,
        note=activity.note,
        link=activity.link,
        ask_id=activity.ask_id,
    )


def _advocate_out(advocate: Advocate) -> AdvocateOut:
    counts = {kind: getattr(advocate, f"n_{kind}") for kind in ActivityKindValue.__args__}  # type: ignore[attr-defined]
    return AdvocateOut(
        id=advocate.pk,
        contact=_contact(advocate.contact),
        since=advocate.since,
        notes=advocate.notes,
        activity_counts=counts,
        activities=advocate.n_activities,  # type: ignore[attr-defined]
        last_activity_on=advocate.last_activity_on,  # type: ignore[attr-defined]
    )


def _ask_out(the_ask: Ask) -> AskOut:
    activity = getattr(the_ask, "activity", None)
    return AskOut(
        id=the_ask.pk,
        contact=_contact(the_ask.contact),
        kind=the_ask.kind,  # type: ignore[arg-type]
        status=the_ask.status,  # type: ignore[arg-type]
        asked_on=the_ask.asked_on,
        asked_by=the_ask.asked_by.email if the_ask.asked_by else None,
        note=the_ask.note,
        outcome_note=the_ask.outcome_note,
        closed_on=the_ask.closed_on,
        activity_id=activity.pk if activity is not None else None,
    )


def _reward_out(reward: Reward) -> RewardOut:
    return RewardOut(
        id=reward.pk,
        advocate_id=reward.advocate_id,
        contact=_contact(reward.advocate.contact),
        kind=reward.kind,  # type: ignore[arg-type]
        value=reward.value,
        currency=reward.currency,
        given_on=reward.given_on,
        note=reward.note,
    )


def _candidate_fields(candidate: Candidate) -> dict:
    return {
        "contact": _contact(candidate.contact),
        "is_candidate": candidate.is_candidate,
        "source": candidate.source,
        "nps_score": candidate.nps_score,
        "category": candidate.category,
        "scored_at": candidate.scored_at,
        "answer_id": candidate.answer_id,
        "since": candidate.since,
    }


def _candidate_out(candidate: Candidate) -> CandidateOut:
    return CandidateOut(**_candidate_fields(candidate))


def _pool_out(candidate: Candidate) -> PoolOut:
    return PoolOut(
        **_candidate_fields(candidate),
        grade=candidate.grade,  # type: ignore[attr-defined]
        arr=candidate.arr,  # type: ignore[attr-defined]
        last_asked_on=candidate.last_asked_on,  # type: ignore[attr-defined]
    )


def _find_contact(contact_id: int) -> Contact:
    contact = Contact.objects.select_related("account").filter(pk=contact_id).first()
    if contact is None:
        raise ValidationError({"contact": _("No such contact: %(id)s.") % {"id": contact_id}})
    return contact


def _advocate(request: HttpRequest, advocate_id: int) -> Advocate:
    advocate = get_object_or_404(
        Advocate.objects.select_related("contact__account", "account"), pk=advocate_id
    )
    require_perm(request, "advocacy.view_advocate", advocate.account)
    return advocate


def _load_advocate(request: HttpRequest, advocate_id: int) -> Advocate:
    _advocate(request, advocate_id)
    return selectors.advocates(request.user).get(pk=advocate_id)


# --- Advocates -------------------------------------------------------------------------------------------


@router.get(
    "/advocacy/advocates", response=answers({200: Page[AdvocateOut]}, *READ), summary="List advocates"
)
def list_advocates(
    request: HttpRequest,
    paging: Query[Paging],
    account: Id | None = None,
    kind: ActivityKindValue | None = None,
):
    """Advocates of the accounts the caller reads, the most active first, with their activity counts
    by kind. `kind` keeps those who did that at least once."""
    require_perm(request, "advocacy.view_advocate")
    return page_of(
        selectors.advocates(request.user, account_id=account, kind=kind or ""), paging, _advocate_out
    )


@router.post(
    "/advocacy/advocates", response=answers({201: AdvocateOut}, *WRITE, 409), summary="Add an advocate"
)
def add_advocate(request: HttpRequest, body: AdvocateIn):
    """Make a contact an advocate (a contact who is one already: 409)."""
    contact = _find_contact(body.contact)
    require_perm(request, "advocacy.change_advocate", contact.account)
    advocate = services.add_advocate(
        contact=contact, actor=caller(request), since=body.since, notes=body.notes
    )
    return Status(201, _advocate_out(selectors.advocates(request.user).get(pk=advocate.pk)))


@router.get(
    "/advocacy/advocates/{advocate_id}",
    response=answers({200: AdvocateDetailOut}, *READ, 404),
    summary="Get an advocate",
)
def get_advocate(request: HttpRequest, advocate_id: Id):
    advocate = _load_advocate(request, advocate_id)
    recent = [_activity_out(a) for a in selectors.activities(request.user, advocate_id=advocate.pk)[:50]]
    return AdvocateDetailOut(**_advocate_out(advocate).model_dump(), recent_activities=recent)


@router.patch(
    "/advocacy/advocates/{advocate_id}",
    response=answers({200: AdvocateOut}, *WRITE, 404),
    summary="Change an advocate",
)
def change_advocate(request: HttpRequest, advocate_id: Id, body: AdvocatePatch):
    advocate = _advocate(request, advocate_id)
    require_perm(request, "advocacy.change_advocate", advocate.account)
    changes = body.model_dump(exclude_unset=True)
    for field in ("since", "notes"):
        if field in changes and changes[field] is None:
            raise ValidationError({field: _("This field cannot be null.")})
    services.update_advocate(advocate=advocate, actor=caller(request), **changes)
    return _advocate_out(_load_advocate(request, advocate_id))


@router.get(
    "/advocacy/advocates/{advocate_id}/activities",
    response=answers({200: Page[ActivityOut]}, *READ, 404),
    summary="List an advocate's activities",
)
def list_activities(request: HttpRequest, advocate_id: Id, paging: Query[Paging]):
    advocate = _advocate(request, advocate_id)
    return page_of(selectors.activities(request.user, advocate_id=advocate.pk), paging, _activity_out)


@router.post(
    "/advocacy/advocates/{advocate_id}/activities",
    response=answers({201: ActivityOut}, *WRITE, 404),
    summary="Record an activity",
)
def record_activity(request: HttpRequest, advocate_id: Id, body: ActivityIn):
    """Something the advocate did without an ask (a done ask records its own)."""
    advocate = _advocate(request, advocate_id)
    require_perm(request, "advocacy.change_advocate", advocate.account)
    activity = services.record_activity(
        advocate=advocate,
        kind=body.kind,
        actor=caller(request),
        occurred_on=body.occurred_on,
        note=body.note,
        link=body.link,
    )
    return Status(201, _activity_out(activity))


@router.post(
    "/advocacy/advocates/{advocate_id}/rewards",
    response=answers({201: RewardOut}, *WRITE, 404),
    summary="Give a reward",
)
def give_reward(request: HttpRequest, advocate_id: Id, body: RewardIn):
    """A thank-you given to the advocate; `currency` defaults to the reporting currency."""
    advocate = _advocate(request, advocate_id)
    require_perm(request, "advocacy.change_advocate", advocate.account)
    reward = services.give_reward(
        advocate=advocate,
        kind=body.kind,
        actor=caller(request),
        value=body.value,
        currency=body.currency,
        given_on=body.given_on,
        note=body.note,
    )
    return Status(201, _reward_out(reward))


@router.get("/advocacy/rewards", response=answers({200: Page[RewardOut]}, *READ), summary="List rewards")
def list_rewards(
    request: HttpRequest, paging: Query[Paging], account: Id | None = None, advocate: Id | None = None
):
    require_perm(request, "advocacy.view_advocate")
    return page_of(
        selectors.rewards(request.user, account_id=account, advocate_id=advocate), paging, _reward_out
    )


# --- Asks ------------------------------------------------------------------------------------------------


@router.get("/advocacy/asks", response=answers({200: Page[AskOut]}, *READ), summary="List asks")
def list_asks(
    request: HttpRequest,
    paging: Query[Paging],
    status: AskStatusValue | None = None,
    account: Id | None = None,
    contact: Id | None = None,
):
    """Asks at the accounts the caller reads, the latest first."""
    require_perm(request, "advocacy.view_advocate")
    found = selectors.asks(request.user, status=status or "", account_id=account, contact_id=contact)
    return page_of(found, paging, _ask_out)


@router.post("/advocacy/asks", response=answers({201: AskOut}, *WRITE), summary="Ask a contact")
def make_ask(request: HttpRequest, body: AskIn):
    """Ask a contact for a reference, a review… A contact asked `max_asks_per_quarter` times in the
    quarter already is refused with a 422 naming `contact`: the message says the limit and the day
    they can be asked again."""
    contact = _find_contact(body.contact)
    require_perm(request, "advocacy.add_ask", contact.account)
    the_ask = services.ask(
        contact=contact, kind=body.kind, actor=caller(request), asked_on=body.asked_on, note=body.note
    )
    return Status(201, _ask_out(selectors.asks(request.user).get(pk=the_ask.pk)))


def _ask(request: HttpRequest, ask_id: int) -> Ask:
    the_ask = get_object_or_404(Ask.objects.select_related("account"), pk=ask_id)
    require_perm(request, "advocacy.view_advocate", the_ask.account)
    return the_ask


@router.get("/advocacy/asks/{ask_id}", response=answers({200: AskOut}, *READ, 404), summary="Get an ask")
def get_ask(request: HttpRequest, ask_id: Id):
    _ask(request, ask_id)
    return _ask_out(selectors.asks(request.user).get(pk=ask_id))


@router.post(
    "/advocacy/asks/{ask_id}/status", response=answers({200: AskOut}, *WRITE, 404), summary="Move an ask on"
)
def change_ask_status(request: HttpRequest, ask_id: Id, body: AskStatusIn):
    """asked → accepted, done or declined; accepted → done or declined (done and declined are final:
    a 422 on `status`). Done records the activity and makes the contact an advocate if need be."""
    the_ask = _ask(request, ask_id)
    require_perm(request, "advocacy.change_ask", the_ask.account)
    services.change_ask(
        the_ask=the_ask,
        status=body.status,
        actor=caller(request),
        outcome_note=body.outcome_note,
        on=body.on,
        link=body.link,
    )
    return _ask_out(selectors.asks(request.user).get(pk=ask_id))


# --- Candidates and the pool ------------------------------------------------------------------------------


@router.get(
    "/advocacy/candidates", response=answers({200: Page[CandidateOut]}, *READ), summary="List candidates"
)
def list_candidates(request: HttpRequest, paging: Query[Paging]):
    """Contacts who are advocacy candidates now (promoters, or marked by hand), the latest first."""
    require_perm(request, "advocacy.view_advocate")
    return page_of(selectors.candidates(request.user), paging, _candidate_out)


@router.post(
    "/advocacy/candidates", response=answers({200: CandidateOut}, *WRITE), summary="Mark a candidate"
)
def mark_candidate(request: HttpRequest, body: CandidateIn):
    contact = _find_contact(body.contact)
    require_perm(request, "advocacy.change_advocate", contact.account)
    services.mark_candidate(contact=contact, actor=caller(request))
    return _candidate_out(Candidate.objects.select_related("contact__account").get(contact=contact))


@router.delete(
    "/advocacy/candidates/{contact_id}",
    response=answers({204: None}, *WRITE, 404),
    summary="Unmark a candidate",
)
def unmark_candidate(request: HttpRequest, contact_id: Id):
    contact = get_object_or_404(Contact.objects.select_related("account"), pk=contact_id)
    require_perm(request, "advocacy.change_advocate", contact.account)
    services.unmark_candidate(contact=contact, actor=caller(request))
    return Status(204, None)


@router.get("/advocacy/pool", response=answers({200: Page[PoolOut]}, *READ), summary="The pool")
def pool(request: HttpRequest, paging: Query[Paging]):
    """Promoters at accounts whose latest health grade is green, not asked within the setting's quiet
    days: the most recent scores first, then the largest ARR."""
    require_perm(request, "advocacy.view_advocate")
    return page_of(selectors.pool(request.user), paging, _pool_out)


# --- Settings ----------------------------------------------------------------------------------------------


@router.get("/advocacy/settings", response=answers({200: SettingsOut}, *READ), summary="Advocacy settings")
def get_settings(request: HttpRequest):
    require_perm(request, "advocacy.view_advocate")
    current = AdvocacySettings.current()
    return SettingsOut(
        max_asks_per_quarter=current.max_asks_per_quarter, pool_quiet_days=current.pool_quiet_days
    )


@router.patch(
    "/advocacy/settings", response=answers({200: SettingsOut}, *WRITE), summary="Change advocacy settings"
)
def change_settings(request: HttpRequest, body: SettingsIn):
    """Admins only: the asks per contact per quarter, and the pool's days since the last ask."""
    require_perm(request, "advocacy.change_advocacysettings")
    changes = body.model_dump(exclude_unset=True)
    current = services.change_settings(
        actor=caller(request),
        max_asks_per_quarter=changes.get("max_asks_per_quarter"),
        pool_quiet_days=changes.get("pool_quiet_days"),
    )
    return SettingsOut(
        max_asks_per_quarter=current.max_asks_per_quarter, pool_quiet_days=current.pool_quiet_days
    )
