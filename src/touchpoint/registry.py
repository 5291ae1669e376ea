"""The one shape every seam's registry has: items by key, listed in (order, key), shown by permission.

Navigation (web/navigation.py), account panels and header facts (accounts/panels.py) and the
portfolio's columns, filters, CSV columns and sections (accounts/portfolio.py) are each a `Registry`
with an `add(...)` of their own. Adding a key that is taken replaces the entry; ties in `order` are
broken by key, so a list never shuffles between processes.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from touchpoint.users.permissions import can

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self) -> None:
        self._items: dict[str, T] = {}

    def _put(self, key: str, item: T) -> T:
        self._items[key] = item
        return item

    def remove(self, key: str) -> None:
        self._items.pop(key, None)

    def get(self, key: str) -> T | None:
        return self._items.get(key)

    def all(self) -> list[T]:
        return [
            self._items[key]
            for key in sorted(self._items, key=lambda k: (getattr(self._items[k], "order", 0), k))
        ]

    def visible_to(self, user: Any) -> list[T]:
        """The items this person may see: those without a `permission`, and those whose they hold."""
        visible = []
        for item in self.all():
            permission = getattr(item, "permission", None)
            if not permission or can(user, permission):
                visible.append(item)
        return visible
