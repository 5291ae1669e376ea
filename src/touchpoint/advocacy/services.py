"""Every write to advocacy. Each public function is one transaction: it validates, writes, and records
the change (account timeline, audit log, domain event).

The quarter rule lives in `ask`: a contact is asked at most `AdvocacySettings.max_asks_per_quarter`
times in a calendar quarter (every ask counts, whatever became of it). The contact's row is locked
while the asks are counted, so two CSMs asking at once take turns and the second one is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, override

from touchpoint.accounts.models import Contact
from touchpoint.accounts.services import record_on_timeline
from touchpoint.advocacy.models import (
    Activity,
    ActivityKind,
    AdvocacySettings,
    Advocate,
    Ask,
    AskStatus,
    Candidate,
    CandidateSource,
    Reward,
    RewardKind,
)
from touchpoint.events.services import record_event
from touchpoint.users.models import User
from touchpoint.users.services import record_audit

# How far back a date may be typed (the history of a long relationship), and never in the future.
OLDEST = 30 * 366
MAX_VALUE = Decimal("9999999999.99")
_CURRENCY = re.compile(r"^[A-Z]{3}$")

# Where an ask may go next; done and declined are final.
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    AskStatus.ASKED: (AskStatus.ACCEPTED, AskStatus.DONE, AskStatus.DECLINED),
    AskStatus.ACCEPTED: (AskStatus.DONE, AskStatus.DECLINED),
    AskStatus.DONE: (),
    AskStatus.DECLINED: (),
}


# --- Checks ---------------------------------------------------------------------------------------


def check_day(day: date, field: str, *, today: date | None = None) -> date:
    today = today or timezone.localdate()
    if day > today:
        raise ValidationError({field: _("This date is in the future.")})
    if (today - day).days > OLDEST:
        raise ValidationError({field: _("A date more than thirty years ago is a typo, surely.")})
    return day


def check_kind(kind: str, field: str = "kind") -> str:
    if kind not in ActivityKind.values:
        raise ValidationError({field: _("Unknown kind of advocacy: %(kind)s.") % {"kind": kind}})
    return kind


def check_link(link: str) -> str:
    link = (link or "").strip()
    if link:
        try:
            URLValidator(schemes=["http", "https"])(link)
        except ValidationError:
            raise ValidationError(
                {"link": _("Give a web address starting with http:// or https://.")}
            ) from None
        if len(link) > 500:
            raise ValidationError({"link": _("A link has at most 500 characters.")})
    return link


def check_text(text: str, field: str, *, limit: int = 5000) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise ValidationError({field: _("At most %(limit)d characters.") % {"limit": limit}})
    return text


def _english(label: Any) -> str:
    """A label as stored in a system-written timeline title: plain English (`describe` translates)."""
    with override("en"):
        return str(label)


# What the timeline entries say (the titles in plain English; `describe` renders them for the
# reader from the data). The demo writes the same.


def ask_title(name: str, kind: str, status: str) -> str:
    return f"{name}: {_english(ActivityKind(kind).label)} {status}"[:255]


def ask_data(contact: Contact, kind: str, status: str) -> dict[str, Any]:
    return {"contact": contact.name, "contact_id": contact.pk, "kind": kind, "status": status}


def activity_title(name: str, kind: str) -> str:
    return f"{name}: {_english(ActivityKind(kind).label)} done"[:255]


def activity_data(contact: Contact, kind: str, link: str) -> dict[str, Any]:
    return {"contact": contact.name, "contact_id": contact.pk, "kind": kind, "link": link}


def reward_title(name: str, kind: str, amount: Decimal, currency: str) -> str:
    return f"Reward for {name}: {_english(RewardKind(kind).label)} {amount} {currency}"[:255]


def reward_data(contact: Contact, kind: str, amount: Decimal, currency: str) -> dict[str, Any]:
    return {
        "contact": contact.name,
        "contact_id": contact.pk,
        "kind": kind,
        "value": str(amount),
        "currency": currency,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, User):
        return value.pk
    return value


# --- The quarter rule -------------------------------------------------------------------------------


def quarter_of(day: date) -> tuple[date, date]:
    """The calendar quarter holding `day`: its first day and the first day of the next one."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    end = date(day.year + 1, 1, 1) if first_month == 10 else date(day.year, first_month + 3, 1)
    return start, end


@dataclass(frozen=True)
class QuarterCheck:
    """How many times a contact was asked in a day's quarter, against the limit."""

    asked: int
    limit: int
    next_day: date  # the first day the contact can be asked again when the limit is reached

    @property
    def allowed(self) -> bool:
        return self.asked < self.limit


def quarter_check(contact: Contact, *, day: date, limit: int | None = None) -> QuarterCheck:
    limit = AdvocacySettings.current().max_asks_per_quarter if limit is None else limit
    start, end = quarter_of(day)
    asked = Ask.objects.filter(contact=contact, asked_on__gte=start, asked_on__lt=end).count()
    return QuarterCheck(asked=asked, limit=limit, next_day=end)


def refusal_message(contact: Contact, check: QuarterCheck) -> str:
    return ngettext(
        "%(name)s has reached the limit of %(limit)d ask per contact per quarter. "
        "They can be asked again on %(day)s.",
        "%(name)s has reached the limit of %(limit)d asks per contact per quarter. "
        "They can be asked again on %(day)s.",
        check.limit,
    ) % {
        "name": contact.name,
        "limit": check.limit,
        "day": formats.date_format(check.next_day, "DATE_FORMAT"),
    }


# --- Advocates -------------------------------------------------------------------------------------


@transaction.atomic
def add_advocate(
    *, contact: Contact, actor: User | None, since: date | None = None, notes: str = ""
) -> Advocate:
    """Make a contact an advocate (one advocate per contact: a second time is refused)."""
    since = check_day(since or timezone.localdate(), "since")
    notes = check_text(notes, "notes")
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    if Advocate.objects.filter(contact=contact).exists():
        raise ValidationError(
            {
                "contact": ValidationError(
                    _("%(name)s is an advocate already.") % {"name": contact.name}, code="unique"
                )
            }
        )
    advocate = Advocate.objects.create(
        contact=contact, account_id=contact.account_id, since=since, notes=notes, created_by=actor
    )
    record_audit(actor=actor, action="create", instance=advocate)
    record_event(
        kind="advocacy.advocate_added",
        account=contact.account_id,
        subject=advocate,
        payload={"contact_id": contact.pk, "since": since.isoformat()},
        actor=actor,
    )
    return advocate


def _advocate_for(contact: Contact, *, since: date, actor: User | None) -> Advocate:
    """The contact's advocate row, made now if they had none (a done ask makes an advocate)."""
    advocate = Advocate.objects.filter(contact=contact).first()
    if advocate is not None:
        return advocate
    return add_advocate(contact=contact, actor=actor, since=since)


@transaction.atomic
def update_advocate(
    *, advocate: Advocate, actor: User | None, since: date | None = None, notes: str | None = None
) -> Advocate:
    changes: dict[str, list[Any]] = {}
    if since is not None:
        since = check_day(since, "since")
        if since != advocate.since:
            changes["since"] = [_plain(advocate.since), _plain(since)]
            advocate.since = since
    if notes is not None:
        notes = check_text(notes, "notes")
        if notes != advocate.notes:
            changes["notes"] = [advocate.notes, notes]
            advocate.notes = notes
    if changes:
        advocate.save(update_fields=[name for name in ("since", "notes") if name in changes])
        record_audit(actor=actor, action="update", instance=advocate, changes=changes)
    return advocate


# --- Activities ------------------------------------------------------------------------------------


def _record_activity(
    *,
    advocate: Advocate,
    kind: str,
    occurred_on: date,
    note: str,
    link: str,
    actor: User | None,
    ask: Ask | None = None,
) -> Activity:
    activity = Activity.objects.create(
        advocate=advocate,
        account_id=advocate.account_id,
        kind=kind,
        occurred_on=occurred_on,
        note=note,
        link=link,
        ask=ask,
        recorded_by=actor,
    )
    contact = advocate.contact
    record_on_timeline(
        account=advocate.account,
        kind="advocacy_activity",
        title=activity_title(contact.name, kind),
        occurred_at=_moment(occurred_on),
        body=note,
        actor=actor,
        subject=activity,
        data=activity_data(contact, kind, link),
    )
    record_audit(actor=actor, action="create", instance=activity)
    record_event(
        kind="advocacy.activity_recorded",
        account=advocate.account_id,
        subject=activity,
        payload={
            "contact_id": contact.pk,
            "advocate_id": advocate.pk,
            "kind": kind,
            "occurred_on": occurred_on.isoformat(),
            "ask_id": ask.pk if ask is not None else None,
        },
        actor=actor,
    )
    return activity


def _moment(day: date) -> datetime:
    """A day as the timeline's moment: now for today, noon of that day for a past day."""
    if day == timezone.localdate():
        return timezone.now()
    return timezone.make_aware(datetime(day.year, day.month, day.day, 12))


@transaction.atomic
def record_activity(
    *,
    advocate: Advocate,
    kind: str,
    actor: User | None,
    occurred_on: date | None = None,
    note: str = "",
    link: str = "",
) -> Activity:
    """Record something an advocate did (without an ask: they offered, or it was arranged elsewhere)."""
    return _record_activity(
        advocate=advocate,
        kind=check_kind(kind),
        occurred_on=check_day(occurred_on or timezone.localdate(), "occurred_on"),
        note=check_text(note, "note"),
        link=check_link(link),
        actor=actor,
    )


# --- Asks ------------------------------------------------------------------------------------------


@transaction.atomic
def ask(
    *,
    contact: Contact,
    kind: str,
    actor: User | None,
    asked_on: date | None = None,
    note: str = "",
) -> Ask:
    """Ask a contact to do something for us, unless they were asked enough this quarter.

    Refused (ValidationError on `contact`) when the contact already has `max_asks_per_quarter` asks in
    the quarter of `asked_on`: the message names the limit and the day they can be asked again.
    """
    kind = check_kind(kind)
    asked_on = check_day(asked_on or timezone.localdate(), "asked_on")
    note = check_text(note, "note")
    # Locked until the transaction ends: two asks at once are counted one after the other.
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    check = quarter_check(contact, day=asked_on)
    if not check.allowed:
        raise ValidationError(
            {"contact": ValidationError(refusal_message(contact, check), code="quarter_limit")}
        )
    the_ask = Ask.objects.create(
        contact=contact,
        account_id=contact.account_id,
        kind=kind,
        asked_on=asked_on,
        asked_by=actor,
        note=note,
    )
    _on_timeline(the_ask, actor=actor, occurred_on=asked_on)
    record_audit(actor=actor, action="create", instance=the_ask)
    record_event(
        kind="advocacy.asked",
        account=contact.account_id,
        subject=the_ask,
        payload={"contact_id": contact.pk, "kind": kind, "asked_on": asked_on.isoformat()},
        actor=actor,
    )
    return the_ask


def _on_timeline(the_ask: Ask, *, actor: User | None, occurred_on: date) -> None:
    contact = the_ask.contact
    record_on_timeline(
        account=contact.account,
        kind="advocacy_ask",
        title=ask_title(contact.name, the_ask.kind, the_ask.status),
        occurred_at=_moment(occurred_on),
        body=the_ask.outcome_note if the_ask.status != AskStatus.ASKED else the_ask.note,
        actor=actor,
        subject=the_ask,
        data=ask_data(contact, the_ask.kind, the_ask.status),
    )


@transaction.atomic
def change_ask(
    *,
    the_ask: Ask,
    status: str,
    actor: User | None,
    outcome_note: str = "",
    on: date | None = None,
    link: str = "",
) -> Ask:
    """Move an ask on: accepted, done or declined (done and declined are final).

    A done ask records the activity (on `on`, default today, with `link`) and makes the contact an
    advocate if they were not one yet.
    """
    locked = Ask.objects.select_for_update(of=("self",)).select_related("contact__account").get(pk=the_ask.pk)
    if status not in AskStatus.values:
        raise ValidationError({"status": _("Unknown status: %(status)s.") % {"status": status}})
    if status not in NEXT_STATUSES[locked.status]:
        raise ValidationError(
            {
                "status": _("An ask that is %(now)s cannot become %(next)s.")
                % {"now": locked.get_status_display().lower(), "next": AskStatus(status).label.lower()}
            }
        )
    on = check_day(on or timezone.localdate(), "on")
    if on < locked.asked_on:
        raise ValidationError({"on": _("This is before the ask was made.")})
    outcome_note = check_text(outcome_note, "outcome_note")
    link = check_link(link)
    before = locked.status
    locked.status = status
    if outcome_note:
        locked.outcome_note = outcome_note
    if status in (AskStatus.DONE, AskStatus.DECLINED):
        locked.closed_on = on
    locked.save(update_fields=["status", "outcome_note", "closed_on", "updated_at"])
    if status == AskStatus.DONE:
        advocate = _advocate_for(locked.contact, since=on, actor=actor)
        _record_activity(
            advocate=advocate,
            kind=locked.kind,
            occurred_on=on,
            note=outcome_note or locked.note,
            link=link,
            actor=actor,
            ask=locked,
        )
    else:
        _on_timeline(locked, actor=actor, occurred_on=on)
    record_audit(actor=actor, action=status, instance=locked, changes={"status": [before, status]})
    record_event(
        kind="advocacy.ask_changed",
        account=locked.account_id,
        subject=locked,
        payload={"contact_id": locked.contact_id, "kind": locked.kind, "status": status, "previous": before},
        actor=actor,
    )
    return locked


# --- Rewards ---------------------------------------------------------------------------------------


def check_value(value: Decimal | str | int | float) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({"value": _("Give an amount, e.g. 50 or 49.90.")}) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError({"value": _("Give an amount of zero or more.")})
    if amount > MAX_VALUE:
        raise ValidationError({"value": _("That is more than any reward, surely.")})
    return amount.quantize(Decimal("0.01"))


@transaction.atomic
def give_reward(
    *,
    advocate: Advocate,
    kind: str,
    actor: User | None,
    value: Decimal | str | int = 0,
    currency: str = "",
    given_on: date | None = None,
    note: str = "",
) -> Reward:
    """Record a thank-you given to an advocate."""
    if kind not in RewardKind.values:
        raise ValidationError({"kind": _("Unknown kind of reward: %(kind)s.") % {"kind": kind}})
    amount = check_value(value)
    currency = (currency or settings.TOUCHPOINT_CURRENCY).strip().upper()
    if not _CURRENCY.match(currency):
        raise ValidationError({"currency": _("Give a three-letter currency code, e.g. USD.")})
    given_on = check_day(given_on or timezone.localdate(), "given_on")
    note = check_text(note, "note")
    reward = Reward.objects.create(
        advocate=advocate,
        account_id=advocate.account_id,
        kind=kind,
        value=amount,
        currency=currency,
        given_on=given_on,
        note=note,
        given_by=actor,
    )
    contact = advocate.contact
    record_on_timeline(
        account=advocate.account,
        kind="advocacy_reward",
        title=reward_title(contact.name, kind, amount, currency),
        occurred_at=_moment(given_on),
        body=note,
        actor=actor,
        subject=reward,
        data=reward_data(contact, kind, amount, currency),
    )
    record_audit(actor=actor, action="create", instance=reward)
    record_event(
        kind="advocacy.reward_given",
        account=advocate.account_id,
        subject=reward,
        payload={
            "contact_id": contact.pk,
            "kind": kind,
            "value": str(amount),
            "currency": currency,
            "given_on": given_on.isoformat(),
        },
        actor=actor,
    )
    return reward


# --- Candidates ------------------------------------------------------------------------------------


@transaction.atomic
def mark_candidate(*, contact: Contact, actor: User | None) -> Candidate:
    """Make a contact a candidate by hand (whatever their latest score)."""
    candidate = Candidate.objects.select_for_update().filter(contact=contact).first()
    if candidate is not None and candidate.is_candidate:
        return candidate
    if candidate is None:
        candidate = Candidate(contact=contact, account_id=contact.account_id)
    candidate.is_candidate = True
    candidate.source = CandidateSource.MANUAL
    candidate.since = timezone.now()
    candidate.marked_by = actor
    candidate.save()
    record_audit(actor=actor, action="mark_candidate", instance=candidate)
    record_event(
        kind="advocacy.candidate_changed",
        account=contact.account_id,
        subject=candidate,
        payload={"contact_id": contact.pk, "is_candidate": True, "source": CandidateSource.MANUAL},
        actor=actor,
    )
    return candidate


@transaction.atomic
def unmark_candidate(*, contact: Contact, actor: User | None) -> Candidate | None:
    """Take a contact out of the candidates (the row and its latest score stay)."""
    candidate = Candidate.objects.select_for_update().filter(contact=contact).first()
    if candidate is None or not candidate.is_candidate:
        return candidate
    candidate.is_candidate = False
    candidate.save(update_fields=["is_candidate", "updated_at"])
    record_audit(actor=actor, action="unmark_candidate", instance=candidate)
    record_event(
        kind="advocacy.candidate_changed",
        account=contact.account_id,
        subject=candidate,
        payload={"contact_id": contact.pk, "is_candidate": False, "source": candidate.source},
        actor=actor,
    )
    return candidate


@transaction.atomic
def apply_nps_answer(
    *, contact: Contact, score: int, category: str, answer_id: int, answered_at: datetime
) -> Candidate | None:
    """An NPS answer from the contact: a promoter becomes (or stays) a candidate, a passive or a
    detractor stops being one. An answer older than the one already applied changes nothing.

    Called by the survey consumer inside its batch's transaction (advocacy/consumer.py).
    """
    candidate = Candidate.objects.select_for_update().filter(contact=contact).first()
    if candidate is not None and candidate.scored_at is not None and candidate.scored_at > answered_at:
        return candidate  # a newer answer already spoke
    was = candidate.is_candidate if candidate is not None else False
    promoter = category == "promoter"
    if candidate is None:
        if not promoter:
            return None  # nothing to remove, and no reason to remember a passive stranger
        candidate = Candidate(contact=contact, account_id=contact.account_id)
    candidate.nps_score = score
    candidate.category = category
    candidate.scored_at = answered_at
    candidate.answer_id = answer_id
    if promoter:
        candidate.is_candidate = True
        if not was:
            candidate.source = CandidateSource.SURVEY
            candidate.since = answered_at
        elif candidate.source == CandidateSource.SURVEY:
            candidate.since = answered_at  # the latest promoter answer is what the pool sorts by
    else:
        candidate.is_candidate = False
        if not candidate.source:
            candidate.source = CandidateSource.SURVEY
    candidate.save()
    if was != candidate.is_candidate:
        record_event(
            kind="advocacy.candidate_changed",
            account=contact.account_id,
            subject=candidate,
            payload={
                "contact_id": contact.pk,
                "is_candidate": candidate.is_candidate,
                "source": CandidateSource.SURVEY,
                "answer_id": answer_id,
            },
        )
    return candidate


# --- Settings --------------------------------------------------------------------------------------


@transaction.atomic
def change_settings(
    *, actor: User | None, max_asks_per_quarter: int | None = None, pool_quiet_days: int | None = None
) -> AdvocacySettings:
    current = AdvocacySettings.current()
    changes: dict[str, list[Any]] = {}
    for name, value in (("max_asks_per_quarter", max_asks_per_quarter), ("pool_quiet_days", pool_quiet_days)):
        if value is not None and value != getattr(current, name):
            changes[name] = [getattr(current, name), value]
            setattr(current, name, value)
    if changes:
        current.full_clean()
        current.save()
        record_audit(actor=actor, action="update", instance=current, changes=changes)
    return current


def days_ago(days: int, *, today: date | None = None) -> date:
    return (today or timezone.localdate()) - timedelta(days=days)
