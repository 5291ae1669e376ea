"""Demo step "health": the default scorecard, today's scores and ~90 days of daily history.

History is recomputed day by day with the same set-based SQL as the nightly task, each day from data
as it was then, so trends, sparklines and the back-test have something true to show. It runs after
the usage step and, when installed, the revenue step (subscriptions and the churn that follows a
decline in usage).
"""

from __future__ import annotations

from datetime import timedelta

from touchpoint.demo import builders
from touchpoint.demo.builders import DemoContext, step
from touchpoint.health import services
from touchpoint.health.measures import registered_sources
from touchpoint.health.models import HealthScore

HISTORY_DAYS = 90

# Scored after the steps that write what the measures read: usage, revenue, and whatever step a
# plugged-in measure source names (success plans, …) among those already registered.
_after = tuple(
    name
    for name in ("usage", "revenue", *(source.demo_step for source in registered_sources()))
    if name and name in builders._STEPS
)


@step("health", after=_after)
def health(ctx: DemoContext) -> None:
    services.ensure_default_scorecard()
    days = min(HISTORY_DAYS, ctx.days)
    for offset in range(days - 1, -1, -1):
        services.recompute_health(day=ctx.anchor - timedelta(days=offset))
    ctx.counts["health scores"] += HealthScore.objects.count()
