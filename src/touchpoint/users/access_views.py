"""Pages of access control: Locked sign-ins (admins), one's own API keys (on My settings)."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.users import access_services, services
from touchpoint.users.access import cool_off_for, locked_attempts
from touchpoint.users.models import User
from touchpoint.users.permissions import permission_required
from touchpoint.users.selectors import api_keys_of


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
        {
            "attempt": attempt,
            "cool_off_minutes": int(cool_off_for(attempt.failures_since_start).total_seconds() // 60),
        }
        for attempt in locked_attempts()
    ]
    return render(request, "users/locked_sign_ins.html", {"rows": rows})


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("What the key is for."),
    )
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"),
        choices=[
            ("read", gettext_lazy("read: look things up")),
            ("write", gettext_lazy("write: change things")),
            ("ingest", gettext_lazy("ingest: only record tickets, answers, touches and uptime")),
            ("admin", gettext_lazy("admin: what only admins may do")),
        ],
        initial=["read"],
        widget=forms.CheckboxSelectMultiple,
    )
    expires = forms.DateField(
        label=gettext_lazy("Expires"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Empty: until revoked."),
    )


def access_context(user: User) -> dict[str, object]:
    """What My settings shows about sign-in and keys: the second factor and the person's API keys."""
    from django_otp import user_has_device

    return {
        "two_factor_on": user_has_device(user, confirmed=True),
        "api_keys": list(api_keys_of(user)),
        "api_key_form": ApiKeyForm(),
    }


@login_required
@require_POST
def create_my_api_key(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A new key for the signed-in person; the raw key is shown on this answer only."""
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        expires = form.cleaned_data["expires"]
        expires_at = timezone.make_aware(datetime.combine(expires, time.max)) if expires is not None else None
        try:
            api_key, raw = services.create_api_key(
                user=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=expires_at,
                actor=request.user,
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(
                    field if field in form.fields else ("expires" if field == "expires_at" else None), errors
                )
        else:
            return render(request, "users/api_key_created.html", {"api_key": api_key, "raw_key": raw})
    return render(request, "users/api_key_form.html", {"api_key_form": form}, status=400)


@login_required
@require_POST
def revoke_my_api_key(request: AuthenticatedHttpRequest, key_id: int) -> HttpResponse:
    """Stop one of one's own keys at once."""
    api_key = get_object_or_404(api_keys_of(request.user), pk=key_id)
    services.revoke_api_key(api_key=api_key, actor=request.user)
    messages.success(request, _("The key is revoked."))
    return redirect("my-settings")
