"""Journeys' part of the privacy export and erasure (docs/privacy.md).

Enrollments and outbox rows stay (journey statistics count them), without what names the person:
rendered messages (emails, in-app messages) and addresses are emptied, and what was still to be sent
to them is not sent ("erased"). Their messaging consent is deleted with the rest of them.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from touchpoint.journeys.models import Enrollment, MessagingConsent, OutboxRow, OutboxStatus, SimulationRun
from touchpoint.privacy.registry import Holder, Part, Person, contact_of, holders, parts_holder


def _outbox_about(person: Person) -> Q:
    query = Q(contact__in=person.contact_ids)
    for email in person.emails:
        query |= Q(to_address__iexact=email)
    return query


PARTS = [
    Part(Enrollment, about=contact_of(), text=("entry_data", "exit_reason", "waiting_for")),
    Part(
        OutboxRow,
        about=_outbox_about,
        text=("payload", "to_address", "last_error"),
        clear={"payload": {}, "to_address": ""},
    ),
    Part(MessagingConsent, about=contact_of(), erase="delete"),
    Part(SimulationRun, text=("result", "error")),
]


def register() -> None:
    base = parts_holder("journeys", _("Journeys"), PARTS, order=40)

    def erase(person: Person, pseudonym: str) -> dict[str, Any]:
        unsent = OutboxRow.objects.filter(_outbox_about(person)).filter(
            status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED]
        )
        suppressed = unsent.update(status=OutboxStatus.SUPPRESSED, suppressed_reason="erased")
        return {**base.erase(person, pseudonym), "unsent_messages_stopped": suppressed}

    holders.add(
        Holder(
            key=base.key, label=base.label, find=base.find, erase=erase, order=base.order, covers=base.covers
        )
    )
