"""How subjects enter live journeys: domain events, product events, dates and schedules.

Each trigger hands a subject to `engine.enroll(...)`, which owns the audience, the re-entry policy and
the uniqueness (at most one enrollment per version, subject and entry key): a trigger that runs twice
(a replayed event, a second worker, a restart after a crash) finds the key taken and enrolls no one.

- Domain events (`entry: {trigger: event, event: <kind>}`): the consumer "journeys.entries"
  (`events.services.consume`, a poller of every worker) enrolls the event's subject in every live
  journey waiting for that kind whose `where` holds on the payload (`entry.payload.*`), and wakes the
  enrollments whose wait step waits for that kind (`engine.notify_event`). Entry key "event:<id>".
- Product events (`trigger: product_event`): raw track events are followed by id after a stored
  position (`JourneyCursor` "product-events"), only the names live journeys or waiting enrollments
  need; `where` reads the event's properties (`entry.properties.*`). Entry key "product:<id>".
- Dates (`trigger: date`): a daily scan enrolls the subjects whose renewal, subscription start or
  account creation is `days` away, for every day since the last scan (so a day the worker was down
  is caught up). Entry key "renewal:<subscription id>:<date>", "subscription_start:…", "account_created:…".
- Schedules (`trigger: schedule`, cron in the site's time zone): every worker polls; a fire time is
  claimed by a conditional UPDATE of the version's cursor (as scheduler.registry.tick does), so only
  one worker enrolls the audience for it, in the claim's transaction. Entry key "schedule:<time>".

Under re-entry "never" the entry key is "" whatever the trigger, so the database's unique key holds
a subject to one enrollment per version even if two triggers race.

Only what happened after a version was launched enrolls anyone: launching a journey does not replay
the past.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from croniter import croniter
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.db.models.fields.json import KT
from django.utils import timezone
from django_tasks import task

from touchpoint.accounts.models import Account, Contact
from touchpoint.events.models import DomainEvent
from touchpoint.events.services import consume
from touchpoint.journeys.definition import JourneyDefinition, parse
from touchpoint.journeys.interpreter import Subject
from touchpoint.journeys.models import (
    Enrollment,
    EnrollmentStatus,
    JourneyCursor,
    JourneyStatus,
    JourneyVersion,
)
from touchpoint.revenue.models import LIVE_STATUSES, Subscription, SubscriptionStatus
from touchpoint.usage import store
from touchpoint.usage.models import ProductUser

logger = logging.getLogger(__name__)

CONSUMER = "journeys.entries"
PRODUCT_CURSOR = "product-events"
EVENTS_POLL_SECONDS = 15
PRODUCT_EVENTS_POLL_SECONDS = 15
SCHEDULES_POLL_SECONDS = 30
MAX_BATCHES = 20  # a poller's turn stops after this many batches, so one worker never holds the loop
MAX_CATCH_UP_DAYS = 366  # the date scan never looks further back than a year

# --- Live versions --------------------------------------------------------------------------------


def definition_of(version: JourneyVersion) -> JourneyDefinition:
    # Parsed on every use (no cache by id: SQLite may give a rolled-back version's id to the next one).
    return parse(version.definition)


def _live(trigger: str) -> Q:
    return Q(
        journey__status=JourneyStatus.LIVE,
        journey__live_version=F("pk"),
        definition__entry__trigger=trigger,
    )


def live_versions(trigger: str) -> list[tuple[JourneyVersion, JourneyDefinition]]:
    """The versions new enrollments enter now (journeys live) whose entry is `trigger`, parsed."""
    versions = JourneyVersion.objects.filter(_live(trigger)).select_related("journey").order_by("pk")
    found = []
    for version in versions:
        try:
            found.append((version, definition_of(version)))
        except ValueError:
            logger.exception("Journey version %s has a definition that no longer parses", version.pk)
    return found


def launched_at(version: JourneyVersion) -> datetime:
    return version.launched_at or version.created_at


def entry_key_for(definition: JourneyDefinition, key: str) -> str:
    """The entry key an enrollment gets: "" under re-entry never (once per subject and version)."""
    return "" if definition.reentry.policy == "never" else key


def waited_for() -> set[str]:
    """The event names active enrollments wait for (wait steps with `event:`)."""
    return set(
        Enrollment.objects.filter(status=EnrollmentStatus.ACTIVE)
        .exclude(waiting_for="")
        .values_list("waiting_for", flat=True)
        .distinct()
    )


def audience_contacts(definition: JourneyDefinition, account_ids: Iterable[int] | None) -> Iterator[Contact]:
    """The contacts (of these accounts; None: of all) a contact journey is for: its roles, or everyone."""
    contacts = Contact.objects.select_related("account")
    if account_ids is not None:
        contacts = contacts.filter(account_id__in=list(account_ids))
    if definition.audience.roles:
        contacts = contacts.filter(roles__role__in=definition.audience.roles).distinct()
    return contacts.order_by("account_id", "pk").iterator(chunk_size=500)


def _has_role(definition: JourneyDefinition, contact: Contact) -> bool:
    roles = definition.audience.roles
    return not roles or contact.roles.filter(role__in=roles).exists()


def _where_holds(definition: JourneyDefinition, subject: Subject, entry_data: dict[str, Any]) -> bool:
    if definition.entry.where is None:
        return True
    from touchpoint.journeys.conditions import holds

    return holds(definition.entry.where, subject, timezone.now(), entry_data)


def _enroll(
    version: JourneyVersion,
    definition: JourneyDefinition,
    *,
    account: Account,
    contact: Contact | None,
    key: str,
    entry_data: dict[str, Any],
) -> bool:
    """Enroll one subject if the entry's `where` holds; True when an enrollment was made.

    A journey that cannot take the entry (a condition naming a field that no longer exists, a broken
    definition) is logged and skipped, in a savepoint so its partial writes go: one broken journey
    must not hold back the entries of every other. Database errors (a deadlock, a lost connection)
    still raise, so the batch and its position roll back and are tried again.
    """
    from touchpoint.journeys.engine import enroll

    subject = Subject(account_id=account.pk, contact_id=contact.pk if contact else None)
    try:
        with transaction.atomic():
            if not _where_holds(definition, subject, entry_data):
                return False
            enrollment = enroll(
                version=version,
                account=account,
                contact=contact,
                entry_key=entry_key_for(definition, key),
                entry_data=entry_data,
            )
    except DatabaseError:
        raise
    except Exception:
        logger.exception("Journey version %s could not enroll %s", version.pk, subject)
        return False
    return enrollment is not None


def _enroll_subjects(
    version: JourneyVersion,
    definition: JourneyDefinition,
    *,
    account: Account,
    contact: Contact | None,
    key: str,
    entry_data: dict[str, Any],
) -> int:
    """An account journey enrolls the account; a contact journey the contact, or the account's contacts."""
    if definition.subject == "account":
        return int(
            _enroll(version, definition, account=account, contact=None, key=key, entry_data=entry_data)
        )
    if contact is not None:
        if not _has_role(definition, contact):
            return 0
        return int(
            _enroll(version, definition, account=account, contact=contact, key=key, entry_data=entry_data)
        )
    return sum(
        _enroll(version, definition, account=account, contact=person, key=key, entry_data=entry_data)
        for person in audience_contacts(definition, [account.pk])
    )


# --- Domain events --------------------------------------------------------------------------------


def _event_contact(event: DomainEvent) -> Contact | None:
    if event.subject_type != "accounts.contact" or event.subject_id is None:
        return None
    return Contact.objects.filter(pk=event.subject_id).select_related("account").first()


def follow_events(*, batch_size: int = 100, max_batches: int = MAX_BATCHES) -> int:
    """Enroll subjects from the domain events after the consumer's position; returns events read.

    One query and nothing else when no live journey starts on an event and no enrollment waits for one.
    """
    by_kind: dict[str, list[tuple[JourneyVersion, JourneyDefinition]]] = {}
    for version, definition in live_versions("event"):
        by_kind.setdefault(definition.entry.event or "", []).append((version, definition))
    waits = waited_for()
    kinds = set(by_kind) | waits
    if not kinds:
        return 0

    def handle(event: DomainEvent) -> None:
        entries = by_kind.get(event.kind, [])
        account = None
        if event.account_id is not None and (entries or event.kind in waits):
            account = Account.objects.filter(pk=event.account_id).first()
        if account is None:
            return  # an event of no account (or of one since deleted) enrolls no one
        contact = _event_contact(event)
        if contact is not None and contact.account_id != account.pk:
            contact = None
        for version, definition in entries:
            if event.created_at < launched_at(version):
                continue
            entry_data = {"event": event.kind, "payload": event.payload, "event_id": event.pk}
            _enroll_subjects(
                version,
                definition,
                account=account,
                contact=contact,
                key=f"event:{event.pk}",
                entry_data=entry_data,
            )
        if event.kind in waits:
            _wake_waiting(account, contact, name=event.kind, at=event.occurred_at, data=event.payload)

    total = 0
    for _batch in range(max_batches):
        read = consume(CONSUMER, handle, batch_size=batch_size, kinds=sorted(kinds))
        total += read
        if read < batch_size:
            break
    return total


# --- Product events -------------------------------------------------------------------------------


def product_event_names() -> set[str]:
    """The product event names live journeys start on or active enrollments wait for: ONE query."""
    starts = (
        JourneyVersion.objects.filter(_live("product_event"))
        .annotate(name=KT("definition__entry__product_event"))
        .order_by()
        .values_list("name", flat=True)
    )
    waits = (
        Enrollment.objects.filter(status=EnrollmentStatus.ACTIVE)
        .exclude(waiting_for="")
        .annotate(name=F("waiting_for"))
        .order_by()
        .values_list("name", flat=True)
    )
    return {name for name in starts.union(waits) if name}


def _settled_up_to(cursor: JourneyCursor) -> int | None:
    """The highest raw event id every event at or below which has committed (None: wait for the next poll).

    SQLite commits ids in order (one writer), so the highest id there is settled. On PostgreSQL an
    id is taken before its transaction commits, so the horizon is taken at one poll (the highest id
    given out, and the snapshot's xmax) and used at a later poll once every transaction that was
    running then has ended (the snapshot's xmin has passed that xmax).
    """
    highest, xmin, xmax = store.event_id_horizon()
    if connection.vendor != "postgresql":
        return highest
    settled = None
    if cursor.horizon_xmax and xmin >= cursor.horizon_xmax:
        settled = cursor.horizon
    if settled is not None or not cursor.horizon_xmax:
        cursor.horizon, cursor.horizon_xmax = highest, xmax
    return settled


def _people_of(rows: list[Any]) -> tuple[dict[str, int], dict[str, tuple[int, int | None]]]:
    """Accounts by group id and (account, contact) by user id, for events ingested before they were known."""
    group_ids = {row.group_id for row in rows if row.account_id is None and row.group_id}
    user_ids = {
        row.user_id for row in rows if row.user_id and (row.account_id is None or row.contact_id is None)
    }
    accounts: dict[str, int] = {}
    if group_ids:
        for external_id, pk in Account.objects.filter(external_id__in=group_ids).values_list(
            "external_id", "pk"
        ):
            accounts[str(external_id)] = pk
    people: dict[str, tuple[int, int | None]] = {}
    if user_ids:
        for external_id, account_id, contact_id in Contact.objects.filter(
            external_id__in=user_ids
        ).values_list("external_id", "account_id", "pk"):
            people[str(external_id)] = (account_id, contact_id)
        for user_id, account_id, contact_id in ProductUser.objects.filter(user_id__in=user_ids).values_list(
            "user_id", "account_id", "contact_id"
        ):
            if user_id not in people and account_id is not None:
                people[user_id] = (account_id, contact_id)
    return accounts, people


def follow_product_events(*, batch_size: int = 500, max_batches: int = MAX_BATCHES) -> int:
    """Enroll subjects from product events after the stored position; returns events handed out."""
    names = product_event_names()
    if not names:
        return 0
    total = 0
    JourneyCursor.objects.get_or_create(name=PRODUCT_CURSOR)
    for _batch in range(max_batches):
        with transaction.atomic():
            # Locked for the batch: a second worker waits, then reads the position this one stored.
            cursor = JourneyCursor.objects.select_for_update().get(name=PRODUCT_CURSOR)
            settled = _settled_up_to(cursor)
            rows = []
            if settled is not None and settled > cursor.position:
                rows = store.track_events_between(cursor.position, settled, names=names, limit=batch_size)
                _handle_product_events(rows, names)
                full = len(rows) == batch_size
                cursor.position = rows[-1].pk if full else settled
            cursor.save()
        total += len(rows)
        if settled is None or len(rows) < batch_size:
            break
    return total


def _handle_product_events(rows: list[Any], names: set[str]) -> None:
    if not rows:
        return
    entries = [(v, d) for v, d in live_versions("product_event") if d.entry.product_event in names]
    waits = waited_for()
    accounts_by_group, people = _people_of(rows)
    account_ids: set[int] = set()
    contact_ids: set[int] = set()
    resolved = []
    for row in rows:
        account_id, contact_id = row.account_id, row.contact_id
        if account_id is None:
            account_id = accounts_by_group.get(row.group_id)
        person = people.get(row.user_id)
        if person is not None:
            account_id = account_id or person[0]
            if contact_id is None and person[0] == account_id:
                contact_id = person[1]
        resolved.append((row, account_id, contact_id))
        if account_id:
            account_ids.add(account_id)
        if contact_id:
            contact_ids.add(contact_id)
    accounts = Account.objects.in_bulk(account_ids)
    contacts = Contact.objects.select_related("account").in_bulk(contact_ids)
    for row, account_id, contact_id in resolved:
        account = accounts.get(account_id) if account_id else None
        if account is None:
            continue  # a user of no known account yet enrolls no one
        contact = contacts.get(contact_id) if contact_id else None
        entry_data = {
            "event": row.event,
            "properties": row.properties,
            "product_event_id": row.pk,
            "user_id": row.user_id,
            "timestamp": row.timestamp.isoformat(),
        }
        for version, definition in entries:
            if definition.entry.product_event != row.event or row.received_at < launched_at(version):
                continue
            if definition.subject == "contact" and contact is None:
                continue  # a contact journey needs the person who did it
            _enroll_subjects(
                version,
                definition,
                account=account,
                contact=contact,
                key=f"product:{row.pk}",
                entry_data=entry_data,
            )
        if row.event in waits:
            _wake_waiting(account, contact, name=row.event, at=row.timestamp, data=row.properties)


# --- Dates ----------------------------------------------------------------------------------------


def _anchors(kind: str, first: date, last: date) -> Iterator[tuple[Account, str, date]]:
    """(account, what, anchor date) for every `kind` date between first and last, inclusive."""
    if kind == "renewal":
        subscriptions = Subscription.objects.filter(
            status__in=LIVE_STATUSES, renewal_date__range=(first, last)
        ).select_related("account")
        for subscription in subscriptions.order_by("renewal_date", "pk"):
            assert subscription.renewal_date is not None
            yield subscription.account, f"renewal:{subscription.pk}", subscription.renewal_date
    elif kind == "subscription_start":
        started = (
            Subscription.objects.filter(started_on__range=(first, last))
            .exclude(status=SubscriptionStatus.CANCELED)
            .select_related("account")
        )
        for subscription in started.order_by("started_on", "pk"):
            yield subscription.account, f"subscription_start:{subscription.pk}", subscription.started_on
    elif kind == "account_created":
        start = timezone.make_aware(datetime.combine(first, datetime.min.time()))
        end = timezone.make_aware(datetime.combine(last + timedelta(days=1), datetime.min.time()))
        for account in Account.objects.filter(created_at__gte=start, created_at__lt=end).order_by("pk"):
            yield account, f"account_created:{account.pk}", timezone.localdate(account.created_at)


def scan_dates(*, today: date | None = None) -> int:
    """Enroll the subjects whose date is `days` away, for each day since the last scan; returns enrollments."""
    today = today or timezone.localdate()
    made = 0
    for version, definition in live_versions("date"):
        entry = definition.entry
        assert entry.date is not None
        name = f"dates:{version.pk}"
        launch_day = timezone.localdate(launched_at(version))
        JourneyCursor.objects.get_or_create(name=name, defaults={"day": launch_day - timedelta(days=1)})
        with transaction.atomic():
            # Locked while enrolling, so a second scan waits and then finds the days covered.
            cursor = JourneyCursor.objects.select_for_update().get(name=name)
            last_scanned = max(
                cursor.day or launch_day - timedelta(days=1), today - timedelta(days=MAX_CATCH_UP_DAYS)
            )
            if last_scanned >= today:
                continue
            first_day = last_scanned + timedelta(days=1)
            # The entry fires `days` after its date (before it when negative): date = day - days.
            for account, what, anchor in _anchors(
                entry.date, first_day - timedelta(days=entry.days), today - timedelta(days=entry.days)
            ):
                entry_data = {"date": entry.date, "anchor_date": anchor.isoformat(), "days": entry.days}
                made += _enroll_subjects(
                    version,
                    definition,
                    account=account,
                    contact=None,
                    key=f"{what}:{anchor.isoformat()}",
                    entry_data=entry_data,
                )
            cursor.day = today
            cursor.save(update_fields=["day", "updated_at"])
    return made


@task()
def scan_dates_task() -> int:
    """The daily date scan (renewal countdowns, anniversaries of a start), enqueued by the scheduler."""
    return scan_dates()


# --- Schedules ------------------------------------------------------------------------------------


def _latest_fire_time(cron: str, now: datetime) -> datetime | None:
    try:
        fire: datetime = croniter(cron, timezone.localtime(now)).get_prev(datetime)
    except (ValueError, KeyError):
        return None
    return fire


def fire_schedules(*, now: datetime | None = None) -> int:
    """Enroll the audience of each scheduled journey whose fire time has come; returns enrollments.

    Each fire time is enrolled once whatever the number of workers: the one whose conditional UPDATE
    moves the version's cursor from the previous fire time to this one enrolls, in that transaction
    (a crash rolls the claim back with the enrollments, and the next poll fires it again). A fire
    time missed while no worker ran is enrolled late, once; older missed ones are not repeated.
    """
    now = now or timezone.now()
    made = 0
    for version, definition in live_versions("schedule"):
        fire = _latest_fire_time(definition.entry.cron or "", now)
        if fire is None:
            logger.warning("Journey version %s has a cron the scheduler cannot read", version.pk)
            continue
        name = f"schedule:{version.pk}"
        cursor, _created = JourneyCursor.objects.get_or_create(
            name=name, defaults={"moment": launched_at(version)}
        )
        if cursor.moment is not None and fire <= cursor.moment:
            continue
        with transaction.atomic():
            claimed = JourneyCursor.objects.filter(name=name, moment=cursor.moment).update(
                moment=fire, updated_at=now
            )
            if not claimed:
                continue  # another worker fired it
            made += enroll_audience(
                version,
                definition,
                key=f"schedule:{fire.isoformat()}",
                entry_data={"scheduled_at": fire.isoformat()},
            )
    return made


def enroll_audience(
    version: JourneyVersion, definition: JourneyDefinition, *, key: str, entry_data: dict[str, Any]
) -> int:
    """Every account (account journey) or every contact with the audience's roles (contact journey).

    The audience's conditions are the engine's to check (enroll refuses who does not match).
    """
    made = 0
    if definition.subject == "account":
        for account in Account.objects.order_by("pk").iterator(chunk_size=500):
            made += _enroll(
                version, definition, account=account, contact=None, key=key, entry_data=entry_data
            )
        return made
    for contact in audience_contacts(definition, None):
        made += _enroll(
            version, definition, account=contact.account, contact=contact, key=key, entry_data=entry_data
        )
    return made


def _wake_waiting(account: Any, contact: Any, *, name: str, at: Any, data: Any) -> None:
    """Wake the subject's enrollments whose wait step waits for this event (domain or product)."""
    from touchpoint.journeys.engine import notify_event

    notify_event(
        account_id=account.pk, contact_id=contact.pk if contact else None, name=name, at=at, data=data
    )
