"""Support's alert: a ticket that breaches its SLA alerts the account's owner (and its team's CSMs)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext

from touchpoint.home.alerts import AlertDraft, account_people, register_alert


def breached(event) -> list[AlertDraft]:
    from touchpoint.accounts.models import Account

    account = Account.objects.filter(pk=event.account_id).only("name").first()
    ticket = event.payload.get("ticket_id")
    if account is None or not isinstance(ticket, int):
        return []
    data = {
        "account": account.name,
        "subject": str(event.payload.get("subject", ""))[:200],
        "metric": event.payload.get("metric", ""),
        "priority": event.payload.get("priority", ""),
    }
    return [
        AlertDraft(
            recipient_ids=account_people(account.pk),
            title=f"SLA breached at {account.name}: {data['subject']}"[:200],
            url=reverse("support-ticket", kwargs={"ticket_id": ticket}),
            account_id=account.pk,
            data=data,
        )
    ]


def describe(alert) -> str:
    from touchpoint.support.timeline import _metric

    return gettext("SLA breached at %(account)s (%(target)s): %(subject)s") % {
        "account": alert.data.get("account", ""),
        "target": _metric(alert.data.get("metric", "")),
        "subject": alert.data.get("subject", ""),
    }


def register() -> None:
    register_alert("ticket.sla_breached", breached, describe=describe)
