"""Every write to support: tickets (from the API, a CSV import or a help desk's webhook), their SLA
clocks and breaches, the policies and calendars, the webhook sources.

    ticket, outcome = upsert_ticket(data=TicketData(...), account=account, actor=None)
    # outcome: "created", "updated" or "unchanged" (an update as old as, or older than, the stored one)
    check_breaches()          # the minute job: records the breaches whose due moment has passed

A ticket write recomputes its clocks (support/sla.py) and records any breach it finds at once; the
minute job records the ones that happen while nobody writes. A breach is recorded once (a unique key
on ticket, target and clock start), with a timeline entry, a `ticket.sla_breached` domain event (the
owner's alert reads it) and the escalation its target names: a task for an engineer and/or a signed
JSON POST to an engineering webhook (sent by the minute job, retried up to five times).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time as clock
import urllib.error
import urllib.request
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from touchpoint.accounts.models import Account, Contact, Segment
from touchpoint.accounts.services import clean_time_zone, record_on_timeline
from touchpoint.events.services import record_event
from touchpoint.plain_text import clean_text as _text
from touchpoint.support import sla
from touchpoint.support.businesstime import Calendar
from touchpoint.support.models import (
    DONE_STATUSES,
    PAUSED_STATUSES,
    BusinessCalendar,
    Channel,
    Metric,
    Priority,
    SlaBreach,
    SlaPolicy,
    SlaTarget,
    Ticket,
    TicketStatus,
    WebhookSource,
    WebhookSourceKind,
)
from touchpoint.users.models import User
from touchpoint.users.services import record_audit

logger = logging.getLogger(__name__)

MAX_TARGET_MINUTES = 60 * 24 * 365  # a year of business minutes is a typing slip past that
ESCALATION_ATTEMPTS = 5
ESCALATION_TIMEOUT = 10
DEFAULT_CALENDAR = Calendar()  # Monday to Friday, 9 to 17 UTC: what a ticket without a policy counts in


def _first_moment() -> datetime:
    from datetime import UTC

    return datetime(2000, 1, 1, tzinfo=UTC)


# --- checks -----------------------------------------------------------------------------------------


def _moment(value: datetime | None, field: str, *, now: datetime) -> datetime | None:
    if value is None:
        return None
    if timezone.is_naive(value):
        raise ValidationError({field: _("Give a time with its time zone (e.g. 2026-03-01T09:30:00Z).")})
    if value < _first_moment() or value > now + timedelta(days=1):
        raise ValidationError({field: _("Give a time between 2000 and now.")})
    return value


def _choice(value: str, choices: Any, field: str) -> str:
    if value not in choices.values:
        raise ValidationError(
            {
                field: _("“%(value)s” is not one of: %(choices)s.")
                % {"value": value, "choices": ", ".join(choices.values)}
            }
        )
    return value


# --- accounts and requesters -------------------------------------------------------------------------


def match_account(*, organization_id: str = "", organization: str = "", email: str = "") -> Account | None:
    """The account a ticket belongs to: by the organization's external ID, then its exact name (or
    domain), then the requester's email domain."""
    organization_id, organization = (organization_id or "").strip(), (organization or "").strip()
    if organization_id:
        found = Account.objects.filter(external_id=organization_id).first()
        if found is not None:
            return found
    if organization:
        named = list(
            Account.objects.filter(Q(name__iexact=organization) | Q(domain__iexact=organization))[:2]
        )
        if len(named) == 1:
            return named[0]
    domain = email.rpartition("@")[2].strip().lower() if "@" in (email or "") else ""
    if domain:
        by_domain = list(Account.objects.filter(domain__iexact=domain)[:2])
        if len(by_domain) == 1:
            return by_domain[0]
        contact = Contact.objects.filter(email__iexact=email.strip()).select_related("account").first()
        if contact is not None:
            return contact.account
    return None


# --- policies -----------------------------------------------------------------------------------------


def policy_for(account: Account) -> SlaPolicy | None:
    """The account's tier's policy, else the default one (no segment), else none."""
    policies = {
        p.segment_id: p
        for p in SlaPolicy.objects.filter(
            Q(segment__isnull=True) | Q(segment_id=account.segment_id)
        ).select_related("calendar")
    }
    return policies.get(account.segment_id) if account.segment_id in policies else policies.get(None)


def _minutes(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(minutes=value)


def targets_of(target: SlaTarget | None) -> sla.Targets:
    if target is None:
        return sla.Targets()
    return sla.Targets(
        first_reply=_minutes(target.first_reply_minutes),
        next_reply=_minutes(target.next_reply_minutes),
        resolution=_minutes(target.resolution_minutes),
    )


def _pauses_of(ticket: Ticket) -> tuple[sla.Pause, ...]:
    return tuple(
        (datetime.fromisoformat(start), datetime.fromisoformat(end) if end else None)
        for start, end in ticket.pauses
    )


def _store_pauses(ticket: Ticket, pauses: tuple[sla.Pause, ...]) -> None:
    ticket.pauses = [[start.isoformat(), end.isoformat() if end else None] for start, end in pauses]


def times_of(ticket: Ticket) -> sla.TicketTimes:
    return sla.TicketTimes(
        opened_at=ticket.opened_at,
        first_reply_at=ticket.first_reply_at,
        last_reply_at=ticket.last_reply_at,
        awaiting_reply_since=ticket.awaiting_reply_since,
        solved_at=ticket.solved_at,
        pauses=_pauses_of(ticket),
    )


@dataclass(frozen=True)
class Context:
    """What the SLA of a batch of tickets is computed with (the demo and the job share one per run)."""

    policies: dict[int | None, SlaPolicy]
    targets: dict[tuple[int, str], SlaTarget]
    calendars: dict[int, Calendar]

    @classmethod
    def load(cls) -> Context:
        policies = {p.segment_id: p for p in SlaPolicy.objects.select_related("calendar")}
        return cls(
            policies=policies,
            targets={(t.policy_id, t.priority): t for t in SlaTarget.objects.select_related("escalate_to")},
            calendars={p.calendar_id: p.calendar.as_calendar() for p in policies.values()},
        )

    def policy(self, segment_id: int | None) -> SlaPolicy | None:
        return self.policies.get(segment_id) or self.policies.get(None)


def compute_sla(ticket: Ticket, context: Context, *, now: datetime) -> list[sla.Clock]:
    """Set the ticket's policy, due moments, measured minutes and breach flag (not saved); its clocks."""
    policy = context.policy(ticket.account.segment_id)
    ticket.policy = policy
    calendar = context.calendars[policy.calendar_id] if policy is not None else DEFAULT_CALENDAR
    target = context.targets.get((policy.pk, ticket.priority)) if policy is not None else None
    found = sla.clocks(times_of(ticket), targets_of(target), calendar, now)
    by_metric = {c.metric: c for c in found}
    ticket.first_reply_due_at = by_metric["first_reply"].due_at
    ticket.next_reply_due_at = by_metric["next_reply"].due_at if "next_reply" in by_metric else None
    ticket.resolution_due_at = by_metric["resolution"].due_at
    ticket.next_due_at = sla.next_due(found)
    first = by_metric["first_reply"]
    ticket.first_reply_minutes = int(first.used.total_seconds() // 60) if first.stopped_at else None
    resolution = by_metric["resolution"]
    ticket.resolution_minutes = int(resolution.used.total_seconds() // 60) if resolution.stopped_at else None
    ticket.resolution_calendar_minutes = (
        int((ticket.solved_at - ticket.opened_at).total_seconds() // 60)
        if ticket.solved_at and ticket.solved_at >= ticket.opened_at
        else None
    )
    ticket.breached = ticket.breached or any(c.breached for c in found)
    return found


# --- tickets -----------------------------------------------------------------------------------------


@dataclass
class TicketData:
    """A ticket as a source says it: every field but the account (matched before)."""

    subject: str
    opened_at: datetime
    updated_at: datetime | None = None  # the source's update time; now when not given
    priority: str = Priority.NORMAL
    status: str = TicketStatus.NEW
    channel: str = Channel.OTHER
    source: str = "api"
    external_id: str = ""
    requester_name: str = ""
    requester_email: str = ""
    assignee: str = ""
    first_reply_at: datetime | None = None
    last_reply_at: datetime | None = None
    awaiting_reply_since: datetime | None = None
    solved_at: datetime | None = None


def _clean(data: TicketData, *, now: datetime) -> TicketData:
    subject = _text(data.subject, "subject", limit=300, required=True)
    source = _text(data.source, "source", limit=40, required=True).lower()
    if slugify(source) != source:
        raise ValidationError({"source": _("Use lower-case letters, digits and hyphens.")})
    email = _text(data.requester_email, "requester_email", limit=254).lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"requester_email": _("Enter a valid email address.")}) from None
    cleaned = TicketData(
        subject=subject,
        opened_at=data.opened_at,
        updated_at=data.updated_at or now,
        priority=_choice(data.priority, Priority, "priority"),
        status=_choice(data.status, TicketStatus, "status"),
        channel=_choice(data.channel, Channel, "channel"),
        source=source,
        external_id=_text(data.external_id, "external_id", limit=128),
        requester_name=_text(data.requester_name, "requester_name", limit=200),
        requester_email=email,
        assignee=_text(data.assignee, "assignee", limit=200),
        first_reply_at=data.first_reply_at,
        last_reply_at=data.last_reply_at,
        awaiting_reply_since=data.awaiting_reply_since,
        solved_at=data.solved_at,
    )
    for name in (
        "opened_at",
        "updated_at",
        "first_reply_at",
        "last_reply_at",
        "awaiting_reply_since",
        "solved_at",
    ):
        _moment(getattr(cleaned, name), name, now=now)
    opened = cleaned.opened_at
    for name in ("first_reply_at", "last_reply_at", "awaiting_reply_since", "solved_at"):
        value = getattr(cleaned, name)
        if value is not None and value < opened:
            raise ValidationError({name: _("Before the ticket was opened.")})
    if cleaned.status in DONE_STATUSES and cleaned.solved_at is None:
        cleaned.solved_at = min(cleaned.updated_at or now, now)
        if cleaned.solved_at < opened:
            cleaned.solved_at = opened
    if cleaned.status not in DONE_STATUSES:
        cleaned.solved_at = None  # reopened: the resolution clock runs again
    if cleaned.first_reply_at is None and cleaned.last_reply_at is not None:
        cleaned.first_reply_at = cleaned.last_reply_at
    return cleaned


def _contact_for(account: Account, email: str) -> Contact | None:
    return Contact.objects.filter(account=account, email__iexact=email).first() if email else None


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(a, b) if a is not None and b is not None else a or b


TRACKED = ("subject", "priority", "status", "channel", "assignee", "first_reply_at", "solved_at")


def _ticket_url(ticket: Ticket) -> str:
    return reverse("support-ticket", kwargs={"ticket_id": ticket.pk})


@transaction.atomic
def upsert_ticket(
    *, data: TicketData, account: Account, actor: User | None, now: datetime | None = None
) -> tuple[Ticket, str]:
    """Create the ticket or update the one with the same (source, external ID). An update whose
    `updated_at` is not after the stored one changes nothing ("unchanged"): webhooks retry and
    arrive out of order."""
    now = now or timezone.now()
    data = _clean(data, now=now)
    existing = None
    if data.external_id:
        existing = (
            Ticket.objects.select_for_update()
            .select_related("account")
            .filter(source=data.source, external_id=data.external_id)
            .first()
        )
    if existing is not None:
        assert data.updated_at is not None
        if existing.source_updated_at >= data.updated_at:
            return existing, "unchanged"
        return _write(existing, data, account=account, actor=actor, now=now), "updated"
    ticket = Ticket(
        account=account, opened_at=data.opened_at, source=data.source, external_id=data.external_id
    )
    return _write(ticket, data, account=account, actor=actor, now=now), "created"


def _write(
    ticket: Ticket, data: TicketData, *, account: Account, actor: User | None, now: datetime
) -> Ticket:
    created = ticket.pk is None
    before = {name: getattr(ticket, name) for name in TRACKED} if not created else {}
    was_done = ticket.status in DONE_STATUSES if not created else False
    if not created:
        # A help desk's snapshot may leave out the reply times it sent before: a reply never un-happens.
        if ticket.first_reply_at and (
            data.first_reply_at is None or data.first_reply_at > ticket.first_reply_at
        ):
            data.first_reply_at = ticket.first_reply_at
        data.last_reply_at = _latest(ticket.last_reply_at, data.last_reply_at)
        data.awaiting_reply_since = _latest(ticket.awaiting_reply_since, data.awaiting_reply_since)
    ticket.account = account
    ticket.contact = _contact_for(account, data.requester_email)
    for field in fields(TicketData):
        if field.name in ("updated_at", "source", "external_id"):
            continue
        setattr(ticket, field.name, getattr(data, field.name))
    assert data.updated_at is not None
    ticket.source_updated_at = data.updated_at
    paused = data.status in PAUSED_STATUSES
    at = data.solved_at if data.status in DONE_STATUSES and data.solved_at else data.updated_at
    pauses = sla.with_status(_pauses_of(ticket), paused=paused, at=max(min(at, now), data.opened_at))
    _store_pauses(ticket, pauses)
    context = Context.load()
    found = compute_sla(ticket, context, now=now)
    ticket.save()
    changes: dict[str, Any] = (
        {
            name: [str(before[name]), str(getattr(ticket, name))]
            for name in TRACKED
            if before[name] != getattr(ticket, name)
        }
        if not created
        else {"subject": ticket.subject, "priority": ticket.priority, "status": ticket.status}
    )
    record_audit(
        actor=actor,
        action="support.ticket_created" if created else "support.ticket_changed",
        instance=ticket,
        changes=changes,
    )
    payload = {
        "ticket_id": ticket.pk,
        "subject": ticket.subject,
        "priority": ticket.priority,
        "status": ticket.status,
        "source": ticket.source,
        "external_id": ticket.external_id,
    }
    if created:
        record_on_timeline(
            account=account,
            kind="ticket_opened",
            title=f"Ticket opened: {ticket.subject}",
            occurred_at=ticket.opened_at,
            subject=ticket,
            data=payload,
        )
        record_event(kind="ticket.opened", account=account, subject=ticket, payload=payload, actor=actor)
    elif changes:
        record_event(
            kind="ticket.changed",
            account=account,
            subject=ticket,
            payload=payload | {"changes": changes},
            actor=actor,
        )
    if ticket.status in DONE_STATUSES and not was_done:
        record_on_timeline(
            account=account,
            kind="ticket_solved",
            title=f"Ticket solved: {ticket.subject}",
            occurred_at=ticket.solved_at,
            subject=ticket,
            data=payload | {"minutes": ticket.resolution_minutes},
        )
        record_event(kind="ticket.solved", account=account, subject=ticket, payload=payload, actor=actor)
    _record_breaches(ticket, found, context, now=now)
    return ticket


@transaction.atomic
def create_ticket(*, data: TicketData, account: Account, actor: User | None) -> Ticket:
    if (
        data.external_id
        and Ticket.objects.filter(
            source=data.source.strip().lower(), external_id=data.external_id.strip()
        ).exists()
    ):
        raise ValidationError(
            {
                "external_id": ValidationError(
                    _("A ticket from this source has this external ID already."), code="unique"
                )
            }
        )
    ticket, _outcome = upsert_ticket(data=data, account=account, actor=actor)
    return ticket


@transaction.atomic
def update_ticket(
    *, ticket: Ticket, changes: dict[str, Any], actor: User | None, now: datetime | None = None
) -> Ticket:
    """Change some fields (the API's PATCH); `updated_at` defaults to now and must not be older than the stored one."""
    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update().select_related("account").get(pk=ticket.pk)
    current = {f.name: getattr(ticket, f.name) for f in fields(TicketData) if f.name != "updated_at"}
    unknown = set(changes) - set(current) - {"updated_at"}
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be changed.")})
    if "source" in changes or "external_id" in changes:
        raise ValidationError(
            {"source" if "source" in changes else "external_id": _("This field cannot be changed.")}
        )
    data = TicketData(**(current | changes | {"updated_at": changes.get("updated_at") or now}))
    if data.updated_at is not None and data.updated_at < ticket.source_updated_at:
        raise ValidationError({"updated_at": _("Older than the ticket's last update.")})
    data = _clean(data, now=now)
    return _write(ticket, data, account=ticket.account, actor=actor, now=now)


# --- breaches ---------------------------------------------------------------------------------------


def _record_breaches(
    ticket: Ticket, found: list[sla.Clock], context: Context, *, now: datetime
) -> list[SlaBreach]:
    made = []
    for c in found:
        if not c.breached or c.due_at is None:
            continue
        if SlaBreach.objects.filter(ticket=ticket, metric=c.metric, clock_started_at=c.started_at).exists():
            continue
        target = context.targets.get((ticket.policy_id, ticket.priority)) if ticket.policy_id else None
        try:
            with transaction.atomic():
                breach = SlaBreach.objects.create(
                    ticket=ticket,
                    account=ticket.account,
                    metric=c.metric,
                    clock_started_at=c.started_at,
                    due_at=c.due_at,
                    detected_at=now,
                    escalation_status="pending" if target is not None and target.escalation_url else "",
                )
        except IntegrityError:
            continue  # another writer recorded it first
        _on_breach(ticket, breach, target, now=now)
        made.append(breach)
    if made and not ticket.breached:
        Ticket.objects.filter(pk=ticket.pk).update(breached=True)
        ticket.breached = True
    return made


def _on_breach(ticket: Ticket, breach: SlaBreach, target: SlaTarget | None, *, now: datetime) -> None:
    from touchpoint.tasks.models import TaskPriority, TaskSource
    from touchpoint.tasks.services import create_task

    data = {
        "ticket_id": ticket.pk,
        "subject": ticket.subject,
        "priority": ticket.priority,
        "metric": breach.metric,
        "due_at": breach.due_at.isoformat(),
        "breach_id": breach.pk,
    }
    record_on_timeline(
        account=ticket.account,
        kind="sla_breached",
        title=f"SLA breached ({breach.metric}): {ticket.subject}",
        occurred_at=breach.due_at,
        subject=ticket,
        data=data,
    )
    record_event(
        kind="ticket.sla_breached", account=ticket.account, subject=ticket, payload=data, occurred_at=now
    )
    engineer = target.escalate_to if target is not None else None
    if engineer is not None and engineer.is_active:
        task = create_task(
            title=f"SLA breach: {ticket.subject} ({ticket.account.name})"[:200],
            due_on=timezone.localdate(now),
            actor=None,
            owner=engineer,
            priority=TaskPriority.HIGH,
            source=TaskSource.RULE,
            notes=f"{Metric(breach.metric).label} target of a {ticket.priority} ticket passed at {breach.due_at:%Y-%m-%d %H:%M} UTC.",
            about_label=f"Ticket #{ticket.pk}",
            about_url=_ticket_url(ticket),
        )
        breach.escalation_task_id = task.pk
        breach.save(update_fields=["escalation_task_id"])


def check_breaches(*, now: datetime | None = None, limit: int = 500) -> int:
    """Record the breaches of tickets whose earliest due moment has passed; how many were recorded."""
    now = now or timezone.now()
    ids = list(
        Ticket.objects.filter(next_due_at__lte=now)
        .order_by("next_due_at")
        .values_list("pk", flat=True)[:limit]
    )
    recorded = 0
    for pk in ids:
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().select_related("account").filter(pk=pk).first()
            if ticket is None or ticket.next_due_at is None or ticket.next_due_at > now:
                continue
            context = Context.load()
            found = compute_sla(ticket, context, now=now)
            ticket.save(
                update_fields=[
                    "policy",
                    "first_reply_due_at",
                    "next_reply_due_at",
                    "resolution_due_at",
                    "next_due_at",
                    "first_reply_minutes",
                    "resolution_minutes",
                    "resolution_calendar_minutes",
                    "breached",
                ]
            )
            recorded += len(_record_breaches(ticket, found, context, now=now))
    return recorded


def refresh_all(*, now: datetime | None = None) -> int:
    """Recompute every open ticket's clocks (after a policy or calendar changed)."""
    now = now or timezone.now()
    context = Context.load()
    count = 0
    for ticket in Ticket.objects.exclude(status__in=DONE_STATUSES).select_related("account").iterator():
        with transaction.atomic():
            found = compute_sla(ticket, context, now=now)
            ticket.save()
            _record_breaches(ticket, found, context, now=now)
            count += 1
    return count


# --- escalation webhooks ----------------------------------------------------------------------------

SIGNATURE_HEADER = "X-Touchpoint-Signature"
TIMESTAMP_HEADER = "X-Touchpoint-Timestamp"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """Hex HMAC-SHA256 of "<timestamp>.<body>" with the secret: what a receiver recomputes."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def escalation_body(breach: SlaBreach, *, base_url: str) -> bytes:
    ticket = breach.ticket
    return json.dumps(
        {
            "type": "ticket.sla_breached",
            "id": breach.pk,
            "ticket": {
                "id": ticket.pk,
                "subject": ticket.subject,
                "priority": ticket.priority,
                "status": ticket.status,
                "source": ticket.source,
                "external_id": ticket.external_id,
                "url": base_url.rstrip("/") + _ticket_url(ticket),
            },
            "account": {
                "id": ticket.account_id,
                "name": ticket.account.name,
                "external_id": ticket.account.external_id,
            },
            "target": breach.metric,
            "due_at": breach.due_at.isoformat(),
        },
        sort_keys=True,
    ).encode()


def deliver_escalations(*, base_url: str | None = None, limit: int = 50) -> int:
    """POST each pending escalation to its target's webhook, signed; how many were sent."""
    from django.conf import settings

    base_url = base_url if base_url is not None else getattr(settings, "TOUCHPOINT_BASE_URL", "") or ""
    sent = 0
    pending = SlaBreach.objects.filter(escalation_status="pending").select_related("ticket__account")[:limit]
    for breach in pending:
        target = SlaTarget.objects.filter(
            policy_id=breach.ticket.policy_id, priority=breach.ticket.priority
        ).first()
        if target is None or not target.escalation_url:
            SlaBreach.objects.filter(pk=breach.pk).update(
                escalation_status="", escalation_error="no webhook any more"
            )
            continue
        body = escalation_body(breach, base_url=base_url)
        timestamp = int(clock.time())
        request = urllib.request.Request(
            target.escalation_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: sign(target.escalation_secret, body, timestamp),
                "User-Agent": "Touchpoint",
            },
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
        error = ""
        try:
            with opener.open(request, timeout=ESCALATION_TIMEOUT) as response:
                if not 200 <= response.status < 300:
                    error = f"HTTP {response.status}"
        except urllib.error.HTTPError as failure:
            error = f"HTTP {failure.code}"
        except (urllib.error.URLError, OSError, ValueError) as failure:
            error = str(getattr(failure, "reason", failure))[:300]
        attempts = breach.escalation_attempts + 1
        if not error:
            status = "sent"
            sent += 1
        else:
            status = "failed" if attempts >= ESCALATION_ATTEMPTS else "pending"
            logger.warning("escalation webhook of breach %s failed: %s", breach.pk, error)
        SlaBreach.objects.filter(pk=breach.pk).update(
            escalation_status=status, escalation_attempts=attempts, escalation_error=error[:300]
        )
    return sent


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# --- calendars and policies --------------------------------------------------------------------------


@transaction.atomic
def save_calendar(
    *,
    name: str,
    time_zone: str,
    working_days: list[int],
    opens_at: time,
    closes_at: time,
    holidays: list[date],
    actor: User | None,
    calendar: BusinessCalendar | None = None,
) -> BusinessCalendar:
    name = _text(name, "name", limit=100, required=True)
    zone = clean_time_zone(time_zone) or "UTC"
    days = sorted(set(working_days))
    if not days or any(not 0 <= d <= 6 for d in days):
        raise ValidationError({"working_days": _("Choose at least one weekday (Monday is 0, Sunday 6).")})
    if closes_at != time(0) and closes_at <= opens_at:
        raise ValidationError({"closes_at": _("Closing time must come after opening time.")})
    if len(holidays) > 1000:
        raise ValidationError({"holidays": _("At most 1000 holidays.")})
    for day in holidays:
        if not date(2000, 1, 1) <= day <= date(2100, 12, 31):
            raise ValidationError({"holidays": _("Give dates between 2000 and 2100.")})
    if BusinessCalendar.objects.filter(name__iexact=name).exclude(pk=calendar.pk if calendar else 0).exists():
        raise ValidationError(
            {"name": ValidationError(_("A calendar has this name already."), code="unique")}
        )
    created = calendar is None
    calendar = calendar or BusinessCalendar()
    calendar.name, calendar.time_zone, calendar.working_days = name, zone, days
    calendar.opens_at, calendar.closes_at = opens_at, closes_at
    calendar.holidays = sorted({d.isoformat() for d in holidays})
    calendar.as_calendar()  # the arithmetic accepts it
    calendar.save()
    record_audit(
        actor=actor,
        action="support.calendar_saved",
        instance=calendar,
        changes={"name": name, "created": created},
    )
    return calendar


@transaction.atomic
def save_policy(
    *,
    name: str,
    segment: Segment | None,
    calendar: BusinessCalendar,
    targets: dict[str, dict[str, Any]],
    actor: User | None,
    policy: SlaPolicy | None = None,
) -> SlaPolicy:
    """A policy with its targets by priority: {"urgent": {"first_reply_minutes": 60, ...}, ...}."""
    name = _text(name, "name", limit=100, required=True)
    clash = SlaPolicy.objects.filter(segment=segment).exclude(pk=policy.pk if policy else 0)
    if clash.exists():
        raise ValidationError(
            {
                "segment": ValidationError(
                    _("That tier has a policy already.")
                    if segment
                    else _("There is a default policy already."),
                    code="unique",
                )
            }
        )
    for priority, values in targets.items():
        _choice(priority, Priority, "targets")
        for key in ("first_reply_minutes", "next_reply_minutes", "resolution_minutes"):
            value = values.get(key)
            if value is not None and not 1 <= value <= MAX_TARGET_MINUTES:
                raise ValidationError(
                    {f"targets.{priority}.{key}": _("Between 1 minute and a year of business minutes.")}
                )
        url = (values.get("escalation_url") or "").strip()
        if url:
            try:
                URLValidator(schemes=["http", "https"])(url)
            except ValidationError:
                raise ValidationError(
                    {
                        f"targets.{priority}.escalation_url": _(
                            "Give a web link starting with http:// or https://."
                        )
                    }
                ) from None
        engineer = values.get("escalate_to")
        if engineer is not None and not engineer.is_active:
            raise ValidationError(
                {f"targets.{priority}.escalate_to": _("%(name)s can no longer sign in.") % {"name": engineer}}
            )
    created = policy is None
    policy = policy or SlaPolicy()
    policy.name, policy.segment, policy.calendar = name, segment, calendar
    policy.save()
    secrets_kept = dict(SlaTarget.objects.filter(policy=policy).values_list("priority", "escalation_secret"))
    for priority, values in targets.items():
        url = (values.get("escalation_url") or "").strip()
        secret = (
            values.get("escalation_secret")
            or secrets_kept.get(priority)
            or (secrets.token_urlsafe(24) if url else "")
        )
        SlaTarget.objects.update_or_create(
            policy=policy,
            priority=priority,
            defaults={
                "first_reply_minutes": values.get("first_reply_minutes"),
                "next_reply_minutes": values.get("next_reply_minutes"),
                "resolution_minutes": values.get("resolution_minutes"),
                "escalate_to": values.get("escalate_to"),
                "escalation_url": url,
                "escalation_secret": secret,
            },
        )
    record_audit(
        actor=actor,
        action="support.policy_saved",
        instance=policy,
        changes={"name": name, "created": created},
    )
    return policy


# --- webhook sources ----------------------------------------------------------------------------------


@transaction.atomic
def create_webhook_source(*, key: str, kind: str, actor: User | None, secret: str = "") -> WebhookSource:
    key = _text(key, "key", limit=40, required=True).lower()
    if slugify(key) != key:
        raise ValidationError({"key": _("Use lower-case letters, digits and hyphens.")})
    _choice(kind, WebhookSourceKind, "kind")
    if WebhookSource.objects.filter(key=key).exists():
        raise ValidationError(
            {"key": ValidationError(_("A webhook source has this key already."), code="unique")}
        )
    secret = _text(secret, "secret", limit=100)
    if secret and len(secret) < 16:
        raise ValidationError({"secret": _("A signing secret has at least 16 characters.")})
    source = WebhookSource.objects.create(key=key, kind=kind, secret=secret or secrets.token_urlsafe(32))
    record_audit(
        actor=actor,
        action="support.webhook_source_created",
        instance=source,
        changes={"key": key, "kind": kind},
    )
    return source


@transaction.atomic
def rotate_webhook_secret(*, source: WebhookSource, actor: User | None) -> WebhookSource:
    source.secret = secrets.token_urlsafe(32)
    source.save(update_fields=["secret"])
    record_audit(actor=actor, action="support.webhook_secret_rotated", instance=source)
    return source


@transaction.atomic
def set_webhook_source_active(*, source: WebhookSource, active: bool, actor: User | None) -> WebhookSource:
    source.active = active
    source.save(update_fields=["active"])
    record_audit(
        actor=actor, action="support.webhook_source_changed", instance=source, changes={"active": active}
    )
    return source


def note_webhook_received(source: WebhookSource, *, now: datetime | None = None) -> None:
    from django.db.models import F

    WebhookSource.objects.filter(pk=source.pk).update(
        last_received_at=now or timezone.now(), received_count=F("received_count") + 1
    )
