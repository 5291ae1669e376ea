"""Revenue pages: the dashboard for CS leaders, and its charts' data as CSV."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from touchpoint.accounts.models import Account
from touchpoint.confirmation import NeedsConfirmation
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.revenue import charts, forecast, metrics, renewal_views, renewals, selectors, services
from touchpoint.revenue.forms import (
    CancelSubscriptionForm,
    ChangeSubscriptionForm,
    ChurnReasonForm,
    ReactivateSubscriptionForm,
    RenewalsForm,
    RevenueFilterForm,
    SubscriptionForm,
    VoidMovementForm,
)
from touchpoint.revenue.models import ChurnReason, MrrMovement, Subscription
from touchpoint.revenue.selectors import RevenueReport
from touchpoint.spreadsheet import SafeWriter
from touchpoint.users.audit import record_export
from touchpoint.users.permissions import can, permission_required, require


@permission_required("revenue.view_mrrmovement")
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    form = RevenueFilterForm(request.GET or None)
    filters, first, last, unit = form.report_args(reader=request.user)
    report = selectors.revenue_report(filters, first=first, last=last, unit=unit)
    unknown = _("No reason given")
    unknown_group = _("None")
    context = {
        "form": form,
        "report": report,
        "first": first,
        "last": last,
        "unit": unit,
        "currency": services.reporting_currency(),
        "query": request.GET.urlencode(),
        "latest": report.last,
        "complete": report.last_complete,
        "unknown_reason": unknown,
        "close_days": _whole(report.time_to_close.median_days),
        "revenue_days": _whole(report.time_to_revenue.median_days),
    }
    if report.complete_index is not None:
        # Each segment's and each owner's figures for the latest ended period, for comparing teams.
        found = selectors.movements(filters, until=last)
        spans = [p.period for p in report.periods]
        for by in ("segment", "owner"):
            groups = metrics.revenue_by_group(found, selectors.account_groups(filters, by), spans)
            context[f"by_{by}"] = [
                (name or unknown_group, periods[report.complete_index]) for name, periods in groups.items()
            ]
    if report.periods:
        context.update(
            mrr_svg=charts.mrr_trend_svg(report.periods),
            movements_svg=charts.movements_svg(report.periods),
            retention_svg=charts.retention_svg(report.periods),
            logo_churn_svg=charts.logo_churn_svg(report.periods),
            reasons_svg=charts.reasons_svg(report.losses, unknown) if report.losses else "",
        )
    context["groups"] = [
        (_("By segment"), context.get("by_segment", []), "by-segment"),
        (_("By owner"), context.get("by_owner", []), "by-owner"),
    ]
    return render(request, "revenue/dashboard.html", context)


def _whole(days: float | None) -> int | None:
    return None if days is None else round(days)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.2f}"


def _table(report: RevenueReport, name: str) -> tuple[list[str], list[list]]:
    """The rows behind one chart of the dashboard."""
    if name == "mrr":
        return (
            [_("Period"), _("MRR at the end"), _("ARR at the end"), _("Paying accounts")],
            [[p.period.label, p.closing_mrr, p.closing_arr, p.customers] for p in report.periods],
        )
    if name == "movements":
        kinds = charts.kind_labels()
        return (
            [_("Period"), _("MRR at the start"), *kinds.values(), _("MRR at the end")],
            [
                [p.period.label, p.opening_mrr, *(p.movements.get(k, 0) for k in kinds), p.closing_mrr]
                for p in report.periods
            ],
        )
    if name == "retention":
        return (
            [
                _("Period"),
                _("Accounts at the start"),
                _("Their MRR at the start"),
                _("Their MRR at the end"),
                _("GRR (%)"),
                _("NRR (%)"),
                _("Revenue churn (%)"),
                _("Accounts lost"),
                _("Logo churn (%)"),
            ],
            [
                [
                    p.period.label,
                    p.cohort_accounts,
                    p.cohort_opening_mrr,
                    p.cohort_closing_mrr,
                    _percent(p.grr),
                    _percent(p.nrr),
                    _percent(p.revenue_churn),
                    p.churned_accounts,
                    _percent(p.logo_churn),
                ]
                for p in report.periods
            ],
        )
    if name == "reasons":
        return (
            [_("Reason"), _("Accounts lost"), _("MRR lost to churn"), _("MRR lost to contraction")],
            [
                [
                    loss.reason or _("No reason given"),
                    loss.churned_accounts,
                    loss.churned_mrr,
                    loss.contracted_mrr,
                ]
                for loss in report.losses
            ],
        )
    raise Http404


@permission_required("revenue.view_mrrmovement")
@require_GET
def dashboard_export(request: HttpRequest, name: str) -> HttpResponse:
    """One chart's data as CSV, for the same filters as the page."""
    filters, first, last, unit = RevenueFilterForm(request.GET or None).report_args(reader=request.user)
    header, rows = _table(selectors.revenue_report(filters, first=first, last=last, unit=unit), name)
    out = io.StringIO()
    out.write("\ufeff")  # spreadsheet programs read the UTF-8 right with a byte-order mark
    writer = SafeWriter(out)
    writer.writerow(header)
    writer.writerows(rows)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    record_export(request, what=f"revenue-{name}.csv", rows=len(rows))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="touchpoint-revenue-{name}-{stamp}.csv"'
    return response


# --- The account page's subscriptions panel ---------------------------------------------------

ACTIONS = {"add", "change", "cancel", "reactivate", "void"}
CENT = Decimal("0.01")


def _panel(
    request: HttpRequest,
    account: Account,
    *,
    bound: tuple[str, int | None, forms.Form] | None = None,
    status: int = 200,
    voiding: tuple[int, forms.Form] | None = None,
) -> HttpResponse:
    today = timezone.localdate()
    subscriptions = list(Subscription.objects.filter(account=account).order_by("status", "-started_on", "id"))
    rows = []
    for subscription in subscriptions:
        bound_here = bound if bound is not None and bound[1] == subscription.pk else None
        rows.append(
            {
                "subscription": subscription,
                "change": bound_here[2]
                if bound_here and bound_here[0] == "change"
                else ChangeSubscriptionForm(
                    prefix=f"change-{subscription.pk}",
                    initial={
                        "mrr": subscription.mrr,
                        "quantity": subscription.quantity,
                        "plan": subscription.plan,
                        "renewal_date": subscription.renewal_date,
                        "occurred_on": today,
                    },
                ),
                "cancel": bound_here[2]
                if bound_here and bound_here[0] == "cancel"
                else CancelSubscriptionForm(
                    prefix=f"cancel-{subscription.pk}", initial={"canceled_on": today}
                ),
                "reactivate": bound_here[2]
                if bound_here and bound_here[0] == "reactivate"
                else ReactivateSubscriptionForm(
                    prefix=f"reactivate-{subscription.pk}",
                    initial={"reactivated_on": today, "mrr": subscription.mrr},
                ),
                "open": bound_here[0] if bound_here else "",
            }
        )
    add_form = (
        bound[2]
        if bound is not None and bound[0] == "add"
        else SubscriptionForm(initial={"started_on": today, "currency": services.reporting_currency()})
    )
    movements = list(
        MrrMovement.objects.filter(account=account)
        .select_related("churn_reason", "subscription", "voided_by")
        .order_by("-occurred_on", "-id")[:12]
    )
    # Only a subscription's latest movement that counts can be voided (later ones were built on it).
    latest: dict[int, int] = {}
    for subscription_id, movement_id in (
        MrrMovement.objects.effective()
        .filter(account=account)
        .order_by("subscription_id", "-occurred_on", "-id")
        .values_list("subscription_id", "id")
    ):
        latest.setdefault(subscription_id, movement_id)
    movement_rows = [
        {
            "movement": movement,
            "voidable": latest.get(movement.subscription_id) == movement.pk,
            "void": voiding[1]
            if voiding is not None and voiding[0] == movement.pk
            else VoidMovementForm(prefix=f"void-{movement.pk}"),
            "open": voiding is not None and voiding[0] == movement.pk,
        }
        for movement in movements
    ]
    return render(
        request,
        "revenue/_account_subscriptions.html",
        {
            "account": account,
            "rows": rows,
            "add_form": add_form,
            "adding": bound is not None and bound[0] == "add",
            "movements": movement_rows,
            "mrr": services.account_mrr(account),
            "currency": services.reporting_currency(),
            "may_change": can(request.user, "revenue.change_subscription", account),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_subscriptions(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """The subscriptions panel (loaded by htmx); its forms post back here and get the panel again."""
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, "revenue.view_subscription", account)
    if request.method == "GET":
        return _panel(request, account)
    require(request.user, "revenue.change_subscription", account)
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        return HttpResponseBadRequest(_("Unknown action."))
    if action == "void":
        return _void(request, account)
    subscription = None
    if action != "add":
        subscription_id = request.POST.get("subscription", "")
        if not subscription_id.isdecimal():
            return HttpResponseBadRequest(_("Choose a subscription of this account."))
        subscription = get_object_or_404(Subscription, pk=int(subscription_id), account=account)
    form_class = {
        "add": SubscriptionForm,
        "change": ChangeSubscriptionForm,
        "cancel": CancelSubscriptionForm,
        "reactivate": ReactivateSubscriptionForm,
    }[action]
    form = form_class(
        request.POST, **({} if subscription is None else {"prefix": f"{action}-{subscription.pk}"})
    )
    # The warnings the person ticked "Yes, this is right" for, after seeing them.
    confirm = [
        code for code in request.POST.getlist(form.add_prefix("confirm")) if code in services.WARNING_CODES
    ]
    if form.is_valid():
        data = form.cleaned_data
        try:
            if action == "add":
                services.create_subscription(
                    account=account,
                    actor=request.user,
                    confirm=confirm,
                    **{k: v for k, v in data.items() if v is not None and v != ""},
                )
            elif action == "change":
                assert subscription is not None  # every action but "add" fetched its subscription above
                services.change_subscription(
                    subscription=subscription,
                    actor=request.user,
                    occurred_on=data["occurred_on"],
                    churn_reason=data["churn_reason"],
                    note=data["note"],
                    mrr=data["mrr"],
                    quantity=data["quantity"],
                    plan=data["plan"],
                    renewal_date=data["renewal_date"],
                    confirm=confirm,
                )
            elif action == "cancel":
                assert subscription is not None
                services.cancel_subscription(
                    subscription=subscription,
                    actor=request.user,
                    note=data["note"],
                    canceled_on=data["canceled_on"],
                    churn_reason=data["churn_reason"],
                )
            else:
                assert subscription is not None
                services.reactivate_subscription(
                    subscription=subscription,
                    actor=request.user,
                    mrr=data["mrr"],
                    reactivated_on=data["reactivated_on"],
                )
        except NeedsConfirmation as warning:
            # Shown beside the field with a "Yes, this is right" box; saved once it is ticked.
            form.warnings = warning.warnings()
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            return _panel(request, account)
    # htmx swaps only successful answers: the panel with its errors is a 200 to htmx, a 422 to anyone else.
    return _panel(
        request,
        account,
        bound=(action, subscription.pk if subscription else None, form),
        status=200 if request.htmx else 422,
    )


def _void(request: AuthenticatedHttpRequest, account: Account) -> HttpResponse:
    """Void one of the account's movements (the "Void" action of the movements list), with a reason."""
    movement_id = request.POST.get("movement", "")
    if not movement_id.isdecimal():
        return HttpResponseBadRequest(_("Choose an MRR movement of this account."))
    movement = get_object_or_404(MrrMovement, pk=int(movement_id), account=account)
    require(request.user, "revenue.change_mrrmovement", movement)
    form = VoidMovementForm(request.POST, prefix=f"void-{movement.pk}")
    if form.is_valid():
        try:
            services.void_movement(movement=movement, reason=form.cleaned_data["reason"], actor=request.user)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            return _panel(request, account)
    return _panel(request, account, voiding=(movement.pk, form), status=200 if request.htmx else 422)


# --- Renewals ---------------------------------------------------------------------------------


@permission_required("revenue.view_subscription")
@require_GET
def renewals_page(request: HttpRequest) -> HttpResponse:
    """Renewals due in the next 30–120 days with their risk, a month calendar, and the forecast."""
    form = RenewalsForm(request.GET or None, user=request.user)
    filters, within, month = form.values()
    today = timezone.localdate()
    upcoming = renewals.due(filters, start=today, end=today + timedelta(days=within), today=today)
    month = month or today.replace(day=1)
    month_end = month + relativedelta(months=1) - timedelta(days=1)
    in_month: dict[date, list] = defaultdict(list)
    for renewal in renewals.due(filters, start=month, end=month_end, today=today):
        assert renewal.subscription.renewal_date is not None  # due() filters on it
        in_month[renewal.subscription.renewal_date].append(renewal)
    outlook = forecast.renewal_forecast(filters, today=today)
    query = request.GET.copy()
    query.pop("month", None)
    return render(
        request,
        "revenue/renewals.html",
        {
            "form": form,
            "renewals": upcoming,
            "within": within,
            "today": today,
            "total_arr": sum((r.arr for r in upcoming), Decimal("0")),
            "currency": services.reporting_currency(),
            "month": month,
            "previous_month": month - relativedelta(months=1),
            "next_month": month + relativedelta(months=1),
            "weeks": [
                [(day, in_month.get(day, [])) if day else (None, []) for day in week]
                for week in renewals.month_grid(month)
            ],
            "forecast": outlook,
            "forecast_svg": charts.forecast_svg(outlook),
            "mape_percent": None if outlook.mape is None else f"{outlook.mape * 100:.1f}",
            "quarters": outlook.quarters(outlook.past + outlook.coming),
            "query": query.urlencode(),
            "export_query": request.GET.urlencode(),
            # The renewal process: stage and forecast per renewal, the overdue list, forecast by category.
            **renewal_views.page_context(
                request, filters=filters, upcoming=upcoming, today=today, within=within
            ),
        },
    )


@permission_required("revenue.view_subscription")
@require_GET
def renewals_export(request: HttpRequest) -> HttpResponse:
    filters, within, _month = RenewalsForm(request.GET or None, user=request.user).values()
    today = timezone.localdate()
    out = io.StringIO()
    out.write("\ufeff")
    writer = SafeWriter(out)
    writer.writerow(
        [
            _("Renewal date"),
            _("Account"),
            _("Owner"),
            _("Segment"),
            _("Product"),
            _("ARR (%(currency)s)") % {"currency": services.reporting_currency()},
            _("Status"),
            _("Renews automatically"),
            _("Risk"),
            _("Risk signs"),
        ]
    )
    due = renewals.due(filters, start=today, end=today + timedelta(days=within), today=today)
    for renewal in due:
        s = renewal.subscription
        assert s.renewal_date is not None  # due() filters on it
        writer.writerow(
            [
                s.renewal_date.isoformat(),
                s.account.name,
                s.account.owner or "",
                s.account.segment.name if s.account.segment else "",
                str(s),
                renewal.arr.quantize(CENT),
                s.get_status_display(),
                _("yes") if s.auto_renew else _("no"),
                renewal.risk,
                "; ".join(renewal.sign_labels),
            ]
        )
    record_export(request, what="renewals.csv", rows=len(due))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="touchpoint-renewals-{today:%Y%m%d}.csv"'
    return response


@permission_required("revenue.view_churnreason")
@require_http_methods(["GET", "POST"])
def churn_reasons(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The reasons people pick when a customer leaves or cuts back; admins keep the list."""
    reasons = list(ChurnReason.objects.annotate(uses=Count("movements")).order_by("order", "name"))
    bound_pk, bound_form = None, None
    if request.method == "POST":
        require(request.user, "revenue.change_churnreason")
        pk = request.POST.get("reason") or None
        if pk is not None and not pk.isdecimal():
            return HttpResponseBadRequest(_("Choose a churn reason from the list."))
        reason = get_object_or_404(ChurnReason, pk=pk) if pk else None
        bound_pk, bound_form = pk and int(pk), ChurnReasonForm(request.POST, prefix=f"reason-{pk or 'new'}")
        if bound_form.is_valid():
            try:
                services.save_churn_reason(actor=request.user, reason=reason, **bound_form.cleaned_data)
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    bound_form.add_error(field if field in bound_form.fields else None, messages)
            else:
                return redirect("churn-reasons")
    rows = [
        (
            reason,
            bound_form
            if bound_pk == reason.pk
            else ChurnReasonForm(
                prefix=f"reason-{reason.pk}",
                initial={
                    "name": reason.name,
                    "description": reason.description,
                    "order": reason.order,
                    "is_active": reason.is_active,
                },
            ),
        )
        for reason in reasons
    ]
    new_form = (
        bound_form
        if bound_form is not None and bound_pk is None
        else ChurnReasonForm(
            prefix="reason-new", initial={"order": (max((r.order for r in reasons), default=0) + 1)}
        )
    )
    return render(
        request,
        "revenue/churn_reasons.html",
        {
            "rows": rows,
            "new_form": new_form,
            "can_edit": can(request.user, "revenue.change_churnreason"),
        },
        status=400 if bound_form is not None and bound_form.errors else 200,
    )
