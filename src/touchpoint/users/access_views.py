"""Pages of access control: Locked sign-ins (admins)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.users import access_services
from touchpoint.users.access import cool_off_for, locked_attempts
from touchpoint.users.permissions import permission_required


@permission_required("users.change_user")
def locked_sign_ins(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Accounts and addresses locked out after failed sign-ins, each with an Unlock button."""
    if request.method == "POST":
        try:
            removed = access_services.unlock_sign_in(
                username=request.POST.get("username", ""),
                ip_address=request.POST.get("ip_address", ""),
                actor=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Unlocked (%(count)d failure records removed).") % {"count": removed})
        return redirect("locked-sign-ins")
    rows = [
        {"attempt": attempt, "cool_off_minutes": int(cool_off_for(attempt.failures_since_start).total_seconds() // 60)}
        for attempt in locked_attempts()
    ]
    return render(request, "users/locked_sign_ins.html", {"rows": rows})
