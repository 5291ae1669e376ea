"""The "subscriptions" CSV import kind, registered from RevenueConfig.ready().

It reads two layouts, told apart from the header and the rows (`_shape`), and refuses a file that
could be either:

- one row per subscription (status, start, renewal or cancellation date): written through
  `revenue.services.sync_subscription`, the same service Stripe's webhooks use, so the two cannot
  disagree;
- one row per billing period (several rows of one subscription with their period's dates and
  amount): gathered into each subscription's lives and written through
  `revenue.services.record_subscription_histories`, so its churns, expansions and returns are MRR
  movements on the days they happened.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from touchpoint.accounts.models import Account
from touchpoint.bulk import any_of
from touchpoint.confirmation import NeedsConfirmation
from touchpoint.integrations.csv_import.importers import (
    Field,
    Group,
    Importer,
    Lookups,
    PendingCreates,
    Records,
    RowProblem,
    Shape,
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
from touchpoint.revenue import bulk_services
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


# How a file lays out subscriptions (Shape.key).
ROWS, PERIODS, AMBIGUOUS = "rows", "periods", "ambiguous"


def _start_column(mapped: set[str]) -> str | None:
    return "period_start" if "period_start" in mapped else "started_on" if "started_on" in mapped else None


def _end_column(mapped: set[str]) -> str | None:
    return "period_end" if "period_end" in mapped else "end_date" if "end_date" in mapped else None


def _refused(row: int, field: str, message: str) -> Shape:
    return Shape(AMBIGUOUS, gettext_lazy("Not clear: refused"), refusal=(row, field, message))


def _shape(records: Records, mapped: set[str], context: dict) -> Shape:
    """One row per subscription, one row per billing period, or a file that could be either.

    Rows are the same subscription when they have the same external ID (or, without an ID column,
    the same account and product). Repeated subscriptions with period dates are billing periods;
    without dates they are refused. An end date with one row per subscription needs a status to say
    whether it is a cancellation or the renewal.
    """
    has_id = "external_id" in mapped
    seen: dict[tuple[str, ...], int] = {}
    repeat: tuple[int, int, str] | None = None
    for number, record in records():
        if has_id:
            key: tuple[str, ...] = (record.get("external_id", "").strip(),)
            label = key[0]
        else:
            key = (record.get("account", "").strip(), normalise(record.get("product", "")))
            label = f"{key[0]} / {record.get('product', '').strip()}"
        if not any(key):
            continue
        if key in seen:
            repeat = (seen[key], number, label)
            break
        seen[key] = number
    del seen
    start, end = _start_column(mapped), _end_column(mapped)
    id_field = "external_id" if has_id else "product"
    if repeat is not None and not (start and end):
        first, row, label = repeat
        return _refused(
            row,
            id_field,
            _(
                "“%(id)s” is also in row %(first)s, but the file has no billing period dates: give each "
                "row its period's start and end (Period Start, Period End), or keep one row per subscription."
            )
            % {"id": label, "first": first},
        )
    if repeat is not None or {"period_start", "period_end"} & mapped:
        if not (start and end):
            missing = "period_end" if "period_start" in mapped else "period_start"
            return _refused(
                1,
                missing,
                _("Billing periods need both a start and an end column (Period Start, Period End)."),
            )
        return Shape(
            PERIODS,
            gettext_lazy("One row per billing period, gathered into each subscription's lives"),
            grouped=True,
        )
    if "end_date" in mapped and "status" not in mapped:
        return _refused(
            1,
            "end_date",
            _(
                "One row per subscription with an end date and no status: the end could be the renewal or "
                "the cancellation. Add a Status column (a canceled subscription ends on its end date), "
                "call the column Renewal Date or Cancellation Date, or give one row per billing period."
            ),
        )
    if "amount" in mapped and not ({"mrr", "arr"} & mapped):
        return _refused(
            1,
            "amount",
            _(
                "An amount with one row per subscription and no billing periods: map the column to MRR or "
                "to ARR, so it is clear what period it is for."
            ),
        )
    return Shape(ROWS, gettext_lazy("One row per subscription"))


def _synthetic_id(account: Account, product: str) -> str:
    """A subscription's external ID when the file has none: its account and product."""
    key = f"{account.external_id or account.pk}/{product.strip()}"
    if len(key) > 128:
        key = key[:114] + "~" + hashlib.sha1(key.encode()).hexdigest()[:13]
    return key


def _clean_common(row: dict[str, str], lookups: Lookups, context: dict) -> dict:
    values: dict[str, Any] = {"product": required(row, "product")}
    account = required(row, "account")
    values["account_id"] = lookups.account(account)
    if values["account_id"] is None:
        raise RowProblem(
            "account", _("No account with external ID (or name) “%(value)s”.") % {"value": account}
        )
    if "external_id" in context.get("mapped", ()):
        values["external_id"] = required(row, "external_id", 128)
    else:
        values["external_id"] = _synthetic_id(
            lookups.instance(Account, values["account_id"]), values["product"]
        )
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
    if (auto_renew := boolean(row, "auto_renew")) is not None:
        values["auto_renew"] = auto_renew
    # A row says its unusual values are right (a start before the account was created, an MRR
    # change of more than ten times) with yes in its confirm column; without it they are row problems.
    values["confirm"] = bool(boolean(row, "confirm"))
    return values


def _clean_subscription(row: dict[str, str], lookups: Lookups, context: dict) -> dict:
    if context.get("shape") == PERIODS:
        return _clean_period(row, lookups, context)
    values = _clean_common(row, lookups, context)
    mrr, arr = amount(row, "mrr"), amount(row, "arr")
    if mrr is None and arr is None:
        raise RowProblem("mrr" if "mrr" in context.get("mapped", ()) else "arr", _("Give MRR or ARR."))
    # One of them is set (checked just above).
    values["mrr"] = mrr if mrr is not None else (cast(Decimal, arr) / 12).quantize(Decimal("0.01"))
    values["started_on"] = date_value(row, "started_on", context)
    if values["started_on"] is None:
        raise RowProblem("started_on", _("Required, but empty."))
    if (renewal := date_value(row, "renewal_date", context)) is not None:
        values["renewal_date"] = renewal
    ended = date_value(row, "end_date", context)
    given_status = text(row, "status")
    if ended is not None and not given_status:
        raise RowProblem(
            "status",
            _("Give the status: with an end date, it says whether the end is a cancellation or the renewal."),
        )
    status = normalise(given_status or "active")
    if status not in STATUSES:
        raise RowProblem(
            "status",
            _("“%(value)s” is not active, trialing, past due or canceled.") % {"value": row.get("status")},
        )
    values["status"] = STATUSES[status]
    values["canceled_on"] = date_value(row, "canceled_on", context)
    canceled = values["status"] == SubscriptionStatus.CANCELED
    if canceled:
        values["canceled_on"] = values["canceled_on"] or ended
        if values["canceled_on"] is None:
            date_field = next(
                (f for f in ("canceled_on", "end_date") if f in context.get("mapped", ())), "canceled_on"
            )
            raise RowProblem(date_field, _("A canceled subscription needs the day it ended."))
        if values["canceled_on"] > timezone.localdate():
            raise RowProblem(
                "canceled_on" if row.get("canceled_on", "").strip() else "end_date",
                _("A cancellation after today has not happened yet: import the subscription as active."),
            )
    elif ended is not None and "renewal_date" not in values:
        values["renewal_date"] = ended  # the end of a live subscription's term is its renewal
    if values["canceled_on"] and values["canceled_on"] < values["started_on"]:
        raise RowProblem(
            "canceled_on" if row.get("canceled_on", "").strip() else "end_date", _("Before the start date.")
        )
    if values.get("renewal_date") and values["renewal_date"] < values["started_on"]:
        raise RowProblem("renewal_date", _("The renewal date cannot be before the start date."))
    return values


def _months(start: date, end: date) -> int:
    """Whole months a billing period covers (Jan 1–Jan 31 and Jan 1–Feb 1 are one; a year is twelve)."""
    return max(1, round((end - start).days / 30.4375))


def _clean_period(row: dict[str, str], lookups: Lookups, context: dict) -> dict:
    values = _clean_common(row, lookups, context)
    mapped = context.get("mapped", set())
    start_field, end_field = cast(str, _start_column(mapped)), cast(str, _end_column(mapped))
    start, end = date_value(row, start_field, context), date_value(row, end_field, context)
    if start is None:
        raise RowProblem(start_field, _("Required, but empty."))
    if end is None:
        raise RowProblem(end_field, _("Required, but empty."))
    if end < start:
        raise RowProblem(end_field, _("The billing period ends before it starts."))
    if start > timezone.localdate():
        raise RowProblem(
            start_field, _("This billing period starts after today: leave it out until it has begun.")
        )
    mrr, arr, billed = amount(row, "mrr"), amount(row, "arr"), amount(row, "amount")
    if mrr is not None:
        values["mrr"] = mrr
    elif arr is not None:
        values["mrr"] = (arr / 12).quantize(Decimal("0.01"))
    elif billed is not None:
        values["mrr"] = (billed / _months(start, end)).quantize(Decimal("0.01"))
    else:
        field = next((f for f in ("mrr", "arr", "amount") if f in mapped), "amount")
        raise RowProblem(field, _("Give the period's amount (or its MRR or ARR)."))
    values["period"] = (start, end)
    return values


def _group_key(values: dict) -> str:
    return values["external_id"]


def _check_group(group: Group, context: dict) -> list[RowProblem]:
    """One subscription's billing periods: one account, one currency, and no two overlapping."""
    mapped = context.get("mapped", set())
    start_field = cast(str, _start_column(mapped))
    problems = []
    first_row, first = group[0]
    for number, values in group[1:]:
        if values["account_id"] != first["account_id"]:
            problems.append(
                RowProblem(
                    "account",
                    _("The same subscription as in row %(row)s, but another account.") % {"row": first_row},
                    number,
                )
            )
        if values.get("currency", "") != first.get("currency", ""):
            problems.append(
                RowProblem(
                    "currency",
                    _("Another currency than in row %(row)s: a subscription's periods are in one currency.")
                    % {"row": first_row},
                    number,
                )
            )
    ordered = sorted(group, key=lambda item: (item[1]["period"], item[0]))
    for (row_before, before), (number, values) in zip(ordered, ordered[1:], strict=False):
        if values["period"][0] < before["period"][1] or values["period"] == before["period"]:
            problems.append(
                RowProblem(
                    start_field,
                    _(
                        "This billing period (%(start)s – %(end)s) overlaps the one in row %(row)s "
                        "(%(other_start)s – %(other_end)s) of the same subscription: which one is right?"
                    )
                    % {
                        "start": values["period"][0].isoformat(),
                        "end": values["period"][1].isoformat(),
                        "row": row_before,
                        "other_start": before["period"][0].isoformat(),
                        "other_end": before["period"][1].isoformat(),
                    },
                    number,
                )
            )
    return problems


def _history(group: Group) -> revenue.SubscriptionHistory:
    latest = max(group, key=lambda item: (item[1]["period"], item[0]))[1]
    return revenue.SubscriptionHistory(
        external_id=latest["external_id"],
        product=latest["product"],
        periods=[
            revenue.BillingPeriod(start=v["period"][0], end=v["period"][1], mrr=v["mrr"], row=n)
            for n, v in group
        ],
        currency=latest.get("currency"),
        plan=latest["plan"] or None,
        quantity=latest.get("quantity"),
        term_months=latest.get("term_months"),
        auto_renew=latest.get("auto_renew"),
        confirm=any(v["confirm"] for _n, v in group),
        row=group[0][0],
    )


def _apply_periods(
    groups: dict[str, Group], lookups: Lookups, actor: User | None, context: dict
) -> Iterator[str]:
    """Every subscription's history, an account at a time (its subscriptions' movements in date order)."""
    mapped = context.get("mapped", set())
    by_account: dict[int, list[Group]] = {}
    for group in groups.values():
        by_account.setdefault(group[0][1]["account_id"], []).append(group)
    fields = {
        "started_on": cast(str, _start_column(mapped)),
        "mrr": next((f for f in ("mrr", "arr", "amount") if f in mapped), "amount"),
        "account": "account",
        "currency": "currency",
    }
    for account_id, account_groups in by_account.items():
        account = lookups.instance(Account, account_id)
        existing = Subscription.objects.filter(
            any_of("external_id", [g[0][1]["external_id"] for g in account_groups])
        ).in_bulk(field_name="external_id")
        for group in account_groups:
            subscription = existing.get(group[0][1]["external_id"])
            if subscription is None:
                check = ("revenue.add_subscription", account, "account")
            else:
                check = ("revenue.change_subscription", subscription, "external_id")
            try:
                require_row(actor, *check)
            except RowProblem as problem:
                problem.row = group[0][0]
                raise
        try:
            outcomes = revenue.record_subscription_histories(
                account=account,
                histories=[_history(group) for group in account_groups],
                source=MovementSource.IMPORT,
                actor=actor,
            )
        except revenue.HistoryProblem as problem:
            field, messages = next(iter(problem.error.message_dict.items()))
            if problem.needs_confirmation:
                messages = [*messages, _("If it is, put yes in the row's Confirm column.")]
            raise RowProblem(fields.get(field, "external_id"), " ".join(messages), problem.row) from None
        yield from outcomes.values()


def _apply_subscriptions(chunk: Group, lookups: Lookups, actor: User | None) -> list[str | RowProblem]:
    """_apply_subscription for a chunk of rows (one per subscription): the new subscriptions through
    revenue.bulk_services, together; a row of a subscription already there through sync_subscription
    as before, after the new ones before it are written (its MRR movements read theirs)."""
    outcomes: list[str | RowProblem | None] = [None] * len(chunk)
    ledgers: dict[int, Any] = lookups.memo.setdefault("revenue.ledgers", {})  # the run's, read once
    creates = PendingCreates[bulk_services.NewSubscription](
        outcomes,
        lambda news: bulk_services.create_subscriptions(
            subscriptions=news, source=MovementSource.IMPORT, actor=actor, ledgers=ledgers
        ),
        _problem_of,
    )
    lookups.warm_instances(Account, {values["account_id"] for _number, values in chunk})

    for index, (_number, row) in enumerate(chunk):
        values = dict(row)
        if values["external_id"] in lookups.existing:
            if _unchanged(lookups.existing[values["external_id"]], values):
                try:  # the row's permission, as sync_subscription's caller checks it
                    require_row(
                        actor,
                        "revenue.change_subscription",
                        lookups.existing[values["external_id"]],
                        "external_id",
                    )
                    outcomes[index] = "unchanged"
                except RowProblem as problem:
                    outcomes[index] = problem
                continue
            creates.flush()
            # sync_subscription writes these accounts' movements itself: read them again next time.
            ledgers.pop(values["account_id"], None)
            ledgers.pop(lookups.existing[values["external_id"]].account_id, None)
            try:
                outcomes[index] = _apply_subscription(values, lookups, actor)
            except RowProblem as problem:
                outcomes[index] = problem
            continue
        try:
            require_row(
                actor, "revenue.add_subscription", lookups.instance(Account, values["account_id"]), "account"
            )
        except RowProblem as problem:
            outcomes[index] = problem
            continue
        creates.add(
            index,
            bulk_services.NewSubscription(
                account_id=values["account_id"],
                external_id=values["external_id"],
                product=values["product"],
                mrr=values["mrr"],
                status=values["status"],
                started_on=values["started_on"],
                currency=values.get("currency"),
                plan=values.get("plan"),
                quantity=values.get("quantity"),
                term_months=values.get("term_months"),
                renewal_date=values.get("renewal_date"),
                auto_renew=values.get("auto_renew"),
                canceled_on=values.get("canceled_on"),
                confirm=values["confirm"],
            ),
        )
    creates.flush()
    return [outcome for outcome in outcomes if outcome is not None]


_SYNCED = ("currency", "plan", "quantity", "term_months", "renewal_date", "auto_renew")


def _unchanged(subscription: Subscription, values: dict) -> bool:
    """Whether sync_subscription would find nothing to change (its comparisons, without its writes)."""
    if values["status"] == SubscriptionStatus.CANCELED:
        return subscription.status == SubscriptionStatus.CANCELED
    if subscription.status == SubscriptionStatus.CANCELED:
        return False
    try:
        wanted = {
            "product": (values["product"] or "").strip(),
            "mrr": revenue._money(values["mrr"], "mrr"),
            "status": values["status"],
            **{name: values[name] for name in _SYNCED if values.get(name) is not None},
        }
        if "currency" in wanted:
            wanted["currency"] = revenue._currency(wanted["currency"])
    except ValidationError:
        return False  # sync_subscription says what is wrong
    return all(getattr(subscription, name) == value for name, value in wanted.items())


def _problem_of(error: ValidationError) -> RowProblem:
    """A service's refusal as _apply_subscription words it."""
    if isinstance(error, NeedsConfirmation):
        field, messages = next(iter(error.message_dict.items()))
        return RowProblem(field, " ".join([*messages, _("If it is, put yes in the row's Confirm column.")]))
    return service_problem(error, "external_id")


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
            apply_chunk=_apply_subscriptions,
            model=Subscription,
            date_fields=(
                "started_on",
                "renewal_date",
                "canceled_on",
                "end_date",
                "period_start",
                "period_end",
            ),
            shape=_shape,
            group_key=_group_key,
            check_group=_check_group,
            apply_groups=_apply_periods,
            fields=[
                Field(
                    "external_id",
                    gettext_lazy("External ID"),
                    ("Subscription ID", "ID", "Subscription External ID", "Contract ID"),
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
                Field("arr", gettext_lazy("ARR"), ("Annual Recurring Revenue", "Annual Amount", "ACV")),
                Field(
                    "amount",
                    gettext_lazy("Amount billed for the period"),
                    (
                        "Amount",
                        "Period Amount",
                        "Billed Amount",
                        "Invoice Amount",
                        "Amount Billed",
                        "Amount Paid",
                    ),
                ),
                Field("currency", gettext_lazy("Currency"), ("Currency Code", "Currency ISO Code")),
                Field(
                    "started_on",
                    gettext_lazy("Start date"),
                    ("Start Date", "Start", "Contract Start Date", "Started On", "Subscription Start Date"),
                ),
                Field("term_months", gettext_lazy("Term (months)"), ("Term", "Contract Term", "Term Months")),
                Field(
                    "renewal_date",
                    gettext_lazy("Renewal date"),
                    ("Renewal Date", "Contract End Date", "Next Renewal Date"),
                ),
                Field(
                    "end_date",
                    gettext_lazy("End date (with a status: the cancellation if canceled, else the renewal)"),
                    ("End Date", "End", "Ended On", "Subscription End Date", "Ends On"),
                ),
                Field(
                    "period_start",
                    gettext_lazy("Billing period start"),
                    (
                        "Period Start",
                        "Period Start Date",
                        "Billing Period Start",
                        "Service Period Start",
                        "Invoice Period Start",
                    ),
                ),
                Field(
                    "period_end",
                    gettext_lazy("Billing period end"),
                    (
                        "Period End",
                        "Period End Date",
                        "Billing Period End",
                        "Service Period End",
                        "Invoice Period End",
                    ),
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
                    ("Cancellation Date", "Canceled Date", "Cancelled On", "Canceled On", "Churn Date"),
                ),
                Field(
                    "confirm",
                    gettext_lazy("Confirmed (yes: the start date and MRR are right even if unusual)"),
                    ("Confirm", "Confirmed"),
                ),
            ],
        )
    )
