"""What can serve a touchpoint elsewhere in Touchpoint, registered by the apps that own it.

    from touchpoint.readiness.links import link_kinds
    link_kinds.add(key="journey", label=_("Journey"), serves=Serves.AUTOMATED,
                   choices=lambda: [("welcome", "Welcome series"), …], resolve=lambda key: ("Welcome series", "/journeys/welcome/"))

`serves` says how the touchpoint is served when linked: automated (a journey), by people (a
playbook), or measured (a milestone). The map shows it per touchpoint; readiness names no app.

A target is what stays the same when a map is exported as YAML and applied elsewhere: a key or a
unique name rather than a database id where the owning app has one. `resolve` answers None when the
target is gone (deleted, or over for good), and `describe` when the kind's app is not installed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from touchpoint.registry import Registry


class Serves(models.TextChoices):
    AUTOMATED = "automated", _("Automated")
    PEOPLE = "people", _("By people")
    MEASURED = "measured", _("Measured")


@dataclass(frozen=True)
class LinkKind:
    key: str
    label: str | Promise
    serves: str
    choices: Callable[[], list[tuple[str, str]]]  # (target, label) to offer
    resolve: Callable[[str], tuple[str, str] | None]  # target -> (label, url), None when gone
    order: int = 100


class LinkKinds(Registry[LinkKind]):
    def add(
        self,
        *,
        key: str,
        label: str | Promise,
        serves: str,
        choices: Callable[[], list[tuple[str, str]]],
        resolve: Callable[[str], tuple[str, str] | None],
        order: int = 100,
    ) -> LinkKind:
        return self._put(key, LinkKind(key, label, serves, choices, resolve, order))


link_kinds = LinkKinds()


def describe(kind: str, target: str) -> tuple[str, str, str] | None:
    """(label, url, serves) of a link, or None when its kind is unknown (its app is not installed)
    or its target is gone."""
    found = link_kinds.get(kind)
    if found is None:
        return None
    resolved = found.resolve(target)
    if resolved is None:
        return None
    label, url = resolved
    return label, url, found.serves
