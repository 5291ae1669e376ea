from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from touchpoint.home import services
from touchpoint.home.forms import OwnerForm
from touchpoint.home.models import Alert
from touchpoint.home.sections import home_sections
from touchpoint.home.selectors import scope_for, switchable_people
from touchpoint.request_types import AuthenticatedHttpRequest


@login_required
def my_day(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The page a person opens every morning: what to do today, across the sections the apps register."""
    can_switch = switchable_people(request.user).exists()
    form = OwnerForm(request.GET or None, viewer=request.user) if can_switch else None
    owner = None
    status = 200
    if request.GET.get("owner") and form is None:
        status = 400  # only leaders and admins open someone else's day
    elif form is not None and form.is_bound:
        if form.is_valid():
            owner = form.cleaned_data["owner"]
        else:
            status = 400
    scope = scope_for(request.user, owner=owner)
    sections = []
    if status == 200:
        sections = [
            {"section": section, "data": section.items(scope)}
            for section in home_sections.visible_to(request.user)
        ]
    return render(
        request,
        "home/my_day.html",
        {"scope": scope, "sections": sections, "owner_form": form, "bad_owner": status == 400},
        status=status,
    )


@login_required
@require_POST
def mark_read(request: AuthenticatedHttpRequest, alert_id: int) -> HttpResponse:
    """Mark one of the viewer's alerts read; someone else's alert is a 404."""
    alert = get_object_or_404(Alert, pk=alert_id, recipient=request.user)
    services.mark_alert_read(alert=alert, user=request.user)
    if request.htmx:
        return HttpResponse("")
    return redirect("my-day")


@login_required
@require_POST
def mark_all_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    services.mark_all_alerts_read(user=request.user)
    return redirect("my-day")
