"""The kinds of domain event, registered by the apps that write them.

An app registers its kinds from its AppConfig.ready() (through a small `domain_events.py` it owns):

    from touchpoint.events.registry import register_kind
    register_kind("subscription.canceled", _("Subscription canceled"))

`record_event` refuses a kind nobody registered, so a typo cannot create a stream no consumer knows.
Kinds are "<thing>.<what happened>", lower case. Registered today:

- accounts: account.created, account.changed, account.owner_changed, account.deleted, contact.added, contact.changed,
  contact.removed, engagement.logged (payload `kind`: note, meeting, call or email)
- revenue: subscription.created, subscription.changed, subscription.canceled,
  subscription.reactivated, mrr.movement (payload `kind`: new, expansion, contraction, churn,
  reactivation)
- health: health.grade_changed
- success: phase.changed (an account moved to another lifecycle phase; payload `framework_id`,
  `phase_id`, `previous_phase_id`), registered by the success app, which owns phases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EventKind:
    kind: str
    label: Any  # a lazy translated string


_KINDS: dict[str, EventKind] = {}


def register_kind(kind: str, label: Any) -> EventKind:
    """Declare a kind of domain event; registering the same kind again replaces its label."""
    if not kind or kind != kind.strip().lower() or len(kind) > 64:
        raise ValueError(f"event kind {kind!r}: use a short lower-case name such as 'account.created'")
    event_kind = EventKind(kind=kind, label=label)
    _KINDS[kind] = event_kind
    return event_kind


def is_registered(kind: str) -> bool:
    return kind in _KINDS


def registered_kinds() -> list[EventKind]:
    return sorted(_KINDS.values(), key=lambda event_kind: event_kind.kind)


def label_of(kind: str) -> Any:
    event_kind = _KINDS.get(kind)
    return event_kind.label if event_kind is not None else kind
