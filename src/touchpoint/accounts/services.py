"""Every write to accounts, contacts, engagements and the timeline.

Each public function is one transaction: it validates, writes, records the change on the account
timeline and in the audit log, and either all of that lands or none of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.accounts.models import (
    Account,
    AccountTag,
    AccountTeamMember,
    Contact,
    ContactRole,
    ContactRoleAssignment,
    Engagement,
    EngagementKind,
    EngagementModel,
    SavedView,
    Segment,
    TeamRole,
    TimelineEntry,
)
from touchpoint.events.services import record_event
from touchpoint.users.models import User
from touchpoint.users.services import record_audit


class _Unset:
    """Marks an argument the caller did not pass (so None can mean "clear this field")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")


def record_on_timeline(
    *,
    account: Account,
    kind: str,
    title: str,
    occurred_at: datetime | None = None,
    body: str = "",
    actor: User | None = None,
    subject: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> TimelineEntry:
    """Put one entry on the account's timeline.

    `title` is stored as written: people's own words for entries they write, plain English for
    entries the system writes (those also register a `describe` in accounts/timeline.py, which
    renders them in the reader's language from `data`).

    Call it inside the transaction of the write it records, so an entry exists exactly when the
    thing it describes does. Apps register their kinds in accounts/timeline.py.
    """
    return TimelineEntry.objects.create(
        account=account,
        kind=kind,
        title=title[:255],
        body=body,
        occurred_at=occurred_at or timezone.now(),
        actor=actor if actor is not None and actor.pk else None,
        subject_type=ContentType.objects.get_for_model(subject) if subject is not None else None,
        subject_id=subject.pk if subject is not None else None,
        data=data or {},
    )


# --- Accounts ---------------------------------------------------------------------------------


def clean_domain(domain: str) -> str:
    """A domain as stored (lower case, no scheme or path); raises ValidationError naming `domain`."""
    domain = (domain or "").strip().lower()
    domain = re.sub(r"^https?://", "", domain).split("/")[0]
    if domain and not _DOMAIN_RE.match(domain):
        raise ValidationError({"domain": _("Enter a domain such as example.com.")})
    return domain


def _clean_name(name: str, field: str = "name") -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({field: _("This field is required.")})
    if len(name) > 200:
        raise ValidationError({field: _("Use at most 200 characters.")})
    return name


def _clean_external_id(
    external_id: str | None, *, model: type[Account] | type[Contact], exclude_pk: int | None
) -> str | None:
    external_id = (external_id or "").strip() or None
    if external_id is None:
        return None
    if len(external_id) > 128:
        raise ValidationError({"external_id": _("Use at most 128 characters.")})
    clash = model.objects.filter(external_id=external_id)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise external_id_taken()
    return external_id


def external_id_taken() -> ValidationError:
    return ValidationError(
        {"external_id": ValidationError(_("Another record already has this external ID."), code="unique")}
    )


def _check_parent(account_pk: int | None, parent: Account | None) -> None:
    if parent is None or account_pk is None:
        return
    # Walk up from the proposed parent; meeting the account itself means a cycle.
    seen: set[int] = set()
    node: Account | None = parent
    while node is not None and node.pk not in seen:
        if node.pk == account_pk:
            raise ValidationError({"parent": _("An account cannot be its own parent or ancestor.")})
        seen.add(node.pk)
        node = node.parent


# The earliest "customer since" an account may carry: before it is a typo, not history.
FIRST_CUSTOMER_YEAR = 1900


def customer_since_of(account: Account) -> date:
    """The day the account became a customer: its `created_at`, in the site's time zone."""
    return timezone.localdate(account.created_at)


def check_customer_since(day: date) -> None:
    """Refuse a "customer since" that cannot be right (ValidationError naming `customer_since`)."""
    _customer_since_moment(day)


def _customer_since_moment(day: date) -> datetime:
    """`created_at` for a customer since `day`: its first moment in the site's time zone; checked."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValidationError({"customer_since": _("Give a date, e.g. 2024-03-01.")})
    if day.year < FIRST_CUSTOMER_YEAR:
        raise ValidationError(
            {
                "customer_since": _("“Customer since” cannot be before %(year)s.")
                % {"year": FIRST_CUSTOMER_YEAR}
            }
        )
    if day > timezone.localdate():
        raise ValidationError({"customer_since": _("“Customer since” cannot be after today.")})
    return timezone.make_aware(datetime.combine(day, time.min))


def _check_engagement_model(value: str) -> str:
    if value not in EngagementModel.values:
        raise ValidationError(
            {
                "engagement_model": _("Choose one of: %(choices)s.")
                % {"choices": ", ".join(EngagementModel.values)}
            }
        )
    return value


def created_payload(account: Account) -> dict:
    """The `account.created` event's payload (the bulk import writes the same one)."""
    return {
        "name": account.name,
        "external_id": account.external_id,
        "owner_id": account.owner_id,
        "segment_id": account.segment_id,
        "parent_id": account.parent_id,
    }


@transaction.atomic
def create_account(
    *,
    name: str,
    actor: User | None,
    domain: str = "",
    external_id: str | None = None,
    parent: Account | None = None,
    owner: User | None = None,
    segment: Segment | None = None,
    engagement_model: str = EngagementModel.HYBRID,
    customer_since: date | None = None,
) -> Account:
    """Add a customer company and note its arrival on its timeline.

    `customer_since`: the day it became a customer, when that was before today (an import of an
    existing book): `created_at` is that day's first moment, which health reads as its tenure.
    Giving the account to someone else is a leader's or admin's action (PermissionDenied otherwise).
    """
    if owner is not None and actor is not None and owner.pk != actor.pk:
        _check_may_assign_owner(actor, None)
    since = {"created_at": _customer_since_moment(customer_since)} if customer_since is not None else {}
    account = Account(
        name=_clean_name(name),
        domain=clean_domain(domain),
        external_id=_clean_external_id(external_id, model=Account, exclude_pk=None),
        parent=parent,
        owner=owner,
        segment=segment,
        engagement_model=_check_engagement_model(engagement_model),
        **since,
    )
    account.save()
    record_on_timeline(
        account=account, kind="account_created", title="Account created", actor=actor, subject=account
    )
    record_audit(actor=actor, action="account.create", instance=account)
    record_event(
        kind="account.created",
        account=account,
        subject=account,
        actor=actor,
        payload=created_payload(account),
    )
    return account


_ACCOUNT_FIELDS = (
    "name",
    "domain",
    "external_id",
    "parent",
    "owner",
    "segment",
    "engagement_model",
)


@transaction.atomic
def update_account(
    *,
    account: Account,
    actor: User | None,
    name: str = UNSET,
    domain: str = UNSET,
    external_id: str | None = UNSET,
    parent: Account | None = UNSET,
    owner: User | None = UNSET,
    segment: Segment | None = UNSET,
    engagement_model: str = UNSET,
    customer_since: date = UNSET,
) -> Account:
    """Change an account's details; only the arguments given change. Records what changed.

    `customer_since` moves `created_at` to that day's first moment (see create_account).
    Changing the owner is a leader's or admin's action (PermissionDenied otherwise).
    """
    given = {k: v for k, v in locals().items() if k in _ACCOUNT_FIELDS and v is not UNSET}
    if customer_since is not UNSET and customer_since is None:
        raise ValidationError({"customer_since": _("Give a date, e.g. 2024-03-01.")})
    since = _customer_since_moment(customer_since) if customer_since is not UNSET else None
    if "owner" in given and _pk(given["owner"]) != account.owner_id and actor is not None:
        _check_may_assign_owner(actor, account)
    if "name" in given:
        given["name"] = _clean_name(given["name"])
    if "domain" in given:
        given["domain"] = clean_domain(given["domain"])
    if "external_id" in given:
        given["external_id"] = _clean_external_id(given["external_id"], model=Account, exclude_pk=account.pk)
    if "engagement_model" in given:
        _check_engagement_model(given["engagement_model"])
    if "parent" in given:
        _check_parent(account.pk, given["parent"])

    changes: dict[str, list[Any]] = {}
    changed_ids: dict[str, list[Any]] = {}  # the event's payload: ids, not display names
    for field, new in given.items():
        old = getattr(account, field)
        if old != new:
            changes[field] = [_display(old), _display(new)]
            changed_ids[field] = [_event_value(old), _event_value(new)]
            setattr(account, field, new)
    if since is not None and timezone.localdate(since) != customer_since_of(account):
        # The same day is no change (an account created this morning is a customer since today).
        days = [customer_since_of(account).isoformat(), timezone.localdate(since).isoformat()]
        changes["customer_since"] = changed_ids["customer_since"] = days
        account.created_at = since
    if not changes:
        return account
    account.save()
    record_on_timeline(
        account=account,
        kind="account_changed",
        title=f"Changed {', '.join(changes)}",
        actor=actor,
        subject=account,
        data={"changes": changes},
    )
    record_audit(actor=actor, action="account.update", instance=account, changes=changes)
    record_event(
        kind="account.changed",
        account=account,
        subject=account,
        actor=actor,
        payload={"changes": changed_ids},
    )
    if "owner" in changed_ids:
        from_owner, to_owner = changed_ids["owner"]
        record_event(
            kind="account.owner_changed",
            account=account,
            subject=account,
            actor=actor,
            payload={"from_owner_id": from_owner, "to_owner_id": to_owner},
        )
    return account


def _pk(value: Any) -> Any:
    return value.pk if isinstance(value, models.Model) else value


def _check_may_assign_owner(actor: User, account: Account | None) -> None:
    # The one permission check, here in the service so the page, the API and imports cannot differ.
    if not actor.has_perm("accounts.change_account_owner", account):
        raise PermissionDenied(_("Only CS leaders and admins give an account to another owner."))


def _display(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    return value


def _event_value(value: Any) -> Any:
    """A changed field's value as a domain event carries it: a related row by its id."""
    return value.pk if isinstance(value, models.Model) else value


@transaction.atomic
def delete_account(*, account: Account, actor: User | None) -> None:
    """Remove an account with its contacts and timeline; child companies lose their parent."""
    record_audit(actor=actor, action="account.delete", instance=account, changes={"name": account.name})
    record_event(
        kind="account.deleted", account=account, subject=account, actor=actor, payload={"name": account.name}
    )
    account.delete()


# --- Attributes and tags ----------------------------------------------------------------------

_ATTRIBUTE_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_TAG_MAX = 64


@transaction.atomic
def set_account_attribute(*, account: Account, name: str, value: Any, actor: User | None) -> Account:
    """Set one of the account's free-form attributes (`None` removes it). Records the change."""
    if not _ATTRIBUTE_NAME_RE.match(name or ""):
        raise ValidationError(
            {"name": _("An attribute name is 1 to 64 letters, digits, dots, dashes or underscores.")}
        )
    if value is not None and not isinstance(value, str | int | float | bool):
        raise ValidationError({"value": _("An attribute holds text, a number, true or false.")})
    # The row is locked so that two writers of different attributes do not lose each other's change.
    account = Account.objects.select_for_update().get(pk=account.pk)
    attributes = dict(account.attributes or {})
    old = attributes.get(name)
    if old == value and (value is not None or name not in attributes):
        return account
    if value is None:
        attributes.pop(name, None)
    else:
        attributes[name] = value
    account.attributes = attributes
    account.save(update_fields=["attributes", "updated_at"])
    changes = {"attributes": {name: [old, value]}}
    record_on_timeline(
        account=account,
        kind="account_changed",
        title=f"Changed attribute {name}",
        actor=actor,
        subject=account,
        data={"changes": changes},
    )
    record_audit(actor=actor, action="account.update", instance=account, changes=changes)
    record_event(
        kind="account.changed", account=account, subject=account, actor=actor, payload={"changes": changes}
    )
    return account


def _clean_tag(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > _TAG_MAX:
        raise ValidationError({"tag": _("A tag is 1 to 64 characters.")})
    return name


@transaction.atomic
def tag_account(*, account: Account, name: str, actor: User | None) -> AccountTag:
    """Put a tag on the account (nothing changes when it has it already)."""
    name = _clean_tag(name)
    tag, created = AccountTag.objects.get_or_create(account=account, name=name)
    if created:
        record_on_timeline(
            account=account,
            kind="tag_added",
            title=f"Tagged {name}",
            actor=actor,
            subject=tag,
            data={"tag": name},
        )
        record_audit(actor=actor, action="account.tag", instance=account, changes={"tag": name})
        record_event(kind="account.tagged", account=account, subject=tag, actor=actor, payload={"tag": name})
    return tag


@transaction.atomic
def untag_account(*, account: Account, name: str, actor: User | None) -> bool:
    """Take a tag off the account; False when it did not have it."""
    name = _clean_tag(name)
    deleted, _rows = AccountTag.objects.filter(account=account, name=name).delete()
    if deleted:
        record_on_timeline(
            account=account, kind="tag_removed", title=f"Untagged {name}", actor=actor, data={"tag": name}
        )
        record_audit(actor=actor, action="account.untag", instance=account, changes={"tag": name})
        record_event(kind="account.untagged", account=account, actor=actor, payload={"tag": name})
    return bool(deleted)


# --- The account team ------------------------------------------------------------------------


@transaction.atomic
def add_team_member(
    *, account: Account, user: User, actor: User | None, role: str = TeamRole.CSM
) -> AccountTeamMember:
    """Put someone on the account's team: the account joins their book of business."""
    if role not in TeamRole.values:
        raise ValidationError({"role": _("Choose a role on the team from the list.")})
    if not user.is_active:
        raise ValidationError({"user": _("This person cannot sign in any more.")})
    if account.owner_id == user.pk:
        raise ValidationError({"user": _("The owner is on the account already.")})
    if AccountTeamMember.objects.filter(account=account, user=user).exists():
        raise ValidationError(
            {"user": ValidationError(_("This person is on the team already."), code="unique")}
        )
    member = AccountTeamMember.objects.create(account=account, user=user, role=role)
    data = {"user": user.get_full_name(), "email": user.email, "role": role}
    record_on_timeline(
        account=account,
        kind="team_member_added",
        title=f"{user.get_full_name()} joined the account team ({role})",
        actor=actor,
        subject=member,
        data=data,
    )
    record_audit(actor=actor, action="account.team.add", instance=account, changes=data)
    record_event(
        kind="team.member_added",
        account=account,
        subject=member,
        actor=actor,
        payload={"user_id": user.pk, "role": role},
    )
    return member


@transaction.atomic
def remove_team_member(*, account: Account, user: User, actor: User | None) -> None:
    """Take someone off the account's team (the account leaves their book, unless they own it)."""
    member = AccountTeamMember.objects.filter(account=account, user=user).first()
    if member is None:
        raise ValidationError({"user": _("This person is not on the team.")})
    data = {"user": user.get_full_name(), "email": user.email, "role": member.role}
    member.delete()
    record_on_timeline(
        account=account,
        kind="team_member_removed",
        title=f"{user.get_full_name()} left the account team",
        actor=actor,
        data=data,
    )
    record_audit(actor=actor, action="account.team.remove", instance=account, changes=data)
    record_event(
        kind="team.member_removed",
        account=account,
        actor=actor,
        payload={"user_id": user.pk, "role": data["role"]},
    )


# --- Contacts ---------------------------------------------------------------------------------


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"email": _("Enter a valid email address.")}) from None
    return email


def clean_language(language: str | None) -> str:
    """A person's language for messages: one of the site's languages, or "" (the account's)."""
    language = (language or "").strip()
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError(
            {
                "language": _("Unknown language “%(language)s”; choose from: %(choices)s.")
                % {"language": language, "choices": ", ".join(code for code, _name in settings.LANGUAGES)}
            }
        )
    return language


@lru_cache(maxsize=1)
def _time_zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def clean_time_zone(time_zone: str | None) -> str:
    """An IANA time zone name such as Asia/Tokyo, or "" (the site's)."""
    time_zone = (time_zone or "").strip()
    if time_zone and time_zone not in _time_zone_names():
        raise ValidationError(
            {
                "time_zone": _(
                    "“%(zone)s” is not a time zone name; use one such as Europe/Paris or Asia/Tokyo."
                )
                % {"zone": time_zone[:64]}
            }
        )
    return time_zone


def _clean_roles(roles: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for role in roles:
        if role not in ContactRole.values:
            raise ValidationError(
                {
                    "roles": _("Unknown role “%(role)s”; choose from: %(choices)s.")
                    % {"role": role, "choices": ", ".join(ContactRole.values)}
                }
            )
        if role not in cleaned:
            cleaned.append(role)
    return sorted(cleaned, key=ContactRole.values.index)


def _check_email_free(account: Account, email: str, exclude_pk: int | None) -> None:
    if not email:
        return
    clash = Contact.objects.filter(account=account, email=email)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise email_taken()


def email_taken() -> ValidationError:
    return ValidationError(
        {"email": ValidationError(_("This account already has a contact with this email."), code="unique")}
    )


@transaction.atomic
def create_contact(
    *,
    account: Account,
    name: str,
    actor: User | None,
    email: str = "",
    title: str = "",
    phone: str = "",
    external_id: str | None = None,
    roles: Iterable[str] = (),
    language: str = "",
    time_zone: str = "",
) -> Contact:
    """Add a person to an account with their roles (and the language and time zone messages use)."""
    email = _clean_email(email)
    _check_email_free(account, email, exclude_pk=None)
    contact = Contact.objects.create(
        account=account,
        name=_clean_name(name),
        email=email,
        title=(title or "").strip()[:200],
        phone=(phone or "").strip()[:50],
        external_id=_clean_external_id(external_id, model=Contact, exclude_pk=None),
        language=clean_language(language),
        time_zone=clean_time_zone(time_zone),
    )
    role_values = _clean_roles(roles)
    ContactRoleAssignment.objects.bulk_create(
        [ContactRoleAssignment(contact=contact, role=role) for role in role_values]
    )
    record_on_timeline(
        account=account,
        kind="contact_added",
        title=f"{contact.name} added as a contact",
        actor=actor,
        subject=contact,
        data={"name": contact.name, "roles": role_values},
    )
    record_audit(actor=actor, action="contact.create", instance=contact, changes={"roles": role_values})
    record_event(
        kind="contact.added",
        account=account,
        subject=contact,
        actor=actor,
        payload={
            "contact_id": contact.pk,
            "name": contact.name,
            "email": contact.email,
            "roles": role_values,
        },
    )
    return contact


@transaction.atomic
def update_contact(
    *,
    contact: Contact,
    actor: User | None,
    name: str = UNSET,
    email: str = UNSET,
    title: str = UNSET,
    phone: str = UNSET,
    external_id: str | None = UNSET,
    roles: Iterable[str] = UNSET,
    language: str = UNSET,
    time_zone: str = UNSET,
) -> Contact:
    """Change a contact's details or roles; only the arguments given change."""
    changes: dict[str, list[Any]] = {}
    if language is not UNSET:
        language = clean_language(language)
    if time_zone is not UNSET:
        time_zone = clean_time_zone(time_zone)
    if name is not UNSET:
        name = _clean_name(name)
    if email is not UNSET:
        email = _clean_email(email)
        _check_email_free(contact.account, email, exclude_pk=contact.pk)
    if external_id is not UNSET:
        external_id = _clean_external_id(external_id, model=Contact, exclude_pk=contact.pk)
    for field, value in (
        ("name", name),
        ("email", email),
        ("title", title),
        ("phone", phone),
        ("external_id", external_id),
        ("language", language),
        ("time_zone", time_zone),
    ):
        if value is not UNSET and getattr(contact, field) != value:
            changes[field] = [getattr(contact, field), value]
            setattr(contact, field, value)
    if changes:
        contact.save()
    if roles is not UNSET:
        wanted = _clean_roles(roles)
        current = list(contact.roles.values_list("role", flat=True))
        if set(wanted) != set(current):
            contact.roles.exclude(role__in=wanted).delete()
            ContactRoleAssignment.objects.bulk_create(
                [ContactRoleAssignment(contact=contact, role=r) for r in wanted if r not in current]
            )
            changes["roles"] = [sorted(current), sorted(wanted)]
    if changes:
        record_audit(actor=actor, action="contact.update", instance=contact, changes=changes)
        record_event(
            kind="contact.changed",
            account=contact.account_id,
            subject=contact,
            actor=actor,
            payload={"contact_id": contact.pk, "changes": changes},
        )
    return contact


@transaction.atomic
def delete_contact(*, contact: Contact, actor: User | None) -> None:
    """Remove a person from an account (their past engagements stay)."""
    record_audit(actor=actor, action="contact.delete", instance=contact, changes={"name": contact.name})
    record_event(
        kind="contact.removed",
        account=contact.account_id,
        subject=contact,
        actor=actor,
        # The roles they had, so a consumer can tell that a champion left after the row is gone.
        payload={
            "contact_id": contact.pk,
            "name": contact.name,
            "roles": sorted(contact.roles.values_list("role", flat=True)),
        },
    )
    contact.delete()


# --- Engagements ------------------------------------------------------------------------------


@transaction.atomic
def log_engagement(
    *,
    account: Account,
    kind: str,
    actor: User | None,
    subject: str = "",
    body: str = "",
    occurred_at: datetime | None = None,
    duration_minutes: int | None = None,
    contacts: Iterable[Contact] = (),
) -> Engagement:
    """Record a note, meeting, call or email with the account, and put it on the timeline."""
    if kind not in EngagementKind.values:
        raise ValidationError(
            {"kind": _("Choose one of: %(choices)s.") % {"choices": ", ".join(EngagementKind.values)}}
        )
    subject = (subject or "").strip()
    body = (body or "").strip()
    if not subject and not body:
        field = "body" if kind == EngagementKind.NOTE else "subject"
        raise ValidationError({field: _("Write something to record.")})
    if len(subject) > 200:
        raise ValidationError({"subject": _("Use at most 200 characters.")})
    if len(body) > 20000:
        raise ValidationError({"body": _("Use at most 20,000 characters.")})
    if duration_minutes is not None and not (0 < duration_minutes <= 24 * 60):
        raise ValidationError({"duration_minutes": _("Enter a duration between 1 and 1440 minutes.")})
    now = timezone.now()
    occurred_at = occurred_at or now
    if timezone.is_naive(occurred_at):
        raise ValidationError({"occurred_at": _("Give the time with its time zone.")})
    _within_timeline_window(occurred_at, now)
    contacts = list(contacts)
    if any(c.account_id != account.pk for c in contacts):
        raise ValidationError({"contacts": _("Every contact must belong to this account.")})

    engagement = Engagement.objects.create(
        account=account,
        kind=kind,
        subject=subject,
        body=body,
        occurred_at=occurred_at,
        duration_minutes=duration_minutes,
        author=actor if actor is not None and actor.pk else None,
    )
    if contacts:
        engagement.contacts.set(contacts)
    title, rest = (subject, body) if subject else _split_title(body)
    record_on_timeline(
        account=account,
        kind=kind,
        title=title,
        body=rest,
        occurred_at=occurred_at,
        actor=actor,
        subject=engagement,
        data={"duration_minutes": duration_minutes, "contacts": [c.name for c in contacts]}
        if (duration_minutes or contacts)
        else {},
    )
    record_audit(actor=actor, action=f"engagement.{kind}", instance=engagement)
    record_event(
        kind="engagement.logged",
        account=account,
        subject=engagement,
        actor=actor,
        occurred_at=occurred_at,
        payload={
            "engagement_id": engagement.pk,
            "kind": kind,
            "contact_ids": [c.pk for c in contacts],
            "duration_minutes": duration_minutes,
        },
    )
    return engagement


def _within_timeline_window(occurred_at: datetime, now: datetime) -> None:
    """Refuse a date far in the past or the future (settings TOUCHPOINT_TIMELINE_PAST_DAYS/FUTURE_DAYS)."""
    past, future = settings.TOUCHPOINT_TIMELINE_PAST_DAYS, settings.TOUCHPOINT_TIMELINE_FUTURE_DAYS
    try:
        earliest, latest = now - timedelta(days=past), now + timedelta(days=future)
    except OverflowError:  # a window set wider than datetime reaches: nothing is too far then
        return
    if occurred_at < earliest:
        raise ValidationError(
            {
                "occurred_at": _("Give a date within the last %(days)s days (from %(first)s).")
                % {"days": past, "first": timezone.localdate(earliest).isoformat()}
            }
        )
    if occurred_at > latest:
        raise ValidationError(
            {
                "occurred_at": _("Give a date at most %(days)s days ahead (until %(last)s).")
                % {"days": future, "last": timezone.localdate(latest).isoformat()}
            }
        )


def _split_title(text: str, limit: int = 120) -> tuple[str, str]:
    """A timeline title from a note's first line; the rest (or the whole, when cut) is the body."""
    first, _newline, rest = text.partition("\n")
    first = first.strip()
    if len(first) <= limit:
        return first, rest.strip()
    return first[: limit - 1] + "…", text


# --- Saved portfolio views --------------------------------------------------------------------

SAVED_VIEW_NAME_LENGTH = 80
SAVED_VIEW_QUERY_LENGTH = 2000


@transaction.atomic
def save_view(*, user: User, name: str, query: str, shared: bool = False) -> SavedView:
    """Keep the portfolio's filters and sort (`query`, a query string) under a name of the user's.

    Sharing with everyone is a leader's or admin's action (PermissionDenied otherwise).
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the view a name.")})
    if len(name) > SAVED_VIEW_NAME_LENGTH:
        raise ValidationError(
            {"name": _("Use at most %(count)d characters.") % {"count": SAVED_VIEW_NAME_LENGTH}}
        )
    if len(query) > SAVED_VIEW_QUERY_LENGTH:
        raise ValidationError({"query": _("These filters are too long to save.")})
    if "\x00" in name or "\x00" in query:
        raise ValidationError({"name": _("Remove the NUL characters.")})
    if shared and not user.has_perm("accounts.share_savedview"):
        raise PermissionDenied(_("Only CS leaders and admins share views with everyone."))
    if SavedView.objects.filter(user=user, name__iexact=name).exists():
        raise ValidationError(
            {"name": ValidationError(_("You already have a view with this name."), code="unique")}
        )
    view = SavedView.objects.create(user=user, name=name, query=query, shared=shared)
    record_audit(actor=user, action="saved_view.create", instance=view, changes={"shared": shared})
    return view


@transaction.atomic
def delete_view(*, view: SavedView, actor: User) -> None:
    """Forget a saved view (only its owner may: PermissionDenied otherwise)."""
    if view.user_id != actor.pk:
        raise PermissionDenied(_("Only the person who saved a view deletes it."))
    record_audit(actor=actor, action="saved_view.delete", instance=view)
    view.delete()
