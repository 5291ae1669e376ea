"""What other apps add to the account page: panels below the header, and facts in the header.

    from touchpoint.accounts.panels import account_header_facts, account_panels

    account_panels.add(key="usage", title=_("Product usage"), url_name="account-usage", order=20)
    account_header_facts.add(key="phase", label=_("Lifecycle phase"),
                             template="success/_phase_fact.html", order=50,
                             select_related=("placement__phase",))

A panel's `url_name` takes the account id (`reverse(url_name, args=[account.pk])`); the page loads it
with htmx after the page itself, so a slow panel never holds up the others. A header fact is a small
template rendered inside the header's `<dl>` with `account` (and `request`, `perms`) in its
context; `select_related` names what the template reads through the account, so the header stays one
query. A fact that needs a computed value (a sum, the latest of a series) gives `annotate`, a
function that takes the account queryset and returns it annotated (as a portfolio column's
`queryset` does); the header query applies every fact's `annotate`, so the fact is a subquery of
that one query, not a query of its own:

    account_header_facts.add(key="arr", label=_("ARR"), template="revenue/portfolio/arr_fact.html",
                             order=20, annotate=lambda qs: qs.annotate(arr=arr_subquery()))

Both are shown only to people holding `permission` (if given), in `order`.
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
    annotate: Callable[[QuerySet], QuerySet] | None = None


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
        annotate: Callable[[QuerySet], QuerySet] | None = None,
    ) -> HeaderFact:
        fact = HeaderFact(
            key=key,
            label=label,
            template=template,
            order=order,
            permission=permission,
            select_related=tuple(select_related),
            annotate=annotate,
        )
        return self._put(key, fact)

    def select_related(self) -> list[str]:
        return [name for fact in self.all() for name in fact.select_related]

    def annotated(self, qs: QuerySet) -> QuerySet:
        """`qs` with every fact's annotations (each fact's `annotate`, in order)."""
        for fact in self.all():
            if fact.annotate is not None:
                qs = fact.annotate(qs)
        return qs


account_panels = AccountPanels()
account_header_facts = AccountHeaderFacts()
