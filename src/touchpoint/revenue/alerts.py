"""Revenue's alerts: a churn (an account's last MRR going to zero) alerts the account's people."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext

from touchpoint.home.alerts import AlertDraft, account_people, register_alert
from touchpoint.revenue.models import MovementKind


def churned(event) -> list[AlertDraft]:
    """An `mrr.movement` of kind churn: the account stopped paying."""
    from touchpoint.accounts.models import Account

    if event.payload.get("kind") != MovementKind.CHURN:
        return []
    account = Account.objects.filter(pk=event.account_id).only("name").first()
    if account is None:
        return []
    data = {
        "account": account.name,
        "mrr": event.payload.get("mrr_before", ""),
        "currency": event.payload.get("currency", ""),
        "reason": event.payload.get("churn_reason", ""),
    }
    return [
        AlertDraft(
            recipient_ids=account_people(account.pk),
            title=f"{account.name} churned ({data['mrr']} {data['currency']} MRR)",
            url=reverse("account-detail", kwargs={"account_id": account.pk}),
            account_id=account.pk,
            data=data,
        )
    ]


def describe_churn(alert) -> str:
    text = gettext("%(account)s churned (%(mrr)s %(currency)s MRR)") % alert.data
    if alert.data.get("reason"):
        text += " · " + alert.data["reason"]
    return text


def register() -> None:
    register_alert("mrr.movement", churned, describe=describe_churn)
