"""What revenue gives health: live subscriptions, billing and renewal measures, and churn outcomes.

Registered from RevenueConfig.ready(). Every query reads subscription state as it was at the end of the
scored day (from its MRR movements), so the back-test can score past days.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from touchpoint.health.measures import (
    LIVE_SUBSCRIPTIONS,
    TIMELINE_MARKS,
    AsOf,
    Measure,
    MeasureSource,
    register_loss_source,
    register_measure,
    register_shared_cte,
    register_source,
    register_timeline_mark,
)
from touchpoint.revenue.models import MovementKind, MrrMovement, Subscription

LOSS_KINDS = (MovementKind.CHURN, MovementKind.CONTRACTION)


def live_subscriptions_sql(at: AsOf) -> tuple[str, list]:
    """Subscriptions live at the end of the day: the last movement up to it left MRR above zero.

    A subscription without any movement (entered before revenue history was kept) counts from its
    start date until it was canceled. Voided movements and their reversals do not count.
    """
    subscriptions, movements = Subscription._meta.db_table, MrrMovement._meta.db_table
    # A subscription that has since ended often has no renewal date any more (billing systems clear
    # it): on a day it was live, its next renewal was the day it ended. Without that, only the
    # customers who later left would have no renewal date on past days, and the back-test would
    # learn "no renewal date" as a sign of churn that nobody could have seen on the day.
    sql = f"""
        SELECT s.id, s.account_id, s.quantity, COALESCE(s.renewal_date, s.canceled_on) AS renewal_date,
               s.term_months, s.status
        FROM {subscriptions} s
        WHERE s.started_on <= %s AND (
            (SELECT m.mrr_after FROM {movements} m
             WHERE m.subscription_id = s.id AND m.occurred_on <= %s
               AND m.voided_at IS NULL AND m.reverses_id IS NULL
             ORDER BY m.occurred_on DESC, m.id DESC LIMIT 1) > 0
            OR (NOT EXISTS (SELECT 1 FROM {movements} m WHERE m.subscription_id = s.id)
                AND (s.canceled_on IS NULL OR s.canceled_on > %s) AND s.status <> 'canceled'))
    """
    return sql, [at.date(), at.date(), at.date()]


def _revenue_sql(at: AsOf) -> tuple[str, list]:
    today = timezone.localdate()
    # Past due: the last payment entry on the timeline before the day ended was a failure; for today
    # also a live subscription whose status says so (billing systems that only send the status).
    status_check = (
        "OR MAX(CASE WHEN live.status = 'past_due' THEN 1 ELSE 0 END) = 1" if at.day >= today else ""
    )
    next_renewal = at.days_between_dates("live.renewal_date", "%s")
    term_days = "(live.term_months * 365 / 12)"
    sql = f"""
        SELECT live.account_id,
               CASE WHEN (MAX(pay.last_failed) IS NOT NULL
                          AND (MAX(pay.last_recovered) IS NULL OR MAX(pay.last_recovered) < MAX(pay.last_failed)))
                         {status_check}
                    THEN 1 ELSE 0 END AS past_due,
               MIN(CASE WHEN live.renewal_date >= %s THEN {next_renewal} %% {term_days} END) AS days_to_renewal
        FROM {LIVE_SUBSCRIPTIONS} live
        LEFT JOIN {TIMELINE_MARKS} pay ON pay.account_id = live.account_id
        GROUP BY live.account_id
    """
    return sql, [at.date(), at.date()]


def losses_between(after: date, until: date) -> Iterable[tuple[int, date]]:
    """(account, day) of every churn or contraction in (after, until]: what the back-test predicts."""
    return (
        MrrMovement.objects.effective()
        .filter(kind__in=LOSS_KINDS, occurred_on__gt=after, occurred_on__lte=until)
        .values_list("account_id", "occurred_on")
    )


def register() -> None:
    register_shared_cte(LIVE_SUBSCRIPTIONS, live_subscriptions_sql)
    register_timeline_mark("last_failed", kinds=lambda: ["payment_failed"])
    register_timeline_mark("last_recovered", kinds=lambda: ["payment_recovered"])
    register_loss_source(losses_between)
    register_source(MeasureSource("revenue", columns=("past_due", "days_to_renewal"), query=_revenue_sql))
    register_measure(
        Measure(
            "billing",
            label=_("Billing status"),
            source="revenue",
            column="past_due",
            unit="",
            help=_("Whether a payment is past due (1) or not (0)."),
            weight=2,
            green=0,
            red=1,
            position=50,
        )
    )
    register_measure(
        Measure(
            "renewal_proximity",
            label=_("Renewal proximity"),
            source="revenue",
            column="days_to_renewal",
            unit=_("days"),
            help=_("Days until the next renewal: the nearer, the less time to fix what is wrong."),
            weight=1,
            green=120,
            red=30,
            position=60,
        )
    )
