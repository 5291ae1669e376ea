"""Types the views share: what a request carries once the middleware and login_required have run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from touchpoint.users.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A request to a view behind login_required: `user` is a signed-in User, never AnonymousUser.

    `htmx` is set on every request by django-htmx's HtmxMiddleware. Annotate a view's `request`
    with this class only when the view cannot be reached without signing in.
    """

    user: User
    htmx: HtmxDetails
