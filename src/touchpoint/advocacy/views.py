"""Advocacy pages: the advocates list, the pool, the asks, the settings, one contact's advocacy record
(the advocate page, with its forms), the ask form and the account page's panel.

Forms post back to the page that shows them; a service's refusal (the quarter limit, a status an ask
cannot take) is shown beside its field with a 422, as every form of the site does.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from touchpoint.accounts.models import Account, Contact
from touchpoint.advocacy import selectors, services
from touchpoint.advocacy.forms import (
    ActivityForm,
    AdvocateForm,
    AskForm,
    RewardForm,
    SettingsForm,
    StatusForm,
)
from touchpoint.advocacy.models import ActivityKind, AdvocacySettings, Ask, AskStatus
from touchpoint.health.models import Grade
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.users.permissions import can, require

PAGE_SIZE = 100


def _show_beside_fields(form: Any, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


def _readable_contact(request: AuthenticatedHttpRequest, contact_id: int) -> Contact:
    contact = get_object_or_404(Contact.objects.select_related("account"), pk=contact_id)
    require(request.user, "advocacy.view_advocate", contact.account)
    return contact


# --- The Advocacy pages ----------------------------------------------------------------------------


@login_required
def advocates_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Advocates with what each did (counts by kind), the most active first."""
    require(request.user, "advocacy.view_advocate")
    kind = request.GET.get("kind", "")
    kind = kind if kind in ActivityKind.values else ""
    query = request.GET.get("q", "").strip()[:100]
    found = selectors.advocates(request.user, kind=kind, query=query)
    rows = list(found[:PAGE_SIZE])
    for row in rows:
        row.kind_counts = [(label, getattr(row, f"n_{value}")) for value, label in ActivityKind.choices]  # type: ignore[attr-defined]
    context = {
        "section_tab": "advocates",
        "advocates": rows,
        "more": len(rows) == PAGE_SIZE,
        "kinds": ActivityKind.choices,
        "kind": kind,
        "query": query,
    }
    return render(request, "advocacy/advocates.html", context)


@login_required
def pool_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Promoters at healthy accounts, not asked recently: whom to ask next."""
    require(request.user, "advocacy.view_advocate")
    settings_row = AdvocacySettings.current()
    found = selectors.pool(request.user, quiet_days=settings_row.pool_quiet_days)
    rows = list(found[:PAGE_SIZE])
    total = len(rows) if len(rows) < PAGE_SIZE else found.count()
    context = {
        "section_tab": "pool",
        "candidates": rows,
        "total": total,
        "more": total > PAGE_SIZE,
        "settings": settings_row,
        "may_ask": can(request.user, "advocacy.add_ask"),
    }
    return render(request, "advocacy/pool.html", context)


@login_required
def asks_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The open asks (or those of one status)."""
    require(request.user, "advocacy.view_advocate")
    status = request.GET.get("status", "")
    status = status if status in AskStatus.values else ""
    found = selectors.asks(request.user, status=status, open_only=not status)
    rows = list(found[:PAGE_SIZE])
    context = {
        "section_tab": "asks",
        "asks": rows,
        "more": len(rows) == PAGE_SIZE,
        "statuses": AskStatus.choices,
        "status": status,
    }
    return render(request, "advocacy/asks.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The quarter limit and the pool's quiet days (admins change them)."""
    require(request.user, "advocacy.view_advocate")
    current = AdvocacySettings.current()
    may_change = can(request.user, "advocacy.change_advocacysettings")
    form = SettingsForm(instance=current)
    status = 200
    saved = False
    if request.method == "POST":
        require(request.user, "advocacy.change_advocacysettings")
        form = SettingsForm(request.POST, instance=AdvocacySettings.current())
        if form.is_valid():
            services.change_settings(
                actor=request.user,
                max_asks_per_quarter=form.cleaned_data["max_asks_per_quarter"],
                pool_quiet_days=form.cleaned_data["pool_quiet_days"],
            )
            return redirect(reverse("advocacy-settings") + "?saved=1")
        status = 422
    saved = request.GET.get("saved") == "1"
    context = {
        "section_tab": "settings",
        "form": form,
        "may_change": may_change,
        "settings": current,
        "saved": saved,
    }
    return render(request, "advocacy/settings.html", context, status=status)


# --- One contact's advocacy record (the advocate page) ---------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def contact_page(request: AuthenticatedHttpRequest, contact_id: int) -> HttpResponse:
    """Everything advocacy knows of one contact, and the forms to add to it (action = advocate,
    activity, reward, status, candidate, uncandidate)."""
    contact = _readable_contact(request, contact_id)
    forms: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        require(request.user, "advocacy.change_advocate", contact.account)
        action = request.POST.get("action", "")
        handler = _ACTIONS.get(action)
        if handler is None:
            return HttpResponseBadRequest(_("Unknown action."))
        failed = handler(request, contact)
        if failed is None:
            return redirect(reverse("advocacy-contact", args=[contact.pk]) + "?saved=1")
        forms.update(failed)
        status = 422
    return _contact(request, contact, forms=forms, status=status)


def _contact(
    request: AuthenticatedHttpRequest, contact: Contact, *, forms: dict[str, Any], status: int = 200
) -> HttpResponse:
    record = selectors.contact_record(contact)
    may_change = can(request.user, "advocacy.change_advocate", contact.account)
    advocate = record.advocate
    advocate_initial = {"since": advocate.since, "notes": advocate.notes} if advocate else None
    check = services.quarter_check(contact, day=timezone.localdate())
    failed_status = forms.get("status", {})
    for the_ask in record.asks:
        the_ask.status_form = failed_status.get(the_ask.pk) or StatusForm(prefix=f"ask-{the_ask.pk}")  # type: ignore[attr-defined]
    context = {
        "contact": contact,
        "account": contact.account,
        "record": record,
        "grade_label": Grade(record.grade).label if record.grade in Grade.values else Grade.UNKNOWN.label,
        "may_change": may_change,
        "quarter": check,
        "saved": request.GET.get("saved") == "1",
        "advocate_form": forms.get("advocate") or AdvocateForm(initial=advocate_initial),
        "activity_form": forms.get("activity") or ActivityForm(),
        "reward_form": forms.get("reward") or RewardForm(),
        "problem": forms.get("problem", ""),
    }
    return render(request, "advocacy/contact.html", context, status=status)


def _save_advocate(request: AuthenticatedHttpRequest, contact: Contact) -> dict[str, Any] | None:
    form = AdvocateForm(request.POST)
    if form.is_valid():
        try:
            advocate = getattr(contact, "advocate", None)
            if advocate is None:
                services.add_advocate(contact=contact, actor=request.user, **form.cleaned_data)
            else:
                services.update_advocate(advocate=advocate, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _show_beside_fields(form, error)
        else:
            return None
    return {"advocate": form}


def _need_advocate(contact: Contact) -> Any:
    advocate = getattr(contact, "advocate", None)
    if advocate is None:
        raise Http404
    return advocate


def _record_activity(request: AuthenticatedHttpRequest, contact: Contact) -> dict[str, Any] | None:
    advocate = _need_advocate(contact)
    form = ActivityForm(request.POST)
    if form.is_valid():
        try:
            services.record_activity(advocate=advocate, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _show_beside_fields(form, error)
        else:
            return None
    return {"activity": form}


def _give_reward(request: AuthenticatedHttpRequest, contact: Contact) -> dict[str, Any] | None:
    advocate = _need_advocate(contact)
    form = RewardForm(request.POST)
    if form.is_valid():
        try:
            services.give_reward(advocate=advocate, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _show_beside_fields(form, error)
        else:
            return None
    return {"reward": form}


def _change_status(request: AuthenticatedHttpRequest, contact: Contact) -> dict[str, Any] | None:
    ask_id = request.POST.get("ask", "")
    if not ask_id.isdecimal():
        raise Http404
    the_ask = get_object_or_404(Ask, pk=int(ask_id), contact=contact)
    require(request.user, "advocacy.change_ask", the_ask)
    form = StatusForm(request.POST, prefix=f"ask-{the_ask.pk}")
    if form.is_valid():
        try:
            services.change_ask(
                the_ask=the_ask,
                status=form.cleaned_data["status"],
                actor=request.user,
                outcome_note=form.cleaned_data["outcome_note"],
                on=form.cleaned_data["on"],
                link=form.cleaned_data["link"],
            )
        except ValidationError as error:
            _show_beside_fields(form, error)
        else:
            return None
    return {"status": {the_ask.pk: form}}


def _mark(request: AuthenticatedHttpRequest, contact: Contact) -> dict[str, Any] | None:
    services.mark_candidate(contact=contact, actor=request.user)
    return None


def _unmark(request: AuthenticatedHttpRequest, contact: Contact) -> dict[str, Any] | None:
    services.unmark_candidate(contact=contact, actor=request.user)
    return None


_ACTIONS = {
    "advocate": _save_advocate,
    "activity": _record_activity,
    "reward": _give_reward,
    "status": _change_status,
    "candidate": _mark,
    "uncandidate": _unmark,
}


# --- The ask form --------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def ask_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Ask a contact (`?contact=`, from the pool or a contact's page) or one of an account's contacts
    (`?account=`, from the account panel) for a reference, a review, a case study…"""
    require(request.user, "advocacy.add_ask")
    contact_id = request.GET.get("contact", "")
    account_id = request.GET.get("account", "")
    if contact_id.isdecimal() and len(contact_id) < 19:
        contact = get_object_or_404(Contact.objects.select_related("account"), pk=int(contact_id))
        account = contact.account
        contacts = Contact.objects.filter(pk=contact.pk)
    elif account_id.isdecimal() and len(account_id) < 19:
        account = get_object_or_404(Account, pk=int(account_id))
        contact = None
        contacts = Contact.objects.filter(account=account).order_by("name", "id")
    else:
        return HttpResponseBadRequest(_("Choose a contact or an account to ask."))
    require(request.user, "advocacy.add_ask", account)
    initial = {"contact": contact.pk} if contact is not None else {}
    form = AskForm(initial=initial, contacts=contacts)
    status = 200
    if request.method == "POST":
        form = AskForm(request.POST, contacts=contacts)
        if form.is_valid():
            try:
                the_ask = services.ask(
                    contact=form.cleaned_data["contact"],
                    kind=form.cleaned_data["kind"],
                    note=form.cleaned_data["note"],
                    actor=request.user,
                )
            except ValidationError as error:
                _show_beside_fields(form, error)
            else:
                target = request.POST.get("next", "")
                if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                    return redirect(target)
                return redirect(reverse("advocacy-contact", args=[the_ask.contact_id]) + "?saved=1")
        status = 422
    quarter = services.quarter_check(contact, day=timezone.localdate()) if contact is not None else None
    context = {
        "form": form,
        "account": account,
        "contact": contact,
        "quarter": quarter,
        "next": request.GET.get("next", request.POST.get("next", "")),
    }
    return render(request, "advocacy/ask.html", context, status=status)


# --- The account panel -------------------------------------------------------------------------------


@login_required
def account_panel(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """The account page's advocacy panel (loaded by htmx): advocates, open asks and history."""
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, "advocacy.view_advocate", account)
    found = selectors.account_advocacy(request.user, account)
    context = {
        "account": account,
        "advocacy": found,
        "may_ask": can(request.user, "advocacy.add_ask", account),
    }
    return render(request, "advocacy/_account_panel.html", context)
