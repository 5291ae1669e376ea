"""What the placement engine adds to the shared screens and registries: the account panel "Success
phase", who may override a phase, the daily placement, and the consumer of domain events that
places an account again when its facts change."""

from __future__ import annotations

from collections.abc import Callable

import rules
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from touchpoint.events.models import DomainEvent

CONSUMER = "success.placement"
# What can move an account: its health, its subscriptions, its milestones, its segment.
EVENT_KINDS = (
    "account.created",
    "account.changed",
    "health.grade_changed",
    "milestone.reached",
    "subscription.created",
    "subscription.changed",
    "subscription.canceled",
    "subscription.reactivated",
)
MAX_BATCHES = 20


@task()
def place_all_task() -> int:
    """The daily run: every account placed by its framework's rules; returns how many moved."""
    from touchpoint.success.placement import place_all

    return place_all().moved


def _placer() -> Callable[[DomainEvent], None]:
    from touchpoint.success.placement import place_accounts

    seen: set[int] = set()

    def handle(event: DomainEvent) -> None:
        # Placement reads the data as it is now, so one run per account per batch covers all of
        # that account's events in it.
        if event.account_id is not None and event.account_id not in seen:
            seen.add(event.account_id)
            place_accounts([event.account_id])

    return handle


def follow_events() -> int:
    """Place again the accounts the latest domain events are about (the worker's poller)."""
    from touchpoint.events.services import consume

    total = 0
    for _batch in range(MAX_BATCHES):
        count = consume(CONSUMER, _placer(), kinds=EVENT_KINDS)
        total += count
        if not count:
            break
    return total


def register() -> None:
    """Called from SuccessConfig.ready()."""
    from touchpoint.accounts.panels import account_panels
    from touchpoint.scheduler.registry import register_poller, register_schedule
    from touchpoint.users.permissions import is_admin, is_leader

    # Overriding where the rules put an account is a leader's or an admin's call.
    rules.add_perm("success.change_accountplacement", is_admin | is_leader)
    account_panels.add(
        key="success-phase",
        title=_("Success phase"),
        url_name="account-success-phase",
        order=15,
        permission="success.view_lifecyclephase",
    )
    # After health's recompute (01:30), so "health today" is today's.
    register_schedule(
        "success.placement",
        cron="0 2 * * *",
        task=place_all_task,
        description="Place every account in its success phase",
    )
    register_poller("success.placement", every=30, run=follow_events)
