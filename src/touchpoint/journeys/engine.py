"""The live engine: enrolls subjects in live journeys and moves enrollments on, writing every effect to the outbox.

    enroll(version=..., account=..., contact=None, entry_key="", entry_data={...})  # entries call this
    advance_due(limit=100)                   # the worker's poller "journeys.advance", every few seconds
    notify_event(account_id=..., name="Report created", at=...)  # wakes enrollments waiting for it
    exit_enrollment(enrollment=..., reason="...")                # by hand

What happens next is decided by journeys/interpreter.py (the simulation asks the same function);
this module writes it down. An enrollment's move is written whole or not at all: its new position,
the step visits it made, and one outbox row per effect and recipient. Effects that stay in the
database (task, playbook, phase, attribute, tag) are applied with it and their row marked sent;
emails and webhooks stay pending for the senders (journeys/delivery.py); an in-app message is sent
as soon as it is written (the product fetches it). A replay finds the rows (unique per enrollment,
step, kind and recipient) and writes nothing twice.

Batches: `advance_due` claims up to BATCH_SIZE due enrollments in one query, decides each one's
move (the conditions read the batch's accounts, contacts and tags from one query per kind, see
fields_builtin.Facts; each version's definition is parsed once per process), then writes them all
with a few statements: one INSERT of step visits, one of outbox rows, one create_tasks_bulk, one
UPDATE per distinct new position. The batch is one transaction.

Concurrency:
- Claims: on PostgreSQL each worker takes the next due enrollments with `FOR UPDATE SKIP LOCKED`,
  so several workers share the work and never advance one enrollment at once; the rows stay locked
  until the batch commits, and the claim re-reads `wake_at`, so a row another worker has just
  moved on is no longer due. SQLite has one writer at a time (BEGIN IMMEDIATE): one worker.
- Enrolling: the account row is locked while the re-entry rules are read and the enrollment is
  written, so two entries for the same subject take turns; the unique keys on Enrollment are the
  last guard (a duplicate insert fails inside a savepoint and `enroll` answers None).
- Failures: an enrollment whose next step cannot be decided fails alone (status failed, the error
  in `exit_reason`). When writing a batch raises (an action that cannot run), its savepoint is
  rolled back and the batch is written again in halves, down to the enrollment that fails: nothing
  of its half-done step stays, and the others are written as if it had not been among them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from touchpoint.accounts.models import Account, Contact
from touchpoint.bulk import insert_rows
from touchpoint.journeys import actions, interpreter
from touchpoint.journeys.context import LiveContext
from touchpoint.journeys.definition import JourneyDefinition, parse
from touchpoint.journeys.fields_builtin import Facts, batch_facts, current_facts
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


# Parsed definitions by version. A version's definition never changes once saved (editing makes a
# new version), so each process parses it once; the creation moment guards against an id reused
# (SQLite reuses the highest id after a rollback, as tests do).
_GRAPHS: dict[tuple[int, datetime], interpreter.Graph] = {}
_GRAPHS_KEPT = 512


def graph_of(version: JourneyVersion) -> interpreter.Graph:
    """The version's definition as the interpreter's graph (parsed once per version and process)."""
    key = (version.pk, version.created_at)
    graph = _GRAPHS.get(key)
    if graph is None:
        graph = interpreter.Graph(parse(version.definition))
        if len(_GRAPHS) >= _GRAPHS_KEPT:
            _GRAPHS.clear()
        _GRAPHS[key] = graph
    return graph


def forget_graphs() -> None:
    """Parse every version again at its next use (what a restart does after an upgrade)."""
    _GRAPHS.clear()


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
        if actor is not None:
            from touchpoint.users.services import record_audit

            # Someone enrolled the subject by hand (the account page, the API): who, and into what.
            record_audit(
                actor=actor,
                action="journey.enrollment.enter",
                instance=enrollment,
                changes={"journey": journey.pk, "version": version.number, "subject": subject_key}
                | ({"entry_key": enrollment.entry_key} if enrollment.entry_key else {}),
            )
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

BATCH_SIZE = 500  # enrollments claimed, planned and written together (one transaction)


def advance_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Advance up to `limit` enrollments whose time has come (or whose awaited event arrived), in
    batches of up to BATCH_SIZE, one transaction each; returns how many it advanced."""
    done = 0
    seen: set[int] = set()  # never advance one twice in one call (nor loop on one)
    while done < limit:
        moment = now or timezone.now()
        with transaction.atomic():
            batch = _claim(moment, count=min(BATCH_SIZE, limit - done), exclude=seen)
            if not batch:
                break
            seen.update(enrollment.pk for enrollment in batch)
            _advance_batch(batch, now=moment, facts=_facts_of(batch, attach=True))
        done += len(batch)
    return done


def advance_all_due(limit: int = 100) -> int:
    """The poller: advance batches until fewer than a batch are due; returns how many moved."""
    total = 0
    while True:
        moved = advance_due(limit=limit)
        total += moved
        if moved < limit:
            return total


def _claim(now: datetime, *, count: int, exclude: set[int]) -> list[Enrollment]:
    """The next `count` due enrollments (locked on PostgreSQL)."""
    # notify_event sets wake_at to the event's time, so "due" is one indexed range (status, wake_at).
    due = Enrollment.objects.filter(
        status=EnrollmentStatus.ACTIVE, wake_at__lte=now, journey__status=JourneyStatus.LIVE
    ).order_by("wake_at", "id")
    if exclude:
        due = due.exclude(pk__in=exclude)
    if connection.features.has_select_for_update_skip_locked:
        # Lock only the enrollment rows (not their journeys or accounts): other workers skip them
        # until this batch commits, and take the next ones.
        due = due.select_for_update(skip_locked=True, of=("self",))
    return list(due[:count])


_VERSION = Enrollment._meta.get_field("version")
_ACCOUNT = Enrollment._meta.get_field("account")
_CONTACT = Enrollment._meta.get_field("contact")


def _facts_of(enrollments: list[Enrollment], *, attach: bool) -> Facts:
    """The batch's Facts; with `attach`, each enrollment's version (without its definition: the
    parsed graph is cached), account (with owner and segment) and contact (with roles) read with
    one query per kind for the batch, not one per enrollment."""
    facts = Facts(
        account_ids={e.account_id for e in enrollments}, contact_ids={e.contact_id for e in enrollments}
    )
    if attach:
        versions = JourneyVersion.objects.defer("definition", "source").in_bulk(
            {e.version_id for e in enrollments}
        )
        for enrollment in enrollments:
            _VERSION.set_cached_value(enrollment, versions[enrollment.version_id])
            _ACCOUNT.set_cached_value(enrollment, facts.account(enrollment.account_id))
            if enrollment.contact_id is not None:
                _CONTACT.set_cached_value(enrollment, facts.contact(enrollment.contact_id))
    return facts


def _run(enrollment: Enrollment, *, now: datetime) -> None:
    """Move one enrollment on; a failure fails it alone (its half-done writes are rolled back)."""
    _advance_batch([enrollment], now=now, facts=_facts_of([enrollment], attach=False))


def _advance_batch(enrollments: list[Enrollment], *, now: datetime, facts: Facts) -> None:
    """Move these claimed enrollments on together; one that fails fails alone.

    All of them are written in one savepoint. If that raises (an action that cannot run, a row
    that breaks a constraint), it is rolled back whole and the batch is tried again in two halves,
    and so on down to the one that fails, which is marked failed with the error: the others are
    written as if it had never been in their batch. An enrollment whose next step cannot even be
    decided (a step no longer in its version, a definition that no longer reads) fails at once.
    """
    try:
        with transaction.atomic(), batch_facts(facts):
            failures, moved = _advance_together(enrollments, now=now, facts=facts)
    except Exception as error:
        if len(enrollments) == 1:
            failures, moved = [(enrollments[0], error)], []
        else:
            middle = len(enrollments) // 2
            _advance_batch(enrollments[:middle], now=now, facts=facts)
            _advance_batch(enrollments[middle:], now=now, facts=facts)
            return
    for enrollment, values in moved:
        for name, value in values.items():
            setattr(enrollment, name, value)
    for enrollment, problem in failures:
        logger.warning(
            "Journey enrollment %s failed at step %s: %s", enrollment.pk, enrollment.step_id, problem
        )
        _fail(enrollment, actions.describe_error(problem), now=now)


@dataclass
class _Plan:
    """What one enrollment does in this advance (decided, not yet written)."""

    enrollment: Enrollment
    definition: JourneyDefinition
    result: interpreter.Advance
    values: dict[str, Any]  # the enrollment's new position (its fields)


def _advance_together(
    enrollments: list[Enrollment], *, now: datetime, facts: Facts
) -> tuple[list[tuple[Enrollment, Exception]], list[tuple[Enrollment, dict[str, Any]]]]:
    """Decide and write the batch; returns (those whose next step could not be decided, with the
    error; the others with their new position). Raises when a write fails (the caller splits).

    Enrollments of an account that an earlier one in the batch writes to (a tag, an attribute, a
    phase, a playbook) are decided in a later round, after those writes, so that their conditions
    read the account as it is then, as they would one transaction after the other.
    """
    failures: list[tuple[Enrollment, Exception]] = []
    moved: list[tuple[Enrollment, dict[str, Any]]] = []
    pending = enrollments
    while pending:
        plans: list[_Plan] = []
        later: list[Enrollment] = []
        touched: set[int] = set()
        for enrollment in pending:
            if enrollment.account_id in touched:
                later.append(enrollment)
                continue
            try:
                plan = _plan(enrollment, now=now)
            except DatabaseError:
                raise  # the transaction may be unusable: the caller rolls back and splits
            except Exception as error:
                failures.append((enrollment, error))
                continue
            plans.append(plan)
            if any(effect.kind in actions.ACCOUNT_WRITES for effect in plan.result.effects):
                touched.add(enrollment.account_id)
        _write(plans, now=now)
        moved.extend((plan.enrollment, plan.values) for plan in plans)
        facts.forget(touched)
        pending = later
    return failures, moved


_CONTEXT = LiveContext()


def _plan(enrollment: Enrollment, *, now: datetime) -> _Plan:
    graph = graph_of(enrollment.version)
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
    result = interpreter.advance(
        graph,
        position,
        subject=interpreter.Subject(enrollment.account_id, enrollment.contact_id),
        now=now,
        context=_CONTEXT,
        seed=str(enrollment.pk),
        entry_data=enrollment.entry_data,
    )
    values: dict[str, Any]
    if result.ended:
        values = {
            "status": result.ended,
            "ended_at": now,
            "exit_reason": result.reason[:300],
            "step_id": "",
            "wake_at": None,
            "waiting_for": "",
            "event_seen_at": None,
            "choices": position.choices,
        }
    else:
        values = {
            "step_id": position.step_id,
            "step_entered_at": position.step_entered_at,
            "wake_at": position.wake_at,
            "waiting_for": position.waiting_for,
            "event_seen_at": position.event_seen_at,
            "choices": position.choices,
        }
    return _Plan(enrollment=enrollment, definition=graph.definition, result=result, values=values)


def _write(plans: list[_Plan], *, now: datetime) -> None:
    """Write the batch's decisions: step visits, outbox rows (and the effects applied in the
    database), the enrollments' new positions; a few statements for the whole batch."""
    if not plans:
        return
    # Steps entered and left in this one advance are written whole; only the step an enrollment
    # stood on (entered by an earlier advance) is updated.
    new_visits: list[dict[str, Any]] = []
    left_before: dict[tuple[str, datetime, str], list[int]] = defaultdict(list)
    for plan in plans:
        result, enrollment = plan.result, plan.enrollment
        left = {visit.step_id: visit for visit in result.left}
        entered = set()
        for v in result.visits:
            entered.add(v.step_id)
            new_visits.append(
                {
                    "enrollment_id": enrollment.pk,
                    "version_id": enrollment.version_id,
                    "step_id": v.step_id,
                    "entered_at": v.at,
                    "left_at": left[v.step_id].at if v.step_id in left else None,
                    "outcome": left[v.step_id].outcome[:64] if v.step_id in left else "",
                }
            )
        for visit in result.left:
            if visit.step_id not in entered:
                left_before[(visit.step_id, visit.at, visit.outcome[:64])].append(enrollment.pk)
    insert_rows(StepVisit, new_visits, ignore_conflicts=True)
    for (step_id, at, outcome), ids in left_before.items():
        StepVisit.objects.filter(enrollment_id__in=ids, step_id=step_id, left_at__isnull=True).update(
            left_at=at, outcome=outcome
        )

    _write_effects(
        [(plan.enrollment, effect, plan.definition) for plan in plans for effect in plan.result.effects],
        now=now,
    )

    # A goal or an exit rule met while waiting ends the step it waited on.
    ended: dict[str, list[int]] = defaultdict(list)
    for plan in plans:
        if plan.result.ended:
            ended[plan.result.ended].append(plan.enrollment.pk)
    for outcome, ids in ended.items():
        StepVisit.objects.filter(enrollment_id__in=ids, left_at__isnull=True).update(
            left_at=now, outcome=outcome
        )
    _write_positions([(plan.enrollment.pk, plan.values) for plan in plans])


def _write_positions(positions: list[tuple[int, dict[str, Any]]]) -> None:
    """The enrollments' new positions: one UPDATE per distinct position (most of a batch usually
    ends, or waits until, the same), and one for all the others."""
    alike: dict[tuple[Any, ...], tuple[dict[str, Any], list[int]]] = {}
    for pk, values in positions:
        key = tuple(
            (name, tuple(sorted(value.items())) if isinstance(value, dict) else value)
            for name, value in values.items()
        )
        alike.setdefault(key, (values, []))[1].append(pk)
    singles: dict[tuple[str, ...], list[Enrollment]] = defaultdict(list)
    for values, ids in alike.values():
        if len(ids) > 1:
            Enrollment.objects.filter(pk__in=ids).update(**values)
        else:
            singles[tuple(values)].append(Enrollment(pk=ids[0], **values))
    for fields, rows in singles.items():
        Enrollment.objects.bulk_update(rows, list(fields))


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
    return _recipients_of([(enrollment, effect)])[0]


def _recipients_of(items: list[tuple[Enrollment, interpreter.Effect]]) -> list[list[Recipient]]:
    """`recipients` for many effects at once: the people from the batch's facts, the product's user
    ids (in-app messages) with one query for them all."""
    facts = current_facts()
    chosen: list[dict[int, Contact] | None] = []
    in_app: set[int] = set()
    for enrollment, effect in items:
        if effect.kind not in MESSAGE_KINDS:
            chosen.append(None)
            continue
        wanted = list(effect.params.get("to") or ["subject"])
        people: dict[int, Contact] = {}
        if "subject" in wanted:
            if enrollment.contact_id is not None:
                contact = enrollment.contact
                if contact is not None:
                    people[contact.pk] = contact
            else:
                # An account subject: everyone at the account.
                people.update((c.pk, c) for c in _people(facts, enrollment.account_id, None))
        roles = [role for role in wanted if role != "subject"]
        if roles:
            people.update((c.pk, c) for c in _people(facts, enrollment.account_id, roles))
        chosen.append(people)
        if effect.kind == OutboxKind.IN_APP:
            in_app.update(pk for pk, c in people.items() if not c.external_id)
    product_ids: dict[int, str] = {}
    if in_app:
        # In-app: the person as the product knows them (their Segment userId).
        from touchpoint.usage.selectors import product_user_ids

        product_ids = product_user_ids(sorted(in_app))
    answers: list[list[Recipient]] = []
    for (_enrollment, effect), found in zip(items, chosen, strict=True):
        if found is None:
            answers.append([Recipient(key="")])
            continue
        if not found:
            answers.append([Recipient(key="", suppressed="no_recipient")])
            continue
        answers.append(
            [
                Recipient(
                    key=f"contact:{pk}",
                    contact=contact,
                    address=address,
                    suppressed="" if address else "no_recipient",
                )
                for pk, contact in sorted(found.items())
                for address in [_address(effect.kind, contact, product_ids)]
            ]
        )
    return answers


def _people(facts: Facts | None, account_id: int, roles: list[str] | None) -> list[Contact]:
    if facts is not None:
        return facts.people(account_id, roles)
    from touchpoint.accounts.selectors import contacts_with_roles

    return contacts_with_roles(account_id, roles)


def _address(kind: str, contact: Contact, product_ids: dict[int, str]) -> str:
    if kind == OutboxKind.EMAIL:
        return contact.email or ""
    return contact.external_id or product_ids.get(contact.pk, "")


def _write_effect(
    enrollment: Enrollment, effect: interpreter.Effect, definition: JourneyDefinition, *, now: datetime
) -> None:
    _write_effects([(enrollment, effect, definition)], now=now)


def _written(enrollment_ids: set[int]) -> set[tuple[int, str, str, str]]:
    """The outbox rows these enrollments have already, as (enrollment, step, kind, recipient)."""
    rows = OutboxRow.objects.filter(enrollment_id__in=enrollment_ids)
    return set(rows.values_list("enrollment_id", "step_id", "kind", "recipient_key"))


def _write_effects(
    items: list[tuple[Enrollment, interpreter.Effect, JourneyDefinition]], *, now: datetime
) -> None:
    """One outbox row per effect and recipient, and the effects applied in the database (tasks with
    one create_tasks_bulk, the others through their services). A row already written for the same
    (enrollment, step, kind, recipient) is a replay: nothing is written twice."""
    if not items:
        return
    from touchpoint.tasks.models import TaskSource
    from touchpoint.tasks.services import create_tasks_bulk

    written = _written({enrollment.pk for enrollment, _e, _d in items})
    rows: list[dict[str, Any]] = []
    task_rows: list[dict[str, Any]] = []
    new_tasks = []
    reached = _recipients_of([(enrollment, effect) for enrollment, effect, _d in items])
    for (enrollment, effect, definition), recipients_ in zip(items, reached, strict=True):
        for recipient in recipients_:
            key = (enrollment.pk, effect.step_id, effect.kind, recipient.key)
            if key in written:
                continue  # a replay: this effect reached this recipient already
            written.add(key)
            row: dict[str, Any] = {
                "enrollment_id": enrollment.pk,
                "step_id": effect.step_id,
                "kind": effect.kind,
                "recipient_key": recipient.key,
                "account_id": enrollment.account_id,
                "contact_id": recipient.contact.pk if recipient.contact is not None else None,
                "status": OutboxStatus.PENDING,
                "payload": dict(effect.params),
                "to_address": recipient.address[:254],
                "suppressed_reason": "",
                "created_at": now,
                "next_attempt_at": now,
                "sent_at": None,
            }
            if recipient.suppressed:
                row["status"], row["suppressed_reason"] = OutboxStatus.SUPPRESSED, recipient.suppressed
            elif effect.kind == OutboxKind.IN_APP:
                row["status"], row["sent_at"] = OutboxStatus.SENT, now  # available to the product from now on
            elif effect.kind == OutboxKind.TASK:
                new_tasks.append(actions.new_task(effect, enrollment, definition, now))
                task_rows.append(row)
            elif effect.kind not in EXTERNAL_KINDS:
                applied = actions.apply(effect=effect, enrollment=enrollment, definition=definition, now=now)
                row["status"], row["suppressed_reason"] = applied.status, applied.reason
                row["payload"].update(applied.result)
                if applied.status == OutboxStatus.SENT:
                    row["sent_at"] = now
            rows.append(row)
    if new_tasks:
        tasks = create_tasks_bulk(tasks=new_tasks, source=TaskSource.JOURNEY, at=now)
        for row, task in zip(task_rows, tasks, strict=True):
            row["status"], row["sent_at"] = OutboxStatus.SENT, now
            row["payload"]["task_id"] = task.pk
    # No ignore_conflicts: the enrollments are locked and their rows were read above, so a
    # conflict here is a bug to fail on (the batch is split, the enrollment fails), not to hide.
    insert_rows(OutboxRow, rows)


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
