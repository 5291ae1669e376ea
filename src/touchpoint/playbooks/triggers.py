"""The rules that start playbooks, each firing once per occurrence.

- Health turned red, a new account, a champion left: domain events (`health.grade_changed`,
  `account.created`, `contact.changed`/`contact.removed`), followed by the consumer "playbooks.rules"
  (touchpoint.events.services.consume), which every worker runs as a poller.
- A renewal coming up: a daily scan of live subscriptions whose renewal date is within the rule's
  `days_before` (120 by default); the run is anchored on the renewal date, so the renewal playbook's
  steps fall 120, 90, 60 and 30 days before it.

Each occurrence has a key ("renewal:<subscription id>:<renewal date>", "health_red:<day>",
"new_account", "champion_left:<contact id>") and `start_playbook` inserts the run under a unique
(account, key) constraint: a second worker, a re-run or a restart finds the key taken and starts
nothing. The same consumer closes runs whose tasks are all done or cancelled.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from touchpoint.accounts.models import Account, ContactRole
from touchpoint.events.models import DomainEvent
from touchpoint.events.services import consume
from touchpoint.playbooks.models import (
    PlaybookRule,
    PlaybookRun,
    PlaybookRunStep,
    RuleKind,
    RunStatus,
    RunTrigger,
)
from touchpoint.playbooks.services import AlreadyRunning, AlreadyStarted, complete_run_if_done, start_playbook
from touchpoint.revenue.models import LIVE_STATUSES, Subscription

logger = logging.getLogger(__name__)

CONSUMER = "playbooks.rules"
EVENT_KINDS = (
    "health.grade_changed",
    "account.created",
    "contact.changed",
    "contact.removed",
    "task.completed",
    "task.cancelled",
)
DEFAULT_DAYS_BEFORE_RENEWAL = 120
DEFAULT_NEW_ACCOUNT_MAX_AGE_DAYS = 30
# A poller's turn stops after this many batches, so one worker never holds the loop for long.
MAX_BATCHES = 20


def active_rule(kind: str) -> PlaybookRule | None:
    return (
        PlaybookRule.objects.filter(kind=kind, is_active=True, playbook__is_active=True)
        .select_related("playbook")
        .first()
    )


def fire(
    *, rule: PlaybookRule, account: Account, occurrence_key: str, anchor_date: date | None = None
) -> PlaybookRun | None:
    """Start the rule's playbook for this occurrence; None when it already fired (or cannot start)."""
    try:
        return start_playbook(
            account=account,
            playbook=rule.playbook,
            actor=None,
            trigger=RunTrigger.RULE,
            anchor_date=anchor_date,
            occurrence_key=occurrence_key,
            rule=rule,
        )
    except AlreadyStarted:
        return None
    except AlreadyRunning:
        return None  # the same playbook is still under way on this account: nothing to add
    except ValidationError as error:
        logger.warning(
            "Rule %s did not start %s on account %s: %s", rule.kind, rule.playbook, account.pk, error
        )
        return None


# --- Renewals: a daily scan -------------------------------------------------------------------


def renewal_key(subscription_id: int, renewal_date: date) -> str:
    return f"renewal:{subscription_id}:{renewal_date.isoformat()}"


def scan_renewals(*, today: date | None = None) -> list[PlaybookRun]:
    """Start the renewal playbook once for each live subscription renewing within the rule's window.

    Each renewal is its own transaction (in `start_playbook`), so one bad row holds up no other.
    """
    rule = active_rule(RuleKind.RENEWAL_DUE)
    if rule is None:
        return []
    today = today or timezone.localdate()
    days_before = int(rule.parameters.get("days_before", DEFAULT_DAYS_BEFORE_RENEWAL))
    due = (
        Subscription.objects.filter(
            status__in=LIVE_STATUSES,
            renewal_date__gte=today,
            renewal_date__lte=today + timedelta(days=days_before),
        )
        .select_related("account")
        .order_by("renewal_date", "id")
    )
    started = []
    for subscription in due.iterator(chunk_size=500):
        assert subscription.renewal_date is not None  # filtered above
        key = renewal_key(subscription.pk, subscription.renewal_date)
        if PlaybookRun.objects.filter(account_id=subscription.account_id, occurrence_key=key).exists():
            continue  # the common case on every day after the first: no transaction needed
        run = fire(
            rule=rule, account=subscription.account, occurrence_key=key, anchor_date=subscription.renewal_date
        )
        if run is not None:
            started.append(run)
    return started


# --- Domain events ----------------------------------------------------------------------------


def _account(event: DomainEvent) -> Account | None:
    if event.account_id is None:
        return None
    return Account.objects.select_related("owner").filter(pk=event.account_id).first()


def _on_grade_changed(event: DomainEvent) -> None:
    payload = event.payload or {}
    # "Turned" red: from green or yellow. An account scored for the first time (from "unknown") is
    # not a change a person made happen, and the first scoring run would escalate every red account.
    if payload.get("grade") != "red" or payload.get("previous_grade") not in ("green", "yellow"):
        return
    rule = active_rule(RuleKind.HEALTH_RED)
    account = _account(event) if rule else None
    if rule is None or account is None:
        return
    day = str(payload.get("day") or timezone.localdate(event.occurred_at).isoformat())
    fire(rule=rule, account=account, occurrence_key=f"health_red:{day}")


def _on_account_created(event: DomainEvent) -> None:
    rule = active_rule(RuleKind.NEW_ACCOUNT)
    account = _account(event) if rule else None
    if rule is None or account is None:
        return
    # An import of long-standing customers creates accounts too: only accounts that began recently
    # are new customers to onboard.
    max_age = int(rule.parameters.get("max_age_days", DEFAULT_NEW_ACCOUNT_MAX_AGE_DAYS))
    if account.created_at < timezone.now() - timedelta(days=max_age):
        return
    fire(rule=rule, account=account, occurrence_key="new_account")


def _lost_champion(event: DomainEvent) -> bool:
    payload = event.payload or {}
    if event.kind == "contact.removed":
        return ContactRole.CHAMPION in (payload.get("roles") or [])
    roles = (payload.get("changes") or {}).get("roles")
    if not isinstance(roles, list) or len(roles) != 2:
        return False
    before, after = roles
    return ContactRole.CHAMPION in (before or []) and ContactRole.CHAMPION not in (after or [])


def _on_contact_event(event: DomainEvent) -> None:
    if not _lost_champion(event):
        return
    rule = active_rule(RuleKind.CHAMPION_LEFT)
    account = _account(event) if rule else None
    if rule is None or account is None:
        return
    contact_id = (event.payload or {}).get("contact_id") or event.subject_id
    fire(rule=rule, account=account, occurrence_key=f"champion_left:{contact_id}:{event.pk}")


def _on_task_closed(event: DomainEvent) -> None:
    if event.subject_id is None:
        return
    run_step = (
        PlaybookRunStep.objects.filter(task_id=event.subject_id, run__status=RunStatus.RUNNING)
        .select_related("run")
        .first()
    )
    if run_step is not None:
        complete_run_if_done(run=run_step.run)


HANDLERS = {
    "health.grade_changed": _on_grade_changed,
    "account.created": _on_account_created,
    "contact.changed": _on_contact_event,
    "contact.removed": _on_contact_event,
    "task.completed": _on_task_closed,
    "task.cancelled": _on_task_closed,
}


def handle_event(event: DomainEvent) -> None:
    handler = HANDLERS.get(event.kind)
    if handler is not None:
        handler(event)


def follow_events() -> int:
    """Catch the rules up with the domain events (the worker's poller); returns how many were read."""
    total = 0
    for _batch in range(MAX_BATCHES):
        count = consume(CONSUMER, handle_event, kinds=EVENT_KINDS)
        total += count
        if not count:
            break
    return total
