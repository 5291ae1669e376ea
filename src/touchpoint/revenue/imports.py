"""The "subscriptions" CSV import kind, registered from RevenueConfig.ready().

It writes through `revenue.services.sync_subscription`, the same service Stripe's webhooks use, so
the two cannot disagree.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from touchpoint.accounts.models import Account
from touchpoint.confirmation import NeedsConfirmation
from touchpoint.integrations.csv_import.importers import (
    Field,
    Importer,
    Lookups,
    RowProblem,
    amount,
    boolean,
    date_value,
    integer,
    normalise,
    register,
    require_row,
    required,
    service_problem,
    text,
)
from touchpoint.revenue import services as revenue
from touchpoint.revenue.models import MovementSource, Subscription, SubscriptionStatus
from touchpoint.users.models import User

STATUSES = {
    "active": SubscriptionStatus.ACTIVE,
    "live": SubscriptionStatus.ACTIVE,
    "trialing": SubscriptionStatus.TRIALING,
    "trial": SubscriptionStatus.TRIALING,
    "pastdue": SubscriptionStatus.PAST_DUE,
    "canceled": SubscriptionStatus.CANCELED,
    "cancelled": SubscriptionStatus.CANCELED,
    "churned": SubscriptionStatus.CANCELED,
    "ended": SubscriptionStatus.CANCELED,
}


def _clean_subscription(row: dict[str, str], lookups: Lookups, context: dict) -> dict:
    values: dict[str, Any] = {
        "external_id": required(row, "external_id", 128),
        "product": required(row, "product"),
    }
    account = required(row, "account")
    values["account_id"] = lookups.account(account)
    if values["account_id"] is None:
        raise RowProblem(
            "account", _("No account with external ID (or name) “%(value)s”.") % {"value": account}
        )
    mrr, arr = amount(row, "mrr"), amount(row, "arr")
    if mrr is None and arr is None:
        raise RowProblem("mrr" if "mrr" in context.get("mapped", ()) else "arr", _("Give MRR or ARR."))
    # One of them is set (checked just above).
    values["mrr"] = mrr if mrr is not None else (cast(Decimal, arr) / 12).quantize(Decimal("0.01"))
    values["started_on"] = date_value(row, "started_on", context)
    if values["started_on"] is None:
        raise RowProblem("started_on", _("Required, but empty."))
    values["plan"] = text(row, "plan")
    if (quantity := integer(row, "quantity")) is not None:
        values["quantity"] = quantity
    if currency := text(row, "currency", 3).upper():
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise RowProblem(
                "currency", _("“%(value)s” is not a three-letter currency code.") % {"value": currency}
            )
        values["currency"] = currency
    if (term := integer(row, "term_months")) is not None:
        if not 1 <= term <= 120:
            raise RowProblem("term_months", _("Between 1 and 120 months."))
        values["term_months"] = term
    if (renewal := date_value(row, "renewal_date", context)) is not None:
        values["renewal_date"] = renewal
    if (auto_renew := boolean(row, "auto_renew")) is not None:
        values["auto_renew"] = auto_renew
    status = normalise(text(row, "status") or "active")
    if status not in STATUSES:
        raise RowProblem(
            "status",
            _("“%(value)s” is not active, trialing, past due or canceled.") % {"value": row.get("status")},
        )
    values["status"] = STATUSES[status]
    values["canceled_on"] = date_value(row, "canceled_on", context)
    if values["canceled_on"] and values["canceled_on"] < values["started_on"]:
        raise RowProblem("canceled_on", _("Before the start date."))
    if values.get("renewal_date") and values["renewal_date"] < values["started_on"]:
        raise RowProblem("renewal_date", _("The renewal date cannot be before the start date."))
    # A row says its unusual values are right (a start before the account was created, an MRR
    # change of more than ten times) with yes in its confirm column; without it they are row problems.
    values["confirm"] = bool(boolean(row, "confirm"))
    return values


def _apply_subscription(values: dict, lookups: Lookups, actor: User | None) -> str:
    subscription = lookups.existing.get(values["external_id"])
    if subscription is None:
        require_row(
            actor, "revenue.add_subscription", lookups.instance(Account, values["account_id"]), "account"
        )
    else:
        require_row(actor, "revenue.change_subscription", subscription, "external_id")
    account_id = values.pop("account_id")
    try:
        # The same service as Stripe's webhooks, so the two cannot disagree.
        _subscription, outcome = revenue.sync_subscription(
            account=lookups.instance(Account, account_id) if subscription is None else None,
            source=MovementSource.IMPORT,
            actor=actor,
            **values,
        )
        return outcome
    except NeedsConfirmation as warning:
        field, messages = next(iter(warning.message_dict.items()))
        raise RowProblem(
            field, " ".join([*messages, _("If it is, put yes in the row's Confirm column.")])
        ) from None
    except ValidationError as error:
        raise service_problem(error, "external_id") from None


def register_kind() -> None:
    register(
        Importer(
            kind="subscriptions",
            label=gettext_lazy("Subscriptions"),
            clean=_clean_subscription,
            apply=_apply_subscription,
            model=Subscription,
            date_fields=("started_on", "renewal_date", "canceled_on"),
            fields=[
                Field(
                    "external_id",
                    gettext_lazy("External ID"),
                    ("Subscription ID", "ID", "Subscription External ID", "Contract ID"),
                    True,
                ),
                Field(
                    "account",
                    gettext_lazy("Account external ID (or name)"),
                    (
                        "Account ID",
                        "Account External ID",
                        "Customer ID",
                        "Company ID",
                        "Account Name",
                        "Company name",
                    ),
                    True,
                ),
                Field("product", gettext_lazy("Product"), ("Product Name",), True),
                Field("plan", gettext_lazy("Plan"), ("Plan Name", "Edition")),
                Field(
                    "mrr",
                    gettext_lazy("MRR"),
                    ("Monthly Recurring Revenue", "Monthly Amount", "Monthly Price"),
                ),
                Field(
                    "arr", gettext_lazy("ARR"), ("Annual Recurring Revenue", "Annual Amount", "Amount", "ACV")
                ),
                Field("currency", gettext_lazy("Currency"), ("Currency Code", "Currency ISO Code")),
                Field(
                    "started_on",
                    gettext_lazy("Start date"),
                    ("Start Date", "Start", "Contract Start Date", "Started On", "Subscription Start Date"),
                    True,
                ),
                Field("term_months", gettext_lazy("Term (months)"), ("Term", "Contract Term", "Term Months")),
                Field(
                    "renewal_date",
                    gettext_lazy("Renewal date"),
                    ("Renewal Date", "Contract End Date", "End Date", "Next Renewal Date"),
                ),
                Field("quantity", gettext_lazy("Seats"), ("Quantity", "Licenses", "Seats", "Users")),
                Field("status", gettext_lazy("Status"), ("Subscription Status", "State")),
                Field(
                    "auto_renew",
                    gettext_lazy("Renews automatically"),
                    ("Auto Renew", "Auto-renew", "Autorenew"),
                ),
                Field(
                    "canceled_on",
                    gettext_lazy("Canceled on"),
                    ("Cancellation Date", "Canceled Date", "Cancelled On", "Churn Date"),
                ),
                Field(
                    "confirm",
                    gettext_lazy("Confirmed (yes: the start date and MRR are right even if unusual)"),
                    ("Confirm", "Confirmed"),
                ),
            ],
        )
    )
