"""Demo step "alerts": the alerts the demo team would have had this past week.

The health step scores about 90 days day by day, and each day's falls become `health.grade_changed`
events. The alert rules turn the events of the last week into alerts (through the same builders the
alerts consumer runs), the older ones are history, not news: the consumer's position is moved past
every event the demo wrote, so a worker started afterwards does not alert on three months of it.
Alerts of the week before the last two days are mostly read already, as a team working its mornings
would leave them.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils.translation import gettext_lazy as _

from touchpoint.demo.builders import DemoContext, register_data, step
from touchpoint.events.models import ConsumerPosition, DomainEvent
from touchpoint.home.alerts import CONSUMER, alerts_for, registered_alert_kinds
from touchpoint.home.models import Alert, DigestDelivery

RECENT_DAYS = 7


def _after() -> tuple[str, ...]:
    from touchpoint.demo import builders

    # After every step that writes events (journeys tag accounts and close tasks), so none is missed.
    return tuple(name for name in ("health", "revenue", "accounts", "journeys") if name in builders._STEPS)


@step("alerts", after=_after())
def alerts(ctx: DemoContext) -> None:
    since = ctx.anchor - timedelta(days=RECENT_DAYS)
    events = DomainEvent.objects.filter(kind__in=registered_alert_kinds()).order_by("transaction_id", "id")
    for event in events.iterator():
        day = _day_of(event, ctx)
        if day is None or day < since:
            continue
        alerts_for(event)
        # When it happened in the demo's story (the score day, before the morning), not at load time.
        made = Alert.objects.filter(event_id=event.pk)
        moment = min(ctx.at(day, 1, 30), ctx.end - timedelta(minutes=1))
        made.update(created_at=moment)
        if day < ctx.anchor - timedelta(days=2) and ctx.rng.random() < 0.8:
            made.update(read_at=moment + timedelta(hours=8))
    ctx.counts["home.alert"] += Alert.objects.count()
    newest = DomainEvent.objects.order_by("-transaction_id", "-id").first()
    if newest is not None:
        ConsumerPosition.objects.update_or_create(
            name=CONSUMER,
            defaults={"transaction_id": newest.transaction_id, "event_id": newest.pk},
        )


def _day_of(event: DomainEvent, ctx: DemoContext) -> date | None:
    """The demo day an event belongs to: a score's day, else the day it was recorded."""
    if "day" in event.payload:
        try:
            return date.fromisoformat(event.payload["day"])
        except (TypeError, ValueError):
            return None
    return event.occurred_at.astimezone(ctx.tz).date()


register_data(
    "alerts",
    label=_("alerts"),
    count=lambda: Alert.objects.count(),
    delete=lambda: (Alert.objects.all().delete(), DigestDelivery.objects.all().delete()),
    order=5,
)
