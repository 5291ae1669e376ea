"""The main navigation, filled by the apps: each registers its own pages from its AppConfig.ready().

    from touchpoint.web.navigation import nav

    nav.add(key="renewals", label=_("Renewals"), url_name="renewals",
            permission="revenue.view_subscription", order=40)

The layout (web/base.html) shows the entries in `order`, each only to people who hold its
permission (none: everyone signed in), and marks the current one: the entry whose `prefix` (by
default its own URL) the page's path starts with, so a section of several pages (e.g. /success/…)
keeps one entry. web itself names no other app's pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise

from touchpoint.registry import Registry


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: str | Promise
    url_name: str
    permission: str | None = None
    order: int = 100
    prefix: str = ""  # the paths that count as this entry's section; empty: its own URL


class Navigation(Registry[NavEntry]):
    """The registry of main navigation entries."""

    def add(
        self,
        *,
        key: str,
        label: str | Promise,
        url_name: str,
        permission: str | None = None,
        order: int = 100,
        prefix: str = "",
    ) -> NavEntry:
        """Add (or, with a key already taken, replace) an entry."""
        return self._put(
            key,
            NavEntry(
                key=key, label=label, url_name=url_name, permission=permission, order=order, prefix=prefix
            ),
        )

    def entries(self) -> list[NavEntry]:
        """Every entry, in order (ties by key, so the menu never shuffles)."""
        return self.all()


nav = Navigation()
