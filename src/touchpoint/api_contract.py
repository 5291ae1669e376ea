"""The API's contract, in one place: who may call, what an error looks like, how lists page, what fits.

Every router (`touchpoint/*/api.py`) builds on this module:

- `authentication()`: an API key (`Authorization: Bearer tp_…`) or the browser session. A request that
  sends an `Authorization` header is judged by that header alone, so a wrong or revoked key is a 401,
  never a CSRF failure; a browser session still needs its CSRF token for writes.
- `ErrorOut` and `install_error_handlers(api)`: every error leaves as
  `{"detail": "...", "errors": [{"field": "...", "message": "..."}]}` (400 malformed JSON, 401 no or
  bad key, 403 role, 404 unknown id, 409 duplicate, 413 a body over DATA_UPLOAD_MAX_MEMORY_SIZE, 422 a
  field out of bounds or pointing nowhere).
- `answers(...)`: the responses an operation declares, so the OpenAPI names every status it answers.
- `require_perm(request, perm, obj=None)`: the one permission check of API handlers (403);
  `caller(request)`: the user a request acts as, for services' `actor=`.
- `Page[T]`, `Paging` and `page_of(...)`: every list is `{"items", "count"}` with bounded
  `limit`/`offset`.
- `Strict`, `Id`, `Count`, `Text`, `Email`, `Day`, `Moment`: bodies and input types bounded by what the databases can store, so a
  number past 2^63 (or 2^31 for PostgreSQL `integer` columns), a NUL character or a date that cannot
  be worked with is a 422 naming the field, not a 500.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from functools import cache
from typing import Annotated, Any, Generic, TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.db import DataError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator

from touchpoint.bounds import FIRST_DAY, LAST_DAY
from touchpoint.confirmation import NeedsConfirmation
from touchpoint.users.models import User
from touchpoint.users.permissions import require
from touchpoint.users.selectors import api_key_for
from touchpoint.users.services import note_api_key_used

logger = logging.getLogger(__name__)

# --- What the databases can hold ----------------------------------------------------------------

BIGINT_MAX = 2**63 - 1  # ids (BigAutoField) and offsets: SQLite and PostgreSQL both stop here
INTEGER_MAX = 2**31 - 1  # PostgreSQL `integer` columns (PositiveIntegerField)
# Dates the services can compute with (touchpoint.bounds): FIRST_DAY, LAST_DAY, imported above.


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store or even compare NUL in text (SQLite can): refuse it the same way on both.
    if "\x00" in value:
        raise ValueError(_("Null characters are not allowed."))
    return value


_ISO_START = re.compile(r"\d{4}-")


def _text_only(value: Any) -> Any:
    # Pydantic would take a number (or, in a query string, digits) as seconds since 1970; the schema
    # (and people) mean ISO-8601 text, which starts with a four-digit year and a dash.
    if isinstance(value, (int, float)) or (isinstance(value, str) and not _ISO_START.match(value)):
        raise ValueError(_("Give the date as ISO-8601 text, e.g. 2026-03-01."))
    return value


def _day_in_range(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(
            _("Give a date between %(first)s and %(last)s.") % {"first": FIRST_DAY, "last": LAST_DAY}
        )
    return value


def _moment_in_range(value: datetime) -> datetime:
    # The range is far enough inside years 1 and 9999 that moving the time to another zone never overflows.
    _day_in_range(value.date())
    return value


Id = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
"""A row's id (in a path, a filter, a body or a list)."""
Count = Annotated[int, Field(ge=0, le=INTEGER_MAX)]
"""A whole number stored in an `integer` column (seats, minutes)."""
Text = Annotated[str, AfterValidator(_no_nul)]
"""Free text in a filter (length is bounded by the body schemas where it is stored)."""
Email = Annotated[
    str,
    Field(max_length=254),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "email", "maxLength": 254},
                {"type": "string", "maxLength": 0},
            ]
        }
    ),
]
"""An email address, or empty text for none (the services check it as Django's EmailValidator does)."""
# FIRST_DAY to LAST_DAY as the OpenAPI can say it: JSON Schema has no bounds for dates, only patterns.
_DAY_PATTERN = r"^(19\d\d|2\d\d\d)-"
Day = Annotated[
    date,
    Field(strict=False),
    BeforeValidator(_text_only),
    AfterValidator(_day_in_range),
    WithJsonSchema({"type": "string", "format": "date", "pattern": _DAY_PATTERN}),
]
"""A date between FIRST_DAY and LAST_DAY, as ISO-8601 text."""
Moment = Annotated[
    datetime,
    Field(strict=False),
    BeforeValidator(_text_only),
    AfterValidator(_moment_in_range),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": _DAY_PATTERN}),
]
"""A date and time whose day is between FIRST_DAY and LAST_DAY, as ISO-8601 text."""


class Strict(Schema):
    """A request body: an unknown field is a mistake worth telling the caller about, not dropped.

    Types are strict, as the OpenAPI says: "5" is not an integer and 1 is not a boolean. Fields whose
    JSON form is text (dates, amounts) opt out with `Field(strict=False)`.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def no_nul_characters(cls, value: Any) -> Any:
        if isinstance(value, str):
            _no_nul(value)
        return value


# --- The error shape ----------------------------------------------------------------------------


class ErrorItem(Schema):
    field: str
    message: str
    code: str = Field(
        "",
        description="Only on a 409 that asks for confirmation: the warning's code, to send back in `confirm`.",
    )


class ErrorOut(Schema):
    detail: str
    errors: list[ErrorItem] = []


def answers(ok: dict[int, Any], *errors: int) -> dict[int, Any]:
    """An operation's `response=`: its success schemas and the error statuses it can answer.

    414 is always declared, without a body schema: the HTTP server (gunicorn) refuses a request line
    over 4 KB with a plain page of its own before the app sees it.
    """
    return {**ok, **dict.fromkeys(sorted(errors), ErrorOut), 414: None}


# Statuses nearly every operation can answer: no or bad key, a role or book that does not allow it,
# a parameter out of bounds.
READ = (401, 403, 422)
WRITE = (400, 401, 403, 413, 422)


# --- Permissions --------------------------------------------------------------------------------


def require_perm(request: HttpRequest, perm: str, obj: Model | None = None) -> None:
    """Raise PermissionDenied (answered 403) unless the caller may do `perm` (to `obj`, when given).

    Every API handler calls this, reads included, so the rule behind it can change in one place;
    `obj` is the row the action touches, for checks that depend on it (books of business). A call with
    an API key may do what both its user and its scopes allow: what only admins may do needs "admin".
    """
    api_key = getattr(request, "api_key", None)
    if api_key is not None and "admin" not in api_key.scopes and perm in _admin_only_perms():
        raise PermissionDenied(_missing_scope("admin"))
    require(request.user, perm, obj)


@cache
def _admin_only_perms() -> frozenset[str]:
    """Permissions the apps grant admins and no other role."""
    from touchpoint.users.roles import Role
    from touchpoint.users.services import role_grants

    others: set[str] = set()
    for role in Role:
        if role != Role.ADMIN:
            others |= role_grants(role)
    return frozenset(role_grants(Role.ADMIN) - others)


def _missing_scope(scope: str) -> str:
    return _("This API key does not have the “%(scope)s” scope this request needs.") % {"scope": scope}


# Endpoints that record what another tool saw: an API key with the "ingest" scope may POST to these
# (and nothing else) without "write".
API_INGEST_OPERATIONS = (
    re.compile(r"^/api/v1/accounts/\d+/engagements$"),
    re.compile(r"^/api/v1/readiness/uptime$"),
    re.compile(r"^/api/v1/support/tickets$"),
    re.compile(r"^/api/v1/surveys/[^/]+/answers$"),
)


def missing_scope(request: HttpRequest, scopes: Sequence[str]) -> str | None:
    """The scope a key with `scopes` lacks for this request's method and path, or None when it may."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None if "read" in scopes else "read"
    if "write" in scopes:
        return None
    if (
        "ingest" in scopes
        and request.method == "POST"
        and any(pattern.match(request.path_info) for pattern in API_INGEST_OPERATIONS)
    ):
        return None
    return "write"


def caller(request: HttpRequest) -> User:
    """Who the request acts as: authentication has run, so never an anonymous user."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied(_("You do not have permission to do this."))
    return user


# --- Paging ---------------------------------------------------------------------------------------

T = TypeVar("T")
M = TypeVar("M")


class Page(Schema, Generic[T]):
    items: list[T]
    count: int


class Paging(Schema):
    limit: int = Field(50, ge=1, le=settings.API_MAX_PAGE_SIZE, description="Items per page.")
    offset: int = Field(0, ge=0, le=BIGINT_MAX, description="Items to skip.")


def page_of(found: QuerySet[Any] | Sequence[M], paging: Paging, out: Callable[[Any], Any]) -> dict:
    """One page of `found` as `{"items": [out(row) ...], "count": all rows}`."""
    rows: Iterable[Any] = found[paging.offset : paging.offset + paging.limit]
    count = found.count() if isinstance(found, QuerySet) else len(found)
    return {"items": [out(row) for row in rows], "count": count}


# --- Authentication -----------------------------------------------------------------------------


class ApiKeyAuth(HttpBearer):
    """`Authorization: Bearer <key>`: the request acts as the key's user."""

    def authenticate(self, request: HttpRequest, token: str):
        # Looked up on every request, never cached: a revoked key stops at once.
        api_key = api_key_for(token, include_expired=True)
        if api_key is None:
            return None
        if api_key.is_expired:
            raise HttpError(
                401,
                _("This API key expired at %(moment)s: create a new one.")
                % {"moment": api_key.expires_at.isoformat() if api_key.expires_at else ""},
            )
        scope = missing_scope(request, api_key.scopes)
        if scope is not None:
            raise PermissionDenied(_missing_scope(scope))
        note_api_key_used(api_key=api_key)  # the one write an API read makes (at most once a minute)
        request.user = api_key.user
        request.api_key = api_key  # type: ignore[attr-defined]
        return api_key.user


class BrowserSessionAuth(SessionAuth):
    """The signed-in browser: writes need the CSRF token, as every form does.

    Skipped (so the answer is 401) when the request sends an Authorization header, which then decides
    alone, or has no signed-in session: a script with a wrong key must hear that its key is wrong.
    """

    def __call__(self, request: HttpRequest):
        if "authorization" in request.headers or not request.user.is_authenticated:
            return None
        return super().__call__(request)


def authentication() -> list:
    return [ApiKeyAuth(), BrowserSessionAuth()]


# --- Error handlers -----------------------------------------------------------------------------


def _location_to_field(loc: list) -> str:
    # Ninja reports ["body", <parameter name>, "name", ...] for bodies and ["query", "limit"] for
    # parameters; people want "name" and "limit".
    parts = [str(p) for p in loc]
    if parts[:1] == ["body"]:
        parts = parts[2:]
    elif parts[:1] and parts[0] in ("query", "path", "header", "cookie", "form", "file"):
        parts = parts[1:]
    return ".".join(parts)


def install_error_handlers(api: NinjaAPI) -> None:
    """Make every error `api` answers take the one shape."""

    def respond(request: HttpRequest, status: int, detail: str, errors: list[dict] | None = None):
        return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)

    def on_authentication_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(
            request,
            401,
            _("Authentication required: send an API key as “Authorization: Bearer <key>”."),
        )

    def on_permission_denied(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 403, str(exc) or _("You do not have permission to do this."))

    def on_not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 404, _("Not found."))

    def on_http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
            # Ninja wraps any failure of the body parser in a 400; say what it was in the reader's language.
            return respond(
                request,
                400,
                _("The request body is not valid JSON."),
                [{"field": "", "message": str(exc.__cause__)}],
            )
        return respond(request, exc.status_code, str(exc))

    def on_ninja_validation_error(request: HttpRequest, exc: Any) -> HttpResponse:
        errors = [
            {"field": _location_to_field(list(err.get("loc", []))), "message": str(err.get("msg", ""))}
            for err in exc.errors
        ]
        return respond(request, 422, _("Some fields are not valid."), errors)

    def on_validation_error(request: HttpRequest, exc: Any) -> HttpResponse:
        if isinstance(exc, NeedsConfirmation):
            # Valid but unusual values: nothing was written; the same request with `confirm` saves it.
            warnings = [
                {"field": field, "message": " ".join(error.messages), "code": error.code or ""}
                for field, field_errors in exc.error_dict.items()
                for error in field_errors
            ]
            return respond(
                request,
                409,
                _("Please confirm: send the request again with “confirm”: true or the list of these codes."),
                warnings,
            )
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
        return respond(request, status, detail, errors)

    def on_too_large(request: HttpRequest, exc: Any) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        return respond(request, 413, _("The body is larger than %(kb)d KB.") % {"kb": limit // 1024})

    def on_out_of_range(request: HttpRequest, exc: Any) -> HttpResponse:
        # The schemas bound every number, text and date; reaching here means one was missed. Log it to
        # be fixed, and answer the caller's mistake as one rather than as a server error.
        logger.error("A value out of the database's range reached it: %s", exc, exc_info=exc)
        return respond(
            request,
            422,
            _("Some fields are not valid."),
            [{"field": "", "message": _("A value is out of the range that can be stored.")}],
        )

    api.add_exception_handler(AuthenticationError, on_authentication_error)
    api.add_exception_handler(PermissionDenied, on_permission_denied)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(NinjaValidationError, on_ninja_validation_error)
    api.add_exception_handler(ValidationError, on_validation_error)
    api.add_exception_handler(RequestDataTooBig, on_too_large)
    api.add_exception_handler(OverflowError, on_out_of_range)
    api.add_exception_handler(DataError, on_out_of_range)
