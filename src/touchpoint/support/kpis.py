"""Support fills two of the readiness KPI slots: time to fix and SLA compliance (over every product:
tickets name no product), for the accounts the reader may read."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from statistics import median

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from touchpoint.readiness.kpis import Kpi, KpiContext, KpiValue, kpis
from touchpoint.support.models import Ticket


def _moment(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _tickets(context: KpiContext):
    qs = Ticket.objects.all()
    if context.reader is not None:
        from touchpoint.accounts.rules import readable_accounts_q

        qs = qs.filter(readable_accounts_q(context.reader, "account__"))
    return qs


def _fix_hours(context: KpiContext, window: tuple[date, date]) -> tuple[float, int] | None:
    start, end = window
    minutes = list(
        _tickets(context)
        .filter(
            solved_at__gte=_moment(start),
            solved_at__lt=_moment(end + timedelta(days=1)),
            resolution_minutes__isnull=False,
        )
        .values_list("resolution_minutes", flat=True)
    )
    return (round(median(minutes) / 60, 1), len(minutes)) if minutes else None


def time_to_fix(context: KpiContext) -> KpiValue | None:
    latest = _fix_hours(context, context.window())
    if latest is None:
        return None
    previous = _fix_hours(context, context.previous_window())
    return KpiValue(
        value=latest[0], previous=previous[0] if previous else None, better="lower", count=latest[1]
    )


def _compliance(context: KpiContext, window: tuple[date, date]) -> tuple[float, int] | None:
    start, end = window
    rows = list(
        _tickets(context)
        .filter(
            Q(opened_at__gte=_moment(start)),
            Q(opened_at__lt=_moment(end + timedelta(days=1))),
            policy__isnull=False,
        )
        .values_list("breached", flat=True)
    )
    if not rows:
        return None
    return round(100 * sum(1 for breached in rows if not breached) / len(rows), 1), len(rows)


def sla_compliance(context: KpiContext) -> KpiValue | None:
    latest = _compliance(context, context.window())
    if latest is None:
        return None
    previous = _compliance(context, context.previous_window())
    return KpiValue(
        value=latest[0], previous=previous[0] if previous else None, better="higher", count=latest[1]
    )


def register() -> None:
    kpis.add(
        Kpi(
            key="time_to_fix",
            label=_("Time to fix"),
            stage="use",
            unit=_("business hours"),
            compute=time_to_fix,
            order=40,
            permission="support.view_ticket",
        )
    )
    kpis.add(
        Kpi(
            key="sla_compliance",
            label=_("SLA compliance"),
            stage="use",
            unit="%",
            compute=sla_compliance,
            order=41,
            permission="support.view_ticket",
        )
    )
