"""The People pages: admins list, invite, change roles, deactivate and reset passwords; and the page a
person's one-time link opens (public: the token is the key)."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.users import people as services
from touchpoint.users import people_selectors as selectors
from touchpoint.users.access_services import has_two_factor, reset_two_factor
from touchpoint.users.models import SignInLinkPurpose, User
from touchpoint.users.people_forms import ChoosePasswordForm, InviteForm, RoleForm
from touchpoint.users.permissions import permission_required
from touchpoint.users.roles import Role

logger = logging.getLogger(__name__)

MANAGE = "users.change_user"


def _email_link(request: AuthenticatedHttpRequest, user: User, raw_token: str, purpose: str) -> bool:
    try:
        services.send_link_email(user=user, raw_token=raw_token, purpose=purpose, sender=request.user)
    except OSError as error:
        logger.warning("Could not email a sign-in link to user %s: %s", user.pk, error)
        messages.warning(
            request,
            _(
                "Saved, but the email to %(email)s could not be sent (%(error)s). Send it again when mail works."
            )
            % {"email": user.email, "error": error.__class__.__name__},
        )
        return False
    return True


@permission_required("users.view_user")
def people_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    role = request.GET.get("role", "")
    status = request.GET.get("status", "")
    search = request.GET.get("q", "")[:200]
    rows = list(selectors.people(role=role, status=status, search=search)[:500])
    for person in rows:
        person.status = selectors.status_of(person)  # type: ignore[attr-defined]
    return render(
        request,
        "users/people_list.html",
        {
            "people": rows,
            "filters": {"role": role, "status": status, "q": search},
            "roles": list(Role),
            "statuses": [
                ("active", _("Active")),
                ("invited", _("Invited")),
                ("deactivated", _("Deactivated")),
            ],
        },
    )


@sensitive_post_parameters()
@permission_required("users.add_user")
def invite(request: AuthenticatedHttpRequest) -> HttpResponse:
    initial = {"role": Role.CSM.value, "language": request.user.language or get_language() or ""}
    form = InviteForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            user, raw = services.invite_user(
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                full_name=form.cleaned_data["full_name"],
                language=form.cleaned_data["language"],
                actor=request.user,
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            if _email_link(request, user, raw, SignInLinkPurpose.INVITE):
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": user.email})
            return redirect("person", user_id=user.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "users/people_invite.html", {"form": form}, status=status)


def _person_page(
    request: AuthenticatedHttpRequest, person: User, *, errors: dict | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "users/person.html",
        {
            "person": person,
            "person_status": selectors.status_of(person),
            "role_form": RoleForm(initial={"role": person.role.value if person.role else ""}),
            "links": selectors.latest_links(person),
            "errors": errors or {},
            "is_me": person.pk == request.user.pk,
            "has_two_factor": has_two_factor(person),
            "now": timezone.now(),
        },
        status=status,
    )


@permission_required("users.view_user")
def person(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    return _person_page(request, get_object_or_404(User, pk=user_id))


def _act(request: AuthenticatedHttpRequest, user_id: int, action, done: str) -> HttpResponse:
    target = get_object_or_404(User, pk=user_id)
    try:
        result = action(target)
    except ValidationError as error:
        errors = {field: " ".join(problems) for field, problems in error.message_dict.items()}
        return _person_page(request, get_object_or_404(User, pk=user_id), errors=errors, status=400)
    if done:
        messages.success(request, done)
    return result or redirect("person", user_id=target.pk)


@require_POST
@permission_required(MANAGE)
def person_role(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    form = RoleForm(request.POST)
    role = form.cleaned_data["role"] if form.is_valid() else request.POST.get("role", "")

    def change(target: User) -> None:
        services.change_role(user=target, role=role, actor=request.user)

    return _act(request, user_id, change, _("Role changed."))


@require_POST
@permission_required(MANAGE)
def person_deactivate(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    def deactivate(target: User) -> None:
        services.deactivate_user(user=target, actor=request.user)

    return _act(request, user_id, deactivate, _("Deactivated: they can no longer sign in or use API keys."))


@require_POST
@permission_required(MANAGE)
def person_reactivate(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    def reactivate(target: User) -> None:
        services.reactivate_user(user=target, actor=request.user)

    return _act(request, user_id, reactivate, _("Reactivated."))


@require_POST
@permission_required(MANAGE)
def person_reset_password(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    def reset(target: User) -> None:
        raw = services.start_password_reset(user=target, actor=request.user)
        if _email_link(request, target, raw, SignInLinkPurpose.RESET):
            messages.success(
                request, _("A link to choose a new password was sent to %(email)s.") % {"email": target.email}
            )

    return _act(request, user_id, reset, "")


@require_POST
@permission_required(MANAGE)
def person_reset_two_factor(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    def reset(target: User) -> None:
        if reset_two_factor(user=target, actor=request.user):
            messages.success(
                request, _("Two-factor sign-in was removed and their sessions ended: they set it up again.")
            )

    return _act(request, user_id, reset, "")


@require_POST
@permission_required(MANAGE)
def person_resend(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    def resend(target: User) -> None:
        raw = services.resend_invitation(user=target, actor=request.user)
        if _email_link(request, target, raw, SignInLinkPurpose.INVITE):
            messages.success(
                request,
                _("A new invitation was sent to %(email)s; the old link no longer works.")
                % {"email": target.email},
            )

    return _act(request, user_id, resend, "")


@never_cache
@sensitive_post_parameters()
def sign_in_link(request: HttpRequest, token: str) -> HttpResponse:
    """Where an invitation or reset link lands: choose a password, then you are signed in."""
    found = services.link_state(token)
    if not found.usable or found.link is None:
        return render(
            request,
            "users/sign_in_link.html",
            {"problem": services.link_problem(found.state), "state": found.state},
            status=410 if found.state in {"used", "revoked", "expired"} else 404,
        )
    link = found.link
    form = ChoosePasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.use_sign_in_link(raw_token=token, password=form.cleaned_data["password"])
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Your password is set. Welcome to Touchpoint."))
            return redirect("home")
    return render(
        request,
        "users/sign_in_link.html",
        {"form": form, "link": link, "invited": link.purpose == SignInLinkPurpose.INVITE},
        status=400 if request.method == "POST" else 200,
    )
