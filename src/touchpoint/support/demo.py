"""Demo step "support": two business calendars, an SLA policy for the enterprise tier (round the clock)
and a default one (weekdays 9 to 18, Berlin, with the public holidays), an engineering on-call person
urgent breaches escalate to, and tickets over the demo's history.

Accounts that fit poorly ask more (and more urgent) questions; most tickets are answered and solved
well within their targets, some are not (those breach, with the timeline entry and the escalation
task a live breach makes). The last days leave an open backlog, and one ticket of a mid-market account
is due today: it shows as about to breach on the support page until its due moment passes. The SLA
fields of every ticket are computed by the same code as a live write (`services.compute_sla`).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import TimelineEntry
from touchpoint.demo.builders import (
    DEMO_EMAIL_DOMAIN,
    DEMO_PASSWORD,
    TIMELINE_COLUMNS,
    DemoContext,
    DemoLogin,
    register_data,
    step,
    timeline_row,
)
from touchpoint.events.models import DomainEvent
from touchpoint.support import services
from touchpoint.support.businesstime import add_business_time
from touchpoint.support.models import (
    DONE_STATUSES,
    BusinessCalendar,
    Channel,
    Priority,
    SlaBreach,
    SlaPolicy,
    SlaTarget,
    Ticket,
    TicketStatus,
    WebhookSource,
)
from touchpoint.tasks.models import Task, TaskPriority, TaskSource, TaskStatus
from touchpoint.users.roles import Role
from touchpoint.users.services import create_user

PRIORITY_MIX = ((Priority.URGENT, 0.06), (Priority.HIGH, 0.19), (Priority.NORMAL, 0.5), (Priority.LOW, 0.25))
CHANNEL_MIX = ((Channel.EMAIL, 0.55), (Channel.WEB, 0.25), (Channel.CHAT, 0.12), (Channel.PHONE, 0.08))
SUBJECTS = (
    "Cannot log in after password reset",
    "Export to CSV times out",
    "Invoice shows the wrong VAT",
    "SSO with Okta stopped working",
    "Dashboard is slow to load",
    "How do I add more seats?",
    "API returns 429 for our integration",
    "Webhook deliveries failing",
    "Report numbers differ from last week",
    "Need a copy of our data (GDPR)",
    "Mobile app crashes on start",
    "Email notifications not arriving",
    "Question about the renewal quote",
    "Import fails on row 1200",
    "Two users see each other's drafts",
    "Calendar sync duplicates events",
)
AGENTS = ("Sam Ortiz", "Mia Chen", "Leo Martin", "Ana Silva")
# Working-day holidays of the default calendar (Germany-wide dates that move least).
FIXED_HOLIDAYS = ((1, 1), (5, 1), (10, 3), (12, 24), (12, 25), (12, 26), (12, 31))
# Targets in business hours: (first reply, next reply, resolution)
ENTERPRISE_TARGETS = {
    Priority.URGENT: (1, 2, 8),
    Priority.HIGH: (2, 4, 24),
    Priority.NORMAL: (8, 8, 72),
    Priority.LOW: (24, 24, 120),
}
DEFAULT_TARGETS = {
    Priority.URGENT: (2, 4, 16),
    Priority.HIGH: (4, 8, 36),
    Priority.NORMAL: (8, 16, 72),
    Priority.LOW: (16, 24, 160),
}


def _pick(rng: random.Random, mix: tuple[tuple[Any, float], ...]) -> Any:
    roll, total = rng.random(), 0.0
    for value, share in mix:
        total += share
        if roll < total:
            return value
    return mix[-1][0]


@step("support", after=("revenue", "account_teams"))
def support(ctx: DemoContext) -> None:
    rng = ctx.rng
    engineer, _password = create_user(
        email=f"kenji.watanabe@{DEMO_EMAIL_DOMAIN}",
        role=Role.VIEWER,
        password=DEMO_PASSWORD,
        full_name="渡辺 健二",
        check_password_strength=False,
    )
    ctx.counts["users.user"] += 1
    ctx.logins.append(
        DemoLogin(
            user=engineer,
            role=Role.VIEWER.value,
            password=DEMO_PASSWORD,
            role_label=_("Engineering on call (SLA escalations)"),
        )
    )
    years = range(ctx.start.year, ctx.anchor.year + 2)
    office = services.save_calendar(
        name="Berlin office hours",
        time_zone="Europe/Berlin",
        working_days=[0, 1, 2, 3, 4],
        opens_at=time(9),
        closes_at=time(18),
        holidays=[date(year, month, day) for year in years for month, day in FIXED_HOLIDAYS],
        actor=None,
    )
    always = services.save_calendar(
        name="Round the clock",
        time_zone="UTC",
        working_days=list(range(7)),
        opens_at=time(0),
        closes_at=time(0),
        holidays=[],
        actor=None,
    )

    def targets(table: dict) -> dict:
        return {
            priority: {
                "first_reply_minutes": first * 60,
                "next_reply_minutes": following * 60,
                "resolution_minutes": resolution * 60,
                "escalate_to": engineer if priority in (Priority.URGENT, Priority.HIGH) else None,
            }
            for priority, (first, following, resolution) in table.items()
        }

    enterprise = ctx.segments.get("Enterprise") or next(iter(ctx.segments.values()), None)
    services.save_policy(
        name="Standard", segment=None, calendar=office, targets=targets(DEFAULT_TARGETS), actor=None
    )
    if enterprise is not None:
        services.save_policy(
            name="Enterprise 24/7",
            segment=enterprise,
            calendar=always,
            targets=targets(ENTERPRISE_TARGETS),
            actor=None,
        )
    services.create_webhook_source(key="zendesk", kind="zendesk", actor=None)
    context = services.Context.load()
    calendars = context.calendars

    rows: list[Ticket | None] = []
    for demo_account in ctx.accounts:
        account = demo_account.account
        first_day = max(ctx.start, account.created_at.astimezone(ctx.tz))
        last = ctx.end if demo_account.churned_on is None else ctx.at(demo_account.churned_on, 0)
        if last <= first_day:
            continue
        per_month = (
            0.4
            + 2.6 * (1 - demo_account.fit)
            + (1.0 if account.segment_id == getattr(enterprise, "pk", 0) else 0)
        )
        months = (last - first_day).days / 30
        for _n in range(int(per_month * months + rng.random())):
            opened = first_day + timedelta(seconds=rng.uniform(0, (last - first_day).total_seconds()))
            opened = opened.replace(microsecond=0)
            rows.append(
                _ticket(ctx, rng, demo_account, opened, context, calendars, poor=1 - demo_account.fit)
            )
    rows.append(_due_today(ctx, context, enterprise))
    made = ctx.bulk_create(Ticket, [row for row in rows if row is not None])
    _breaches_and_timeline(ctx, made, context, engineer)


def _ticket(ctx, rng, demo_account, opened, context, calendars, *, poor: float) -> Ticket:
    account = demo_account.account
    priority = _pick(
        rng,
        PRIORITY_MIX
        if poor < 0.6
        else ((Priority.URGENT, 0.12), (Priority.HIGH, 0.28), (Priority.NORMAL, 0.4), (Priority.LOW, 0.2)),
    )
    policy = context.policy(account.segment_id)
    calendar = calendars[policy.calendar_id] if policy else services.DEFAULT_CALENDAR
    target = context.targets.get((policy.pk, priority)) if policy else None
    first_target = timedelta(minutes=(target.first_reply_minutes if target else 480) or 480)
    fix_target = timedelta(minutes=(target.resolution_minutes if target else 4800) or 4800)
    late = rng.random() < 0.04 + 0.12 * poor
    first_share = rng.uniform(1.1, 3.0) if late else rng.betavariate(2, 4)
    fix_late = rng.random() < 0.05 + 0.15 * poor
    fix_share = rng.uniform(1.05, 2.5) if fix_late else rng.betavariate(2.5, 3)
    first_reply: datetime | None = add_business_time(calendar, opened, first_target * first_share)
    solved: datetime | None = add_business_time(
        calendar, opened, max(fix_target * fix_share, first_target * first_share + timedelta(minutes=5))
    )
    contact = rng.choice(demo_account.contacts) if demo_account.contacts else None
    status = TicketStatus.CLOSED if rng.random() < 0.5 else TicketStatus.SOLVED
    if solved is not None and solved >= ctx.end:
        solved = None
        status = rng.choice((TicketStatus.OPEN, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.HOLD))
    if first_reply is not None and first_reply >= ctx.end:
        first_reply = None
        status = TicketStatus.NEW
    updated = max(m for m in (opened, first_reply, solved) if m is not None)
    ticket = Ticket(
        account=account,
        contact=getattr(contact, "contact", None),
        requester_name=getattr(getattr(contact, "contact", None), "name", ""),
        requester_email=getattr(getattr(contact, "contact", None), "email", ""),
        subject=rng.choice(SUBJECTS),
        priority=priority,
        status=status,
        channel=_pick(rng, CHANNEL_MIX),
        source="zendesk",
        external_id=str(10000 + len(ctx.shared.setdefault("support_ids", []))),
        assignee=rng.choice(AGENTS),
        opened_at=opened,
        first_reply_at=first_reply,
        last_reply_at=first_reply,
        solved_at=solved,
        source_updated_at=updated,
        created_at=opened,
    )
    ctx.shared["support_ids"].append(ticket.external_id)
    pauses: tuple[tuple[datetime, datetime | None], ...] = ()
    if status in DONE_STATUSES and solved is not None:
        pauses = ((solved, None),)
    elif status in (TicketStatus.PENDING, TicketStatus.HOLD):
        pauses = ((max(updated, ctx.end - timedelta(hours=rng.randint(2, 30))), None),)
    ticket.pauses = [[a.isoformat(), b.isoformat() if b else None] for a, b in pauses]
    ticket.account = account
    services.compute_sla(ticket, context, now=ctx.end - timedelta(seconds=1))
    return ticket


def _due_today(ctx: DemoContext, context: services.Context, enterprise) -> Ticket | None:
    """A normal ticket of a mid-market account opened on the last working day at 17:00 (Berlin), its
    eight business hours of first reply running out today at 16:00: about to breach."""
    candidates = [
        d
        for d in ctx.accounts
        if d.churned_on is None and d.account.segment_id != getattr(enterprise, "pk", None)
    ]
    if not candidates:
        return None
    demo_account = ctx.rng.choice(candidates)
    policy = context.policy(demo_account.account.segment_id)
    if policy is None:
        return None
    calendar = context.calendars[policy.calendar_id]
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(calendar.time_zone)
    day = ctx.anchor - timedelta(days=1)
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    opened = datetime.combine(day, time(17), tzinfo=zone)
    contact = demo_account.contacts[0].contact if demo_account.contacts else None
    ticket = Ticket(
        account=demo_account.account,
        contact=contact,
        requester_name=getattr(contact, "name", ""),
        requester_email=getattr(contact, "email", ""),
        subject="Single sign-on fails for new users",
        priority=Priority.NORMAL,
        status=TicketStatus.OPEN,
        channel=Channel.EMAIL,
        source="zendesk",
        external_id="9999",
        assignee="",
        opened_at=opened,
        source_updated_at=opened,
        created_at=opened,
    )
    services.compute_sla(ticket, context, now=ctx.end - timedelta(seconds=1))
    return ticket


def _breaches_and_timeline(
    ctx: DemoContext, tickets: list[Ticket], context: services.Context, engineer
) -> None:
    """The breaches each ticket's clocks show, with their timeline entries, escalation tasks and (for the
    last week's) the domain events the alerts step turns into the owners' alerts."""
    from touchpoint.support import sla

    ticket_type = ContentType.objects.get_for_model(Ticket).pk
    breaches: list[SlaBreach] = []
    timeline: list[tuple] = []
    tasks: list[Task] = []
    recent = ctx.end - timedelta(days=7)
    now = ctx.end - timedelta(seconds=1)
    for ticket in tickets:
        payload = {
            "ticket_id": ticket.pk,
            "subject": ticket.subject,
            "priority": ticket.priority,
            "status": ticket.status,
            "source": ticket.source,
            "external_id": ticket.external_id,
        }
        timeline.append(
            timeline_row(
                account_id=ticket.account_id,
                kind="ticket_opened",
                occurred_at=ticket.opened_at,
                title=f"Ticket opened: {ticket.subject}",
                subject_type_id=ticket_type,
                subject_id=ticket.pk,
                data=payload,
            )
        )
        if ticket.solved_at is not None:
            timeline.append(
                timeline_row(
                    account_id=ticket.account_id,
                    kind="ticket_solved",
                    occurred_at=ticket.solved_at,
                    title=f"Ticket solved: {ticket.subject}",
                    subject_type_id=ticket_type,
                    subject_id=ticket.pk,
                    data=payload | {"minutes": ticket.resolution_minutes},
                )
            )
        if not ticket.breached:
            continue
        policy = context.policy(ticket.account.segment_id)
        calendar = context.calendars[policy.calendar_id] if policy else services.DEFAULT_CALENDAR
        target = context.targets.get((policy.pk, ticket.priority)) if policy else None
        for clock in sla.clocks(services.times_of(ticket), services.targets_of(target), calendar, now):
            if not clock.breached or clock.due_at is None:
                continue
            breaches.append(
                SlaBreach(
                    ticket=ticket,
                    account_id=ticket.account_id,
                    metric=clock.metric,
                    clock_started_at=clock.started_at,
                    due_at=clock.due_at,
                    detected_at=clock.due_at,
                )
            )
            data = {
                "ticket_id": ticket.pk,
                "subject": ticket.subject,
                "priority": ticket.priority,
                "metric": clock.metric,
                "due_at": clock.due_at.isoformat(),
            }
            timeline.append(
                timeline_row(
                    account_id=ticket.account_id,
                    kind="sla_breached",
                    occurred_at=clock.due_at,
                    title=f"SLA breached ({clock.metric}): {ticket.subject}",
                    subject_type_id=ticket_type,
                    subject_id=ticket.pk,
                    data=data,
                )
            )
            if clock.due_at >= recent:
                DomainEvent.objects.create(
                    kind="ticket.sla_breached",
                    account_id=ticket.account_id,
                    subject_type="support.ticket",
                    subject_id=ticket.pk,
                    payload=data,
                    occurred_at=clock.due_at,
                )
            if target is not None and target.escalate_to_id == engineer.pk:
                tasks.append(
                    Task(
                        title=f"SLA breach: {ticket.subject} ({ticket.account.name})"[:200],
                        owner=engineer,
                        due_on=clock.due_at.astimezone(ctx.tz).date(),
                        priority=TaskPriority.HIGH,
                        source=TaskSource.RULE,
                        about_label=f"Ticket #{ticket.pk}",
                        about_url=f"/support/tickets/{ticket.pk}/",
                        status=TaskStatus.DONE if ticket.solved_at else TaskStatus.OPEN,
                        closed_at=ticket.solved_at,
                        created_at=clock.due_at,
                    )
                )
    ctx.bulk_create(SlaBreach, breaches)
    ctx.insert_rows(TimelineEntry, TIMELINE_COLUMNS, timeline)
    ctx.bulk_create(Task, tasks)


register_data(
    "support",
    label=_("support tickets"),
    count=lambda: Ticket.objects.count(),
    delete=lambda: (
        SlaBreach.objects.all().delete(),
        Ticket.objects.all().delete(),
        SlaTarget.objects.all().delete(),
        SlaPolicy.objects.all().delete(),
        BusinessCalendar.objects.all().delete(),
        WebhookSource.objects.all().delete(),
    ),
    order=4,
)
