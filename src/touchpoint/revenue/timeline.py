"""The revenue kinds on the account timeline, titled in the reader's language from their data."""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.timeline import register_kind
from touchpoint.revenue.churn_reasons import reason_label


def _money(amount: str, currency: str) -> str:
    from decimal import Decimal

    return f"{number_format(Decimal(amount), decimal_pos=2, use_l10n=True, force_grouping=True)} {currency}"


def _describe_movement(entry) -> str:
    data = entry.data
    values = {
        "product": data["product"],
        "delta": _money(data["delta"], data["currency"]),
        "mrr": _money(data["mrr_after"], data["currency"]),
        "reason": reason_label(data.get("reason", "")),
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


register_kind("mrr_movement", label=_("Revenue"), icon="revenue", describe=_describe_movement)
register_kind("payment_failed", label=_("Payment failed"), icon="warning", describe=_describe_payment_failed)
register_kind("mrr_voided", label=_("Revenue correction"), icon="x-circle", describe=_describe_voided)
register_kind(
    "payment_recovered",
    label=_("Payment received"),
    icon="check-circle",
    describe=_describe_payment_recovered,
)


def _stage_label(value: str) -> str:
    from touchpoint.revenue.models import RenewalStage

    return str(RenewalStage(value).label) if value in RenewalStage.values else value


def _describe_renewal_stage(entry) -> str:
    data = entry.data
    return gettext("Renewal of %(product)s on %(date)s: %(old)s → %(new)s") % {
        "product": data.get("product", ""),
        "date": _day(data.get("renewal_date", "")),
        "old": _stage_label(data.get("from", "")),
        "new": _stage_label(data.get("to", "")),
    }


def _day(value: str) -> str:
    from datetime import date

    from django.utils.formats import date_format

    try:
        return date_format(date.fromisoformat(value), "SHORT_DATE_FORMAT")
    except ValueError:
        return value


def _describe_renewal_outcome(entry) -> str:
    data = entry.data
    values = {
        "product": data.get("product", ""),
        "date": _day(data.get("renewal_date", "")),
        "next": _day(data.get("next_renewal_date", "")),
        "mrr": _money(data.get("mrr_after", "0"), data.get("currency", "")),
        "reason": data.get("reason", ""),
    }
    outcome = data.get("outcome")
    if outcome == "renewed":
        return gettext("Renewed: %(product)s (due %(date)s), next renewal %(next)s") % values
    if outcome == "downgraded":
        return gettext("Renewed with a downgrade: %(product)s (due %(date)s), MRR now %(mrr)s") % values
    if values["reason"]:
        return gettext("Did not renew: %(product)s (due %(date)s), reason: %(reason)s") % values
    return gettext("Did not renew: %(product)s (due %(date)s)") % values


register_kind("renewal_stage", label=_("Renewal stage"), icon="renewal", describe=_describe_renewal_stage)
register_kind(
    "renewal_outcome", label=_("Renewal outcome"), icon="renewal", describe=_describe_renewal_outcome
)
