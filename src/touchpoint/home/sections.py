"""What the home page ("My day") shows: sections the apps register, each over the viewer's books.

    from touchpoint.home.sections import home_sections

    home_sections.add(key="tasks", title=_("Tasks due"), template="tasks/_home_tasks.html",
                      items=due_tasks_for_home, order=10, permission="tasks.view_task")

`items(scope)` returns the section's data (a dict; its `items` list, when empty, makes the page
say "nothing here" for the section); the template renders it as `data`, with `scope` and `request`
beside. A
section reads only the accounts of `scope.accounts_q()` (the books the page is about, within what the
viewer may read) and must stay a fixed number of queries however large the book: the page is
opened every morning on books of hundreds of accounts, and a test counts its queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Q
from django.utils.functional import Promise

from touchpoint.registry import Registry


@dataclass(frozen=True)
class HomeScope:
    """Whose day the page shows.

    `owner_ids` are the people whose books the page covers (a CSM: themselves; a leader: their team);
    None covers every account the viewer may read.
    """

    viewer: Any
    owner_ids: frozenset[int] | None
    today: date
    extra: dict[str, Any] = field(default_factory=dict)

    def accounts_q(self, path: str = "") -> Q:
        """Accounts in these books that the viewer may read, as a filter (`path` leads to the account)."""
        from touchpoint.accounts.models import AccountTeamMember
        from touchpoint.accounts.rules import readable_accounts_q

        readable = readable_accounts_q(self.viewer, path)
        if self.owner_ids is None:
            return readable
        in_books = Q(**{f"{path}owner_id__in": self.owner_ids}) | Q(
            **{
                f"{path}pk__in": AccountTeamMember.objects.filter(user_id__in=self.owner_ids).values(
                    "account_id"
                )
            }
        )
        return readable & in_books


@dataclass(frozen=True)
class HomeSection:
    key: str
    title: str | Promise
    template: str
    items: Callable[[HomeScope], dict[str, Any]]
    order: int = 100
    permission: str | None = None


class HomeSections(Registry[HomeSection]):
    """The registry of home-page sections."""

    def add(
        self,
        *,
        key: str,
        title: str | Promise,
        template: str,
        items: Callable[[HomeScope], dict[str, Any]],
        order: int = 100,
        permission: str | None = None,
    ) -> HomeSection:
        return self._put(
            key,
            HomeSection(
                key=key, title=title, template=template, items=items, order=order, permission=permission
            ),
        )


home_sections = HomeSections()
