"""The Privacy page (admins): a person's data as a ZIP download, and the erasure with a typed confirmation."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from touchpoint.privacy import services
from touchpoint.privacy.forms import EraseForm, PersonForm
from touchpoint.privacy.hashing import digest
from touchpoint.privacy.models import Erasure
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.users.permissions import permission_required

VIEW = "privacy.view_erasure"
ERASE = "privacy.add_erasure"


def _page(request: HttpRequest, *, export_form=None, erase_form=None, status: int = 200) -> HttpResponse:
    return render(
        request,
        "privacy/page.html",
        {
            "export_form": export_form or PersonForm(prefix="export"),
            "erase_form": erase_form or EraseForm(prefix="erase"),
            "erasures": Erasure.objects.select_related("actor")[:50],
        },
        status=status,
    )


def _add_errors(form, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


@require_GET
@permission_required(VIEW)
def privacy_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@permission_required(VIEW)
def privacy_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    # POST, so the email never shows in a URL, a server log or the audit entry's path.
    form = PersonForm(request.POST, prefix="export")
    if form.is_valid():
        try:
            export = services.export_person(email=form.cleaned_data["email"], actor=request.user, via="page")
        except ValidationError as error:
            _add_errors(form, error)
        else:
            response = HttpResponse(export.as_zip(), content_type="application/zip")
            name = f"privacy-export-{digest(export.person.email)[:12]}.zip"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    return _page(request, export_form=form, status=400)


@require_POST
@permission_required(ERASE)
def privacy_erase(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = EraseForm(request.POST, prefix="erase")
    if form.is_valid():
        try:
            erasure = services.erase_person(email=form.cleaned_data["email"], actor=request.user, via="page")
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("Erased. The person is now “%(pseudonym)s” everywhere; their product user ids are blocked.")
                % {"pseudonym": erasure.pseudonym},
            )
            return redirect("privacy")
    return _page(request, erase_form=form, status=400)
