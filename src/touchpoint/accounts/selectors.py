"""Reads about accounts, shared by the pages, the CSV export and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.expressions import OrderBy
from django.db.models.functions import Lower

from touchpoint.accounts.models import (
    Account,
    AccountTeamMember,
    Contact,
    ContactRoleAssignment,
    Segment,
    TimelineEntry,
)
from touchpoint.accounts.rules import readable_accounts_q

# Sort keys people can ask for, and the columns behind them. The id breaks ties so pages never
# repeat or skip a row.
PORTFOLIO_ORDERINGS: dict[str, tuple[str | OrderBy, ...]] = {
    "name": ("name_lower", "id"),
    "-name": ("-name_lower", "-id"),
    "owner": ("owner__full_name", "name_lower", "id"),
    "-owner": ("-owner__full_name", "name_lower", "id"),
    "segment": ("segment__tier", "segment__name", "name_lower", "id"),
    "-segment": ("-segment__tier", "-segment__name", "name_lower", "id"),
    "phase": ("phase__framework__name", "phase__position", "name_lower", "id"),
    "-phase": ("-phase__framework__name", "-phase__position", "name_lower", "id"),
    "engagement": ("engagement_model", "name_lower", "id"),
    "-engagement": ("-engagement_model", "name_lower", "id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    # Unscored accounts last either way.
    "health": (F("health_score").asc(nulls_last=True), "name_lower", "id"),
    "-health": (F("health_score").desc(nulls_last=True), "name_lower", "id"),
}
DEFAULT_PORTFOLIO_ORDER = "name"


@dataclass(frozen=True)
class PortfolioFilter:
    """What a person asked the portfolio for; every field optional."""

    search: str = ""
    owner_id: int | None = None
    unowned: bool = False
    segment_id: int | None = None
    engagement_model: str = ""
    phase_id: int | None = None
    parent_id: int | None = None
    external_id: str = ""
    grade: str = ""  # health grade: green, yellow, red or unknown
    order: str = DEFAULT_PORTFOLIO_ORDER


def with_health(qs: QuerySet[Account]) -> QuerySet[Account]:
    """Each account's latest health score and grade (health_score, health_grade), as subqueries."""
    # Looked up through the app registry: accounts must not import the health app (it imports accounts).
    health_score = apps.get_model("health", "HealthScore")
    latest = health_score.objects.filter(account_id=OuterRef("pk")).order_by("-day")
    return qs.annotate(
        health_score=Subquery(latest.values("score")[:1]), health_grade=Subquery(latest.values("grade")[:1])
    )


def portfolio(filters: PortfolioFilter, *, reader: Any) -> QuerySet[Account]:
    """The accounts `reader` may read that match the filters, sorted, with a portfolio row's relations."""
    qs = Account.objects.select_related("owner", "segment", "phase", "phase__framework", "parent").filter(
        readable_accounts_q(reader)
    )
    search = filters.search.strip()
    if search:
        qs = qs.filter(
            Q(name__icontains=search) | Q(domain__icontains=search) | Q(external_id__iexact=search)
        )
    if filters.unowned:
        qs = qs.filter(owner__isnull=True)
    elif filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.segment_id is not None:
        qs = qs.filter(segment_id=filters.segment_id)
    if filters.engagement_model:
        qs = qs.filter(engagement_model=filters.engagement_model)
    if filters.phase_id is not None:
        qs = qs.filter(phase_id=filters.phase_id)
    if filters.parent_id is not None:
        qs = qs.filter(parent_id=filters.parent_id)
    if filters.external_id:
        qs = qs.filter(external_id=filters.external_id)
    qs = with_health(qs)
    if filters.grade == "unknown":
        qs = qs.filter(Q(health_grade__isnull=True) | Q(health_grade="unknown"))
    elif filters.grade:
        qs = qs.filter(health_grade=filters.grade)
    ordering = PORTFOLIO_ORDERINGS.get(filters.order, PORTFOLIO_ORDERINGS[DEFAULT_PORTFOLIO_ORDER])
    return qs.annotate(name_lower=Lower("name")).order_by(*ordering)


def account_for_360(account_id: int) -> Account:
    """One account with its header relations and child companies loaded (raises DoesNotExist)."""
    children = Account.objects.only("id", "name", "parent_id").order_by("name")
    return (
        Account.objects.select_related("owner", "segment", "phase", "framework", "parent")
        .prefetch_related(Prefetch("children", queryset=children))
        .get(pk=account_id)
    )


def contacts_of(account: Account, *, search: str = "", role: str = "") -> QuerySet[Contact]:
    """The account's contacts with their roles, champions and decision makers first by name."""
    qs = Contact.objects.filter(account=account).prefetch_related(
        Prefetch("roles", queryset=ContactRoleAssignment.objects.order_by("role"))
    )
    if search.strip():
        term = search.strip()
        qs = qs.filter(Q(name__icontains=term) | Q(email__icontains=term) | Q(title__icontains=term))
    if role:
        qs = qs.filter(roles__role=role)
    return qs.order_by("name", "id")


def contacts(
    *,
    reader: Any,
    search: str = "",
    account_id: int | None = None,
    role: str = "",
    email: str = "",
    external_id: str = "",
) -> QuerySet[Contact]:
    """Contacts across the accounts `reader` may read, for the API."""
    qs = (
        Contact.objects.select_related("account")
        .prefetch_related("roles")
        .filter(readable_accounts_q(reader, "account__"))
    )
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if search.strip():
        term = search.strip()
        qs = qs.filter(Q(name__icontains=term) | Q(email__icontains=term))
    if role:
        qs = qs.filter(roles__role=role)
    if email:
        qs = qs.filter(email__iexact=email.strip())
    if external_id:
        qs = qs.filter(external_id=external_id)
    return qs.order_by("name", "id")


@dataclass(frozen=True)
class TimelineCursor:
    """Where the next page of a timeline starts: just after this entry (newest first)."""

    occurred_at: datetime
    entry_id: int

    def encode(self) -> str:
        return f"{self.occurred_at.isoformat()}~{self.entry_id}"

    @classmethod
    def decode(cls, value: str) -> TimelineCursor | None:
        when, _sep, entry_id = value.rpartition("~")
        try:
            return cls(occurred_at=datetime.fromisoformat(when), entry_id=int(entry_id))
        except ValueError:
            return None


def timeline_entries(account: Account, *, kinds: list[str] | None = None) -> QuerySet[TimelineEntry]:
    """The account's timeline, newest first, with authors joined."""
    qs = TimelineEntry.objects.filter(account=account).select_related("actor")
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return qs.order_by("-occurred_at", "-id")


def timeline_page(
    account: Account, *, after: TimelineCursor | None, size: int, kinds: list[str] | None = None
) -> tuple[list[TimelineEntry], TimelineCursor | None]:
    """One page of the timeline after the cursor, and the cursor of the next page (None at the end).

    Keyset paging: stable while new entries arrive at the top, and as fast on page 500 as page 1.
    """
    qs = timeline_entries(account, kinds=kinds)
    if after is not None:
        qs = qs.filter(
            Q(occurred_at__lt=after.occurred_at) | Q(occurred_at=after.occurred_at, id__lt=after.entry_id)
        )
    rows = list(qs[: size + 1])
    entries = rows[:size]
    next_cursor = (
        TimelineCursor(occurred_at=entries[-1].occurred_at, entry_id=entries[-1].pk)
        if len(rows) > size
        else None
    )
    return entries, next_cursor


def segments() -> QuerySet[Segment]:
    return Segment.objects.order_by("tier", "name")


def portfolio_summary(qs: QuerySet[Account]) -> dict[str, int]:
    """Counts by engagement model over a filtered portfolio, in one query."""
    rows = qs.order_by().values("engagement_model").annotate(n=Count("id"))
    return {row["engagement_model"]: row["n"] for row in rows}


def account_team(account: Account) -> QuerySet[AccountTeamMember]:
    """The account's team (besides its owner), by name."""
    return (
        AccountTeamMember.objects.filter(account=account)
        .select_related("user")
        .order_by("user__full_name", "user__email", "id")
    )
