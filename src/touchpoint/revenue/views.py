"""Revenue pages: the dashboard for CS leaders, and its charts' data as CSV."""

from __future__ import annotations

import csv
import io

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from touchpoint.revenue import charts, selectors, services
from touchpoint.revenue.forms import RevenueFilterForm
from touchpoint.revenue.selectors import RevenueReport


@login_required
@permission_required("revenue.view_mrrmovement", raise_exception=True)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    form = RevenueFilterForm(request.GET or None)
    filters, first, last, unit = form.report_args()
    report = selectors.revenue_report(filters, first=first, last=last, unit=unit)
    unknown = _("No reason given")
    context = {
        "form": form, "report": report, "first": first, "last": last, "unit": unit,
        "currency": services.reporting_currency(), "query": request.GET.urlencode(),
        "latest": report.last, "complete": report.last_complete, "unknown_reason": unknown,
        "close_days": _whole(report.time_to_close.median_days), "revenue_days": _whole(report.time_to_revenue.median_days),
    }
    if report.periods:
        context.update(
            mrr_svg=charts.mrr_trend_svg(report.periods), movements_svg=charts.movements_svg(report.periods),
            retention_svg=charts.retention_svg(report.periods), logo_churn_svg=charts.logo_churn_svg(report.periods),
            reasons_svg=charts.reasons_svg(report.losses, unknown) if report.losses else "",
        )
    return render(request, "revenue/dashboard.html", context)


def _whole(days: float | None) -> int | None:
    return None if days is None else round(days)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.2f}"


def _table(report: RevenueReport, name: str) -> tuple[list[str], list[list]]:
    """The rows behind one chart of the dashboard."""
    if name == "mrr":
        return ([_("Period"), _("MRR at the end"), _("ARR at the end"), _("Paying accounts")],
                [[p.period.label, p.closing_mrr, p.closing_arr, p.customers] for p in report.periods])
    if name == "movements":
        kinds = charts.kind_labels()
        return ([_("Period"), _("MRR at the start"), *kinds.values(), _("MRR at the end")],
                [[p.period.label, p.opening_mrr, *(p.movements.get(k, 0) for k in kinds), p.closing_mrr]
                 for p in report.periods])
    if name == "retention":
        return ([_("Period"), _("Accounts at the start"), _("Their MRR at the start"), _("Their MRR at the end"),
                 _("GRR (%)"), _("NRR (%)"), _("Revenue churn (%)"), _("Accounts lost"), _("Logo churn (%)")],
                [[p.period.label, p.cohort_accounts, p.cohort_opening_mrr, p.cohort_closing_mrr, _percent(p.grr),
                  _percent(p.nrr), _percent(p.revenue_churn), p.churned_accounts, _percent(p.logo_churn)]
                 for p in report.periods])
    if name == "reasons":
        return ([_("Reason"), _("Accounts lost"), _("MRR lost to churn"), _("MRR lost to contraction")],
                [[loss.reason or _("No reason given"), loss.churned_accounts, loss.churned_mrr, loss.contracted_mrr]
                 for loss in report.losses])
    raise Http404


@login_required
@permission_required("revenue.view_mrrmovement", raise_exception=True)
@require_GET
def dashboard_export(request: HttpRequest, name: str) -> HttpResponse:
    """One chart's data as CSV, for the same filters as the page."""
    filters, first, last, unit = RevenueFilterForm(request.GET or None).report_args()
    header, rows = _table(selectors.revenue_report(filters, first=first, last=last, unit=unit), name)
    out = io.StringIO()
    out.write("\ufeff")  # spreadsheet programs read the UTF-8 right with a byte-order mark
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="touchpoint-revenue-{name}-{stamp}.csv"'
    return response
