"""REST API for accounts, contacts and their timelines. Handlers parse, call a service or selector, answer."""

from __future__ import annotations

from typing import Literal, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import create_model

from touchpoint.accounts import selectors, services
from touchpoint.accounts.models import Account, AccountTeamMember, Contact, Segment, TimelineEntry
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
    NoteIn,
    TeamMemberIn,
    TeamMemberOut,
    TeamPage,
    TimelineEntryOut,
    TimelinePage,
)
from touchpoint.accounts.selectors import PortfolioFilter, TimelineCursor, portfolio_orderings
from touchpoint.accounts.timeline import entry_title, kind_info
from touchpoint.api_contract import (
    BIGINT_MAX,
    FIRST_DAY,
    LAST_DAY,
    READ,
    WRITE,
    Id,
    Page,
    Paging,
    Text,
    answers,
    caller,
    page_of,
    require_perm,
)
from touchpoint.users.models import User

router = Router(tags=["accounts"])

# Built when the API is first imported (after every app's ready() registered its columns and filters).
OrderValue = Literal[tuple(portfolio_orderings())]  # type: ignore[valid-type]
# The filters other apps registered for the portfolio (accounts/portfolio.py), as query parameters.
AccountListFilters = create_model(
    "AccountListFilters",
    __base__=Schema,
    **{f.key: (f.api_type | None, None) for f in portfolio_filters.all()},  # type: ignore[call-overload]
)

M = TypeVar("M", bound=models.Model)


def _resolve(model: type[M], pk: int | None, field: str, queryset=None) -> M | None:
    """The row a reference in the body points at; an unknown id is the caller's mistake (422)."""
    if pk is None:
        return None
    found = (queryset if queryset is not None else model._default_manager).filter(pk=pk).first()
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
        "customer_since": services.customer_since_of(account),
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
        "language": contact.language,
        "time_zone": contact.time_zone,
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


@router.get("/accounts", response=answers({200: Page[AccountOut]}, *READ), summary="List accounts")
def list_accounts(
    request: HttpRequest,
    paging: Query[Paging],
    search: Text = "",
    external_id: Text = "",
    owner: Id | None = None,
    segment: Id | None = None,
    engagement_model: Literal["high", "low", "hybrid"] | None = None,
    parent: Id | None = None,
    book: Literal["mine"] | None = None,
    order: OrderValue = "name",  # type: ignore[valid-type]
    filters: AccountListFilters = Query(...),  # type: ignore[valid-type]
):
    """Accounts matching the filters, as `{"items": [...], "count": N}`.

    `book=mine` keeps the caller's book of business: the accounts they own or are on the team of.

    Besides the parameters listed here, the filters other apps add to the portfolio are accepted
    under the same names as on the portfolio page (e.g. `phase`, `grade`).
    """
    require_perm(request, "accounts.view_account")
    accounts = selectors.portfolio(
        PortfolioFilter(
            search=search,
            external_id=external_id,
            owner_id=owner,
            segment_id=segment,
            engagement_model=engagement_model or "",
            parent_id=parent,
            mine_only=book == "mine",
            order=order,
            extra=_registered_filter_values(filters.model_dump(exclude_none=True)),  # type: ignore[attr-defined]
        ),
        reader=request.user,
    )
    return page_of(accounts, paging, _account_out)


@router.post("/accounts", response=answers({201: AccountOut}, *WRITE, 409), summary="Create an account")
def create_account(request: HttpRequest, body: AccountIn):
    """Add a customer company."""
    require_perm(request, "accounts.add_account")
    account = services.create_account(actor=caller(request), **_account_relations(body.model_dump()))
    return Status(201, _account_out(_load_account(account.pk)))


@router.get(
    "/accounts/{account_id}", response=answers({200: AccountOut}, *READ, 404), summary="Get an account"
)
def get_account(request: HttpRequest, account_id: Id):
    """One account."""
    account = _load_account(account_id)
    require_perm(request, "accounts.view_account", account)
    return _account_out(account)


@router.patch(
    "/accounts/{account_id}",
    response=answers({200: AccountOut}, *WRITE, 404, 409),
    summary="Change an account",
)
def update_account(request: HttpRequest, account_id: Id, body: AccountPatch):
    """Change only the fields sent; `null` clears a reference."""
    account = _load_account(account_id)
    require_perm(request, "accounts.change_account", account)
    changes = _account_relations(body.model_dump(exclude_unset=True))
    for field in ("name", "domain", "engagement_model", "customer_since"):
        if field in changes and changes[field] is None:
            raise ValidationError({field: _("This field cannot be null.")})
    services.update_account(account=account, actor=caller(request), **changes)
    return _account_out(_load_account(account_id))


@router.delete(
    "/accounts/{account_id}", response=answers({204: None}, *READ, 404), summary="Delete an account"
)
def delete_account(request: HttpRequest, account_id: Id):
    """Remove an account with its contacts and timeline."""
    account = get_object_or_404(Account, pk=account_id)
    require_perm(request, "accounts.delete_account", account)
    services.delete_account(account=account, actor=caller(request))
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


@router.get(
    "/accounts/{account_id}/contacts",
    response=answers({200: Page[ContactOut]}, *READ, 404),
    summary="List an account's contacts",
)
def list_account_contacts(
    request: HttpRequest,
    account_id: Id,
    paging: Query[Paging],
    search: Text = "",
    role: ContactRoleValue | None = None,
):
    """The people at one account, with their roles."""
    account = get_object_or_404(Account, pk=account_id)
    require_perm(request, "accounts.view_contact", account)
    contacts = selectors.contacts_of(account, search=search, role=role or "").select_related("account")
    return page_of(contacts, paging, _contact_out)


@router.post(
    "/accounts/{account_id}/contacts",
    response=answers({201: ContactOut}, *WRITE, 404, 409),
    summary="Add a contact",
)
def create_contact(request: HttpRequest, account_id: Id, body: ContactIn):
    """Add a person to an account."""
    account = get_object_or_404(Account, pk=account_id)
    require_perm(request, "accounts.add_contact", account)
    contact = services.create_contact(account=account, actor=caller(request), **body.model_dump())
    return Status(
        201, _contact_out(selectors.contacts(reader=request.user, account_id=account.pk).get(pk=contact.pk))
    )


@router.get("/contacts", response=answers({200: Page[ContactOut]}, *READ), summary="List contacts")
def list_contacts(
    request: HttpRequest,
    paging: Query[Paging],
    search: Text = "",
    account: Id | None = None,
    role: ContactRoleValue | None = None,
    email: Text = "",
    external_id: Text = "",
):
    """Contacts across all accounts."""
    require_perm(request, "accounts.view_contact")
    contacts = selectors.contacts(
        reader=request.user,
        search=search,
        account_id=account,
        role=role or "",
        email=email,
        external_id=external_id,
    )
    return page_of(contacts, paging, _contact_out)


@router.get(
    "/contacts/{contact_id}", response=answers({200: ContactOut}, *READ, 404), summary="Get a contact"
)
def get_contact(request: HttpRequest, contact_id: Id):
    """One contact."""
    contact = get_object_or_404(
        Contact.objects.select_related("account").prefetch_related("roles"), pk=contact_id
    )
    require_perm(request, "accounts.view_contact", contact)
    return _contact_out(contact)


@router.patch(
    "/contacts/{contact_id}",
    response=answers({200: ContactOut}, *WRITE, 404, 409),
    summary="Change a contact",
)
def update_contact(request: HttpRequest, contact_id: Id, body: ContactPatch):
    """Change only the fields sent; `roles` replaces the contact's roles."""
    contact = get_object_or_404(Contact.objects.select_related("account"), pk=contact_id)
    require_perm(request, "accounts.change_contact", contact)
    changes = body.model_dump(exclude_unset=True)
    for field in ("name", "email", "title", "phone", "roles", "language", "time_zone"):
        if field in changes and changes[field] is None:
            raise ValidationError({field: _("This field cannot be null.")})
    services.update_contact(contact=contact, actor=caller(request), **changes)
    return _contact_out(selectors.contacts(reader=request.user).get(pk=contact_id))


@router.delete(
    "/contacts/{contact_id}", response=answers({204: None}, *READ, 404), summary="Delete a contact"
)
def delete_contact(request: HttpRequest, contact_id: Id):
    """Remove a person from their account."""
    contact = get_object_or_404(Contact, pk=contact_id)
    require_perm(request, "accounts.delete_contact", contact)
    services.delete_contact(contact=contact, actor=caller(request))
    return Status(204, None)


# --- Timeline ---------------------------------------------------------------------------------


@router.get(
    "/accounts/{account_id}/timeline",
    response=answers({200: TimelinePage}, *READ, 404),
    summary="Read the timeline",
)
def account_timeline(
    request: HttpRequest,
    account_id: Id,
    after: Text = "",
    kind: list[Text] = Query(None),
    limit: int = Query(50, ge=1, le=settings.API_MAX_PAGE_SIZE),
):
    """Every touch, newest first, in pages: pass the answer's `next` as `after` for older entries."""
    account = get_object_or_404(Account, pk=account_id)
    require_perm(request, "accounts.view_timelineentry", account)
    cursor = None
    if after:
        cursor = TimelineCursor.decode(after)
        if cursor is not None and not (
            0 < cursor.entry_id <= BIGINT_MAX
            and cursor.occurred_at.tzinfo is not None
            and FIRST_DAY <= cursor.occurred_at.date() <= LAST_DAY
        ):
            cursor = None  # the shape of a cursor, but not one this API gave out
        if cursor is None:
            raise ValidationError({"after": _("Not a cursor this API gave out.")})
    entries, next_cursor = selectors.timeline_page(account, after=cursor, size=limit, kinds=kind or None)
    return {
        "items": [_entry_out(e) for e in entries],
        "count": selectors.timeline_entries(account, kinds=kind or None).count(),
        "next": next_cursor.encode() if next_cursor else None,
    }


def _log(request: HttpRequest, account_id: int, **fields) -> Status:
    account = get_object_or_404(Account, pk=account_id)
    require_perm(request, "accounts.add_engagement", account)
    engagement = services.log_engagement(account=account, actor=caller(request), **fields)
    entry = selectors.timeline_entries(account).get(kind=engagement.kind, subject_id=engagement.pk)
    return Status(201, _entry_out(entry))


@router.post(
    "/accounts/{account_id}/notes",
    response=answers({201: TimelineEntryOut}, *WRITE, 404),
    summary="Add a note",
)
def create_note(request: HttpRequest, account_id: Id, body: NoteIn):
    """Write a note on the account; answers with its timeline entry."""
    return _log(request, account_id, kind="note", **body.model_dump())


@router.post(
    "/accounts/{account_id}/engagements",
    response=answers({201: TimelineEntryOut}, *WRITE, 404),
    summary="Log a meeting, call, email or note",
)
def create_engagement(request: HttpRequest, account_id: Id, body: EngagementIn):
    """Record a touch with the account; contacts are ids of the account's contacts."""
    fields = body.model_dump()
    contact_ids = fields.pop("contacts")
    contacts = list(Contact.objects.filter(pk__in=contact_ids))
    if len(contacts) != len(set(contact_ids)):
        raise ValidationError({"contacts": _("Some of these contacts do not exist.")})
    return _log(request, account_id, contacts=contacts, **fields)


# --- The account team -------------------------------------------------------------------------


def _member_out(member: AccountTeamMember) -> dict:
    return {"user": _user_ref(member.user), "role": member.role, "added_at": member.added_at}


@router.get(
    "/accounts/{account_id}/team",
    response=answers({200: TeamPage}, *READ, 404),
    summary="List an account's team",
)
def list_account_team(request: HttpRequest, account_id: Id):
    """The account's owner and the people on its team (more CSMs, an executive sponsor…)."""
    account = _load_account(account_id)
    require_perm(request, "accounts.view_accountteammember", account)
    members = list(selectors.account_team(account))
    return {
        "owner": _user_ref(account.owner),
        "items": [_member_out(m) for m in members],
        "count": len(members),
    }


@router.post(
    "/accounts/{account_id}/team",
    response=answers({201: TeamMemberOut}, *WRITE, 404, 409),
    summary="Add a team member",
)
def add_account_team_member(request: HttpRequest, account_id: Id, body: TeamMemberIn):
    """Put someone on the account's team; the account joins their book. Leaders, admins and the owner."""
    account = _load_account(account_id)
    require_perm(request, "accounts.add_accountteammember", account)
    user = _resolve(User, body.user, "user", User.objects.filter(is_active=True))
    assert user is not None  # body.user is required, so _resolve found it or raised
    member = services.add_team_member(account=account, user=user, role=body.role, actor=caller(request))
    return Status(201, _member_out(member))


@router.delete(
    "/accounts/{account_id}/team/{user_id}",
    response=answers({204: None}, *READ, 404),
    summary="Remove a team member",
)
def remove_account_team_member(request: HttpRequest, account_id: Id, user_id: Id):
    """Take someone off the account's team. Leaders, admins and the owner."""
    account = _load_account(account_id)
    require_perm(request, "accounts.delete_accountteammember", account)
    member = get_object_or_404(
        AccountTeamMember.objects.select_related("user"), account=account, user_id=user_id
    )
    services.remove_team_member(account=account, user=member.user, actor=caller(request))
    return Status(204, None)
