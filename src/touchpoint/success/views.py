"""The success app's own pieces of the account page: the header's "change phase" form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_htmx.middleware import HtmxDetails

from touchpoint.accounts.models import Account, TimelineEntry
from touchpoint.success import services
from touchpoint.success.forms import PhaseForm
from touchpoint.success.plugins import PLACEMENT
from touchpoint.users.models import User


class HtmxRequest(HttpRequest):
    htmx: HtmxDetails
    user: User


@login_required
@permission_required("accounts.change_account", raise_exception=True)
@require_POST
def account_placement(request: HtmxRequest, account_id: int) -> HttpResponse:
    """Move the account to another phase; answers htmx with the header's phase fact (errors beside
    the field, with 200 so htmx swaps them in, as the account header's own form does)."""
    account = get_object_or_404(Account, pk=account_id)
    form = PhaseForm(request.POST, account=account)
    saved = False
    if form.is_valid():
        try:
            services.place_account(account=account, actor=request.user, phase=form.cleaned_data["phase"])
            saved = True
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
    if not request.htmx:
        if not saved:
            messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
        return redirect("account-detail", account_id=account.pk)
    account = Account.objects.select_related(*PLACEMENT).get(pk=account.pk)
    new_entry = (
        TimelineEntry.objects.filter(account=account, kind="phase_changed").order_by("-id").first()
        if saved
        else None
    )
    return render(
        request,
        "success/_phase_placement_response.html",
        {
            "account": account,
            "phase_form": PhaseForm(account=account) if saved else form,
            "phase_saved": saved,
            "new_entry": new_entry,
        },
    )
