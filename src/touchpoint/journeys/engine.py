"""The live engine: enrolls subjects in live journeys and moves enrollments on, writing every effect to the outbox.

    enroll(version=..., account=..., contact=None, entry_key="", entry_data={...})  # entries call this
    advance_due(limit=100)                   # the worker's poller "journeys.advance", every few seconds
    notify_event(account_id=..., name="Report created", at=...)  # wakes enrollments waiting for it
    exit_enrollment(enrollment=..., reason="...")                # by hand

What happens next is decided by journeys/interpreter.py (the simulation asks the same function);
this module writes it down. One enrollment moves in one transaction: its new position, the step
visits it made, and one outbox row per effect and recipient. Effects that stay in the database
(task, playbook, phase, attribute, tag) are applied in that transaction and their row marked sent;
emails and webhooks stay pending for the senders (journeys/delivery.py); an in-app message is sent
as soon as it is written (the product fetches it). A replay finds the rows (unique per enrollment,
step, kind and recipient) and writes nothing twice.

Concurrency:
- Claims: on PostgreSQL each worker takes the next due enrollment with `FOR UPDATE SKIP LOCKED`, so
  several workers share the work and never advance one enrollment at once; the row stays locked
  until its transaction commits, and the claim re-reads `wake_at`, so a row another worker has just
  moved on is no longer due. SQLite has one writer at a time (BEGIN IMMEDIATE): one worker.
- Enrolling: the account row is locked while the re-entry rules are read and the enrollment is
  written, so two entries for the same subject take turns; the unique keys on Enrollment are the
  last guard (a duplicate insert fails inside a savepoint and `enroll` answers None).
- A step that raises fails its own enrollment (status failed, the error in `exit_reason`), in a
  savepoint of its transaction: nothing of the half-done step stays, and the others go on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from touchpoint.accounts.models import Account, Contact
from touchpoint.journeys import actions, interpreter
from touchpoint.journeys.context import LiveContext
from touchpoint.journeys.definition import JourneyDefinition, parse
from touchpoint.journeys.models import (
    EXTERNAL_KINDS,
    Enrollment,
    EnrollmentStatus,
    Journey,
    JourneyStatus,
    JourneyVersion,
    OutboxKind,
    OutboxRow,
    OutboxStatus,
    StepVisit,
    subject_key_of,
)

logger = logging.getLogger(__name__)

MESSAGE_KINDS = frozenset({OutboxKind.EMAIL, OutboxKind.IN_APP})


@lru_cache(maxsize=512)
def _graph(version_id: int, created_at: datetime, definition_json: str) -> interpreter.Graph:
    import json

    return interpreter.Graph(parse(json.loads(definition_json)))


def graph_of(version: JourneyVersion) -> interpreter.Graph:
    """The version's definition as the interpreter's graph (parsed once per version)."""
    import json

    return _graph(version.pk, version.created_at, json.dumps(version.definition, sort_keys=True))


# --- Enrolling -------------------------------------------------------------------------------------


def enroll(
    *,
    version: JourneyVersion,
    account: Account,
    contact: Contact | None = None,
    entry_key: str = "",
    entry_data: dict[str, Any] | None = None,
    at: datetime | None = None,
    actor: Any = None,
) -> Enrollment | None:
    """Enroll the subject (the account, or the contact for a contact journey) and run its first steps.

    None when the journey is not live on this version, the subject is outside the audience, the
    re-entry policy refuses, or the subject is already enrolled with this entry key. Never raises
    IntegrityError, so an entry replayed or raced by a second worker is simply refused.
    """
    at = at or timezone.now()
    journey = Journey.objects.filter(pk=version.journey_id).first()
    if journey is None or journey.status != JourneyStatus.LIVE or journey.live_version_id != version.pk:
        return None
    graph = graph_of(version)
    definition = graph.definition
    if definition.subject == "contact":
        if contact is None or contact.account_id != account.pk:
            return None
    else:
        contact = None
    subject = interpreter.Subject(account.pk, contact.pk if contact is not None else None)
    entry = dict(entry_data or {})
    if not _in_audience(definition, subject, contact, at, entry):
        return None
    subject_key = subject_key_of(account.pk, subject.contact_id)
    with transaction.atomic():
        # Entries of one subject take turns here (see the module's docstring).
        list(Account.objects.select_for_update().filter(pk=account.pk).values_list("pk"))
        if not _may_enter(journey, definition, subject_key, at):
            return None
        try:
            with transaction.atomic():
                enrollment = Enrollment.objects.create(
                    journey=journey,
                    version=version,
                    account=account,
                    contact=contact,
                    subject_key=subject_key,
                    entry_key=entry_key[:200],
                    step_id=graph.first,
                    step_entered_at=at,
                    entry_data=entry,
                    entered_at=at,
                )
        except IntegrityError:
            return None  # already enrolled with this entry key (or still active with it)
        StepVisit.objects.create(enrollment=enrollment, version=version, step_id=graph.first, entered_at=at)
        _run(enrollment, now=at)
    return enrollment


def _in_audience(
    definition: JourneyDefinition,
    subject: interpreter.Subject,
    contact: Contact | None,
    at: datetime,
    entry: dict[str, Any],
) -> bool:
    audience = definition.audience
    if audience.roles and contact is not None:
        from touchpoint.accounts.selectors import contact_facts

        facts = contact_facts(contact.pk)
        if facts is None or not set(facts.role_values) & set(audience.roles):
            return False
    if audience.when is not None:
        return LiveContext().holds(audience.when, subject, at, entry)
    return True


def _may_enter(journey: Journey, definition: JourneyDefinition, subject_key: str, at: datetime) -> bool:
    earlier = Enrollment.objects.filter(journey=journey, subject_key=subject_key)
    policy = definition.reentry.policy
    if policy == "never":
        return not earlier.exists()
    if earlier.filter(status=EnrollmentStatus.ACTIVE).exists():
        return False
    if policy == "after_days":
        last = earlier.aggregate(last=Max("ended_at"))["last"]
        if last is not None and at - last < timedelta(days=definition.reentry.days or 0):
            return False
    return True


# --- Advancing -------------------------------------------------------------------------------------


def advance_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Advance up to `limit` enrollments whose time has come (or whose awaited event arrived), each in
    its own transaction; returns how many it advanced."""
    done = 0
    seen: set[int] = set()
    for _ in range(limit):
        moment = now or timezone.now()
        with transaction.atomic():
            enrollment = _claim(moment)
            if enrollment is None or enrollment.pk in seen:
                break  # nothing due (or only what this call has just advanced: never loop on one)
            seen.add(enrollment.pk)
            _run(enrollment, now=moment)
        done += 1
    return done


def advance_all_due(limit: int = 100) -> int:
    """The poller: advance batches until fewer than a batch are due; returns how many moved."""
    total = 0
    while True:
        moved = advance_due(limit=limit)
        total += moved
        if moved < limit:
            return total


def _claim(now: datetime) -> Enrollment | None:
    # notify_event sets wake_at to the event's time, so "due" is one indexed range (status, wake_at).
    due = Enrollment.objects.filter(
        status=EnrollmentStatus.ACTIVE, wake_at__lte=now, journey__status=JourneyStatus.LIVE
    ).order_by("wake_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        # Lock only the enrollment row (not its journey): other workers skip it until this commits.
        due = due.select_for_update(skip_locked=True, of=("self",))
    pk = due.values_list("pk", flat=True).first()
    if pk is None:
        return None
    return Enrollment.objects.select_related("version", "account", "contact").get(pk=pk)


def _run(enrollment: Enrollment, *, now: datetime) -> None:
    """Move one enrollment on; a failure fails it alone (its half-done writes are rolled back)."""
    try:
        with transaction.atomic():
            _advance(enrollment, graph_of(enrollment.version), now=now)
    except Exception as error:
        logger.warning(
            "Journey enrollment %s failed at step %s: %s", enrollment.pk, enrollment.step_id, error
        )
        _fail(enrollment, actions.describe_error(error), now=now)


def _advance(enrollment: Enrollment, graph: interpreter.Graph, *, now: datetime) -> None:
    if enrollment.step_id not in graph.nodes:
        raise actions.ActionFailed(
            f"step {enrollment.step_id!r} is not in version {enrollment.version.number}"
        )
    position = interpreter.Position(
        step_id=enrollment.step_id,
        step_entered_at=enrollment.step_entered_at,
        wake_at=enrollment.wake_at,
        waiting_for=enrollment.waiting_for,
        event_seen_at=enrollment.event_seen_at,
        choices=dict(enrollment.choices or {}),
    )
    subject = interpreter.Subject(enrollment.account_id, enrollment.contact_id)
    result = interpreter.advance(
        graph,
        position,
        subject=subject,
        now=now,
        context=LiveContext(),
        seed=str(enrollment.pk),
        entry_data=enrollment.entry_data,
    )
    # Steps entered and left in this one advance are written whole; only the step the enrollment
    # stood on (entered by an earlier advance) is updated.
    left = {visit.step_id: visit for visit in result.left}
    if result.visits:
        StepVisit.objects.bulk_create(
            [
                StepVisit(
                    enrollment=enrollment,
                    version_id=enrollment.version_id,
                    step_id=v.step_id,
                    entered_at=v.at,
                    left_at=left[v.step_id].at if v.step_id in left else None,
                    outcome=left[v.step_id].outcome[:64] if v.step_id in left else "",
                )
                for v in result.visits
            ],
            ignore_conflicts=True,
        )
    entered = {visit.step_id for visit in result.visits}
    for visit in result.left:
        if visit.step_id in entered:
            continue
        StepVisit.objects.filter(enrollment=enrollment, step_id=visit.step_id, left_at__isnull=True).update(
            left_at=visit.at, outcome=visit.outcome[:64]
        )
    for effect in result.effects:
        _write_effect(enrollment, effect, graph.definition, now=now)

    enrollment.choices = position.choices
    if result.ended:
        # A goal or an exit rule met while waiting ends the step it waited on.
        StepVisit.objects.filter(enrollment=enrollment, left_at__isnull=True).update(
            left_at=now, outcome=result.ended
        )
        enrollment.status = result.ended
        enrollment.ended_at = now
        enrollment.exit_reason = result.reason[:300]
        enrollment.step_id = ""
        enrollment.wake_at, enrollment.waiting_for, enrollment.event_seen_at = None, "", None
    else:
        enrollment.step_id = position.step_id
        enrollment.step_entered_at = position.step_entered_at
        enrollment.wake_at = position.wake_at
        enrollment.waiting_for = position.waiting_for
        enrollment.event_seen_at = position.event_seen_at
    enrollment.save(update_fields=list(_POSITION_FIELDS))


_POSITION_FIELDS = (
    "status",
    "ended_at",
    "exit_reason",
    "step_id",
    "step_entered_at",
    "wake_at",
    "waiting_for",
    "event_seen_at",
    "choices",
)


def _fail(enrollment: Enrollment, reason: str, *, now: datetime) -> None:
    StepVisit.objects.filter(enrollment=enrollment, left_at__isnull=True).update(
        left_at=now, outcome="failed"
    )
    Enrollment.objects.filter(pk=enrollment.pk).update(
        status=EnrollmentStatus.FAILED,
        ended_at=now,
        exit_reason=reason[:300],
        wake_at=None,
        waiting_for="",
        event_seen_at=None,
    )
    enrollment.refresh_from_db()


# --- Effects and their outbox rows ---------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    key: str  # "contact:31", or "" for an effect on the account (task, webhook, tag…)
    contact: Contact | None = None
    address: str = ""  # email: the address; in-app: the product's user id
    suppressed: str = ""  # why it cannot be sent ("no_recipient")


def recipients(enrollment: Enrollment, effect: interpreter.Effect) -> list[Recipient]:
    """Who an effect reaches: for messages, one recipient per person; for the rest, the account."""
    if effect.kind not in MESSAGE_KINDS:
        return [Recipient(key="")]
    from touchpoint.accounts.selectors import contacts_with_roles

    wanted = list(effect.params.get("to") or ["subject"])
    people: dict[int, Contact] = {}
    if "subject" in wanted:
        if enrollment.contact_id is not None:
            contact = enrollment.contact
            if contact is not None:
                people[contact.pk] = contact
        else:
            # An account subject: everyone at the account.
            people.update((c.pk, c) for c in contacts_with_roles(enrollment.account_id))
    roles = [role for role in wanted if role != "subject"]
    if roles:
        people.update((c.pk, c) for c in contacts_with_roles(enrollment.account_id, roles))
    if not people:
        return [Recipient(key="", suppressed="no_recipient")]
    addresses = _addresses(effect.kind, list(people.values()))
    return [
        Recipient(
            key=f"contact:{pk}",
            contact=contact,
            address=addresses.get(pk, ""),
            suppressed="" if addresses.get(pk) else "no_recipient",
        )
        for pk, contact in sorted(people.items())
    ]


def _addresses(kind: str, people: list[Contact]) -> dict[int, str]:
    if kind == OutboxKind.EMAIL:
        return {c.pk: c.email for c in people if c.email}
    # In-app: the person as the product knows them (their Segment userId).
    from touchpoint.usage.selectors import product_user_ids

    found = product_user_ids([c.pk for c in people])
    return {c.pk: c.external_id or found.get(c.pk, "") for c in people if c.external_id or found.get(c.pk)}


def _write_effect(
    enrollment: Enrollment, effect: interpreter.Effect, definition: JourneyDefinition, *, now: datetime
) -> None:
    written = set(
        OutboxRow.objects.filter(enrollment=enrollment, step_id=effect.step_id, kind=effect.kind).values_list(
            "recipient_key", flat=True
        )
    )
    for recipient in recipients(enrollment, effect):
        if recipient.key in written:
            continue  # a replay: this effect reached this recipient already
        row = OutboxRow(
            enrollment=enrollment,
            step_id=effect.step_id,
            kind=effect.kind,
            recipient_key=recipient.key,
            account_id=enrollment.account_id,
            contact=recipient.contact,
            payload=dict(effect.params),
            to_address=recipient.address[:254],
            created_at=now,
            next_attempt_at=now,
        )
        if recipient.suppressed:
            row.status, row.suppressed_reason = OutboxStatus.SUPPRESSED, recipient.suppressed
        elif effect.kind == OutboxKind.IN_APP:
            row.status, row.sent_at = OutboxStatus.SENT, now  # available to the product from now on
        elif effect.kind not in EXTERNAL_KINDS:
            applied = actions.apply(effect=effect, enrollment=enrollment, definition=definition, now=now)
            row.status, row.suppressed_reason = applied.status, applied.reason
            row.payload.update(applied.result)
            if applied.status == OutboxStatus.SENT:
                row.sent_at = now
        row.save()


# --- Events, exits, the daily re-check ---------------------------------------------------------------


def notify_event(
    *,
    account_id: int,
    contact_id: int | None = None,
    name: str,
    at: datetime,
    data: dict[str, Any] | None = None,
) -> int:
    """Wake the active enrollments waiting for this event: the account's, and (for a person's event)
    that person's; an account's event also wakes its people's enrollments. Returns how many woke.

    The next advance takes the wait's "event" path. `data` is not kept (the wait only needs to know).
    """
    waiting = Enrollment.objects.filter(
        status=EnrollmentStatus.ACTIVE,
        account_id=account_id,
        waiting_for=name,
        event_seen_at__isnull=True,
        step_entered_at__lte=at,
    )
    if contact_id is not None:
        waiting = waiting.filter(Q(contact_id=contact_id) | Q(contact__isnull=True))
    return waiting.update(event_seen_at=at, wake_at=at)


@transaction.atomic
def exit_enrollment(*, enrollment: Enrollment, reason: str, actor: Any = None) -> Enrollment:
    """Take an active enrollment out of its journey (by hand, or moved to another version)."""
    from touchpoint.users.services import record_audit

    locked = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if locked.status != EnrollmentStatus.ACTIVE:
        return locked
    now = timezone.now()
    StepVisit.objects.filter(enrollment=locked, left_at__isnull=True).update(left_at=now, outcome="exit")
    locked.status = EnrollmentStatus.EXITED
    locked.ended_at = now
    locked.exit_reason = (reason or "exited by hand")[:300]
    locked.step_id = ""
    locked.wake_at, locked.waiting_for, locked.event_seen_at = None, "", None
    locked.save(update_fields=list(_POSITION_FIELDS))
    record_audit(
        actor=actor,
        action="journey.enrollment.exit",
        instance=locked,
        changes={"journey": locked.journey_id, "subject": locked.subject_key, "reason": locked.exit_reason},
    )
    return locked


def recheck_active(*, now: datetime | None = None) -> int:
    """Make every active enrollment of a live journey due, so goals and exit rules are noticed while
    it waits (the daily schedule "journeys.recheck"). Waits keep their end: the interpreter counts
    it from when the step was entered."""
    now = now or timezone.now()
    live = Journey.objects.filter(status=JourneyStatus.LIVE).values("pk")
    return (
        Enrollment.objects.filter(status=EnrollmentStatus.ACTIVE, journey__in=live)
        .filter(Q(wake_at__gt=now) | Q(wake_at__isnull=True))
        .update(wake_at=now)
    )
