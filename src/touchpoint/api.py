"""The REST API root: authentication, the one error shape, and every app's router.

Errors always answer `{"detail": "...", "errors": [{"field": "...", "message": "..."}]}`.
"""

from __future__ import annotations

import orjson
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer, django_auth

from touchpoint.users.selectors import api_key_for
from touchpoint.users.services import note_api_key_used


class ApiKeyAuth(HttpBearer):
    """`Authorization: Bearer <key>`: the request acts as the key's user."""

    def authenticate(self, request: HttpRequest, token: str):
        api_key = api_key_for(token)
        if api_key is None:
            return None
        note_api_key_used(api_key=api_key)  # the one write an API read makes (at most once a minute)
        request.user = api_key.user
        return api_key.user


class OrjsonParser(Parser):
    """JSON bodies through orjson: faster, and strict about what is valid JSON."""

    def parse_body(self, request: HttpRequest):
        return orjson.loads(request.body)


api = NinjaAPI(
    parser=OrjsonParser(),
    title="Touchpoint API",
    version="1",
    description="Customer success data: accounts, contacts, timelines and more.",
    auth=[ApiKeyAuth(), django_auth],
    urls_namespace="api",
)


def error_response(
    request: HttpRequest, status: int, detail: str, errors: list[dict] | None = None
) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request, exc):
    return error_response(
        request, 401, _("Authentication required: send an API key as “Authorization: Bearer <key>”.")
    )


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc):
    return error_response(request, 403, str(exc) or _("You do not have permission to do this."))


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return error_response(request, 404, _("Not found."))


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        # Ninja wraps any failure of the body parser in a 400; say what it was in the reader's language.
        return error_response(
            request,
            400,
            _("The request body is not valid JSON."),
            [{"field": "", "message": str(exc.__cause__)}],
        )
    return error_response(request, exc.status_code, str(exc))


def _location_to_field(loc: list) -> str:
    # Ninja reports ["body", <parameter name>, "name", ...] for bodies and ["query", "limit"] for
    # parameters; people want "name" and "limit".
    parts = [str(p) for p in loc]
    if parts[:1] == ["body"]:
        parts = parts[2:]
    elif parts[:1] and parts[0] in ("query", "path", "header", "cookie", "form", "file"):
        parts = parts[1:]
    return ".".join(parts)


@api.exception_handler(NinjaValidationError)
def on_ninja_validation_error(request, exc: NinjaValidationError):
    errors = [
        {"field": _location_to_field(list(err.get("loc", []))), "message": err.get("msg", "")}
        for err in exc.errors
    ]
    return error_response(request, 422, _("Some fields are not valid."), errors)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    errors = []
    status = 422
    if hasattr(exc, "error_dict"):
        for field, field_errors in exc.error_dict.items():
            for error in field_errors:
                if error.code == "unique":
                    status = 409
                errors.append({"field": field, "message": " ".join(error.messages)})
    else:
        errors = [{"field": "", "message": message} for message in exc.messages]
    detail = (
        _("This conflicts with an existing record.") if status == 409 else _("Some fields are not valid.")
    )
    return error_response(request, status, detail, errors)


from touchpoint.accounts.api import router as accounts_router  # noqa: E402
from touchpoint.health.api import router as health_router  # noqa: E402
from touchpoint.revenue.api import router as revenue_router  # noqa: E402
from touchpoint.usage.api import router as usage_router  # noqa: E402

api.add_router("/", accounts_router)
api.add_router("/", usage_router)
api.add_router("/", health_router)
api.add_router("/", revenue_router)
