"""The holders of the shared apps (accounts, events, users: contacts, the timeline, domain events,
Touchpoint users and the audit log), registered from PrivacyConfig.ready().

Domain apps register their own holders from their `privacy.py`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import Contact, Engagement, TimelineEntry
from touchpoint.events.models import DomainEvent
from touchpoint.home.models import Alert
from touchpoint.privacy.registry import Holder, Part, Person, holders, parts_holder, rows, scrub_rows
from touchpoint.users.audit import redact_entries
from touchpoint.users.models import AuditLogEntry, User

# --- accounts: contacts, their roles, engagements that name them, the timeline ---------------------


def _timeline(person: Person) -> Any:
    contact_type = ContentType.objects.get_for_model(Contact)
    return TimelineEntry.objects.filter(
        Q(subject_type=contact_type, subject_id__in=person.contact_ids)
        | person.mentions("title", "body", "data")
    )


def _engagements(person: Person) -> Any:
    return Engagement.objects.filter(
        Q(contacts__in=person.contact_ids) | person.mentions("subject", "body")
    ).distinct()


def find_accounts(person: Person) -> dict[str, Any]:
    contacts = Contact.objects.filter(pk__in=person.contact_ids).prefetch_related("roles")
    return {
        "contacts": [
            {**row, "account": contact.account.name, "roles": contact.role_values}
            for contact, row in zip(contacts, rows(contacts), strict=True)
        ],
        "engagements": rows(_engagements(person)),
    }


def erase_accounts(person: Person, pseudonym: str) -> dict[str, int]:
    # The rows stay (answers, tickets and counts keep their contact), without anything that names them.
    Contact.objects.filter(pk__in=person.contact_ids).update(
        name=pseudonym, email="", phone="", title="", external_id=None, time_zone=""
    )
    engaged = scrub_rows(_engagements(person), person, pseudonym, ("subject", "body"))
    return {"contacts": len(person.contact_ids), "engagements": engaged}


def find_timeline(person: Person) -> dict[str, Any]:
    return {"entries": rows(_timeline(person))}


def erase_timeline(person: Person, pseudonym: str) -> dict[str, int]:
    return {"entries": scrub_rows(_timeline(person), person, pseudonym, ("title", "body", "data"))}


# --- events: domain events about the contacts or naming the person ---------------------------------


def _domain_events(person: Person) -> Any:
    return DomainEvent.objects.filter(
        Q(subject_type=Contact._meta.label_lower, subject_id__in=person.contact_ids)
        | person.mentions("payload")
    )


def find_events(person: Person) -> dict[str, Any]:
    return {"domain_events": rows(_domain_events(person))}


def erase_events(person: Person, pseudonym: str) -> dict[str, int]:
    return {"domain_events": scrub_rows(_domain_events(person), person, pseudonym, ("payload",))}


# --- users: Touchpoint users with the email (exported, never erased) and the audit log --------------


def _audit_entries(person: Person) -> Any:
    about_contacts = Q(
        object_type=Contact._meta.label_lower, object_id__in=[str(i) for i in person.contact_ids]
    )
    own_staff_rows = Q(object_type=User._meta.label_lower, object_id__in=[str(i) for i in person.staff_ids])
    return AuditLogEntry.objects.filter(about_contacts | person.mentions("object_repr", "changes")).exclude(
        own_staff_rows
    )


def find_users(person: Person) -> dict[str, Any]:
    return {
        "touchpoint_users": rows(User.objects.filter(pk__in=person.staff_ids), exclude=("password",)),
        "audit_entries": rows(_audit_entries(person)),
    }


def erase_users(person: Person, pseudonym: str) -> dict[str, int]:
    def replace(entry: AuditLogEntry) -> tuple[str, dict]:
        return person.scrub(entry.object_repr, pseudonym), person.scrub(entry.changes, pseudonym)

    redacted = redact_entries(
        entries=_audit_entries(person),
        replace=replace,
        reason="Personal data erasure (touchpoint privacy erase)",
        actor=None,
    )
    return {"audit_entries": redacted}


def register() -> None:
    holders.add(
        Holder(
            key="accounts",
            label=_("Contacts"),
            find=find_accounts,
            erase=erase_accounts,
            order=10,
            covers=(Contact, Engagement),
        )
    )
    holders.add(
        Holder(
            key="timeline",
            label=_("Timeline"),
            find=find_timeline,
            erase=erase_timeline,
            order=11,
            covers=(TimelineEntry,),
        )
    )
    holders.add(
        Holder(
            key="events",
            label=_("Domain events"),
            find=find_events,
            erase=erase_events,
            order=12,
            covers=(DomainEvent,),
        )
    )
    holders.add(
        Holder(
            key="users",
            label=_("Touchpoint users and the audit log"),
            find=find_users,
            erase=erase_users,
            order=90,
            covers=(User,),
        )
    )
    # Home is a registry the privacy app may use: alerts in people's inboxes that name the person.
    holders.add(parts_holder("home", _("Alerts"), [Part(Alert, text=("title", "data"))], order=49))
