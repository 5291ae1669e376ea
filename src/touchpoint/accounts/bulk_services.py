"""Many account writes at once, for an import's write pass: the rows, their timeline entries, audit
entries and domain events in one statement per table, instead of several per account.

Each function here does what the one-at-a-time service in accounts/services.py does for every row
(the same checks, the same timeline entry, audit entry and events, with the same contents); those stay
the reference for single writes from pages and the API, and tests/integrations/test_bulk_import.py
imports the same files both ways and compares everything written. What differs: one moment for every
row of a call (`created_at`, the timeline's `occurred_at`), and the order of ids across tables (all
the rows first, then all their timeline entries, ...). Call them inside a transaction (the import's).

A row that fails its checks is not written; its error takes its place in the list returned, so the
caller can name the row (an import collects every problem, then writes nothing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.accounts import services
from touchpoint.accounts.models import (
    Account,
    Contact,
    ContactRoleAssignment,
    EngagementModel,
    Segment,
    TimelineEntry,
)
from touchpoint.bulk import any_of, insert_rows
from touchpoint.events.models import DomainEvent
from touchpoint.events.registry import is_registered
from touchpoint.users.models import AuditLogEntry, User


def actor_id_of(actor: User | None) -> int | None:
    return actor.pk if actor is not None and actor.pk else None


# What an entry is about: a row, or (its model, its id) when the row was written without an instance.
Subject = models.Model | tuple[type[models.Model], int]


def _model_of(subject: Subject) -> type[models.Model]:
    return subject[0] if isinstance(subject, tuple) else type(subject)


def _pk_of(subject: Subject) -> int:
    return subject[1] if isinstance(subject, tuple) else subject.pk


def _type_of(model: type[models.Model]) -> str:
    """events.services.subject_type_of, from the model."""
    return f"{model._meta.app_label}.{model._meta.model_name}"


@dataclass
class Effects:
    """What a batch of writes records around its rows, gathered and then written one INSERT per table.

    Each `add_*` builds the row its one-at-a-time counterpart would create (record_on_timeline,
    users.services.record_audit, events.services.record_event)."""

    at: datetime
    actor: User | None = None

    def __post_init__(self) -> None:
        self.timeline: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.content_types: dict[type[models.Model], int] = {}  # the manager's cache costs a router call

    def add_timeline(
        self,
        *,
        account_id: int,
        kind: str,
        title: str,
        subject: Subject,
        occurred_at: datetime | None = None,
        body: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        self.timeline.append(
            {
                "account_id": account_id,
                "kind": kind,
                "title": title[:255],
                "body": body,
                "occurred_at": occurred_at or self.at,
                "actor_id": actor_id_of(self.actor),
                "subject_type_id": self._content_type_id(_model_of(subject)),
                "subject_id": _pk_of(subject),
                "data": data or {},
                "created_at": self.at,
            }
        )

    def _content_type_id(self, model: type[models.Model]) -> int:
        if model not in self.content_types:
            self.content_types[model] = ContentType.objects.get_for_model(model).pk
        return self.content_types[model]

    def add_audit(
        self,
        *,
        action: str,
        instance: models.Model,
        changes: dict[str, Any] | None = None,
        actor: User | None | Any = ...,
    ) -> None:
        self.audit.append(
            {
                "actor_id": actor_id_of(self.actor if actor is ... else actor),
                "action": action,
                "object_type": instance._meta.label_lower,
                "object_id": str(instance.pk),
                "object_repr": str(instance)[:255],
                "changes": changes or {},
                "created_at": self.at,
            }
        )

    def add_event(
        self,
        *,
        kind: str,
        account_id: int | None,
        subject: Subject | None,
        payload: dict[str, Any],
        occurred_at: datetime | None = None,
        actor: User | None | Any = ...,
    ) -> None:
        if not is_registered(kind):
            raise ValueError(f"unknown domain event kind {kind!r}: register it in touchpoint.events.registry")
        self.events.append(
            {
                "kind": kind,
                "account_id": account_id,
                "subject_type": _type_of(_model_of(subject)) if subject is not None else "",
                "subject_id": _pk_of(subject) if subject is not None else None,
                "payload": payload,
                "actor_id": actor_id_of(self.actor if actor is ... else actor),
                "occurred_at": occurred_at or self.at,
                "created_at": self.at,
            }
        )

    def write(self) -> None:
        """One INSERT per table (a few, past the database's parameter limit), then empty again."""
        insert_rows(TimelineEntry, self.timeline)
        insert_rows(AuditLogEntry, self.audit)
        insert_rows(DomainEvent, self.events)
        self.timeline, self.audit, self.events = [], [], []


# --- Creating accounts ------------------------------------------------------------------------


@dataclass
class NewAccount:
    """One account to create: create_account's arguments, with related rows by id."""

    name: str
    external_id: str | None = None
    domain: str = ""
    owner_id: int | None = None
    segment_id: int | None = None
    parent_id: int | None = None
    engagement_model: str = EngagementModel.HYBRID
    customer_since: date | None = None


Outcome = Account | ValidationError | PermissionDenied


def create_accounts(*, accounts: Sequence[NewAccount], actor: User | None) -> list[Outcome]:
    """create_account for each: the accounts (one INSERT), an "Account created" timeline entry, an
    `account.create` audit entry and an `account.created` event each. Returns, in order, each account
    or the error that kept it out (PermissionDenied for an owner the actor may not give, else a
    ValidationError naming the field)."""
    at = timezone.now()
    outcomes: list[Outcome] = []
    may_assign: bool | None = None
    wanted_ids = [n.external_id.strip() for n in accounts if n.external_id and n.external_id.strip()]
    taken: set[str] = {
        found
        for found in Account.objects.filter(any_of("external_id", wanted_ids)).values_list(
            "external_id", flat=True
        )
        if found
    }
    made: list[Account] = []
    for new in accounts:
        try:
            if new.owner_id is not None and actor is not None and new.owner_id != actor.pk:
                if may_assign is None:  # the same answer for every new account (no object to check)
                    try:
                        services._check_may_assign_owner(actor, None)
                        may_assign = True
                    except PermissionDenied:
                        may_assign = False
                if not may_assign:
                    services._check_may_assign_owner(actor, None)  # raises, with its message
            since = (
                {"created_at": services._customer_since_moment(new.customer_since)}
                if new.customer_since is not None
                else {}
            )
            name = services._clean_name(new.name)
            domain = services.clean_domain(new.domain)
            external_id = _clean_new_external_id(new.external_id, taken)
            engagement_model = services._check_engagement_model(new.engagement_model)
        except (ValidationError, PermissionDenied) as error:
            outcomes.append(error)
            continue
        if external_id is not None:
            taken.add(external_id)
        account = Account(
            name=name,
            domain=domain,
            external_id=external_id,
            parent_id=new.parent_id,
            owner_id=new.owner_id,
            segment_id=new.segment_id,
            engagement_model=engagement_model,
            **({"created_at": at} | since),
        )
        account.updated_at = at
        made.append(account)
        outcomes.append(account)
    if not made:
        return outcomes
    # bulk_create reads the ids back (RETURNING on PostgreSQL and SQLite ≥ 3.35) and keeps auto_now's
    # moment: `updated_at` is set above, as save() would set it.
    Account.objects.bulk_create(made, batch_size=1000)
    effects = Effects(at=at, actor=actor)
    for account in made:
        effects.add_timeline(
            account_id=account.pk, kind="account_created", title="Account created", subject=account
        )
        effects.add_audit(action="account.create", instance=account)
        effects.add_event(
            kind="account.created",
            account_id=account.pk,
            subject=account,
            payload=services.created_payload(account),
        )
    effects.write()
    return outcomes


def _clean_new_external_id(external_id: str | None, taken: set[str]) -> str | None:
    """services._clean_external_id for a new account, against the ids read once for the batch."""
    external_id = (external_id or "").strip() or None
    if external_id is None:
        return None
    if len(external_id) > 128:
        raise ValidationError({"external_id": _("Use at most 128 characters.")})
    if external_id in taken:
        raise services.external_id_taken()
    return external_id


# --- Changing accounts ------------------------------------------------------------------------

_RELATED = {"owner": User, "segment": Segment, "parent": Account}


def update_accounts(
    *, updates: Sequence[tuple[Account, Mapping[str, Any]]], actor: User | None
) -> list[Outcome]:
    """update_account for each (account, {argument: value}), the arguments as update_account takes
    them (owner, segment and parent as rows or None): one UPDATE per changed column for them all, and
    per changed account an "account_changed" timeline entry, an `account.update` audit entry and an
    `account.changed` event (with `account.owner_changed` when the owner changed). An account whose
    arguments change nothing writes nothing. Returns each account or the error that kept it as it was.

    A new parent is checked against the parents as they are in the database: give an account whose
    parent changes in a call of its own, after the calls that change the accounts above it.
    """
    at = timezone.now()
    outcomes: list[Outcome] = []
    changed: list[tuple[Account, dict[str, list[Any]], dict[str, list[Any]]]] = []
    columns: set[str] = set()
    for account, arguments in updates:
        try:
            changes, changed_ids = _changes_of(account, dict(arguments), actor)
        except (ValidationError, PermissionDenied) as error:
            outcomes.append(error)
            continue
        outcomes.append(account)
        if changes:
            changed.append((account, changes, changed_ids))
            columns.update("created_at" if f == "customer_since" else f for f in changes)
    if not changed:
        return outcomes
    for account, _changes, _ids in changed:
        account.updated_at = at
    Account.objects.bulk_update(
        [account for account, _c, _i in changed], sorted(columns | {"updated_at"}), batch_size=1000
    )
    effects = Effects(at=at, actor=actor)
    for account, changes, changed_ids in changed:
        effects.add_timeline(
            account_id=account.pk,
            kind="account_changed",
            title=f"Changed {', '.join(changes)}",
            subject=account,
            data={"changes": changes},
        )
        effects.add_audit(action="account.update", instance=account, changes=changes)
        effects.add_event(
            kind="account.changed", account_id=account.pk, subject=account, payload={"changes": changed_ids}
        )
        if "owner" in changed_ids:
            from_owner, to_owner = changed_ids["owner"]
            effects.add_event(
                kind="account.owner_changed",
                account_id=account.pk,
                subject=account,
                payload={"from_owner_id": from_owner, "to_owner_id": to_owner},
            )
    effects.write()
    return outcomes


def _changes_of(
    account: Account, arguments: dict[str, Any], actor: User | None
) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """update_account's checks and its record of what changes (applied to `account`, not saved)."""
    unknown = set(arguments) - set(services._ACCOUNT_FIELDS) - {"customer_since"}
    if unknown:
        raise TypeError(f"update_accounts: unknown arguments {sorted(unknown)}")
    customer_since = arguments.pop("customer_since", services.UNSET)
    # In update_account's order of arguments (the order a timeline title names the changes in).
    given = {name: arguments[name] for name in services._ACCOUNT_FIELDS if name in arguments}
    if customer_since is not services.UNSET and customer_since is None:
        raise ValidationError({"customer_since": _("Give a date, e.g. 2024-03-01.")})
    since = services._customer_since_moment(customer_since) if customer_since is not services.UNSET else None
    if "owner" in given and services._pk(given["owner"]) != account.owner_id and actor is not None:
        services._check_may_assign_owner(actor, account)
    if "name" in given:
        given["name"] = services._clean_name(given["name"])
    if "domain" in given:
        given["domain"] = services.clean_domain(given["domain"])
    if "external_id" in given:
        given["external_id"] = services._clean_external_id(
            given["external_id"], model=Account, exclude_pk=account.pk
        )
    if "engagement_model" in given:
        services._check_engagement_model(given["engagement_model"])
    if "parent" in given:
        services._check_parent(account.pk, given["parent"])
    changes: dict[str, list[Any]] = {}
    changed_ids: dict[str, list[Any]] = {}
    for field, new in given.items():
        old = getattr(account, field)
        if old != new:
            changes[field] = [services._display(old), services._display(new)]
            changed_ids[field] = [services._event_value(old), services._event_value(new)]
            setattr(account, field, new)
    if since is not None and timezone.localdate(since) != services.customer_since_of(account):
        days = [services.customer_since_of(account).isoformat(), timezone.localdate(since).isoformat()]
        changes["customer_since"] = changed_ids["customer_since"] = days
        account.created_at = since
    return changes, changed_ids


# --- Creating contacts ------------------------------------------------------------------------


@dataclass
class NewContact:
    """One contact to create: create_contact's arguments, with the account by id."""

    account_id: int
    name: str
    email: str = ""
    title: str = ""
    phone: str = ""
    external_id: str | None = None
    roles: Sequence[str] = ()


def create_contacts(*, contacts: Sequence[NewContact], actor: User | None) -> list[Contact | ValidationError]:
    """create_contact for each: the contacts and their roles (one INSERT each), a "… added as a contact"
    timeline entry, a `contact.create` audit entry and a `contact.added` event each. Returns, in order,
    each contact or the ValidationError (naming the field) that kept it out."""
    at = timezone.now()
    wanted_ids = [n.external_id.strip() for n in contacts if n.external_id and n.external_id.strip()]
    taken: set[str] = {
        found
        for found in Contact.objects.filter(any_of("external_id", wanted_ids)).values_list(
            "external_id", flat=True
        )
        if found
    }
    # An account's contacts have distinct emails: those already there, and those made in this call.
    emails = {(n.account_id, (n.email or "").strip().lower()) for n in contacts if n.email}
    used: set[tuple[int, str]] = set(
        Contact.objects.filter(
            any_of("account_id", {account_id for account_id, _email in emails}),
            any_of("email", {email for _account_id, email in emails}),
        ).values_list("account_id", "email")
    )
    outcomes: list[Contact | ValidationError] = []
    made: list[tuple[Contact, list[str]]] = []
    for new in contacts:
        try:  # create_contact's checks, in its order
            email = services._clean_email(new.email)
            if email and (new.account_id, email) in used:
                raise services.email_taken()
            name = services._clean_name(new.name)
            external_id = _clean_new_external_id(new.external_id, taken)
            roles = services._clean_roles(new.roles)
        except ValidationError as error:
            outcomes.append(error)
            continue
        if external_id is not None:
            taken.add(external_id)
        if email:
            used.add((new.account_id, email))
        contact = Contact(
            account_id=new.account_id,
            name=name,
            email=email,
            title=(new.title or "").strip()[:200],
            phone=(new.phone or "").strip()[:50],
            external_id=external_id,
            created_at=at,
        )
        contact.updated_at = at
        made.append((contact, roles))
        outcomes.append(contact)
    if not made:
        return outcomes
    Contact.objects.bulk_create([contact for contact, _roles in made], batch_size=1000)
    insert_rows(
        ContactRoleAssignment,
        [{"contact_id": contact.pk, "role": role} for contact, roles in made for role in roles],
    )
    effects = Effects(at=at, actor=actor)
    for contact, roles in made:
        effects.add_timeline(
            account_id=contact.account_id,
            kind="contact_added",
            title=f"{contact.name} added as a contact",
            subject=contact,
            data={"name": contact.name, "roles": roles},
        )
        effects.add_audit(action="contact.create", instance=contact, changes={"roles": roles})
        effects.add_event(
            kind="contact.added",
            account_id=contact.account_id,
            subject=contact,
            payload={"contact_id": contact.pk, "name": contact.name, "email": contact.email, "roles": roles},
        )
    effects.write()
    return outcomes
