"""Pages of the users app: a person's own settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.users import services
from touchpoint.users.access_views import access_context
from touchpoint.users.forms import MySettingsForm


@login_required
def my_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The daily digest on or off, and the language Touchpoint writes emails to this person in."""
    user = request.user
    form = MySettingsForm(
        request.POST or None,
        initial={"receive_daily_digest": user.receive_daily_digest, "language": user.language},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_my_settings(
                user=user,
                receive_daily_digest=form.cleaned_data["receive_daily_digest"],
                language=form.cleaned_data["language"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your settings are saved."))
            return redirect("my-settings")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, **access_context(user)}
    return render(request, "users/my_settings.html", context, status=status)
