"""Support's kinds on the account timeline, titled in the reader's language from their data."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.timeline import register_kind


def _metric(value: str) -> str:
    from touchpoint.support.models import Metric

    return str(Metric(value).label) if value in Metric.values else value


def _priority(value: str) -> str:
    from touchpoint.support.models import Priority

    return str(Priority(value).label) if value in Priority.values else value


def _link(entry) -> str | None:
    ticket = entry.data.get("ticket_id")
    return reverse("support-ticket", kwargs={"ticket_id": ticket}) if isinstance(ticket, int) else None


def _opened(entry) -> str:
    return gettext("Ticket opened (%(priority)s): %(subject)s") % {
        "priority": _priority(entry.data["priority"]),
        "subject": entry.data["subject"],
    }


def _solved(entry) -> str:
    return gettext("Ticket solved: %(subject)s") % {"subject": entry.data["subject"]}


def _breached(entry) -> str:
    return gettext("SLA breached (%(target)s, %(priority)s): %(subject)s") % {
        "target": _metric(entry.data["metric"]),
        "priority": _priority(entry.data["priority"]),
        "subject": entry.data["subject"],
    }


def register() -> None:
    register_kind("ticket_opened", label=_("Ticket opened"), icon="message", describe=_opened, link=_link)
    register_kind(
        "ticket_solved", label=_("Ticket solved"), icon="check-circle", describe=_solved, link=_link
    )
    register_kind("sla_breached", label=_("SLA breached"), icon="warning", describe=_breached, link=_link)
