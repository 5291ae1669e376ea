"""Demo step "journeys": four journeys from the library that have been live for the last months, with
their history, and one draft the team is still working on.

The team lead saved and launched the welcome series (an A/B test of two subject lines) and the
renewal countdown four months before the demo's day, the health-red journey two months and the new
contact welcome two weeks before it (`LIVE`); the training journey waits as a draft, and the
demo's history holds the subscription starts its simulation needs. Everything goes through the real
code: `services.save_version` and `launch`, then the engine (`engine.enroll`, `engine.advance_due`)
driven by the demo's own clock. Entries come from the demo's history in time order, as the triggers
would have made them (the same entry keys): the subscriptions that started and the renewals 120 days
out (the date scan), the health grades that fell to red (the `health.grade_changed` events the
health step wrote) and the contacts added. Between entries the engine wakes every enrollment whose
wait is over, at the moment it is over, so the journeys stand where they would stand today:
enrollments waiting at each wait, others converted, exited or completed, with their step visits,
tasks and outbox rows.

What is backdated, and why (the services stamp `timezone.now()`, the demo lives before its day):

- The rows the services write while the clock stands at a moment (timeline entries, domain events,
  audit entries, tasks, tags, consents) get that moment (`_Clock`); journeys and versions get the
  day they were saved and launched.
- Emails are never sent: no SMTP during the demo. Each pending email is settled as the sender would
  have settled it, in time order: deferred out of the quiet hours of the contact's time zone, not
  sent over the weekly cap (the demo company keeps it at `DEMO_WEEKLY_CAP` per person) or to a
  contact who unsubscribed, otherwise marked sent with its Message-ID; about half were opened and
  some clicked (the demo company tracks opens and clicks; the setting is off on a new site).
- Journey tasks due before the demo's last days are mostly done, through `complete_task`.

Finally the entry triggers' positions are moved to the demo's day (the domain-event consumer past
every event, each date scan to the day before), so a worker started afterwards does not replay the
history into the live journeys again.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import models
from django.db.models import Min
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import Account, AccountTag, Contact, TimelineEntry
from touchpoint.demo.builders import DemoContext, register_data, step
from touchpoint.events.models import ConsumerPosition, DomainEvent
from touchpoint.journeys import consent, delivery, engine, library, services
from touchpoint.journeys.conditions import holds
from touchpoint.journeys.definition import JourneyDefinition
from touchpoint.journeys.interpreter import Subject
from touchpoint.journeys.models import (
    ConsentStatus,
    DeliverySettings,
    Enrollment,
    EnrollmentStatus,
    Journey,
    JourneyCursor,
    JourneyVersion,
    MessagingConsent,
    OutboxKind,
    OutboxRow,
    OutboxStatus,
)
from touchpoint.journeys.rendering import language_for
from touchpoint.journeys.triggers import CONSUMER, entry_key_for
from touchpoint.revenue.models import LIVE_STATUSES, Subscription, SubscriptionStatus
from touchpoint.tasks.models import Task, TaskSource, TaskStatus
from touchpoint.tasks.services import complete_task
from touchpoint.users.models import AuditLogEntry

# The live journeys and how many days before the demo's day each was launched (the team started with
# the welcome and the renewals, added health-red later and the new contact welcome lately).
LIVE = {"welcome-series": 120, "renewal-countdown": 120, "health-red": 60, "new-contact-welcome": 14}
DRAFT = "training"
DEMO_WEEKLY_CAP = 2  # journey emails per person per 7 days in the demo company
UNSUBSCRIBED_SHARE = 0.03  # people who clicked "unsubscribe" at some point
OPEN_RATE = {"welcome-a": 0.42, "welcome-b": 0.58}  # the A/B test's subject lines; others: DEFAULT_OPEN_RATE
DEFAULT_OPEN_RATE = 0.5
CLICK_RATE = 0.35  # of the opened
DONE_SHARE = 0.8  # journey tasks due before the last two days that the CSMs did


@dataclass(order=True)
class _Entry:
    at: datetime
    order: tuple[Any, ...]
    key: str = field(compare=False)  # the journey
    account: Account = field(compare=False)
    contact: Contact | None = field(compare=False)
    entry_key: str = field(compare=False)
    entry_data: dict[str, Any] = field(compare=False)


class _Clock:
    """Stamps the rows services write while the demo's clock stands at a moment with that moment.

    The services stamp `timezone.now()`; the demo happens before its day. While `at(moment)` runs,
    every row of the models below that gets created (the services save them one by one, so
    `post_save` sees each) is noted, then given the moment in one UPDATE per model.
    """

    STAMPED: dict[type[models.Model], tuple[str, ...]] = {
        TimelineEntry: ("occurred_at", "created_at"),
        DomainEvent: ("occurred_at", "created_at"),
        AuditLogEntry: ("created_at",),
        Task: ("created_at",),
        AccountTag: ("created_at",),
        MessagingConsent: ("changed_at",),
    }

    def __init__(self) -> None:
        self.created: dict[type[models.Model], list[Any]] = defaultdict(list)

    def _note(self, sender: type[models.Model], instance: models.Model, created: bool, **kwargs: Any) -> None:
        if created and sender in self.STAMPED:
            self.created[sender].append(instance.pk)

    @contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        self.created.clear()
        post_save.connect(self._note, dispatch_uid="journeys-demo-clock")
        try:
            yield
        finally:
            post_save.disconnect(dispatch_uid="journeys-demo-clock")
        for model, pks in self.created.items():
            model._default_manager.filter(pk__in=pks).update(**dict.fromkeys(self.STAMPED[model], moment))
        self.created.clear()


@step("journeys", after=("usage", "health", "tasks", "playbooks", "renewals"))
def journeys(ctx: DemoContext) -> None:
    if not ctx.accounts:
        return
    clock = _Clock()
    leader = ctx.users.get("leader")
    first_launch = max(ctx.start, ctx.end - timedelta(days=max(LIVE.values()))).date()
    delivery = DeliverySettings.load()
    delivery.weekly_email_cap = DEMO_WEEKLY_CAP
    delivery.track_opens_and_clicks = True
    delivery.save()

    versions: dict[str, JourneyVersion] = {}
    for key, days in LIVE.items():
        launch_day = max(ctx.start, ctx.end - timedelta(days=days)).date()
        saved_at = ctx.at(launch_day - timedelta(days=1), 16, ctx.rng.randrange(60))
        launched_at = ctx.at(launch_day, 0, 5)
        with clock.at(saved_at):
            version = services.save_version(
                source=library.template(key).source, actor=leader, note="From the library"
            )
        with clock.at(launched_at):
            services.launch(journey=version.journey, actor=leader)
        JourneyVersion.objects.filter(pk=version.pk).update(created_at=saved_at, launched_at=launched_at)
        Journey.objects.filter(pk=version.journey_id).update(created_at=saved_at)
        version.refresh_from_db()
        versions[key] = version
    drafted_at = ctx.end - timedelta(days=2, hours=7)
    with clock.at(drafted_at):
        draft = services.save_version(
            source=library.template(DRAFT).source, actor=leader, note="Draft: simulate before launch"
        )
    JourneyVersion.objects.filter(pk=draft.pk).update(created_at=drafted_at)
    Journey.objects.filter(pk=draft.journey_id).update(created_at=drafted_at)

    _unsubscribe_a_few(ctx, clock, before=ctx.at(first_launch, 0))
    entries = sorted(_entries(ctx, versions))
    _walk(ctx, clock, versions, entries)
    _settle_emails(ctx)
    _see_in_app_messages(ctx)
    _work_tasks(ctx, clock)
    _move_trigger_positions(ctx, versions)

    ctx.counts["journeys.journey"] += Journey.objects.count()
    ctx.counts["journeys.enrollment"] += Enrollment.objects.count()
    ctx.counts["journeys.outboxrow"] += OutboxRow.objects.count()


# --- Who entered, and when -------------------------------------------------------------------------


def _entries(ctx: DemoContext, versions: dict[str, JourneyVersion]) -> Iterator[_Entry]:
    """Every entry the triggers would have made between each launch and the demo's day."""
    last_day = ctx.anchor - timedelta(days=1)
    for key, version in versions.items():
        definition = services.definition_of(version)
        assert version.launched_at is not None
        since = version.launched_at.astimezone(ctx.tz).date()
        entry = definition.entry
        if entry.trigger == "date":
            yield from _date_entries(ctx, key, definition, since=since, last=last_day)
        elif entry.trigger == "event" and entry.event == "contact.added":
            yield from _contact_entries(ctx, key, definition, since=since)
        elif entry.trigger == "event":
            yield from _event_entries(ctx, key, definition, since=since)


def _date_entries(
    ctx: DemoContext, key: str, definition: JourneyDefinition, *, since: date, last: date
) -> Iterator[_Entry]:
    entry = definition.entry
    first_anchor, last_anchor = since - timedelta(days=entry.days), last - timedelta(days=entry.days)
    if entry.date == "renewal":
        found = Subscription.objects.filter(
            status__in=LIVE_STATUSES, renewal_date__range=(first_anchor, last_anchor)
        ).values_list("pk", "account_id", "renewal_date")
        what = "renewal"
    elif entry.date == "subscription_start":
        found = (
            Subscription.objects.filter(started_on__range=(first_anchor, last_anchor))
            .exclude(status=SubscriptionStatus.CANCELED)
            .values_list("pk", "account_id", "started_on")
        )
        what = "subscription_start"
    else:
        return
    accounts = Account.objects.in_bulk({account_id for _pk, account_id, _day in found})
    for pk, account_id, anchor in found.order_by("pk"):
        if anchor is None:
            continue
        day = anchor + timedelta(days=entry.days)
        # The daily date scan runs early in the morning.
        at = ctx.at(day, 6, ctx.rng.randrange(60))
        yield _Entry(
            at=at,
            order=(key, account_id, pk),
            key=key,
            account=accounts[account_id],
            contact=None,
            entry_key=entry_key_for(definition, f"{what}:{pk}:{anchor.isoformat()}"),
            entry_data={"date": entry.date, "anchor_date": anchor.isoformat(), "days": entry.days},
        )


def _contact_entries(
    ctx: DemoContext, key: str, definition: JourneyDefinition, *, since: date
) -> Iterator[_Entry]:
    start = ctx.at(since, 0)
    people = Contact.objects.filter(created_at__gte=start, created_at__lt=ctx.end).select_related("account")
    for contact in people.order_by("created_at", "pk"):
        payload = {"contact_id": contact.pk, "name": contact.name, "email": contact.email}
        yield _Entry(
            at=contact.created_at,
            order=(key, contact.account_id, contact.pk),
            key=key,
            account=contact.account,
            contact=contact,
            entry_key=entry_key_for(definition, f"contact:{contact.pk}"),
            entry_data={"event": "contact.added", "payload": payload},
        )


def _event_entries(
    ctx: DemoContext, key: str, definition: JourneyDefinition, *, since: date
) -> Iterator[_Entry]:
    """Domain events of the entry's kind (the health step's falls carry their score day)."""
    events = DomainEvent.objects.filter(kind=definition.entry.event).exclude(account_id=None).order_by("id")
    accounts = Account.objects.in_bulk(set(events.values_list("account_id", flat=True)))
    for event in events:
        day = _day_of(event, ctx)
        if day is None or event.account_id is None or event.account_id not in accounts:
            continue
        if not since <= day < ctx.anchor:
            continue
        at = ctx.at(day, 5, 30) if "day" in event.payload else event.occurred_at
        entry_data = {"event": event.kind, "payload": event.payload, "event_id": event.pk}
        subject = Subject(account_id=event.account_id)
        if definition.entry.where is not None and not holds(definition.entry.where, subject, at, entry_data):
            continue
        yield _Entry(
            at=at,
            order=(key, event.account_id, event.pk),
            key=key,
            account=accounts[event.account_id],
            contact=None,
            entry_key=entry_key_for(definition, f"event:{event.pk}"),
            entry_data=entry_data,
        )


def _day_of(event: DomainEvent, ctx: DemoContext) -> date | None:
    if "day" in event.payload:
        try:
            return date.fromisoformat(str(event.payload["day"]))
        except ValueError:
            return None
    return event.occurred_at.astimezone(ctx.tz).date()


# --- The engine, on the demo's clock ---------------------------------------------------------------


def _walk(
    ctx: DemoContext, clock: _Clock, versions: dict[str, JourneyVersion], entries: list[_Entry]
) -> None:
    """Enroll each entry at its moment; between entries, advance every enrollment whose time came."""
    index = 0
    active = Enrollment.objects.filter(status=EnrollmentStatus.ACTIVE, wake_at__isnull=False)
    while True:
        next_wake = active.aggregate(first=Min("wake_at"))["first"]
        next_entry = entries[index].at if index < len(entries) else None
        if next_entry is not None and (next_wake is None or next_entry <= next_wake):
            entry = entries[index]
            index += 1
            if entry.at >= ctx.end:
                continue
            with clock.at(entry.at):
                engine.enroll(
                    version=versions[entry.key],
                    account=entry.account,
                    contact=entry.contact,
                    entry_key=entry.entry_key,
                    entry_data=entry.entry_data,
                    at=entry.at,
                )
            continue
        if next_wake is None or next_wake >= ctx.end:
            return
        with clock.at(next_wake):
            moved = engine.advance_due(now=next_wake, limit=1000)
        if not moved:
            raise RuntimeError(f"journeys demo: enrollments due at {next_wake} did not move")


# --- What the senders would have done ----------------------------------------------------------------


def _settle_emails(ctx: DemoContext) -> None:
    """Each pending email, in time order, as the sender would have settled it (no SMTP in the demo)."""
    rules = DeliverySettings.load()
    unsubscribed = set(
        MessagingConsent.objects.filter(status=ConsentStatus.UNSUBSCRIBED).values_list(
            "contact_id", flat=True
        )
    )
    rows = list(
        OutboxRow.objects.filter(kind=OutboxKind.EMAIL, status=OutboxStatus.PENDING)
        .select_related("contact", "account", "enrollment__version")
        .order_by("created_at", "pk")
    )
    sent_to: dict[int, list[datetime]] = defaultdict(list)
    definitions: dict[int, JourneyDefinition] = {}
    settled: list[OutboxRow] = []
    for row in rows:
        rng = random.Random(f"{ctx.seed}:email:{row.enrollment_id}:{row.step_id}:{row.recipient_key}")
        # The sender's rules, in its own words (journeys/delivery.py): quiet hours in the person's zone …
        quiet = delivery.quiet_until(
            row.created_at, delivery.zone_of(row.contact), rules.quiet_hours_start, rules.quiet_hours_end
        )
        moment = (quiet or row.created_at) + timedelta(minutes=rng.randrange(1, 20))
        moment = min(moment, ctx.end - timedelta(minutes=1))
        row.attempts = 1
        contact_id = row.contact_id
        recent = [at for at in sent_to[contact_id] if at > moment - timedelta(days=7)] if contact_id else []
        # … consent, then the weekly cap across all journeys.
        if not row.to_address:
            row.status, row.suppressed_reason = OutboxStatus.SUPPRESSED, "no_address"
        elif contact_id in unsubscribed:
            row.status, row.suppressed_reason = OutboxStatus.SUPPRESSED, "unsubscribed"
        elif rules.weekly_email_cap and len(recent) >= rules.weekly_email_cap:
            row.status, row.suppressed_reason = OutboxStatus.SUPPRESSED, "capped"
        else:
            version = row.enrollment.version
            if version.pk not in definitions:
                definitions[version.pk] = services.definition_of(version)
            message = definitions[version.pk].messages.get(str(row.payload.get("message") or ""), {})
            row.language = language_for(contact=row.contact, account=row.account, available=list(message))
            row.status, row.sent_at = OutboxStatus.SENT, moment
            row.message_id = delivery.message_id_for(row)
            if contact_id:
                sent_to[contact_id].append(moment)
            if rng.random() < OPEN_RATE.get(row.step_id, DEFAULT_OPEN_RATE):
                row.opened_at = min(moment + timedelta(minutes=rng.randrange(5, 36 * 60)), ctx.end)
                if rng.random() < CLICK_RATE:
                    row.clicked_at = min(row.opened_at + timedelta(minutes=rng.randrange(1, 30)), ctx.end)
        row.next_attempt_at = moment
        settled.append(row)
    OutboxRow.objects.bulk_update(
        settled,
        [
            "status",
            "suppressed_reason",
            "language",
            "sent_at",
            "message_id",
            "opened_at",
            "clicked_at",
            "attempts",
            "next_attempt_at",
        ],
        batch_size=500,
    )


def _see_in_app_messages(ctx: DemoContext) -> None:
    """Some in-app messages were seen in the product, a few clicked."""
    rows = list(OutboxRow.objects.filter(kind=OutboxKind.IN_APP, status=OutboxStatus.SENT).order_by("pk"))
    for row in rows:
        rng = random.Random(f"{ctx.seed}:in-app:{row.enrollment_id}:{row.step_id}:{row.recipient_key}")
        if row.sent_at is None or rng.random() >= 0.6:
            continue
        row.opened_at = min(row.sent_at + timedelta(hours=rng.randrange(1, 72)), ctx.end)
        if rng.random() < 0.3:
            row.clicked_at = row.opened_at + timedelta(seconds=rng.randrange(5, 120))
    OutboxRow.objects.bulk_update(rows, ["opened_at", "clicked_at"], batch_size=500)


def _unsubscribe_a_few(ctx: DemoContext, clock: _Clock, *, before: datetime) -> None:
    """A few people had said no to journey emails before the journeys started (they will be respected)."""
    for demo_account in ctx.accounts:
        for demo_contact in demo_account.contacts:
            contact = demo_contact.contact
            if contact.created_at >= before or ctx.rng.random() >= UNSUBSCRIBED_SHARE:
                continue
            span = max(1, int((before - contact.created_at).total_seconds() // 3600))
            moment = contact.created_at + timedelta(hours=ctx.rng.randrange(span))
            with clock.at(moment):
                consent.set_consent(
                    contact=contact, status=ConsentStatus.UNSUBSCRIBED, source="unsubscribe link"
                )


def _work_tasks(ctx: DemoContext, clock: _Clock) -> None:
    """The CSMs did most of the journey tasks that were due before the last two days."""
    due = Task.objects.filter(
        source=TaskSource.JOURNEY, status=TaskStatus.OPEN, due_on__lt=ctx.anchor - timedelta(days=2)
    ).select_related("account", "owner")
    for task in due.order_by("due_on", "pk"):
        if ctx.rng.random() >= DONE_SHARE:
            continue
        done_at = max(ctx.at(task.due_on, 15, ctx.rng.randrange(60)), task.created_at + timedelta(hours=1))
        done_at = min(done_at, ctx.end - timedelta(minutes=1))
        with clock.at(done_at):
            complete_task(task=task, actor=task.owner)
        Task.objects.filter(pk=task.pk).update(closed_at=done_at)


def _move_trigger_positions(ctx: DemoContext, versions: dict[str, JourneyVersion]) -> None:
    """The triggers stand at the demo's day: a worker started later does not replay the history."""
    newest = DomainEvent.objects.order_by("-transaction_id", "-id").first()
    if newest is not None:
        ConsumerPosition.objects.update_or_create(
            name=CONSUMER, defaults={"transaction_id": newest.transaction_id, "event_id": newest.pk}
        )
    for version in versions.values():
        if services.definition_of(version).entry.trigger == "date":
            JourneyCursor.objects.update_or_create(
                name=f"dates:{version.pk}", defaults={"day": ctx.anchor - timedelta(days=1)}
            )


register_data(
    "journeys",
    label=_("journeys"),
    count=lambda: Journey.objects.count(),
    delete=lambda: (
        OutboxRow.objects.all().delete(),
        Enrollment.objects.all().delete(),
        Journey.objects.all().delete(),
        MessagingConsent.objects.all().delete(),
        JourneyCursor.objects.filter(name__startswith="dates:").delete(),
    ),
    order=4,
)
