"""Milestones on the account page (a panel) and the time-to-value page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from touchpoint.accounts.models import Account, Contact, Segment
from touchpoint.accounts.rules import readable_accounts_q
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.success import milestones
from touchpoint.success.milestone_charts import bucket_label, histogram_svg
from touchpoint.success.milestone_selectors import (
    account_milestones,
    cohorts_of,
    framework_of,
    parse_cohort,
    time_to_value,
)
from touchpoint.success.models import MilestoneDefinition, MilestoneKind, SuccessFramework
from touchpoint.users.permissions import can, permission_required, require

# --- The account panel ----------------------------------------------------------------------------


class OutcomeForm(forms.Form):
    milestone = forms.ModelChoiceField(
        label=gettext_lazy("Milestone"), queryset=MilestoneDefinition.objects.none()
    )
    reached_on = forms.DateField(
        label=gettext_lazy("Reached on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    evidence = forms.CharField(
        label=gettext_lazy("Evidence"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    evidence_url = forms.URLField(
        label=gettext_lazy("Evidence link"), max_length=500, required=False, assume_scheme="https"
    )
    confirmed_by_contact = forms.ModelChoiceField(
        label=gettext_lazy("Confirmed by"), queryset=Contact.objects.none(), required=False
    )
    confirmed_by_name = forms.CharField(label=gettext_lazy("Or by (name)"), max_length=200, required=False)

    def __init__(self, *args: Any, account: Account, open_outcomes: list[MilestoneDefinition], **kwargs: Any):
        super().__init__(*args, **kwargs)
        milestone_field = self.fields["milestone"]
        contact_field = self.fields["confirmed_by_contact"]
        assert isinstance(milestone_field, forms.ModelChoiceField)
        assert isinstance(contact_field, forms.ModelChoiceField)
        milestone_field.queryset = MilestoneDefinition.objects.filter(pk__in=[m.pk for m in open_outcomes])
        contact_field.queryset = Contact.objects.filter(account=account).order_by("name")
        self.fields["reached_on"].initial = timezone.localdate()


def _open_outcomes(rows) -> list[MilestoneDefinition]:
    return [r.milestone for r in rows if r.reach is None and r.milestone.kind == MilestoneKind.OUTCOME]


def _panel(
    request: AuthenticatedHttpRequest,
    account: Account,
    *,
    form: OutcomeForm | None = None,
    saved: bool = False,
    problem: str = "",
) -> HttpResponse:
    framework = framework_of(account)
    rows = account_milestones(account, framework)
    open_outcomes = _open_outcomes(rows)
    may_change = can(request.user, "accounts.change_account", account)
    if may_change and open_outcomes and form is None:
        form = OutcomeForm(account=account, open_outcomes=open_outcomes, prefix="outcome")
    return render(
        request,
        "success/_milestones_panel.html",
        {
            "account": account,
            "framework": framework,
            "rows": rows,
            "reached": sum(1 for r in rows if r.reach is not None),
            "may_change": may_change,
            "form": form if may_change and open_outcomes else None,
            "adding": form is not None and form.is_bound,
            "saved": saved,
            "problem": problem,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_milestones_panel(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """The "Milestones" panel (htmx); its forms (action record, undo) post back here."""
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, "accounts.view_account", account)
    if request.method == "GET":
        return _panel(request, account)
    require(request.user, "accounts.change_account", account)  # CSMs of the book, leaders, admins
    action = request.POST.get("action", "")
    framework = framework_of(account)
    if action == "record":
        open_outcomes = _open_outcomes(account_milestones(account, framework))
        form = OutcomeForm(request.POST, account=account, open_outcomes=open_outcomes, prefix="outcome")
        if form.is_valid():
            data = form.cleaned_data
            try:
                milestones.record_outcome(
                    account=account,
                    milestone=data["milestone"],
                    reached_on=data["reached_on"],
                    evidence=data["evidence"],
                    evidence_url=data["evidence_url"],
                    confirmed_by_contact=data["confirmed_by_contact"],
                    confirmed_by_name=data["confirmed_by_name"],
                    actor=request.user,
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                return _done(request, account)
        return _panel(request, account, form=form)
    if action == "undo":
        key = request.POST.get("milestone", "")
        milestone = MilestoneDefinition.objects.filter(framework=framework, key=key).first()
        if milestone is None:
            return HttpResponseBadRequest(_("Choose a milestone of this account's success framework."))
        try:
            milestones.undo_outcome(account=account, milestone=milestone, actor=request.user)
        except ValidationError as error:
            return _panel(request, account, problem=" ".join(error.messages))
        return _done(request, account)
    return HttpResponseBadRequest(_("Unknown action."))


def _done(request: AuthenticatedHttpRequest, account: Account) -> HttpResponse:
    if request.htmx:
        return _panel(request, account, saved=True)
    return redirect(reverse("account-detail", args=[account.pk]) + "#milestones-panel")


# --- Time to value --------------------------------------------------------------------------------


@login_required
@require_GET
@permission_required("success.view_successframework")
def time_to_value_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    frameworks = list(SuccessFramework.objects.order_by("-is_default", "name"))
    chosen = request.GET.get("framework", "")
    framework = next((f for f in frameworks if str(f.pk) == chosen), frameworks[0] if frameworks else None)
    segments = list(Segment.objects.order_by("name"))
    segment_text = request.GET.get("segment", "")
    segment = next((s for s in segments if str(s.pk) == segment_text), None)
    cohort_text = request.GET.get("cohort", "")
    cohort = parse_cohort(cohort_text) if cohort_text else None
    problems = []
    if segment_text and segment is None:
        problems.append(_("Choose a segment from the list."))
    if cohort_text and cohort is None:
        problems.append(_("Give the start cohort as a month (YYYY-MM)."))
    found = (
        time_to_value(
            framework=framework,
            segment_id=segment.pk if segment else None,
            cohort=cohort,
            accounts_q=readable_accounts_q(request.user),
        )
        if framework is not None
        else None
    )
    return render(
        request,
        "success/time_to_value.html",
        {
            "frameworks": frameworks,
            "framework": framework,
            "segments": segments,
            "segment": segment,
            "cohorts": cohorts_of(framework) if framework is not None else [],
            "cohort": cohort,
            "problems": problems,
            "found": found,
            "buckets": [(bucket_label(b), b.count) for b in found.overall.histogram] if found else [],
            "median_days": round(found.overall.median)
            if found and found.overall.median is not None
            else None,
            "p75_days": round(found.overall.p75) if found and found.overall.p75 is not None else None,
            "chart_svg": histogram_svg(found.overall.histogram) if found and found.reached else "",
        },
    )
