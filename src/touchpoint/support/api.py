"""REST API for support: tickets (list, one, create or update by source and external ID, change),
breaches, the numbers (time to first reply, time to fix, SLA compliance, backlog by priority, tier and
month) and the SLA policies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from pydantic import Field

from touchpoint.accounts.models import Account
from touchpoint.accounts.schemas import Ref
from touchpoint.api_contract import (
    READ,
    WRITE,
    Email,
    Id,
    Moment,
    Page,
    Paging,
    Strict,
    Text,
    answers,
    caller,
    page_of,
    require_perm,
)
from touchpoint.support import selectors, services
from touchpoint.support.metrics import Figures
from touchpoint.support.models import SlaBreach, Ticket

router = Router(tags=["support"])

PriorityValue = Literal["urgent", "high", "normal", "low"]
StatusValue = Literal["new", "open", "pending", "hold", "solved", "closed"]
ChannelValue = Literal["email", "web", "phone", "chat", "api", "other"]
MetricValue = Literal["first_reply", "next_reply", "resolution"]
SourceKey = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9-]+$")]


class TicketOut(Schema):
    id: int
    account: Ref
    subject: str
    priority: PriorityValue
    status: StatusValue
    channel: ChannelValue
    source: str
    external_id: str
    requester_name: str
    requester_email: str
    contact: Ref | None
    assignee: str
    opened_at: datetime
    first_reply_at: datetime | None
    last_reply_at: datetime | None
    awaiting_reply_since: datetime | None
    solved_at: datetime | None
    updated_at: datetime = Field(description="The source's update time (an older update changes nothing)")
    policy: Ref | None
    first_reply_due_at: datetime | None
    next_reply_due_at: datetime | None
    resolution_due_at: datetime | None
    next_due_at: datetime | None = Field(
        description="The earliest due moment of a running clock not yet breached"
    )
    first_reply_business_minutes: int | None
    resolution_business_minutes: int | None
    resolution_calendar_minutes: int | None
    breached: bool


class TicketWriteOut(TicketOut):
    outcome: Literal["created", "updated", "unchanged"]


def _out(ticket: Ticket) -> dict:
    return {
        "id": ticket.pk,
        "account": Ref(id=ticket.account_id, name=ticket.account.name),
        "subject": ticket.subject,
        "priority": ticket.priority,
        "status": ticket.status,
        "channel": ticket.channel,
        "source": ticket.source,
        "external_id": ticket.external_id,
        "requester_name": ticket.requester_name,
        "requester_email": ticket.requester_email,
        "contact": Ref(id=ticket.contact.pk, name=ticket.contact.name) if ticket.contact else None,
        "assignee": ticket.assignee,
        "opened_at": ticket.opened_at,
        "first_reply_at": ticket.first_reply_at,
        "last_reply_at": ticket.last_reply_at,
        "awaiting_reply_since": ticket.awaiting_reply_since,
        "solved_at": ticket.solved_at,
        "updated_at": ticket.source_updated_at,
        "policy": Ref(id=ticket.policy.pk, name=ticket.policy.name) if ticket.policy else None,
        "first_reply_due_at": ticket.first_reply_due_at,
        "next_reply_due_at": ticket.next_reply_due_at,
        "resolution_due_at": ticket.resolution_due_at,
        "next_due_at": ticket.next_due_at,
        "first_reply_business_minutes": ticket.first_reply_minutes,
        "resolution_business_minutes": ticket.resolution_minutes,
        "resolution_calendar_minutes": ticket.resolution_calendar_minutes,
        "breached": ticket.breached,
    }


@router.get(
    "/support/tickets",
    response=answers({200: Page[TicketOut]}, *READ),
    summary="List tickets",
)
def list_tickets(
    request: HttpRequest,
    paging: Query[Paging],
    status: StatusValue | None = None,
    priority: PriorityValue | None = None,
    account: Id | None = None,
    open: bool = False,
    breached: bool | None = None,
):
    """Tickets of the accounts you may read, newest first; `open=true` leaves out solved and closed ones."""
    require_perm(request, "support.view_ticket")
    found = selectors.ticket_list(
        caller(request),
        status=status or "",
        priority=priority or "",
        account_id=account,
        open_only=open,
        breached=breached,
    )
    return page_of(found, paging, _out)


@router.get(
    "/support/tickets/{ticket_id}",
    response=answers({200: TicketOut}, *READ, 404),
    summary="Get a ticket",
)
def get_ticket(request: HttpRequest, ticket_id: Id):
    ticket = get_object_or_404(selectors.ticket_detail_queryset(), pk=ticket_id)
    require_perm(request, "support.view_ticket", ticket)
    return _out(ticket)


class TicketIn(Strict):
    account: Id | None = Field(None, description="The account's id; or give account_external_id")
    account_external_id: Text | None = Field(None, max_length=128)
    subject: Text = Field(min_length=1, max_length=300)
    priority: PriorityValue = "normal"
    status: StatusValue = "new"
    channel: ChannelValue = "api"
    source: SourceKey = Field(
        "api", description="Where the ticket lives (e.g. zendesk); with external_id, its key"
    )
    external_id: Text = Field("", max_length=128)
    requester_name: Text = Field("", max_length=200)
    requester_email: Email = ""
    assignee: Text = Field("", max_length=200)
    opened_at: Moment
    updated_at: Moment | None = Field(None, description="The source's update time; now when left out")
    first_reply_at: Moment | None = None
    last_reply_at: Moment | None = None
    awaiting_reply_since: Moment | None = None
    solved_at: Moment | None = None


def _data(body: dict) -> services.TicketData:
    return services.TicketData(**body)


@router.post(
    "/support/tickets",
    response=answers({200: TicketWriteOut, 201: TicketWriteOut}, *WRITE, 404),
    summary="Create a ticket (or update it by source and external ID)",
)
def post_ticket(request: HttpRequest, body: TicketIn):
    """A new ticket is 201. With the `source` and `external_id` of a ticket already stored, the ticket
    is updated when `updated_at` is after the stored update (200, outcome "updated"), and left as it is
    otherwise (200, outcome "unchanged"): retries and late arrivals change nothing."""
    values = body.model_dump()
    account_id, external = values.pop("account"), values.pop("account_external_id")
    if account_id is not None:
        account = get_object_or_404(Account, pk=account_id)
    elif external:
        account = get_object_or_404(Account, external_id=external)
    else:
        from django.core.exceptions import ValidationError
        from django.utils.translation import gettext as _

        raise ValidationError({"account": _("Give the account's id or its external ID.")})
    require_perm(request, "support.add_ticket", account)
    ticket, outcome = services.upsert_ticket(data=_data(values), account=account, actor=caller(request))
    ticket = selectors.ticket_detail_queryset().get(pk=ticket.pk)
    return Status(201 if outcome == "created" else 200, _out(ticket) | {"outcome": outcome})


class TicketPatch(Strict):
    subject: Text | None = Field(None, min_length=1, max_length=300)
    priority: PriorityValue | None = None
    status: StatusValue | None = None
    channel: ChannelValue | None = None
    requester_name: Text | None = Field(None, max_length=200)
    requester_email: Email | None = None
    assignee: Text | None = Field(None, max_length=200)
    updated_at: Moment | None = None
    first_reply_at: Moment | None = None
    last_reply_at: Moment | None = None
    awaiting_reply_since: Moment | None = None
    solved_at: Moment | None = None


@router.patch(
    "/support/tickets/{ticket_id}",
    response=answers({200: TicketOut}, *WRITE, 404),
    summary="Change a ticket",
)
def patch_ticket(request: HttpRequest, ticket_id: Id, body: TicketPatch):
    """Only the fields given change; `updated_at` (default now) may not be older than the stored update."""
    ticket = get_object_or_404(Ticket, pk=ticket_id)
    require_perm(request, "support.change_ticket", ticket)
    changes = {
        k: v
        for k, v in body.model_dump(exclude_unset=True).items()
        if v is not None or k.endswith("_at") or k == "awaiting_reply_since"
    }
    services.update_ticket(ticket=ticket, changes=changes, actor=caller(request))
    return _out(selectors.ticket_detail_queryset().get(pk=ticket_id))


class BreachOut(Schema):
    id: int
    ticket: Ref
    account: Ref
    target: MetricValue
    due_at: datetime
    detected_at: datetime
    escalation: Literal["", "pending", "sent", "failed"]


@router.get(
    "/support/breaches",
    response=answers({200: Page[BreachOut]}, *READ),
    summary="List SLA breaches",
)
def list_breaches(request: HttpRequest, paging: Query[Paging]):
    """Breaches of the accounts you may read, the latest due first."""
    require_perm(request, "support.view_slabreach")

    def out(breach: SlaBreach) -> dict:
        return {
            "id": breach.pk,
            "ticket": Ref(id=breach.ticket_id, name=breach.ticket.subject),
            "account": Ref(id=breach.account_id, name=breach.account.name),
            "target": breach.metric,
            "due_at": breach.due_at,
            "detected_at": breach.detected_at,
            "escalation": breach.escalation_status,
        }

    return page_of(selectors.breach_list(caller(request)), paging, out)


class FiguresOut(Schema):
    key: str = Field(
        description="The priority, the tier (segment name; empty: none) or the month's first day"
    )
    opened: int
    solved: int
    open_now: int
    first_reply_hours: float | None = Field(description="Median business hours to the first reply")
    fix_hours: float | None = Field(description="Median business hours from opening to solved")
    fix_calendar_hours: float | None = Field(description="Median calendar hours from opening to solved")
    compliance: float | None = Field(description="Percent of the tickets under a policy with no breach")
    under_sla: int
    breached: int
    backlog_at_end: int | None = Field(description="By month: the tickets open at the month's end")


class MetricsOut(Schema):
    start: date
    end: date
    total: FiguresOut
    by_priority: list[FiguresOut]
    by_tier: list[FiguresOut]
    by_month: list[FiguresOut]


def _figures(row: Figures) -> dict:
    return {
        "key": row.key,
        "opened": row.opened,
        "solved": row.solved,
        "open_now": row.open_now,
        "first_reply_hours": row.first_reply_hours,
        "fix_hours": row.fix_hours,
        "fix_calendar_hours": row.fix_calendar_hours,
        "compliance": row.compliance,
        "under_sla": row.under_sla,
        "breached": row.breached,
        "backlog_at_end": row.backlog_at_end,
    }


@router.get(
    "/support/metrics",
    response=answers({200: MetricsOut}, *READ),
    summary="Support numbers",
)
def get_metrics(request: HttpRequest, months: Annotated[int, Field(ge=1, le=24)] = 6):
    """Time to first reply, time to fix, SLA compliance and backlog over the last `months` months (the
    current one included), in total and by priority, tier and month (see docs/support.md)."""
    require_perm(request, "support.view_ticket")
    found = selectors.support_metrics(caller(request), months=months)
    return {
        "start": found.start,
        "end": found.end,
        "total": _figures(found.total),
        "by_priority": [_figures(r) for r in found.by_priority],
        "by_tier": [_figures(r) for r in found.by_tier],
        "by_month": [_figures(r) for r in found.by_month],
    }


class TargetOut(Schema):
    priority: PriorityValue
    first_reply_minutes: int | None
    next_reply_minutes: int | None
    resolution_minutes: int | None
    escalate_to: Ref | None
    escalation_url: str


class CalendarOut(Schema):
    id: int
    name: str
    time_zone: str
    working_days: list[int]
    opens_at: str
    closes_at: str
    holidays: list[date]


class PolicyOut(Schema):
    id: int
    name: str
    tier: Ref | None = Field(description="The segment; null for the default policy")
    calendar: CalendarOut
    targets: list[TargetOut]


@router.get(
    "/support/policies",
    response=answers({200: list[PolicyOut]}, *READ),
    summary="List SLA policies",
)
def list_policies(request: HttpRequest):
    require_perm(request, "support.view_slapolicy")
    return [
        {
            "id": p.pk,
            "name": p.name,
            "tier": Ref(id=p.segment.pk, name=p.segment.name) if p.segment else None,
            "calendar": {
                "id": p.calendar.pk,
                "name": p.calendar.name,
                "time_zone": p.calendar.time_zone,
                "working_days": p.calendar.working_days,
                "opens_at": p.calendar.opens_at.strftime("%H:%M"),
                "closes_at": p.calendar.closes_at.strftime("%H:%M"),
                "holidays": [date.fromisoformat(d) for d in p.calendar.holidays],
            },
            "targets": [
                {
                    "priority": t.priority,
                    "first_reply_minutes": t.first_reply_minutes,
                    "next_reply_minutes": t.next_reply_minutes,
                    "resolution_minutes": t.resolution_minutes,
                    "escalate_to": Ref(id=t.escalate_to.pk, name=str(t.escalate_to))
                    if t.escalate_to
                    else None,
                    "escalation_url": t.escalation_url,
                }
                for t in p.targets.all()
            ],
        }
        for p in selectors.policies()
    ]
