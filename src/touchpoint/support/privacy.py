"""Support's part of the privacy export and erasure: tickets stay (SLA figures count them) with the
requester's name replaced by the pseudonym and their email emptied."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from touchpoint.privacy.registry import Part, Person, holders, parts_holder
from touchpoint.support.models import Ticket


def _requested(person: Person) -> Q:
    query = Q(contact__in=person.contact_ids)
    for email in person.emails:
        query |= Q(requester_email__iexact=email)
    return query


def register() -> None:
    holders.add(
        parts_holder(
            "support",
            _("Support tickets"),
            [
                Part(
                    Ticket,
                    about=_requested,
                    text=("subject", "requester_name", "requester_email"),
                    clear={"requester_name": lambda pseudonym: pseudonym, "requester_email": ""},
                )
            ],
            order=42,
        )
    )
