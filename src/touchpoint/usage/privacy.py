"""Usage's part of the privacy export and erasure, and the blocklist ingestion checks.

What usage holds about a person: product users (userId, email, name, traits) and raw events (their
ids, properties and context: IP address, user agent, traits). Erasure rewrites rather than deletes
the raw events: the rollups are recomputed from the raw events of a day whenever a late event
arrives for it (usage.rollups), so deleting them would change past counts. Each of the person's ids
becomes a fresh pseudonymous id (the same one in every row, so distinct-user counts stay), and
properties and context are emptied. Raw-event retention deletes the rows later as it does any other.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from touchpoint.privacy.hashing import digests
from touchpoint.privacy.models import BlockedIdentifier
from touchpoint.privacy.registry import Holder, Person, holders, identities, rows
from touchpoint.usage import store
from touchpoint.usage.models import ProductUser, RawEvent, RollupPerson
from touchpoint.usage.segment import Message


def _product_users(person: Person) -> Any:
    return ProductUser.objects.filter(
        Q(contact_id__in=person.contact_ids) | Q(email__iexact=person.email) | Q(user_id__in=person.user_ids)
    )


def _raw_events(person: Person) -> Any:
    return store.events_of_person(ids=person.user_ids, contact_ids=person.contact_ids)


def identify(person: Person) -> None:
    """Add the person's product user ids, names and the IP addresses their events came from."""
    for user in _product_users(person):
        person.user_ids.add(user.user_id)
        for value in (user.name, user.email):
            if value.strip():
                (person.emails if "@" in value else person.names).add(value.strip())
        traits = user.traits if isinstance(user.traits, dict) else {}
        if isinstance(traits.get("name"), str) and traits["name"].strip():
            person.names.add(traits["name"].strip())
        first, last = str(traits.get("firstName") or "").strip(), str(traits.get("lastName") or "").strip()
        if first and last:
            person.names.add(f"{first} {last}")
        if isinstance(traits.get("phone"), str) and traits["phone"].strip():
            person.phones.add(traits["phone"].strip())
    # Anonymous ids seen with their user ids (and events matched to their contacts).
    if person.user_ids or person.contact_ids:
        for user_id, anonymous_id, context in _raw_events(person).values_list(
            "user_id", "anonymous_id", "context"
        ):
            person.user_ids.update(v for v in (user_id, anonymous_id) if v)
            if isinstance(context, dict) and isinstance(context.get("ip"), str) and context["ip"]:
                person.addresses.add(context["ip"])


def find(person: Person) -> dict[str, Any]:
    return {
        "product_users": rows(_product_users(person)),
        "raw_events": rows(_raw_events(person).order_by("timestamp")),
    }


def erase(person: Person, pseudonym: str) -> dict[str, int]:
    mapping = {value: f"erased-{secrets.token_hex(8)}" for value in sorted(person.user_ids)}
    events = _raw_events(person).count()  # all of them are anonymised below
    store.anonymise_person(renamed=mapping, contact_ids=person.contact_ids)
    users = 0
    for user in _product_users(person):
        ProductUser.objects.filter(pk=user.pk).update(
            user_id=mapping.get(user.user_id, f"erased-{secrets.token_hex(8)}"), email="", name="", traits={}
        )
        users += 1
    return {"product_users": users, "raw_events": events}


def register() -> None:
    identities.add(identify, key="usage")
    holders.add(
        Holder(
            key="usage",
            label=_("Product usage"),
            find=find,
            erase=erase,
            order=20,
            covers=(ProductUser, RawEvent, RollupPerson),
        )
    )


# --- The blocklist (called once by ingestion, before storing) --------------------------------------


def _anyone_blocked() -> bool:
    """Whether the blocklist has a row: nearly always no, and then no id needs hashing (plain SQL, as
    this runs for every batch)."""
    table = connection.ops.quote_name(BlockedIdentifier._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")
        return cursor.fetchone() is not None


def drop_blocked(messages: Sequence[Message]) -> list[Message]:
    """The messages whose userId, anonymousId and previousId are not an erased person's.

    The dropped ones are counted on their blocklist row; the client is not told (nothing is wrong
    with its request). One query per batch, two when the blocklist is not empty.
    """
    ids = {value for m in messages for value in (m.user_id, m.anonymous_id, m.previous_id) if value}
    if not ids or not _anyone_blocked():
        return list(messages)
    hashed = {value: digests(value) for value in ids}
    wanted = set().union(*hashed.values())
    blocked = set(BlockedIdentifier.objects.filter(digest__in=wanted).values_list("digest", flat=True))
    if not blocked:
        return list(messages)
    kept: list[Message] = []
    dropped: Counter[str] = Counter()
    for message in messages:
        hits = [
            d
            for value in (message.user_id, message.anonymous_id, message.previous_id)
            if value
            for d in hashed[value] & blocked
        ]
        if hits:
            dropped[hits[0]] += 1
        else:
            kept.append(message)
    now = timezone.now()
    for value, count in dropped.items():
        BlockedIdentifier.objects.filter(digest=value).update(
            dropped_events=F("dropped_events") + count, last_dropped_at=now
        )
    return kept
