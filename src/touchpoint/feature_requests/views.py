"""Feature-request pages: the ranked list (filters, a breakdown by segment, suggested duplicates, a new
request), one request (requesters with ARR, renewal and health, why it ranks where it does, status,
merge, history), the account page's panel with its "add a request" (titles suggested as one types)
and the backlog export.

Forms post back to their page with an `action`; errors show beside the field with a 422; a write
that succeeds redirects (the panel, under htmx, renders itself again).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from touchpoint.accounts.models import Account
from touchpoint.feature_requests import exports, selectors, services
from touchpoint.feature_requests.forms import AskForm, FilterForm, MergeForm, RequestForm, StatusForm
from touchpoint.feature_requests.metrics import DEFAULT as WEIGHTING
from touchpoint.feature_requests.models import FeatureRequest
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.users.audit import record_export
from touchpoint.users.permissions import can, permission_required, require
from touchpoint.web.form_errors import show_beside_fields


def _common() -> dict[str, Any]:
    return {"currency": settings.TOUCHPOINT_CURRENCY, "weighting": WEIGHTING}


# --- the list ---------------------------------------------------------------------------------------


@permission_required("feature_requests.view_featurerequest")
@require_http_methods(["GET", "POST"])
def requests_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The requests ranked by revenue at stake (or accounts asking, or newest), with filters."""
    new_form = None
    status = 200
    if request.method == "POST":
        require(request.user, "feature_requests.add_featurerequest")
        new_form = RequestForm(request.POST, prefix="new")
        if new_form.is_valid():
            try:
                created = services.create_request(actor=request.user, **new_form.cleaned_data)
            except ValidationError as error:
                show_beside_fields(new_form, error)
            else:
                return redirect("feature-request", request_id=created.pk)
        status = 422
    filter_form = FilterForm(request.GET or None, areas=selectors.product_areas())
    filters = filter_form.filters()
    rows = selectors.ranked(filters)
    may_change = can(request.user, "feature_requests.change_featurerequest")
    context = {
        **_common(),
        "rows": rows,
        "filters": filters,
        "filter_form": filter_form,
        "segments": selectors.segments_of(rows),
        "duplicates": selectors.suggested_duplicates(limit=5) if may_change else [],
        "new_form": new_form
        or (RequestForm(prefix="new") if can(request.user, "feature_requests.add_featurerequest") else None),
        "export_query": request.GET.urlencode(),
    }
    return render(request, "feature_requests/list.html", context, status=status)


@permission_required("feature_requests.view_featurerequest")
@require_GET
def export_csv(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The ranked list as CSV for the product backlog (the list's filters apply)."""
    filters = FilterForm(request.GET or None, areas=selectors.product_areas()).filters()
    ranked = selectors.ranked(filters)
    record_export(request, what="feature-requests.csv", rows=len(ranked))
    response = HttpResponse(exports.ranked_csv(ranked), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="feature-requests.csv"'
    return response


# --- one request ------------------------------------------------------------------------------------


@permission_required("feature_requests.view_featurerequest")
@require_http_methods(["GET", "POST"])
def request_page(request: AuthenticatedHttpRequest, request_id: int) -> HttpResponse:
    feature = get_object_or_404(
        FeatureRequest.objects.select_related("created_by", "merged_into"), pk=request_id
    )
    if feature.merged_into_id is not None:
        # A merged request lives on in its survivor (its history is shown there).
        survivor = feature
        while survivor.merged_into_id is not None:
            survivor = FeatureRequest.objects.get(pk=survivor.merged_into_id)
        return redirect(reverse("feature-request", args=[survivor.pk]) + f"?merged={feature.pk}")
    forms: dict[str, Any] = {}
    if request.method == "POST":
        require(request.user, "feature_requests.change_featurerequest", feature)
        done = _post(request, feature, forms)
        if done is not None:
            return done
    may_change = can(request.user, "feature_requests.change_featurerequest", feature)
    if may_change:
        forms.setdefault(
            "details",
            RequestForm(
                prefix="details",
                initial={
                    "title": feature.title,
                    "description": feature.description,
                    "product_area": feature.product_area,
                },
            ),
        )
        forms.setdefault("status", StatusForm(prefix="status", initial={"status": feature.status}))
        forms.setdefault("merge", MergeForm(prefix="merge", request=feature))
    merged_from = request.GET.get("merged", "")
    context = {
        **_common(),
        "feature": feature,
        "page": selectors.request_page(feature, reader=request.user),
        "duplicates": selectors.duplicates_of(feature) if may_change else [],
        "forms": forms,
        "may_change": may_change,
        "merged_from": FeatureRequest.objects.filter(pk=merged_from, merged_into=feature).first()
        if merged_from.isdecimal() and len(merged_from) < 19
        else None,
    }
    return render(
        request, "feature_requests/request.html", context, status=422 if forms.get("invalid") else 200
    )


def _other(request: AuthenticatedHttpRequest, name: str) -> FeatureRequest:
    value = request.POST.get(name, "")
    if not value.isdecimal() or len(value) > 18:
        raise ValidationError({name: _("Choose a request.")})
    found = FeatureRequest.objects.filter(pk=int(value)).first()
    if found is None:
        raise ValidationError({name: _("Choose a request.")})
    return found


def _post(
    request: AuthenticatedHttpRequest, feature: FeatureRequest, forms: dict[str, Any]
) -> HttpResponse | None:
    action = request.POST.get("action", "")
    here = reverse("feature-request", args=[feature.pk])
    form: Any
    if action == "details":
        form = RequestForm(request.POST, prefix="details")
        write = lambda data: services.update_request(request=feature, actor=request.user, **data)  # noqa: E731
    elif action == "status":
        form = StatusForm(request.POST, prefix="status")
        write = lambda data: services.change_status(request=feature, actor=request.user, **data)  # noqa: E731
    elif action == "merge":
        form = MergeForm(request.POST, prefix="merge", request=feature)
        write = lambda data: services.merge(  # noqa: E731
            duplicate=feature, survivor=data["survivor"], note=data["note"], actor=request.user
        )
    elif action in ("merge-in", "not-duplicate"):
        try:
            other = _other(request, "other")
            if action == "merge-in":
                services.merge(duplicate=other, survivor=feature, actor=request.user)
            else:
                services.not_a_duplicate(first=feature, second=other, actor=request.user)
        except ValidationError as error:
            forms["problem"] = " ".join(error.messages)
            forms["invalid"] = True
            return None
        return redirect(here + "#duplicates")
    else:
        return HttpResponseBadRequest(_("Unknown action."))
    if form.is_valid():
        try:
            result = write(form.cleaned_data)
        except ValidationError as error:
            show_beside_fields(form, error)
        else:
            if action == "merge":
                return redirect("feature-request", request_id=result.pk)
            return redirect(here + f"#{action}")
    forms[action] = form
    forms["invalid"] = True
    return None


# --- suggestions as one types -----------------------------------------------------------------------


@permission_required("feature_requests.view_featurerequest")
@require_GET
def suggest(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Requests whose titles read like what is typed in "add a request" (an htmx fragment)."""
    text = (request.GET.get("ask-title") or request.GET.get("title") or "")[:200]
    account_id = request.GET.get("account", "")
    account = (
        Account.objects.filter(pk=int(account_id)).first()
        if account_id.isdecimal() and len(account_id) < 19
        else None
    )
    # Which of them the account asked for already, when the reader may read the account.
    asked = (
        selectors.asked_by(account.pk)
        if account and can(request.user, "accounts.view_account", account)
        else set()
    )
    found = selectors.suggestions(text) if len(text.strip()) >= 3 else []
    return render(
        request,
        "feature_requests/_suggestions.html",
        {"suggestions": [(feature, score, feature.pk in asked) for feature, score in found], "typed": text},
    )


# --- the account panel ------------------------------------------------------------------------------


@permission_required("feature_requests.view_featurerequest")
@require_http_methods(["GET", "POST"])
def account_panel(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """The account's requests and "add a request" (loaded by htmx; its form posts back here)."""
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, "accounts.view_account", account)
    if request.method == "GET":
        return _panel(request, account)
    require(request.user, "feature_requests.add_requestlink", account)
    form = AskForm(request.POST, account=account, prefix="ask")
    if form.is_valid():
        data = form.cleaned_data
        if data["request"] is None:
            require(request.user, "feature_requests.add_featurerequest")
        try:
            services.request_feature(
                account=account,
                actor=request.user,
                request=data["request"],
                title=data["title"],
                product_area=data["product_area"],
                verbatim=data["verbatim"],
                contact=data["contact"],
            )
        except ValidationError as error:
            show_beside_fields(form, error)
        else:
            if request.htmx:
                return _panel(request, account, saved=True)
            return redirect(reverse("account-detail", args=[account.pk]) + "#feature-requests-panel")
    return _panel(request, account, form=form, status=200 if request.htmx else 422)


def _panel(
    request: AuthenticatedHttpRequest,
    account: Account,
    *,
    form: AskForm | None = None,
    saved: bool = False,
    status: int = 200,
) -> HttpResponse:
    may_add = can(request.user, "feature_requests.add_requestlink", account)
    context = {
        "account": account,
        "links": selectors.account_requests(account),
        "form": (form or AskForm(account=account, prefix="ask")) if may_add else None,
        "adding": form is not None,
        "saved": saved,
    }
    template = (
        "feature_requests/_account_panel.html"
        if request.htmx or status == 200
        else "feature_requests/account_panel.html"
    )
    return render(request, template, context, status=status)
