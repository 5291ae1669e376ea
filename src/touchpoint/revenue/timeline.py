"""The revenue kinds on the account timeline, titled in the reader's language from their data."""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.timeline import register_kind


def _money(amount: str, currency: str) -> str:
    from decimal import Decimal

    return f"{number_format(Decimal(amount), decimal_pos=2, use_l10n=True, force_grouping=True)} {currency}"


def _describe_movement(entry) -> str:
    data = entry.data
    values = {
        "product": data["product"],
        "delta": _money(data["delta"], data["currency"]),
        "mrr": _money(data["mrr_after"], data["currency"]),
        "reason": data.get("reason", ""),
    }
    kind = data["kind"]
    if kind == "new":
        return gettext("New subscription: %(product)s, MRR %(mrr)s") % values
    if kind == "reactivation":
        return gettext("Reactivated: %(product)s, MRR %(mrr)s") % values
    if kind == "expansion":
        return gettext("Expansion: %(product)s, MRR +%(delta)s (now %(mrr)s)") % values
    if kind == "contraction":
        return gettext("Contraction: %(product)s, MRR %(delta)s (now %(mrr)s)") % values
    if values["reason"]:
        return gettext("Churned: %(product)s, MRR %(delta)s (reason: %(reason)s)") % values
    return gettext("Churned: %(product)s, MRR %(delta)s") % values


def _describe_voided(entry) -> str:
    data = entry.data
    from datetime import date

    from django.utils.formats import date_format

    # The reason is the entry's body, shown under the title.
    return gettext("Voided a mistaken change: %(product)s, MRR %(delta)s of %(day)s") % {
        "product": data["product"],
        "delta": _money(data["delta"], data["currency"]),
        "day": date_format(date.fromisoformat(data["occurred_on"]), "DATE_FORMAT"),
    }


def _describe_payment_failed(entry) -> str:
    data = entry.data
    if data.get("amount"):
        return gettext("Payment of %(amount)s failed: %(product)s is past due") % {
            "amount": _money(data["amount"], data["currency"]),
            "product": data["product"],
        }
    return gettext("Payment failed: %(product)s is past due") % {"product": data["product"]}


def _describe_payment_recovered(entry) -> str:
    return gettext("Payment received: %(product)s is no longer past due") % {"product": entry.data["product"]}


register_kind("mrr_movement", label=_("Revenue"), icon="💰", describe=_describe_movement)
register_kind("mrr_voided", label=_("Revenue correction"), icon="↩", describe=_describe_voided)
register_kind("payment_failed", label=_("Payment failed"), icon="⚠", describe=_describe_payment_failed)
register_kind(
    "payment_recovered", label=_("Payment received"), icon="✔", describe=_describe_payment_recovered
)
