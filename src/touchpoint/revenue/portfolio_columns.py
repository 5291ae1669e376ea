"""What revenue adds to the portfolio and the account header: ARR and the next renewal date.

Both are annotations (one subquery each), so a portfolio page, its CSV export, the accounts API
and the header cost the same number of queries however many accounts they show, and sort in SQL.
Registered from RevenueConfig.ready() with `register()`.

ARR is the live subscriptions' (active or past due, as renewals count them) MRR × 12, each
converted to the reporting currency at today's rate (revenue.services.to_reporting, in SQL: the
exchange-rate row of the subscription's currency; the reporting currency itself is 1). A
subscription in a currency with no rate yet is left out of the sum, as the renewals list cannot
convert it either. The next renewal is the earliest renewal date of the live subscriptions; one
in the past is a renewal overdue (its outcome not recorded yet).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Case,
    DecimalField,
    F,
    Min,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.utils.translation import gettext_lazy as _

from touchpoint.revenue.models import LIVE_STATUSES, ExchangeRate, Subscription

ARR_FIELD: DecimalField[Decimal, Decimal] = DecimalField(max_digits=20, decimal_places=2)


def _rate_to_reporting() -> Case:
    rate = ExchangeRate.objects.filter(currency=OuterRef("currency")).values("rate")[:1]
    return Case(
        When(currency=settings.TOUCHPOINT_CURRENCY, then=Value(Decimal(1))),
        default=Subquery(rate),
        output_field=DecimalField(max_digits=18, decimal_places=8),
    )


def arr_subquery(account_ref: str = "pk") -> Subquery:
    """ARR of the account at `account_ref`, in the reporting currency (None without live subscriptions)."""
    live = (
        Subscription.objects.filter(account_id=OuterRef(account_ref), status__in=LIVE_STATUSES)
        .order_by()
        .annotate(rate=_rate_to_reporting())
        .values("account_id")
        .annotate(total=Sum(F("mrr") * 12 * F("rate"), output_field=ARR_FIELD))
        .values("total")
    )
    return Subquery(live, output_field=ARR_FIELD)


def next_renewal_subquery(account_ref: str = "pk") -> Subquery:
    """The earliest renewal date of the account's live subscriptions (past ones included: overdue)."""
    dates = (
        Subscription.objects.filter(
            account_id=OuterRef(account_ref), status__in=LIVE_STATUSES, renewal_date__isnull=False
        )
        .order_by()
        .values("account_id")
        .annotate(first=Min("renewal_date"))
        .values("first")
    )
    return Subquery(dates)


def with_arr(qs: QuerySet) -> QuerySet:
    return qs.annotate(arr=arr_subquery())


def with_next_renewal(qs: QuerySet) -> QuerySet:
    return qs.annotate(next_renewal=next_renewal_subquery())


def register() -> None:
    from touchpoint.accounts.panels import account_header_facts
    from touchpoint.accounts.portfolio import portfolio_columns, portfolio_export_columns

    cell = "revenue/portfolio/"
    portfolio_columns.add(
        key="arr",
        label=_("ARR"),
        order=25,
        template=cell + "arr.html",
        css_class="number",
        queryset=with_arr,
        # Accounts without live subscriptions last either way.
        sort=(F("arr").asc(nulls_last=True), "name_lower", "id"),
        sort_desc=(F("arr").desc(nulls_last=True), "name_lower", "id"),
    )
    portfolio_columns.add(
        key="renewal",
        label=_("Next renewal"),
        order=27,
        template=cell + "renewal.html",
        queryset=with_next_renewal,
        sort=(F("next_renewal").asc(nulls_last=True), "name_lower", "id"),
        sort_desc=(F("next_renewal").desc(nulls_last=True), "name_lower", "id"),
    )
    portfolio_export_columns.add(
        header="arr",
        order=130,
        value=lambda account: "" if account.arr is None else f"{account.arr:.2f}",
    )
    portfolio_export_columns.add(
        header="arr_currency", order=131, value=lambda account: settings.TOUCHPOINT_CURRENCY
    )
    portfolio_export_columns.add(
        header="next_renewal",
        order=132,
        value=lambda account: account.next_renewal.isoformat() if account.next_renewal else "",
    )
    account_header_facts.add(
        key="arr", label=_("ARR"), order=20, template=cell + "arr_fact.html", annotate=with_arr
    )
    account_header_facts.add(
        key="renewal",
        label=_("Next renewal"),
        order=21,
        template=cell + "renewal_fact.html",
        annotate=with_next_renewal,
    )
