"""Reads of support: ticket lists, the numbers (support/metrics.py), what is about to breach, an
account's tickets. Every read is limited to the accounts the reader may read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from touchpoint.accounts.models import Segment
from touchpoint.accounts.rules import readable_accounts_q
from touchpoint.support import metrics
from touchpoint.support.models import (
    DONE_STATUSES,
    PRIORITY_ORDER,
    BusinessCalendar,
    Priority,
    SlaBreach,
    SlaPolicy,
    SlaTarget,
    Ticket,
    WebhookSource,
)

ABOUT_TO_BREACH = timedelta(hours=24)


def tickets(reader: Any) -> QuerySet[Ticket]:
    return Ticket.objects.filter(readable_accounts_q(reader, "account__")).select_related(
        "account", "account__segment", "contact", "policy"
    )


def ticket_list(
    reader: Any,
    *,
    status: str = "",
    priority: str = "",
    account_id: int | None = None,
    open_only: bool = False,
    breached: bool | None = None,
) -> QuerySet[Ticket]:
    qs = tickets(reader)
    if status:
        qs = qs.filter(status=status)
    if priority:
        qs = qs.filter(priority=priority)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if open_only:
        qs = qs.exclude(status__in=DONE_STATUSES)
    if breached is not None:
        qs = qs.filter(breached=breached)
    return qs.order_by("-opened_at", "-id")


def ticket_detail_queryset() -> QuerySet[Ticket]:
    return Ticket.objects.select_related("account", "account__segment", "account__owner", "contact", "policy")


def breaches_of(ticket: Ticket) -> list[SlaBreach]:
    return list(ticket.breaches.order_by("due_at", "id"))


def breach_list(reader: Any) -> QuerySet[SlaBreach]:
    return (
        SlaBreach.objects.filter(readable_accounts_q(reader, "account__"))
        .select_related("ticket", "account")
        .order_by("-due_at", "-id")
    )


def about_to_breach(
    reader: Any, *, now: datetime | None = None, within: timedelta = ABOUT_TO_BREACH
) -> list[Ticket]:
    """Open tickets whose next due moment comes within `within` (soonest first)."""
    now = now or timezone.now()
    return list(
        tickets(reader)
        .filter(next_due_at__isnull=False, next_due_at__lte=now + within, next_due_at__gt=now)
        .order_by("next_due_at", "id")[:50]
    )


def open_backlog(reader: Any, *, limit: int = 30) -> list[Ticket]:
    rows = list(tickets(reader).exclude(status__in=DONE_STATUSES).order_by("opened_at", "id")[:500])
    rows.sort(key=lambda t: (PRIORITY_ORDER.get(t.priority, 9), t.opened_at, t.pk))  # type: ignore[call-overload]
    return rows[:limit]


def support_metrics(reader: Any, *, today: date | None = None, months: int = 6) -> metrics.Metrics:
    today = today or timezone.localdate()
    start = metrics.month_starts(today, months)[0]
    start_moment = timezone.make_aware(datetime.combine(start, datetime.min.time()))
    rows = [
        metrics.Row(
            priority=row["priority"],
            tier=row["account__segment__name"] or "",
            opened_at=row["opened_at"],
            solved_at=row["solved_at"],
            first_reply_minutes=row["first_reply_minutes"],
            resolution_minutes=row["resolution_minutes"],
            resolution_calendar_minutes=row["resolution_calendar_minutes"],
            breached=row["breached"],
            has_policy=row["policy_id"] is not None,
        )
        for row in Ticket.objects.filter(readable_accounts_q(reader, "account__"))
        .filter(Q(opened_at__gte=start_moment) | Q(solved_at__gte=start_moment) | Q(solved_at__isnull=True))
        .values(
            "priority",
            "account__segment__name",
            "opened_at",
            "solved_at",
            "first_reply_minutes",
            "resolution_minutes",
            "resolution_calendar_minutes",
            "breached",
            "policy_id",
        )
    ]
    tiers = list(Segment.objects.values_list("name", flat=True))
    return metrics.compute(rows, today=today, months=months, priorities=list(Priority.choices), tiers=tiers)


@dataclass(frozen=True)
class AccountSupport:
    open_tickets: list[Ticket]
    recent: list[Ticket]
    breaches: list[SlaBreach]
    open_count: int
    breach_count: int


def account_support(account_id: int) -> AccountSupport:
    open_rows = list(
        Ticket.objects.filter(account_id=account_id)
        .exclude(status__in=DONE_STATUSES)
        .order_by("opened_at", "id")[:20]
    )
    open_rows.sort(key=lambda t: (PRIORITY_ORDER.get(t.priority, 9), t.opened_at))  # type: ignore[call-overload]
    counts = Ticket.objects.filter(account_id=account_id).aggregate(
        open=Count("pk", filter=~Q(status__in=DONE_STATUSES)),
    )
    recent = list(
        Ticket.objects.filter(account_id=account_id, status__in=DONE_STATUSES).order_by("-solved_at", "-id")[
            :5
        ]
    )
    breaches = list(
        SlaBreach.objects.filter(account_id=account_id)
        .select_related("ticket")
        .order_by("-due_at", "-id")[:10]
    )
    return AccountSupport(
        open_tickets=open_rows,
        recent=recent,
        breaches=breaches,
        open_count=counts["open"],
        breach_count=SlaBreach.objects.filter(account_id=account_id).count(),
    )


def annotate_open_tickets(qs: QuerySet) -> QuerySet:
    """`open_tickets` and `breached_open_tickets` on each account (subqueries)."""
    open_q = Ticket.objects.filter(account_id=OuterRef("pk")).exclude(status__in=DONE_STATUSES)
    counted = open_q.order_by().values("account_id").annotate(n=Count("pk")).values("n")
    breached = (
        open_q.filter(breached=True).order_by().values("account_id").annotate(n=Count("pk")).values("n")
    )
    return qs.annotate(
        open_tickets=Coalesce(Subquery(counted, output_field=IntegerField()), Value(0)),
        breached_open_tickets=Coalesce(Subquery(breached, output_field=IntegerField()), Value(0)),
    )


def policies() -> list[SlaPolicy]:
    found = list(
        SlaPolicy.objects.select_related("segment", "calendar").prefetch_related("targets__escalate_to")
    )
    for policy in found:
        by = {t.priority: t for t in policy.targets.all()}
        policy.target_rows = [(value, label, by.get(value)) for value, label in Priority.choices]  # type: ignore[attr-defined]
    found.sort(key=lambda p: (p.segment is None, p.segment.tier if p.segment else 0, p.name))
    return found


def calendars() -> list[BusinessCalendar]:
    from touchpoint.support.forms import WEEKDAYS

    names = dict(WEEKDAYS)
    found = list(BusinessCalendar.objects.all())
    for calendar in found:
        calendar.day_names = [str(names[int(day)]) for day in sorted(calendar.working_days)]  # type: ignore[attr-defined]
    return found


def webhook_sources() -> list[WebhookSource]:
    return list(WebhookSource.objects.all())


def target_for(ticket: Ticket) -> SlaTarget | None:
    if ticket.policy_id is None:
        return None
    return SlaTarget.objects.filter(policy_id=ticket.policy_id, priority=ticket.priority).first()
