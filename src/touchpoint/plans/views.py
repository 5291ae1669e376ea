"""Success plan pages: the plan page of an account (write and edit it), the account page's panel, and
the read-only page (and its PDF) shared with the customer through a link.

Every form on the plan page posts back to the plan page with an `action`; with htmx the answer is the
plan's part of the page only. Errors are shown beside the field: a 200 to htmx (it swaps only
successful answers), a 422 to a plain post.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from touchpoint.accounts.models import Account
from touchpoint.plans import selectors, services
from touchpoint.plans.forms import (
    AgreeForm,
    KpiForm,
    MilestoneForm,
    ObjectiveForm,
    PlanDetailsForm,
    ShareForm,
    StakeholderForm,
)
from touchpoint.plans.models import (
    PlanKpi,
    PlanMilestone,
    PlanObjective,
    PlanShareLink,
    PlanStakeholder,
    SuccessPlan,
)
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.users.audit import record_export
from touchpoint.users.permissions import can, require


def _show_beside_fields(form: Any, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, messages in error.message_dict.items():
        form.add_error(name if name in form.fields else None, messages)


class _Forms:
    """The plan page's forms, blank unless a post left one bound with its errors (by key)."""

    def __init__(self, account: Account, view: selectors.PlanView | None, bound: dict[str, Any]) -> None:
        self.account = account
        self.bound = bound
        self.milestone_choices = selectors.trackable_milestones(account, view.plan if view else None)
        if view is None:
            return
        plan = view.plan
        self.details = bound.get("details") or PlanDetailsForm(
            prefix="details", initial={"title": plan.title, "summary": plan.summary}
        )
        self.objective = bound.get("objective-add") or ObjectiveForm(prefix="objective-add")
        self.stakeholder = bound.get("stakeholder-add") or StakeholderForm(
            prefix="stakeholder-add", account=account
        )
        self.milestone = bound.get("milestone-add") or MilestoneForm(
            prefix="milestone-add", milestones=self.milestone_choices
        )
        self.agree = bound.get("agree") or AgreeForm(
            prefix="agree",
            account=account,
            initial={"agreed_by": plan.agreed_by_id, "agreed_on": plan.agreed_on or timezone.localdate()},
        )
        self.share = bound.get("share") or ShareForm(
            prefix="share", initial={"language": services.link_language(plan)}
        )
        for row in view.objectives:
            objective = row.objective
            objective.edit_form = bound.get(f"objective-{objective.pk}") or ObjectiveForm(  # type: ignore[attr-defined]
                prefix=f"objective-{objective.pk}", initial={"text": objective.text}
            )
            objective.kpi_form = bound.get(f"kpi-add-{objective.pk}") or KpiForm(  # type: ignore[attr-defined]
                prefix=f"kpi-add-{objective.pk}", account=account
            )
            for kpi_row in row.kpis:
                kpi = kpi_row.kpi
                kpi.edit_form = bound.get(f"kpi-{kpi.pk}") or KpiForm(  # type: ignore[attr-defined]
                    prefix=f"kpi-{kpi.pk}",
                    account=account,
                    initial={name: getattr(kpi, name) for name in services.KPI_FIELDS if name != "owner"}
                    | {"owner": kpi.owner_id},
                )
        for milestone_row in view.milestones:
            milestone = milestone_row.milestone
            milestone.edit_form = bound.get(f"milestone-{milestone.pk}") or MilestoneForm(  # type: ignore[attr-defined]
                prefix=f"milestone-{milestone.pk}",
                milestones=self.milestone_choices,
                initial={
                    "title": milestone.title,
                    "due_on": milestone.due_on,
                    "status": milestone.status,
                    "progress": milestone.progress,
                    "milestone": milestone.milestone_id,
                },
            )


def _page(
    request: AuthenticatedHttpRequest,
    account: Account,
    *,
    bound: dict[str, Any] | None = None,
    problem: str = "",
    saved: bool = False,
    new_link: str = "",
    status: int = 200,
) -> HttpResponse:
    plan = selectors.plan_of(account)
    view = selectors.plan_view(plan) if plan is not None else None
    may_change = can(request.user, "plans.change_successplan", account)
    context = {
        "account": account,
        "view": view,
        "plan": plan,
        "may_change": may_change,
        "forms": _Forms(account, view, bound or {}) if may_change else None,
        "template_framework": services.template_framework(account) if plan is None else None,
        "links": selectors.share_links(plan) if plan is not None and may_change else [],
        "now": timezone.now(),
        "problem": problem,
        "saved": saved,
        "new_link": new_link,
    }
    template = "plans/_plan.html" if request.htmx else "plans/plan_page.html"
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def account_success_plan(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """The account's success plan: read it, or write and change it (book's CSMs, leaders, admins)."""
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, "plans.view_successplan", account)
    if request.method == "GET":
        return _page(request, account)
    require(request.user, "plans.change_successplan", account)
    action = request.POST.get("action", "")
    error_status = 200 if request.htmx else 422
    if action == "create":
        try:
            services.create_plan(account=account, actor=request.user)
        except ValidationError as error:
            return _page(request, account, problem=" ".join(error.messages), status=error_status)
        return _done(request, account)
    plan = SuccessPlan.objects.filter(account=account).select_related("account", "agreed_by").first()
    if plan is None:
        raise Http404
    handler = _ACTIONS.get(action)
    if handler is None:
        return HttpResponseBadRequest(_("Unknown action."))
    try:
        outcome = handler(request, account, plan)
    except _Invalid as invalid:
        return _page(request, account, bound={invalid.key: invalid.form}, status=error_status)
    except ValidationError as error:
        return _page(request, account, problem=" ".join(error.messages), status=error_status)
    if isinstance(outcome, str):  # a new link's address, shown once
        return _page(request, account, saved=True, new_link=outcome)
    return _done(request, account)


def _done(request: AuthenticatedHttpRequest, account: Account) -> HttpResponse:
    if request.htmx:
        return _page(request, account, saved=True)
    return redirect(reverse("account-success-plan", args=[account.pk]))


class _Invalid(Exception):
    def __init__(self, key: str, form: Any) -> None:
        self.key, self.form = key, form


def _valid(key: str, form: Any) -> Any:
    if not form.is_valid():
        raise _Invalid(key, form)
    return form.cleaned_data


def _call(key: str, form: Any, write: Any) -> Any:
    """Run a service; its field errors go beside the form's fields."""
    try:
        return write()
    except ValidationError as error:
        _show_beside_fields(form, error)
        raise _Invalid(key, form) from None


def _item(request: HttpRequest, model: Any, **lookup: Any) -> Any:
    item_id = request.POST.get("item", "")
    if not item_id.isdecimal() or len(item_id) > 18:
        raise ValidationError(_("Choose an item of this plan."))
    return get_object_or_404(model, pk=int(item_id), **lookup)


def _details(request: AuthenticatedHttpRequest, account: Account, plan: SuccessPlan) -> Any:
    form = PlanDetailsForm(request.POST, prefix="details")
    data = _valid("details", form)
    return _call("details", form, lambda: services.update_plan(plan=plan, actor=request.user, **data))


def _objective_add(request: AuthenticatedHttpRequest, account: Account, plan: SuccessPlan) -> Any:
    form = ObjectiveForm(request.POST, prefix="objective-add")
    data = _valid("objective-add", form)
    return _call(
        "objective-add",
        form,
        lambda: services.add_objective(plan=plan, text=data["text"], actor=request.user),
    )


def _objective_change(request: AuthenticatedHttpRequest, account: Account, plan: SuccessPlan) -> Any:
    objective = _item(request, PlanObjective, plan=plan)
    key = f"objective-{objective.pk}"
    form = ObjectiveForm(request.POST, prefix=key)
    data = _valid(key, form)
    return _call(
        key,
        form,
        lambda: services.change_objective(objective=objective, text=data["text"], actor=request.user),
    )


def _objective_remove(request: AuthenticatedHttpRequest, account: Account, plan: SuccessPlan) -> Any:
    return services.remove_objective(objective=_item(request, PlanObjective, plan=plan), actor=request.user)


def _kpi_add(request: AuthenticatedHttpRequest, account: Account, plan: SuccessPlan) -> Any:
    objective = _item(request, PlanObjective, plan=plan)
    key = f"kpi-add-{objective.pk}"
    form = KpiForm(request.POST, prefix=key, account=account)
    _valid(key, form)
    return _call(
        key, form, lambda: services.add_kpi(objective=objective, values=form.values(), actor=request.user)
    )


def _kpi_change(request: AuthenticatedHttpRequest, account: Account, plan: SuccessPlan) -> Any:
    kpi = _item(request, PlanKpi.objects.select_related("objective__plan__account"), objective__plan=plan)
    key = f"kpi-{kpi.pk}"
    form = KpiForm(request.POST, prefix=key, account=account)
    _valid(key, form)
    return _call(key, form, lambda: services.change_kpi(kpi=kpi, values=form.values(), actor=request.user))


def _kpi_remove(request: AuthenticatedHttpRequest, account: Account, plan: SuccessPlan) -> Any:
    kpi = _item(request, PlanKpi.objects.select_related("objective__plan__account"), objective__plan=plan)
    return services.remove_kpi(kpi=kpi, actor=request.user)


def _stakeholder_add(request: AuthenticatedHttpRequest, account: Account, plan: SuccessPlan) -> Any:
    form = StakeholderForm(request.POST, prefix="stakeholder-add", account=account)
    data = _valid("stakeholder-add", form)
    return _call(
        "stakeholder-add", form, lambda: services.add_stakeholder(plan=plan, actor=request.user, **data)
    )


def _stakeholder_remove(request: AuthenticatedHttpRequest, account: Account, plan: SuccessPlan) -> Any:
    stakeholder = _item(
        request, PlanStakeholder.objects.select_related("contact", "plan__account"), plan=plan
    )
    return services.remove_stakeholder(stakeholder=stakeholder, actor=request.user)


def _milestone_add(request: AuthenticatedHttpRequest, account: Account, plan: SuccessPlan) -> Any:
    form = MilestoneForm(
        request.POST, prefix="milestone-add", milestones=selectors.trackable_milestones(account, plan)
    )
    _valid("milestone-add", form)
    return _call(
        "milestone-add",
        form,
        lambda: services.add_milestone(plan=plan, values=form.values(), actor=request.user),
    )


def _milestone_change(request: AuthenticatedHttpRequest, account: Account, plan: SuccessPlan) -> Any:
    milestone = _item(request, PlanMilestone.objects.select_related("plan__account"), plan=plan)
    key = f"milestone-{milestone.pk}"
    form = MilestoneForm(request.POST, prefix=key, milestones=selectors.trackable_milestones(account, plan))
    _valid(key, form)
    return _call(
        key,
        form,
        lambda: services.change_milestone(milestone=milestone, values=form.values(), actor=request.user),
    )


def _milestone_remove(request: AuthenticatedHttpRequest, account: Account, plan: SuccessPlan) -> Any:
    milestone = _item(request, PlanMilestone.objects.select_related("plan__account"), plan=plan)
    return services.remove_milestone(milestone=milestone, actor=request.user)


def _agree(request: AuthenticatedHttpRequest, account: Account, plan: SuccessPlan) -> Any:
    form = AgreeForm(request.POST, prefix="agree", account=account)
    data = _valid("agree", form)
    return _call("agree", form, lambda: services.agree_plan(plan=plan, actor=request.user, **data))


def _close(request: AuthenticatedHttpRequest, account: Account, plan: SuccessPlan) -> Any:
    return services.close_plan(plan=plan, actor=request.user)


def _reopen(request: AuthenticatedHttpRequest, account: Account, plan: SuccessPlan) -> Any:
    return services.reopen_plan(plan=plan, actor=request.user)


def _share(request: AuthenticatedHttpRequest, account: Account, plan: SuccessPlan) -> str:
    form = ShareForm(request.POST, prefix="share")
    data = _valid("share", form)
    _link, token = _call(
        "share", form, lambda: services.create_share_link(plan=plan, actor=request.user, **data)
    )
    return request.build_absolute_uri(reverse("shared-plan", args=[token]))


def _revoke(request: AuthenticatedHttpRequest, account: Account, plan: SuccessPlan) -> Any:
    link = _item(request, PlanShareLink.objects.select_related("plan__account"), plan=plan)
    return services.revoke_share_link(link=link, actor=request.user)


_ACTIONS = {
    "details": _details,
    "objective-add": _objective_add,
    "objective-change": _objective_change,
    "objective-remove": _objective_remove,
    "kpi-add": _kpi_add,
    "kpi-change": _kpi_change,
    "kpi-remove": _kpi_remove,
    "stakeholder-add": _stakeholder_add,
    "stakeholder-remove": _stakeholder_remove,
    "milestone-add": _milestone_add,
    "milestone-change": _milestone_change,
    "milestone-remove": _milestone_remove,
    "agree": _agree,
    "close": _close,
    "reopen": _reopen,
    "share": _share,
    "revoke": _revoke,
}


# --- The account page's panel ---------------------------------------------------------------------


@login_required
@require_GET
def account_plan_panel(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """The "Success plan" panel on the account page (loaded by htmx): where the plan stands."""
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, "plans.view_successplan", account)
    plan = selectors.plan_of(account)
    context = {
        "account": account,
        "view": selectors.plan_view(plan) if plan is not None else None,
        "may_change": can(request.user, "plans.change_successplan", account),
    }
    return render(request, "plans/_panel.html", context)


# --- The page shared with the customer ------------------------------------------------------------


def _private(response: HttpResponse) -> HttpResponse:
    """Shared pages are for the one customer holding the link: never cached, never indexed, never leaked
    through the Referer of a link on them."""
    response["Cache-Control"] = "no-store, private"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _shared(request: HttpRequest, token: str) -> tuple[PlanShareLink | None, HttpResponse | None]:
    link = selectors.link_for_token(token)
    if link is None:
        return None, _private(render(request, "plans/shared_gone.html", {"reason": "unknown"}, status=404))
    if not selectors.link_is_open(link):
        with translation.override(link.language):
            reason = "revoked" if link.revoked_at or link.plan.status == "closed" else "expired"
            return None, _private(render(request, "plans/shared_gone.html", {"reason": reason}, status=410))
    return link, None


def _shared_html(request: HttpRequest, link: PlanShareLink, *, for_pdf: bool = False) -> str:
    plan = selectors.plan_of(link.plan.account_id)
    assert plan is not None  # the link's plan
    with translation.override(link.language):
        return render_to_string(
            "plans/shared_plan.html",
            {"view": selectors.plan_view(plan), "link": link, "for_pdf": for_pdf, "language": link.language},
            request=request,
        )


@require_GET
def shared_plan(request: HttpRequest, token: str) -> HttpResponse:
    """The plan, read-only, for the customer: no sign-in, in the link's language, no internal notes."""
    link, gone = _shared(request, token)
    if link is None:
        assert gone is not None
        return gone
    services.note_link_opened(link)
    response = HttpResponse(_shared_html(request, link))
    response["Content-Language"] = link.language
    return _private(response)


@require_GET
def shared_plan_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """The same page as a PDF (rendered from its HTML by WeasyPrint)."""
    link, gone = _shared(request, token)
    if link is None:
        assert gone is not None
        return gone
    from weasyprint import HTML  # imported here: loading it (and Pango) costs time every page need not pay

    # No base URL: the page carries its own styles and fetches nothing.
    pdf = HTML(string=_shared_html(request, link, for_pdf=True)).write_pdf()
    record_export(request, what=f"success-plan-{link.plan.account_id}.pdf", rows=None)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="success-plan-{link.plan.account_id}.pdf"'
    return _private(response)
