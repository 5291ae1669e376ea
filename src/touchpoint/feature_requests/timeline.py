"""The feature-request timeline kinds: an account asked for a request, and a request it asked for
shipped. Written in plain English, rendered in the reader's language from `data`."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import TimelineEntry
from touchpoint.accounts.timeline import register_kind

ASKED = "feature_requested"
SHIPPED = "feature_shipped"


def _asked(entry: TimelineEntry) -> str:
    return gettext("Asked for a feature: %(title)s") % {"title": entry.data["title"]}


def _shipped(entry: TimelineEntry) -> str:
    return gettext("A feature they asked for shipped: %(title)s") % {"title": entry.data["title"]}


def _link(entry: TimelineEntry) -> str | None:
    request_id = entry.data.get("request_id")
    return reverse("feature-request", args=[request_id]) if request_id else None


register_kind(ASKED, label=_("Feature requested"), icon="flag", describe=_asked, link=_link)
register_kind(
    SHIPPED, label=_("Requested feature shipped"), icon="check-circle", describe=_shipped, link=_link
)
