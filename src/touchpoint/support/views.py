"""Support pages: the support page (numbers by priority, tier and month; what is about to breach; the
open backlog; the latest breaches), one ticket, the account panel, the settings (webhook sources,
calendars, SLA policies) and the help desks' webhook.

Forms post back to their page with an `action`; errors show beside the field with a 422; a write that
succeeds redirects."""

from __future__ import annotations

import orjson
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from touchpoint.accounts.models import Account
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.support import selectors, services, webhooks
from touchpoint.support.forms import CalendarForm, PolicyForm, WebhookSourceForm
from touchpoint.support.models import Priority, SlaPolicy, WebhookSource
from touchpoint.users.permissions import can, permission_required, require
from touchpoint.web.form_errors import show_beside_fields

MONTH_CHOICES = (3, 6, 12)


@permission_required("support.view_ticket")
@require_GET
def support_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    months = request.GET.get("months", "6")
    months_n = int(months) if months.isdecimal() and int(months) in MONTH_CHOICES else 6
    now = timezone.now()
    return render(
        request,
        "support/support.html",
        {
            "metrics": selectors.support_metrics(request.user, months=months_n),
            "months": months_n,
            "month_choices": MONTH_CHOICES,
            "soon": selectors.about_to_breach(request.user, now=now),
            "backlog": selectors.open_backlog(request.user),
            "breaches": list(selectors.breach_list(request.user)[:20]),
            "now": now,
            "may_configure": can(request.user, "support.view_slapolicy"),
        },
    )


@permission_required("support.view_ticket")
@require_GET
def ticket_page(request: AuthenticatedHttpRequest, ticket_id: int) -> HttpResponse:
    ticket = get_object_or_404(selectors.ticket_detail_queryset(), pk=ticket_id)
    require(request.user, "support.view_ticket", ticket)
    return render(
        request,
        "support/ticket.html",
        {
            "ticket": ticket,
            "breaches": selectors.breaches_of(ticket),
            "target": selectors.target_for(ticket),
            "now": timezone.now(),
        },
    )


@permission_required("support.view_ticket")
@require_GET
def account_support(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """The account page's support panel (loaded by htmx)."""
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, "support.view_ticket", account)
    return render(
        request,
        "support/_account_support.html",
        {"account": account, "support": selectors.account_support(account.pk), "now": timezone.now()},
    )


# --- settings ------------------------------------------------------------------------------------------


def _settings_context(request: AuthenticatedHttpRequest, **forms: object) -> dict:
    may_sources = can(request.user, "support.view_webhooksource")
    return {
        "policies": selectors.policies(),
        "calendars": selectors.calendars(),
        "sources": selectors.webhook_sources() if may_sources else [],
        "may_sources": may_sources,
        "may_shape": can(request.user, "support.change_slapolicy"),
        "webhook_base": request.build_absolute_uri(reverse("support-webhook", kwargs={"key": "KEY"})).replace(
            "KEY/", ""
        ),
        "source_form": forms.get("source_form") or (WebhookSourceForm() if may_sources else None),
        "calendar_form": forms.get("calendar_form") or CalendarForm(),
        "policy_form": forms.get("policy_form") or PolicyForm(),
        "priorities": Priority.choices,
    }


@permission_required("support.view_slapolicy")
@require_http_methods(["GET", "POST"])
def settings_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "support/settings.html", _settings_context(request))
    action = request.POST.get("action", "")
    if action in ("source", "rotate", "toggle"):
        require(request.user, "support.change_webhooksource")
        if action == "source":
            form = WebhookSourceForm(request.POST)
            if form.is_valid():
                try:
                    services.create_webhook_source(actor=request.user, **form.cleaned_data)
                except ValidationError as error:
                    show_beside_fields(form, error)
                else:
                    return redirect(reverse("support-settings") + "#sources")
            return render(
                request, "support/settings.html", _settings_context(request, source_form=form), status=422
            )
        source_id = request.POST.get("source", "")
        if not source_id.isdecimal():
            return HttpResponseBadRequest(_("Choose a webhook source."))
        source = get_object_or_404(WebhookSource, pk=int(source_id))
        if action == "rotate":
            services.rotate_webhook_secret(source=source, actor=request.user)
        else:
            services.set_webhook_source_active(source=source, active=not source.active, actor=request.user)
        return redirect(reverse("support-settings") + "#sources")
    if action == "calendar":
        require(request.user, "support.add_businesscalendar")
        calendar_form = CalendarForm(request.POST)
        if calendar_form.is_valid():
            try:
                services.save_calendar(actor=request.user, **calendar_form.cleaned_data)
            except ValidationError as error:
                show_beside_fields(calendar_form, error)
            else:
                return redirect(reverse("support-settings") + "#calendars")
        return render(
            request,
            "support/settings.html",
            _settings_context(request, calendar_form=calendar_form),
            status=422,
        )
    if action == "policy":
        require(request.user, "support.add_slapolicy")
        policy_form = PolicyForm(request.POST)
        if policy_form.is_valid():
            data = policy_form.cleaned_data
            try:
                services.save_policy(
                    name=data["name"],
                    segment=data["segment"],
                    calendar=data["calendar"],
                    targets=policy_form.targets(),
                    actor=request.user,
                    policy=SlaPolicy.objects.filter(segment=data["segment"]).first(),
                )
                services.refresh_all()
            except ValidationError as error:
                show_beside_fields(policy_form, error)
            else:
                return redirect(reverse("support-settings") + "#policies")
        return render(
            request, "support/settings.html", _settings_context(request, policy_form=policy_form), status=422
        )
    return HttpResponseBadRequest(_("Unknown action."))


# --- the webhook ---------------------------------------------------------------------------------------


def _error(status: int, detail: str, field: str = "", message: str = "") -> JsonResponse:
    return JsonResponse(
        {"detail": detail, "errors": [{"field": field, "message": message or detail}]}, status=status
    )


@csrf_exempt  # the help desk signs the request instead; there is no session
@require_POST
def webhook(request: HttpRequest, key: str) -> JsonResponse:
    source = WebhookSource.objects.filter(key=key, active=True).first()
    if source is None:
        return _error(404, _("No active webhook source with this key."))
    body = request.body
    try:
        webhooks.verify(source.secret, request.headers, body)
    except webhooks.SignatureError as error:
        return _error(401, str(error), "signature")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        return _error(400, _("The request body is not valid JSON."), message=str(error))
    try:
        data, where = webhooks.read_ticket(payload, source=source.key)
        account = services.match_account(**where)
        if account is None:
            raise ValidationError(
                {
                    "ticket.organization": _(
                        "No account matches the organization, its external ID or the requester's email domain."
                    )
                }
            )
        ticket, outcome = services.upsert_ticket(data=data, account=account, actor=None)
    except ValidationError as error:
        errors = [
            {"field": field, "message": " ".join(messages)}
            for field, messages in getattr(error, "message_dict", {"": error.messages}).items()
        ]
        return JsonResponse({"detail": _("The ticket could not be recorded."), "errors": errors}, status=422)
    services.note_webhook_received(source)
    return JsonResponse({"ticket": ticket.pk, "outcome": outcome, "breached": ticket.breached})
