"""The one permission check: `user.has_perm(perm, obj)`, answered by django-rules.

Each app declares its permissions in its own `rules.py` (loaded from its `AppConfig.ready()`),
built from the role predicates below and its own object predicates, e.g.

    rules.add_perm("revenue.change_subscription", is_admin | is_leader | (is_csm & in_book))

Pages, htmx partials, the API, CSV exports and imports all ask through `require` (raises
PermissionDenied, a 403), `can` (a bool), the `permission_required` view decorator (or
`PermissionRequiredMixin` for a class-based view), or the `{% can %}` template tag
(`touchpoint.users.templatetags.permissions`). A check without an object asks whether the role may
do this at all (navigation, buttons); a check with an object asks about that row (an account, or
anything hanging off one).

The role groups keep Django model permissions in step with what the apps declare
(`users.services.sync_role_groups`), for the Django admin and Django's `perms` in templates.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

import rules
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from touchpoint.users.roles import Role

View = TypeVar("View", bound=Callable[..., HttpResponse])


def _has_role(role: Role) -> rules.Predicate:
    @rules.predicate(name=f"is_{role.value}")
    def check(user: Any) -> bool:
        return bool(getattr(user, "is_active", False)) and getattr(user, "role", None) == role

    return check


is_admin = _has_role(Role.ADMIN)
is_leader = _has_role(Role.CS_LEADER)
is_csm = _has_role(Role.CSM)
is_viewer = _has_role(Role.VIEWER)
has_any_role = is_admin | is_leader | is_csm | is_viewer


@rules.predicate
def csms_read_all_books() -> bool:
    """The admin setting `SiteSettings.csms_read_all_books`: may CSMs read accounts outside their book?"""
    from touchpoint.users.models import SiteSettings

    return SiteSettings.current().csms_read_all_books


def can(user: Any, perm: str, obj: Any = None) -> bool:
    """Whether the user may do `perm` (on `obj`, when given)."""
    return bool(user is not None and user.is_authenticated and user.has_perm(perm, obj))


def require(user: Any, perm: str, obj: Any = None) -> None:
    """Raise PermissionDenied (a 403 on pages and in the API) unless the user may do `perm` (on `obj`)."""
    if not can(user, perm, obj):
        raise PermissionDenied(_("Your role does not allow this."))


def permission_required(perm: str) -> Callable[[View], View]:
    """A view decorator: sign-in first (a redirect to the login page), then `require(user, perm)`.

    For checks on an object, the view loads the object and calls `require(request.user, perm, obj)`.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            require(request.user, perm)
            return view(request, *args, **kwargs)

        return cast(View, login_required(wrapped))

    return decorator


class PermissionRequiredMixin(LoginRequiredMixin):
    """For class-based views: sign-in first, then `require(user, permission, get_permission_object())`."""

    permission: str = ""

    def get_permission_object(self) -> Any:
        """The row the permission is about; None asks about the role (override for object checks)."""
        return None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        require(request.user, self.permission, self.get_permission_object())
        return super().dispatch(request, *args, **kwargs)
