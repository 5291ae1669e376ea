"""Reads about accounts, shared by the pages, the CSV export and the API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import Lower

from touchpoint.accounts.models import (
    Account,
    AccountTag,
    AccountTeamMember,
    Contact,
    ContactRole,
    ContactRoleAssignment,
    SavedView,
    Segment,
    TimelineEntry,
)
from touchpoint.accounts.panels import account_header_facts
from touchpoint.accounts.portfolio import (
    DEFAULT_PORTFOLIO_ORDER,
    is_empty,
    portfolio_columns,
    portfolio_export_columns,
    portfolio_filters,
)
from touchpoint.accounts.rules import readable_accounts_q


@dataclass(frozen=True)
class PortfolioFilter:
    """What a person asked the portfolio for; every field optional.

    `extra` holds the values of the filters other apps registered (accounts/portfolio.py), by key,
    as their form fields clean them.
    """

    search: str = ""
    owner_id: int | None = None
    unowned: bool = False
    segment_id: int | None = None
    engagement_model: str = ""
    parent_id: int | None = None
    external_id: str = ""
    mine_only: bool = False  # only the reader's book: accounts they own or are on the team of
    order: str = DEFAULT_PORTFOLIO_ORDER
    extra: Mapping[str, Any] = field(default_factory=dict)


def book_q(user: Any) -> Q:
    """The accounts of `user`'s book (owned, or on the team of) as a filter."""
    if user is None or user.pk is None:
        return Q(pk__in=[])
    return Q(owner_id=user.pk) | Q(
        pk__in=AccountTeamMember.objects.filter(user_id=user.pk).values("account_id")
    )


def portfolio_orderings() -> dict[str, tuple]:
    """The `sort=` keys people can ask for and the columns behind them (the registered columns')."""
    return portfolio_columns.orderings()


def portfolio(filters: PortfolioFilter, *, reader: Any) -> QuerySet[Account]:
    """The accounts `reader` may read that match the filters, sorted, with everything a portfolio row shows joined in.

    The registered columns add their joins and annotations first, so filters and sorts can use them.
    """
    qs = Account.objects.select_related("owner", "segment", "parent").filter(readable_accounts_q(reader))
    search = filters.search.strip()
    if search:
        qs = qs.filter(
            Q(name__icontains=search) | Q(domain__icontains=search) | Q(external_id__iexact=search)
        )
    if filters.unowned:
        qs = qs.filter(owner__isnull=True)
    elif filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.mine_only:
        qs = qs.filter(book_q(reader))
    if filters.segment_id is not None:
        qs = qs.filter(segment_id=filters.segment_id)
    if filters.engagement_model:
        qs = qs.filter(engagement_model=filters.engagement_model)
    if filters.parent_id is not None:
        qs = qs.filter(parent_id=filters.parent_id)
    if filters.external_id:
        qs = qs.filter(external_id=filters.external_id)
    for column in portfolio_columns.all():
        if column.queryset is not None:
            qs = column.queryset(qs)
    for registered in portfolio_filters.all():
        value = filters.extra.get(registered.key)
        if not is_empty(value):
            qs = registered.apply(qs, value)
    orderings = portfolio_orderings()
    ordering = orderings.get(filters.order) or orderings[DEFAULT_PORTFOLIO_ORDER]
    return qs.annotate(name_lower=Lower("name")).order_by(*ordering)


def portfolio_export(qs: QuerySet[Account]) -> QuerySet[Account]:
    """The portfolio query with what the registered CSV columns read joined in."""
    for column in portfolio_export_columns.all():
        if column.queryset is not None:
            qs = column.queryset(qs)
    return qs


KEY_ROLES = (ContactRole.CHAMPION, ContactRole.DECISION_MAKER)


def account_for_360(account_id: int) -> Account:
    """One account with its header relations, the registered header facts' joins and annotations and
    its child companies loaded (raises DoesNotExist). Two queries whatever the account holds."""
    children = Account.objects.only("id", "name", "parent_id").order_by("name")
    qs = Account.objects.select_related("owner", "segment", "parent", *account_header_facts.select_related())
    return (
        account_header_facts.annotated(qs)
        .prefetch_related(Prefetch("children", queryset=children))
        .get(pk=account_id)
    )


def key_people(account: Account) -> dict[str, list[Contact]]:
    """The account's champions and decision makers (by role value, each by name), in one query."""
    found: dict[str, list[Contact]] = {role.value: [] for role in KEY_ROLES}
    rows = (
        ContactRoleAssignment.objects.filter(contact__account=account, role__in=KEY_ROLES)
        .select_related("contact")
        .order_by("contact__name", "contact_id")
    )
    for row in rows:
        found[row.role].append(row.contact)
    return found


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


def saved_views(user: Any) -> QuerySet[SavedView]:
    """The portfolio views `user` may pick: their own and those shared with everyone, by name."""
    return (
        SavedView.objects.filter(Q(user_id=user.pk) | Q(shared=True))
        .select_related("user")
        .order_by("name", "id")
    )


def account_facts(account_id: int) -> Account | None:
    """The account with its owner and segment (what journey conditions read), or None."""
    return Account.objects.select_related("owner", "segment").filter(pk=account_id).first()


def contact_facts(contact_id: int) -> Contact | None:
    """The contact with its roles prefetched, or None."""
    return Contact.objects.prefetch_related("roles").filter(pk=contact_id).first()


def tag_names(account_id: int) -> list[str]:
    return sorted(AccountTag.objects.filter(account_id=account_id).values_list("name", flat=True))


def contacts_with_roles(account_id: int, roles: list[str] | None = None) -> list[Contact]:
    """The account's contacts (those with one of `roles`, when given), in name order, roles prefetched."""
    contacts = Contact.objects.filter(account_id=account_id).prefetch_related("roles").order_by("name", "id")
    if roles is not None:
        contacts = contacts.filter(roles__role__in=roles).distinct()
    return list(contacts)
