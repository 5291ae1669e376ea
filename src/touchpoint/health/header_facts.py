"""What health adds to the account header: the risk (latest grade and score) and its trend.

One annotation on the header's query (no query of its own): the latest score and grade, as the
portfolio's health column reads them, and the score of a month before (the latest score 30 to 60
days old). The trend is that month's change. Registered from HealthConfig.ready().
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import (
    Case,
    CharField,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from touchpoint.health.models import HealthScore
from touchpoint.health.portfolio import with_health

TREND_DAYS = 30
# A change smaller than this (in points of 0–100) is shown as steady.
STEADY_POINTS = 2.0


def with_health_trend(qs: QuerySet) -> QuerySet:
    """Latest score and grade (health_score, health_grade), the score a month before
    (health_month_ago) and the trend between them (health_trend: "up", "down", "steady", or None
    when either is missing)."""
    today = timezone.localdate()
    month_ago = (
        HealthScore.objects.filter(
            account_id=OuterRef("pk"),
            day__lte=today - timedelta(days=TREND_DAYS),
            day__gt=today - timedelta(days=2 * TREND_DAYS),
        )
        .order_by("-day")
        .values("score")[:1]
    )
    change = F("health_score") - F("health_month_ago")
    return (
        with_health(qs)
        .annotate(health_month_ago=Subquery(month_ago))
        .annotate(
            health_trend=Case(
                When(Q(health_score__isnull=True) | Q(health_month_ago__isnull=True), then=Value(None)),
                When(Q(health_score__gte=F("health_month_ago") + STEADY_POINTS), then=Value("up")),
                When(Q(health_score__lte=F("health_month_ago") - STEADY_POINTS), then=Value("down")),
                default=Value("steady"),
                output_field=CharField(),
            ),
            health_change=ExpressionWrapper(change, output_field=FloatField()),
        )
    )


def register() -> None:
    from touchpoint.accounts.panels import account_header_facts

    account_header_facts.add(
        key="risk",
        label=_("Health"),
        order=15,
        template="health/_header_fact.html",
        annotate=with_health_trend,
    )
