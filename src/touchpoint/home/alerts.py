"""Alert rules: which domain events become alerts, for whom (each app registers its own).

    from touchpoint.home.alerts import AlertDraft, register_alert

    def churned(event: DomainEvent) -> list[AlertDraft]:
        if event.payload.get("kind") != "churn":
            return []
        return [AlertDraft(recipient_ids=account_people(event.account_id), title="…", url="/accounts/7/",
                           account_id=event.account_id, data={...})]

    register_alert("mrr.movement", build=churned, describe=lambda alert: gettext("…") % alert.data)

`build(event)` runs in the alerts consumer (`deliver_alerts`, a poller of every worker), inside the
transaction that stores the consumer's position, so an event is turned into alerts exactly once:
a retry after a crash starts at the same event, and the unique (event, recipient) key makes a second
pass write nothing. `describe(alert)` says the alert in the active language at display time (the
stored `title` is plain English); without it the stored title shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone

if TYPE_CHECKING:
    from touchpoint.events.models import DomainEvent
    from touchpoint.home.models import Alert

CONSUMER = "home.alerts"


@dataclass(frozen=True)
class AlertDraft:
    """One alert a rule wants, for each of `recipient_ids`."""

    recipient_ids: Iterable[int]
    title: str
    url: str = ""
    account_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertRule:
    kind: str  # the domain event kind it reads; also the kind of the alerts it makes
    build: Callable[[DomainEvent], list[AlertDraft]]
    describe: Callable[[Alert], str] | None = None


_RULES: dict[str, AlertRule] = {}


def register_alert(
    kind: str,
    build: Callable[[DomainEvent], list[AlertDraft]],
    *,
    describe: Callable[[Alert], str] | None = None,
) -> AlertRule:
    rule = AlertRule(kind=kind, build=build, describe=describe)
    _RULES[kind] = rule
    return rule


def unregister_alert(kind: str) -> None:
    _RULES.pop(kind, None)


def registered_alert_kinds() -> list[str]:
    return sorted(_RULES)


def alert_text(alert: Alert) -> str:
    """The alert in the active language (its rule's `describe`), else its stored title."""
    rule = _RULES.get(alert.kind)
    if rule is not None and rule.describe is not None:
        try:
            return rule.describe(alert)
        except (KeyError, TypeError, ValueError):
            pass  # data of an older shape: the stored title still says it
    return alert.title


def account_people(account_id: int | None) -> list[int]:
    """The people who look after an account: its owner and the CSMs of its team (active ones)."""
    from touchpoint.accounts.models import Account, AccountTeamMember, TeamRole

    if account_id is None:
        return []
    owner = Account.objects.filter(pk=account_id, owner__is_active=True).values_list("owner_id", flat=True)
    team = AccountTeamMember.objects.filter(
        Q(account_id=account_id), role=TeamRole.CSM, user__is_active=True
    ).values_list("user_id", flat=True)
    return sorted({*owner, *team} - {None})


def alerts_for(event: DomainEvent) -> None:
    """Make the alerts the registered rule builds for this event (none twice: the unique key)."""
    from touchpoint.home.models import Alert

    rule = _RULES.get(event.kind)
    if rule is None:
        return
    # Stamped when the alert appears (not when the event happened), so a digest that covers
    # "alerts created since the last one" never misses an alert the consumer made late.
    now = timezone.now()
    rows = []
    for draft in rule.build(event):
        for recipient_id in sorted(set(draft.recipient_ids)):
            rows.append(
                Alert(
                    recipient_id=recipient_id,
                    account_id=draft.account_id,
                    kind=event.kind,
                    title=draft.title[:255],
                    data=draft.data,
                    url=draft.url[:500],
                    event_id=event.pk,
                    created_at=now,
                )
            )
    # The unique (event, recipient) key: an event handed out again makes no second alert.
    Alert.objects.bulk_create(rows, ignore_conflicts=True)


def deliver_alerts(*, batch_size: int = 200, max_batches: int = 50) -> int:
    """Turn the domain events after the alerts consumer's position into alerts; returns events read."""
    from touchpoint.events.services import consume

    kinds = registered_alert_kinds()
    if not kinds:
        return 0
    total = 0
    for _batch in range(max_batches):
        read = consume(CONSUMER, alerts_for, batch_size=batch_size, kinds=kinds)
        total += read
        if read < batch_size:
            break
    return total
