"""The timeline kinds advocacy records on the account: asks (made, accepted, declined), what an
advocate did (a done ask, or an activity recorded by hand) and rewards given. Each says itself in the
reader's language from its data and links to the contact's advocacy page."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import TimelineEntry
from touchpoint.accounts.timeline import register_kind
from touchpoint.advocacy.models import ActivityKind, AskStatus, RewardKind


def _label(choices: type, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _describe_ask(entry: TimelineEntry) -> str:
    data = entry.data
    values = {"contact": data.get("contact", ""), "kind": _label(ActivityKind, data.get("kind", ""))}
    status = data.get("status", "")
    if status == AskStatus.ACCEPTED:
        return gettext("%(contact)s accepted: %(kind)s") % values
    if status == AskStatus.DECLINED:
        return gettext("%(contact)s declined: %(kind)s") % values
    return gettext("Asked %(contact)s: %(kind)s") % values


def _describe_activity(entry: TimelineEntry) -> str:
    data = entry.data
    return gettext("%(kind)s by %(contact)s") % {
        "contact": data.get("contact", ""),
        "kind": _label(ActivityKind, data.get("kind", "")),
    }


def _describe_reward(entry: TimelineEntry) -> str:
    data = entry.data
    return gettext("Reward for %(contact)s: %(kind)s, %(value)s %(currency)s") % {
        "contact": data.get("contact", ""),
        "kind": _label(RewardKind, data.get("kind", "")),
        "value": data.get("value", ""),
        "currency": data.get("currency", ""),
    }


def _contact_page(entry: TimelineEntry) -> str | None:
    contact_id = entry.data.get("contact_id")
    return reverse("advocacy-contact", args=[contact_id]) if isinstance(contact_id, int) else None


register_kind(
    "advocacy_ask", label=_("Advocacy ask"), icon="flag", describe=_describe_ask, link=_contact_page
)
register_kind(
    "advocacy_activity",
    label=_("Advocacy"),
    icon="check-circle",
    describe=_describe_activity,
    is_human_touch=True,
    link=_contact_page,
)
register_kind(
    "advocacy_reward",
    label=_("Advocacy reward"),
    icon="check-square",
    describe=_describe_reward,
    link=_contact_page,
)
