"""Revenue at stake: how much recurring revenue asks for a feature request, weighted by urgency.

Pure functions (no database), so the rule is written once, tested on its own (hypothesis) and shown
on every request's page as the sum it is:

    stake(request) = Σ over the accounts that asked:  ARR × weight
    weight         = 1
                     + 0.5   when the account's next renewal is within 90 days (or overdue)
                     + 0.5   when its latest health grade is red
                     + 0.25  when its latest health grade is yellow

An account with no live subscription has no ARR: it adds nothing to the stake, but still counts as
an account that asked. ARR is in the reporting currency, as the revenue app converts it. The
numbers live in `Weighting`, so a test or a future setting can change them in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Weighting:
    renewal_days: int = 90
    renewal_boost: Decimal = Decimal("0.5")
    red_boost: Decimal = Decimal("0.5")
    yellow_boost: Decimal = Decimal("0.25")


DEFAULT = Weighting()


@dataclass(frozen=True)
class Requester:
    """What the ranking knows of one account that asked."""

    account_id: int
    arr: Decimal | None  # in the reporting currency; None: no live subscription
    next_renewal: date | None
    grade: str | None  # the latest health grade: green, yellow, red, unknown or None (never scored)


@dataclass(frozen=True)
class Weight:
    renewal_near: bool
    days_to_renewal: int | None
    renewal: Decimal
    health: Decimal

    @property
    def total(self) -> Decimal:
        return 1 + self.renewal + self.health


@dataclass(frozen=True)
class Part:
    """One account's share of a request's stake."""

    requester: Requester
    weight: Weight

    @property
    def arr(self) -> Decimal:
        return self.requester.arr or Decimal(0)

    @property
    def stake(self) -> Decimal:
        return self.arr * self.weight.total


@dataclass(frozen=True)
class Stake:
    parts: list[Part] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((part.stake for part in self.parts), Decimal(0))

    @property
    def arr(self) -> Decimal:
        """ARR of the accounts that asked, unweighted."""
        return sum((part.arr for part in self.parts), Decimal(0))

    @property
    def accounts(self) -> int:
        return len(self.parts)

    @property
    def renewal_boost(self) -> Decimal:
        """What near renewals add to the stake."""
        return sum((part.arr * part.weight.renewal for part in self.parts), Decimal(0))

    @property
    def health_boost(self) -> Decimal:
        """What poor health adds to the stake."""
        return sum((part.arr * part.weight.health for part in self.parts), Decimal(0))

    @property
    def renewing_soon(self) -> int:
        return sum(1 for part in self.parts if part.weight.renewal_near)

    @property
    def at_risk(self) -> int:
        return sum(1 for part in self.parts if part.weight.health > 0)


def weight(requester: Requester, *, today: date, rules: Weighting = DEFAULT) -> Weight:
    """How much one account's ARR counts: 1, plus the renewal and health boosts it earns."""
    days = None if requester.next_renewal is None else (requester.next_renewal - today).days
    # An overdue renewal (a live subscription past its date, the outcome not recorded yet) is the nearest.
    near = days is not None and days <= rules.renewal_days
    if requester.grade == "red":
        health = rules.red_boost
    elif requester.grade == "yellow":
        health = rules.yellow_boost
    else:
        health = Decimal(0)
    return Weight(
        renewal_near=near,
        days_to_renewal=days,
        renewal=rules.renewal_boost if near else Decimal(0),
        health=health,
    )


def stake(requesters: Iterable[Requester], *, today: date, rules: Weighting = DEFAULT) -> Stake:
    """The request's revenue at stake, with each account's part (in the order given)."""
    return Stake(
        parts=[Part(requester, weight(requester, today=today, rules=rules)) for requester in requesters]
    )
