"""The main navigation, filled by the apps: each registers its own pages from its AppConfig.ready().

    from touchpoint.web.navigation import nav

    nav.add(key="renewals", label=_("Renewals"), url_name="renewals",
            permission="revenue.view_subscription", order=40)

The layout (web/base.html) shows the entries in `order`, each only to people who hold its
permission (none: everyone signed in), and marks the current one: the entry whose `prefix` (by
default its own URL) the page's path starts with, so a section of several pages (e.g. /success/…)
keeps one entry. web itself names no other app's pages.

An entry may name a `group` (one of `nav.groups()`: engage, voice, revenue, setup): the menu then
shows the group once, where its own `order` puts it, with its entries in a drop-down (laid out in
the folded menu on a phone). A group the person sees one entry of shows that entry alone; an
unknown group key leaves the entry at the top level.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from touchpoint.registry import Registry


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: str | Promise
    url_name: str
    permission: str | None = None
    order: int = 100
    prefix: str = ""  # the paths that count as this entry's section; empty: its own URL
    group: str = ""  # a key of nav.groups(); empty: at the top level


@dataclass(frozen=True)
class NavGroup:
    key: str
    label: str | Promise
    order: int


class Navigation(Registry[NavEntry]):
    """The registry of main navigation entries."""

    def __init__(self) -> None:
        super().__init__()
        self._groups: dict[str, NavGroup] = {}

    def add(
        self,
        *,
        key: str,
        label: str | Promise,
        url_name: str,
        permission: str | None = None,
        order: int = 100,
        prefix: str = "",
        group: str = "",
    ) -> NavEntry:
        """Add (or, with a key already taken, replace) an entry."""
        return self._put(
            key,
            NavEntry(
                key=key,
                label=label,
                url_name=url_name,
                permission=permission,
                order=order,
                prefix=prefix,
                group=group,
            ),
        )

    def add_group(self, *, key: str, label: str | Promise, order: int) -> NavGroup:
        """Declare a drop-down of the menu (web declares the shared ones)."""
        group = NavGroup(key=key, label=label, order=order)
        self._groups[key] = group
        return group

    def groups(self) -> dict[str, NavGroup]:
        return dict(self._groups)

    def entries(self) -> list[NavEntry]:
        """Every entry, in order (ties by key, so the menu never shuffles)."""
        return self.all()


nav = Navigation()


# The menu's drop-downs: named for what people do there, not for the apps that fill them.
nav.add_group(key="engage", label=_("Engage"), order=35)
nav.add_group(key="voice", label=_("Customer voice"), order=45)
nav.add_group(key="revenue", label=_("Revenue"), order=50)
nav.add_group(key="setup", label=_("Setup"), order=90)
