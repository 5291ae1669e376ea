"""What milestones and time to value add to the shared screens and registries (from SuccessConfig.ready()):
the account page's "Milestones" panel, the nightly backfill, and
a quarter-hourly check of the accounts with fresh usage (so a milestone reached today becomes a domain
event within minutes, not tomorrow)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_tasks import task

# Reaching a milestone needs fresh rollups; the rollups poller runs every few seconds, so a check every
# quarter of an hour sees today's use. It reads only accounts with use today or yesterday.
RECENT_CHECK_SECONDS = 900


@task()
def record_milestones_task(day: str | None = None) -> int:
    """Record every product milestone reached up to the day (ISO date; today when empty)."""
    from datetime import date

    from touchpoint.success.milestones import record_from_usage

    return record_from_usage(as_of=date.fromisoformat(day) if day else None)


def _recent_check() -> int:
    from touchpoint.success.milestones import record_from_recent_usage

    return record_from_recent_usage()


def register() -> None:
    """Called from SuccessConfig.ready()."""
    from touchpoint.accounts.panels import account_panels
    from touchpoint.scheduler.registry import register_poller, register_schedule

    account_panels.add(key="milestones", title=_("Milestones"), url_name="account-milestones", order=26)
    # After midnight once yesterday's events are in the rollups, before health (01:30) and placement
    # read the milestones.
    register_schedule(
        "success.milestones",
        cron="10 1 * * *",
        task=record_milestones_task,
        description="Milestones reached, found in product usage",
    )
    register_poller("success.milestones_recent", every=RECENT_CHECK_SECONDS, run=_recent_check)
