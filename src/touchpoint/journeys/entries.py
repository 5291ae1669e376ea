"""What the entry triggers register with the scheduler (called from JourneysConfig.ready())."""

from __future__ import annotations


def register() -> None:
    from touchpoint.journeys import triggers
    from touchpoint.scheduler.registry import register_poller, register_schedule

    # Domain events and product events: every worker follows them (each consumer takes turns on a lock).
    register_poller("journeys.entries", every=triggers.EVENTS_POLL_SECONDS, run=triggers.follow_events)
    register_poller(
        "journeys.product_events",
        every=triggers.PRODUCT_EVENTS_POLL_SECONDS,
        run=triggers.follow_product_events,
    )
    # Scheduled journeys: polled, each fire time claimed once (see triggers.fire_schedules).
    register_poller("journeys.schedules", every=triggers.SCHEDULES_POLL_SECONDS, run=triggers.fire_schedules)
    register_schedule(
        "journeys.date_entries",
        cron="5 6 * * *",
        task=triggers.scan_dates_task,
        description="Enroll subjects whose renewal, start or creation date is the journey's days away",
    )
