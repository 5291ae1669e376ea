"""What other apps add to the account page: panels below the header, and facts in the header.

    from touchpoint.accounts.panels import account_header_facts, account_panels

    account_panels.add(key="usage", title=_("Product usage"), url_name="account-usage", order=20)
    account_header_facts.add(key="phase", label=_("Lifecycle phase"),
                             template="success/_phase_fact.html", order=50,
                             select_related=("placement__phase",))

A panel's `url_name` takes the account id (`reverse(url_name, args=[account.pk])`); the page loads it
with htmx after the page itself, so a slow panel never holds up the others. A header fact is a small
template rendered inside the header's `<dl>` with `account` (and `request`, `perms`) in its
context; `select_related` names what the template reads through the account, and `queryset(qs)`
may annotate the account query (a count as a subquery), so the header stays one query. Both are shown only to people holding `permission` (if given), in `order`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.functional import Promise

from touchpoint.registry import Registry


@dataclass(frozen=True)
class AccountPanel:
    key: str
    title: str | Promise
    url_name: str
    order: int = 100
    permission: str | None = None


@dataclass(frozen=True)
class HeaderFact:
    key: str
    label: str | Promise
    template: str
    order: int = 100
    permission: str | None = None
    select_related: tuple[str, ...] = ()
    queryset: Callable[[QuerySet], QuerySet] | None = None


class AccountPanels(Registry[AccountPanel]):
    """The registry of account-page panels."""

    def add(
        self,
        *,
        key: str,
        title: str | Promise,
        url_name: str,
        order: int = 100,
        permission: str | None = None,
    ) -> AccountPanel:
        return self._put(
            key, AccountPanel(key=key, title=title, url_name=url_name, order=order, permission=permission)
        )


class AccountHeaderFacts(Registry[HeaderFact]):
    """The registry of facts other apps show in the account header."""

    def add(
        self,
        *,
        key: str,
        label: str | Promise,
        template: str,
        order: int = 100,
        permission: str | None = None,
        select_related: Sequence[str] = (),
        queryset: Callable[[QuerySet], QuerySet] | None = None,
    ) -> HeaderFact:
        fact = HeaderFact(
            key=key,
            label=label,
            template=template,
            order=order,
            permission=permission,
            select_related=tuple(select_related),
            queryset=queryset,
        )
        return self._put(key, fact)

    def select_related(self) -> list[str]:
        return [name for fact in self.all() for name in fact.select_related]

    def annotate(self, qs: QuerySet) -> QuerySet:
        """The account query with every fact's `queryset` hook applied (annotations, still one query)."""
        for fact in self.all():
            if fact.queryset is not None:
                qs = fact.queryset(qs)
        return qs


account_panels = AccountPanels()
account_header_facts = AccountHeaderFacts()
