"""REST API for accounts, contacts and their timelines. Handlers parse, call a service or selector, answer."""

from __future__ import annotations

from typing import Literal, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import create_model

from touchpoint.accounts import selectors, services
from touchpoint.accounts.models import Account, Contact, Segment, TimelineEntry
from touchpoint.accounts.portfolio import portfolio_filters
from touchpoint.accounts.schemas import (
    AccountIn,
    AccountOut,
    AccountPatch,
    ContactIn,
    ContactOut,
    ContactPatch,
    ContactRoleValue,
    EngagementIn,
    ErrorOut,
    NoteIn,
    TimelineEntryOut,
    TimelinePage,
)
from touchpoint.accounts.selectors import PortfolioFilter, TimelineCursor, portfolio_orderings
from touchpoint.accounts.timeline import entry_title, kind_info
from touchpoint.users.models import User

router = Router(tags=["accounts"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
# Built when the API is first imported (after every app's ready() registered its columns and filters).
OrderValue = Literal[tuple(portfolio_orderings())]  # type: ignore[valid-type]
# The filters other apps registered for the portfolio (accounts/portfolio.py), as query parameters.
AccountListFilters = create_model(
    "AccountListFilters",
    __base__=Schema,
    **{f.key: (f.api_type | None, None) for f in portfolio_filters.all()},  # type: ignore[call-overload]
)
MAX_LIMIT = 500

M = TypeVar("M", bound=models.Model)


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied(_("Your role does not allow this."))


def _resolve(model: type[M], pk: int | None, field: str, queryset=None) -> M | None:
    """The row a reference in the body points at; an unknown id is the caller's mistake (422)."""
    if pk is None:
        return None
    found = (queryset if queryset is not None else model.objects).filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: _("No such record: %(id)s.") % {"id": pk}})
    return found


def _ref(obj) -> dict | None:
    return None if obj is None else {"id": obj.pk, "name": str(obj.name)}


def _user_ref(user: User | None) -> dict | None:
    return None if user is None else {"id": user.pk, "email": user.email, "name": user.get_full_name()}


def _account_out(account: Account) -> dict:
    return {
        "id": account.pk,
        "name": account.name,
        "domain": account.domain,
        "external_id": account.external_id,
        "parent": _ref(account.parent),
        "owner": _user_ref(account.owner),
        "segment": _ref(account.segment),
        "engagement_model": account.engagement_model,
        "created_at": account.created_at,
        "updated_at": account.updated_at,
    }


def _contact_out(contact: Contact) -> dict:
    return {
        "id": contact.pk,
        "account": _ref(contact.account),
        "name": contact.name,
        "email": contact.email,
        "title": contact.title,
        "phone": contact.phone,
        "external_id": contact.external_id,
        "roles": contact.role_values,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
    }


def _entry_out(entry: TimelineEntry) -> dict:
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "kind_label": str(kind_info(entry.kind).label),
        "title": entry_title(entry),
        "body": entry.body,
        "occurred_at": entry.occurred_at,
        "actor": _user_ref(entry.actor),
        "data": entry.data,
    }


def _account_relations(payload: dict) -> dict:
    """Turn the ids in an account body into rows, naming the field of any unknown id."""
    relations = {
        "parent": (Account, None),
        "owner": (User, User.objects.filter(is_active=True)),
        "segment": (Segment, None),
    }
    for field, (model, queryset) in relations.items():
        if field in payload:
            payload[field] = _resolve(model, payload[field], field, queryset)
    return payload


def _load_account(account_id: int) -> Account:
    return get_object_or_404(Account.objects.select_related("owner", "segment", "parent"), pk=account_id)


# --- Accounts ---------------------------------------------------------------------------------


@router.get("/accounts", response={200: dict, **ERRORS}, summary="List accounts")
def list_accounts(
    request: HttpRequest,
    search: str = "",
    external_id: str = "",
    owner: int | None = None,
    segment: int | None = None,
    engagement_model: Literal["high", "low", "hybrid"] | None = None,
    parent: int | None = None,
    order: OrderValue = "name",
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    filters: AccountListFilters = Query(...),  # type: ignore[valid-type]
):
    """Accounts matching the filters, as `{"items": [...], "count": N}`.

    Besides the parameters listed here, the filters other apps add to the portfolio are accepted
    under the same names as on the portfolio page (e.g. `phase`, `grade`).
    """
    accounts = selectors.portfolio(
        PortfolioFilter(
            search=search,
            external_id=external_id,
            owner_id=owner,
            segment_id=segment,
            engagement_model=engagement_model or "",
            parent_id=parent,
            order=order,
            extra=_registered_filter_values(filters.model_dump(exclude_none=True)),  # type: ignore[attr-defined]
        )
    )
    return {
        "items": [
            AccountOut.model_validate(_account_out(a)).model_dump(mode="json")
            for a in accounts[offset : offset + limit]
        ],
        "count": accounts.count(),
    }


@router.post("/accounts", response={201: AccountOut, **ERRORS}, summary="Create an account")
def create_account(request: HttpRequest, body: AccountIn):
    """Add a customer company."""
    _require(request, "accounts.add_account")
    account = services.create_account(actor=request.user, **_account_relations(body.model_dump()))
    return Status(201, _account_out(_load_account(account.pk)))


@router.get("/accounts/{account_id}", response={200: AccountOut, **ERRORS}, summary="Get an account")
def get_account(request: HttpRequest, account_id: int):
    """One account."""
    return _account_out(_load_account(account_id))


@router.patch("/accounts/{account_id}", response={200: AccountOut, **ERRORS}, summary="Change an account")
def update_account(request: HttpRequest, account_id: int, body: AccountPatch):
    """Change only the fields sent; `null` clears a reference."""
    _require(request, "accounts.change_account")
    account = _load_account(account_id)
    changes = _account_relations(body.model_dump(exclude_unset=True))
    for field in ("name", "domain", "engagement_model"):
        if field in changes and changes[field] is None:
            raise ValidationError({field: _("This field cannot be null.")})
    services.update_account(account=account, actor=request.user, **changes)
    return _account_out(_load_account(account_id))


@router.delete("/accounts/{account_id}", response={204: None, **ERRORS}, summary="Delete an account")
def delete_account(request: HttpRequest, account_id: int):
    """Remove an account with its contacts and timeline."""
    _require(request, "accounts.delete_account")
    services.delete_account(account=get_object_or_404(Account, pk=account_id), actor=request.user)
    return Status(204, None)


def _registered_filter_values(raw: dict) -> dict:
    """Clean each registered filter's parameter with the same form field the portfolio page uses."""
    values = {}
    for registered in portfolio_filters.all():
        if registered.key not in raw:
            continue
        try:
            values[registered.key] = registered.field().clean(str(raw[registered.key]))
        except ValidationError as error:
            raise ValidationError({registered.key: error.messages}) from None
    return values


# --- Contacts ---------------------------------------------------------------------------------


def _contacts_page(contacts, limit: int, offset: int) -> dict:
    return {
        "items": [
            ContactOut.model_validate(_contact_out(c)).model_dump(mode="json")
            for c in contacts[offset : offset + limit]
        ],
        "count": contacts.count(),
    }


@router.get(
    "/accounts/{account_id}/contacts", response={200: dict, **ERRORS}, summary="List an account's contacts"
)
def list_account_contacts(
    request: HttpRequest,
    account_id: int,
    search: str = "",
    role: ContactRoleValue | None = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
):
    """The people at one account, with their roles."""
    account = get_object_or_404(Account, pk=account_id)
    contacts = selectors.contacts_of(account, search=search, role=role or "").select_related("account")
    return _contacts_page(contacts, limit, offset)


@router.post("/accounts/{account_id}/contacts", response={201: ContactOut, **ERRORS}, summary="Add a contact")
def create_contact(request: HttpRequest, account_id: int, body: ContactIn):
    """Add a person to an account."""
    _require(request, "accounts.add_contact")
    account = get_object_or_404(Account, pk=account_id)
    contact = services.create_contact(account=account, actor=request.user, **body.model_dump())
    return Status(201, _contact_out(selectors.contacts(account_id=account.pk).get(pk=contact.pk)))


@router.get("/contacts", response={200: dict, **ERRORS}, summary="List contacts")
def list_contacts(
    request: HttpRequest,
    search: str = "",
    account: int | None = None,
    role: ContactRoleValue | None = None,
    email: str = "",
    external_id: str = "",
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
):
    """Contacts across all accounts."""
    contacts = selectors.contacts(
        search=search, account_id=account, role=role or "", email=email, external_id=external_id
    )
    return _contacts_page(contacts, limit, offset)


@router.get("/contacts/{contact_id}", response={200: ContactOut, **ERRORS}, summary="Get a contact")
def get_contact(request: HttpRequest, contact_id: int):
    """One contact."""
    return _contact_out(get_object_or_404(selectors.contacts(), pk=contact_id))


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **ERRORS}, summary="Change a contact")
def update_contact(request: HttpRequest, contact_id: int, body: ContactPatch):
    """Change only the fields sent; `roles` replaces the contact's roles."""
    _require(request, "accounts.change_contact")
    contact = get_object_or_404(Contact.objects.select_related("account"), pk=contact_id)
    changes = body.model_dump(exclude_unset=True)
    for field in ("name", "email", "title", "phone", "roles"):
        if field in changes and changes[field] is None:
            raise ValidationError({field: _("This field cannot be null.")})
    services.update_contact(contact=contact, actor=request.user, **changes)
    return _contact_out(selectors.contacts().get(pk=contact_id))


@router.delete("/contacts/{contact_id}", response={204: None, **ERRORS}, summary="Delete a contact")
def delete_contact(request: HttpRequest, contact_id: int):
    """Remove a person from their account."""
    _require(request, "accounts.delete_contact")
    services.delete_contact(contact=get_object_or_404(Contact, pk=contact_id), actor=request.user)
    return Status(204, None)


# --- Timeline ---------------------------------------------------------------------------------


@router.get(
    "/accounts/{account_id}/timeline", response={200: TimelinePage, **ERRORS}, summary="Read the timeline"
)
def account_timeline(
    request: HttpRequest,
    account_id: int,
    after: str = "",
    kind: list[str] = Query(None),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
):
    """Every touch, newest first, in pages: pass the answer's `next` as `after` for older entries."""
    account = get_object_or_404(Account, pk=account_id)
    cursor = None
    if after:
        cursor = TimelineCursor.decode(after)
        if cursor is None:
            raise ValidationError({"after": _("Not a cursor this API gave out.")})
    entries, next_cursor = selectors.timeline_page(account, after=cursor, size=limit, kinds=kind or None)
    return {
        "items": [_entry_out(e) for e in entries],
        "count": selectors.timeline_entries(account, kinds=kind or None).count(),
        "next": next_cursor.encode() if next_cursor else None,
    }


def _log(request: HttpRequest, account_id: int, **fields) -> Status:
    _require(request, "accounts.add_engagement")
    account = get_object_or_404(Account, pk=account_id)
    engagement = services.log_engagement(account=account, actor=request.user, **fields)
    entry = selectors.timeline_entries(account).get(kind=engagement.kind, subject_id=engagement.pk)
    return Status(201, _entry_out(entry))


@router.post("/accounts/{account_id}/notes", response={201: TimelineEntryOut, **ERRORS}, summary="Add a note")
def create_note(request: HttpRequest, account_id: int, body: NoteIn):
    """Write a note on the account; answers with its timeline entry."""
    return _log(request, account_id, kind="note", **body.model_dump())


@router.post(
    "/accounts/{account_id}/engagements",
    response={201: TimelineEntryOut, **ERRORS},
    summary="Log a meeting, call, email or note",
)
def create_engagement(request: HttpRequest, account_id: int, body: EngagementIn):
    """Record a touch with the account; contacts are ids of the account's contacts."""
    fields = body.model_dump()
    contact_ids = fields.pop("contacts")
    contacts = list(Contact.objects.filter(pk__in=contact_ids))
    if len(contacts) != len(set(contact_ids)):
        raise ValidationError({"contacts": _("Some of these contacts do not exist.")})
    return _log(request, account_id, contacts=contacts, **fields)
