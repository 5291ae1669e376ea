"""The kinds of entry an account timeline can hold.

Each app registers the kinds it records (`register_kind`), so the timeline shows a label, an icon
and a title in the reader's language for every entry without knowing the app. Entries written by
people (notes, meetings) keep the title they typed; entries the system writes describe themselves
from their data at display time, because the reader's language is not the writer's. An unregistered
kind still shows, under its raw name, so an entry is never lost from view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from django.core.exceptions import FieldDoesNotExist
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.db.models import Field

    from touchpoint.accounts.models import TimelineEntry


@dataclass(frozen=True)
class TimelineKind:
    value: str
    label: str | Promise
    icon: str  # a key of touchpoint.web.icons.ICONS, drawn as inline SVG beside the entry
    describe: Callable[[TimelineEntry], str] | None = None
    is_human_touch: bool = False  # a touch by a person (counts for engagement recency)
    link: Callable[[TimelineEntry], str | None] | None = None  # where the entry's subject is handled


_KINDS: dict[str, TimelineKind] = {}


def register_kind(
    value: str,
    *,
    label: str | Promise,
    icon: str,
    describe: Callable[[TimelineEntry], str] | None = None,
    is_human_touch: bool = False,
    link: Callable[[TimelineEntry], str | None] | None = None,
) -> TimelineKind:
    """Register a timeline kind. `icon` names an icon of touchpoint.web.icons (an emoji is mapped to one)."""
    from touchpoint.web.icons import icon_key

    kind = TimelineKind(
        value=value,
        label=label,
        icon=icon_key(icon),
        describe=describe,
        is_human_touch=is_human_touch,
        link=link,
    )
    _KINDS[value] = kind
    return kind


def kind_info(value: str) -> TimelineKind:
    return _KINDS.get(value) or TimelineKind(value=value, label=value, icon="dot")


def registered_kinds() -> list[TimelineKind]:
    return list(_KINDS.values())


def entry_title(entry: TimelineEntry) -> str:
    """The entry's title in the active language."""
    describe = kind_info(entry.kind).describe
    if describe is not None:
        try:
            return describe(entry)
        except (KeyError, TypeError, ValueError):
            pass  # data from an older shape: fall back to the stored title
    return entry.title


def entry_link(entry: TimelineEntry) -> str | None:
    """Where the entry's subject can be opened (the kind's `link`), or None."""
    link = kind_info(entry.kind).link
    return link(entry) if link is not None else None


def _describe_account_changed(entry: TimelineEntry) -> str:
    from touchpoint.accounts.models import Account

    labels = []
    for field in entry.data["changes"]:
        try:
            labels.append(str(cast("Field", Account._meta.get_field(field)).verbose_name))
        except FieldDoesNotExist:
            # A field that has since moved to another app (e.g. the lifecycle phase, now in success).
            labels.append(field)
    return gettext("Changed %(fields)s") % {"fields": ", ".join(labels)}


def _describe_contact_added(entry: TimelineEntry) -> str:
    from touchpoint.accounts.models import ContactRole

    title = gettext("%(name)s added as a contact") % {"name": entry.data["name"]}
    roles = [str(ContactRole(value).label) for value in entry.data.get("roles", [])]
    return f"{title} ({', '.join(roles)})" if roles else title


# The walking skeleton's own kinds: human touches and account changes.
register_kind("note", label=_("Note"), icon="note", is_human_touch=True)
register_kind("meeting", label=_("Meeting"), icon="meeting", is_human_touch=True)
register_kind("call", label=_("Call"), icon="call", is_human_touch=True)
register_kind("email", label=_("Email"), icon="email", is_human_touch=True)
register_kind(
    "account_created",
    label=_("Account created"),
    icon="account",
    describe=lambda entry: gettext("Account created"),
)
register_kind("account_changed", label=_("Account changed"), icon="edit", describe=_describe_account_changed)
register_kind(
    "tag_added",
    label=_("Tag added"),
    icon="edit",
    describe=lambda entry: gettext("Tagged %(tag)s") % {"tag": entry.data["tag"]},
)
register_kind(
    "tag_removed",
    label=_("Tag removed"),
    icon="edit",
    describe=lambda entry: gettext("Tag %(tag)s removed") % {"tag": entry.data["tag"]},
)
register_kind("contact_added", label=_("Contact added"), icon="contact", describe=_describe_contact_added)


def _describe_team_member_added(entry: TimelineEntry) -> str:
    from touchpoint.accounts.models import TeamRole

    return gettext("%(name)s joined the account team (%(role)s)") % {
        "name": entry.data["user"],
        "role": TeamRole(entry.data["role"]).label,
    }


register_kind(
    "team_member_added", label=_("Team member added"), icon="user-plus", describe=_describe_team_member_added
)
register_kind(
    "team_member_removed",
    label=_("Team member removed"),
    icon="user-minus",
    describe=lambda entry: gettext("%(name)s left the account team") % {"name": entry.data["user"]},
)
