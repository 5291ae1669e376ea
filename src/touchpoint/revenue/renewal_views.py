"""Pages of the renewal process: an opportunity's page (change it, record its outcome), the account
panel, and what the renewals page adds (stage and forecast per renewal, the overdue list, the
forecast by category)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from touchpoint.accounts.models import Account
from touchpoint.confirmation import NeedsConfirmation
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.revenue import renewal_process, renewal_selectors, services
from touchpoint.revenue.models import OPEN_STAGES, OUTCOME_STAGES, RenewalOpportunity
from touchpoint.revenue.renewal_forms import OpportunityFilterForm, OpportunityForm, OutcomeForm
from touchpoint.revenue.renewals import Renewal
from touchpoint.revenue.selectors import RevenueFilter
from touchpoint.users.permissions import can, require


def _filter_q(filters: RevenueFilter) -> Q:
    """The page's segment and owner filters (the account's owner, as the renewals list filters them)."""
    q = Q()
    if filters.segment_id is not None:
        q &= Q(account__segment_id=filters.segment_id)
    if filters.owner_id is not None:
        q &= Q(account__owner_id=filters.owner_id)
    return q


def page_context(
    request: HttpRequest, *, filters: RevenueFilter, upcoming: list[Renewal], today: date, within: int
) -> dict[str, Any]:
    """What the renewals page adds for the process: each renewal's open opportunity, the renewals
    overdue with no outcome, and expected ARR by forecast category for the window. One query (two
    when some renewal is in another currency than the reporting one: the exchange rates)."""
    form = OpportunityFilterForm(request.GET or None)
    stage, forecast = form.values()
    scope = _filter_q(filters)
    end = today + timedelta(days=within)
    # One query for both lists: the window's renewals, and the open ones whose date has passed.
    overdue_q = Q(stage__in=OPEN_STAGES, renewal_date__lt=today)
    found = list(
        renewal_selectors.opportunities(
            reader=request.user,
            scope=scope & (Q(renewal_date__gte=today) | overdue_q),
            stage=stage,
            forecast_category=forecast,
            due_before=end,
            today=today,
        )
    )
    in_window = [o for o in found if o.renewal_date >= today]
    # The open opportunity of each renewal listed (the one for its current date).
    by_subscription = {
        (o.subscription_id, o.renewal_date): row
        for o, row in zip(in_window, renewal_selectors.rows(in_window, today), strict=True)
        if o.is_open
    }
    listed = []
    for renewal in upcoming:
        due = renewal.subscription.renewal_date
        row = by_subscription.get((renewal.subscription.pk, due)) if due is not None else None
        if row is None and (stage or forecast):
            continue  # filtered out by stage or forecast category
        listed.append((renewal, row))
    overdue = renewal_selectors.rows([o for o in found if o.renewal_date < today], today)
    return {
        "process_form": form,
        "process_rows": listed,
        "total_arr": sum((renewal.arr for renewal, _row in listed), Decimal("0")),
        "overdue": overdue,
        "forecast_summary": renewal_selectors.forecast_summary(in_window),
    }


def _opportunity(pk: int) -> RenewalOpportunity:
    return get_object_or_404(
        renewal_selectors.with_details(RenewalOpportunity.objects.all()).select_related(
            "closed_by", "account__owner"
        ),
        pk=pk,
    )


# The subscription's fields a warning names, as the outcome form calls them.
OUTCOME_FIELDS = {"mrr": "new_mrr", "renewal_date": "new_renewal_date", "started_on": "effective_on"}


def _apply_errors(form, error: ValidationError) -> None:
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_page(request: AuthenticatedHttpRequest, opportunity_id: int) -> HttpResponse:
    """One renewal: its stage, forecast and expected ARR to change, and its outcome to record."""
    opportunity = _opportunity(opportunity_id)
    require(request.user, "revenue.view_renewalopportunity", opportunity)
    update_form = OpportunityForm(
        prefix="update",
        initial={
            "stage": opportunity.stage,
            "forecast_category": opportunity.forecast_category,
            "expected_arr": opportunity.expected_arr,
            "owner": opportunity.owner_id,
            "notes": opportunity.notes,
        },
    )
    outcome_form = OutcomeForm(prefix="outcome")
    status = 200
    if request.method == "POST":
        require(request.user, "revenue.change_renewalopportunity", opportunity)
        action = request.POST.get("action", "")
        if action == "update":
            update_form = OpportunityForm(request.POST, prefix="update")
            if update_form.is_valid():
                data = update_form.cleaned_data
                try:
                    renewal_process.update_opportunity(opportunity=opportunity, actor=request.user, **data)
                except ValidationError as error:
                    _apply_errors(update_form, error)
                else:
                    return redirect("renewal-opportunity", opportunity_id=opportunity.pk)
        elif action == "outcome":
            outcome_form = OutcomeForm(request.POST, prefix="outcome")
            # The warnings the person ticked "Yes, this is right" for, after seeing them.
            confirm = [
                code
                for code in request.POST.getlist(outcome_form.add_prefix("confirm"))
                if code in services.WARNING_CODES
            ]
            if outcome_form.is_valid():
                data = outcome_form.cleaned_data
                try:
                    renewal_process.record_renewal_outcome(
                        opportunity=opportunity,
                        outcome=data["outcome"],
                        actor=request.user,
                        reason=data["reason"],
                        churn_reason=data["churn_reason"],
                        new_mrr=data["new_mrr"],
                        new_renewal_date=data["new_renewal_date"],
                        effective_on=data["effective_on"],
                        confirm=confirm,
                    )
                except NeedsConfirmation as warning:
                    # Shown beside the new MRR with a "Yes, this is right" box; recorded once it is ticked.
                    outcome_form.warnings = warning.warnings(OUTCOME_FIELDS)
                except ValidationError as error:
                    _apply_errors(outcome_form, error)
                else:
                    return redirect("renewal-opportunity", opportunity_id=opportunity.pk)
        else:
            return HttpResponseBadRequest(_("Unknown action."))
        status = 422
    today = timezone.localdate()
    following = (
        RenewalOpportunity.objects.filter(
            subscription_id=opportunity.subscription_id, renewal_date__gt=opportunity.renewal_date
        )
        .order_by("renewal_date")
        .first()
    )
    return render(
        request,
        "revenue/renewal_opportunity.html",
        {
            "opportunity": opportunity,
            "row": renewal_selectors.rows([opportunity], today)[0],
            "update_form": update_form,
            "outcome_form": outcome_form,
            "open_action": request.POST.get("action", "") if status != 200 else "",
            "may_change": opportunity.is_open
            and can(request.user, "revenue.change_renewalopportunity", opportunity),
            "next_date": renewal_process.next_renewal_date(opportunity) if opportunity.is_open else None,
            "following": following,
            "outcomes": OUTCOME_STAGES,
        },
        status=status,
    )


@login_required
@require_GET
def account_renewal(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """The account page's renewal panel (loaded by htmx): its open renewals with stage, and the last outcomes."""
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, "revenue.view_renewalopportunity", account)
    today = timezone.localdate()
    found = list(renewal_selectors.opportunities(reader=request.user, account_id=account.pk, today=today))
    open_rows = renewal_selectors.rows([o for o in found if o.is_open], today)
    closed = sorted(
        (o for o in found if not o.is_open), key=lambda o: o.closed_at or o.created_at, reverse=True
    )
    return render(
        request,
        "revenue/_account_renewal.html",
        {"account": account, "open_rows": open_rows, "closed": closed[:3]},
    )
