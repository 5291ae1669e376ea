"""Export and erase everything Touchpoint holds about a person, found from their email address.

The person is resolved here (contacts and Touchpoint users with that email, then each app's identity
source adds what it links to them: product user ids, names, addresses); each registered `Holder`
(touchpoint.privacy.registry) exports and erases its app's part. See docs/privacy.md.
"""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.accounts.models import Contact
from touchpoint.privacy.hashing import digest, normalise
from touchpoint.privacy.models import BlockedIdentifier, Erasure
from touchpoint.privacy.registry import Person, holders, identities, rows, scrub_rows
from touchpoint.users import audit
from touchpoint.users.models import AuditLogEntry, AuditRedaction, User

EXPORT_FORMAT = 1


def clean_email(email: str) -> str:
    email = normalise(email)
    if not email:
        raise ValidationError({"email": _("Enter the person's email address.")})
    try:
        validate_email(email)
    except ValidationError as error:
        raise ValidationError({"email": _("Enter a valid email address.")}) from error
    return email


def resolve_person(email: str) -> Person:
    """The person with that email: their contacts (any account), product user ids, Touchpoint users."""
    email = clean_email(email)
    person = Person(email=email, emails={email})
    for contact in Contact.objects.filter(email__iexact=email):
        person.contact_ids.add(contact.pk)
        if contact.name.strip():
            person.names.add(contact.name.strip())
        if contact.phone.strip():
            person.phones.add(contact.phone.strip())
        if contact.external_id:
            person.user_ids.add(contact.external_id)
    for user in User.objects.filter(email__iexact=email):
        person.staff_ids.add(user.pk)
    for source in identities:
        source(person)
    return person


def pseudonym_for(person: Person) -> str:
    """A fresh name that says nothing about the person ("Erased person 3f9a2c1b")."""
    return f"Erased person {secrets.token_hex(4)}"


# --- Export ----------------------------------------------------------------------------------------


@dataclass
class Export:
    person: Person
    parts: dict[str, dict[str, Any]]  # holder key -> what it holds

    @property
    def rows(self) -> int:
        return sum(len(v) for part in self.parts.values() for v in part.values() if isinstance(v, list))

    def as_zip(self) -> bytes:
        buffer = io.BytesIO()
        readme = {
            "format": EXPORT_FORMAT,
            "email": self.person.email,
            "exported_at": timezone.now(),
            "files": {
                f"{key}.json": str(next((h.label for h in holders if h.key == key), _("Other mentions")))
                for key in self.parts
            },
            "about": "Everything Touchpoint holds about the person with this email address, one JSON "
            "file per part of the product. Rows are as stored; ids link rows between files.",
        }
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.json", _dump(readme))
            for key, part in self.parts.items():
                archive.writestr(f"{key}.json", _dump(part))
        return buffer.getvalue()


def _dump(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False, sort_keys=True)


def export_person(*, email: str, actor: User | None, via: str = "command") -> Export:
    """Everything held about the person; the export is audited with the email's salted hash only."""
    person = resolve_person(email)
    parts = {holder.key: holder.find(person) for holder in holders}
    mentions = other_mentions(person)
    if mentions:
        parts["other"] = mentions
    result = Export(person=person, parts=parts)
    with transaction.atomic():
        audit.append(
            actor=actor,
            action="privacy.export",
            object_type="privacy.person",
            object_id=digest(person.email)[:64],
            object_repr=_("A person's data (email hashed)"),
            changes={"rows": result.rows, "via": via},
        )
    return result


# --- Erasure ---------------------------------------------------------------------------------------


def erase_person(*, email: str, actor: User | None, via: str = "command") -> Erasure:
    """Remove or anonymise the person everywhere, in one transaction; returns the Erasure record.

    Each holder erases its app's part; then a sweep replaces what free text anywhere else still
    says about them; then their product user ids are blocked and the erasure recorded and audited.
    """
    with transaction.atomic():
        person = resolve_person(email)
        if person.staff_ids and not (person.contact_ids or person.user_ids):
            raise ValidationError(
                {
                    "email": _(
                        "This is the email of someone who uses Touchpoint: deactivate them on the People "
                        "page; their account is not erased."
                    )
                }
            )
        if not person.found and not _anything_names(person):
            raise ValidationError({"email": _("Touchpoint holds nothing about this email address.")})
        pseudonym = pseudonym_for(person)
        counts: dict[str, dict[str, int]] = {}
        covered: set[type] = set()
        for holder in holders:
            counts[holder.key] = {k: v for k, v in holder.erase(person, pseudonym).items() if v}
            covered.update(holder.covers)
        swept = sweep(person, pseudonym, skip=covered)
        if swept:
            counts["other"] = swept
        erasure = Erasure.objects.create(
            actor=actor if actor is not None and actor.pk else None,
            email_digest=digest(person.email),
            pseudonym=pseudonym,
            counts={key: value for key, value in counts.items() if value},
        )
        blocked = {digest(value) for value in person.user_ids if value}
        BlockedIdentifier.objects.bulk_create(
            [BlockedIdentifier(digest=value, erasure=erasure) for value in sorted(blocked)],
            ignore_conflicts=True,
        )
        audit.append(
            actor=actor,
            action="privacy.erase",
            object_type=Erasure._meta.label_lower,
            object_id=str(erasure.pk),
            object_repr=pseudonym,
            changes={
                "email_digest": erasure.email_digest,
                "counts": erasure.counts,
                "blocked_ids": len(blocked),
                "via": via,
            },
        )
    return erasure


def _text_columns(model: type[models.Model]) -> list[str]:
    return [
        f.attname
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField)
        and not f.primary_key
        and not f.choices
    ]


# Never swept: the audit log (redacted by its holder through redact_entries) and the privacy records.
_NOT_SWEPT = {AuditLogEntry, AuditRedaction, Erasure, BlockedIdentifier}


def _mentioning(
    person: Person, skip: Collection[type]
) -> Iterator[tuple[type[models.Model], list[str], Any]]:
    """Per model outside `skip` (and never the audit log or the privacy records) with text columns:
    the model, those columns, and its rows whose text names the person."""
    for model in apps.get_models():
        if model in _NOT_SWEPT or model in skip or model._meta.proxy or not model._meta.managed:
            continue
        fields = _text_columns(model)
        if fields:
            yield model, fields, model._default_manager.filter(person.mentions(*fields))


def sweep(person: Person, pseudonym: str, *, skip: Collection[type] = ()) -> dict[str, int]:
    """Replace the person's needles in the text of every other model's rows; {table: rows changed}."""
    changed: dict[str, int] = {}
    if not person.needles:
        return changed
    for model, fields, queryset in _mentioning(person, skip):
        count = scrub_rows(queryset, person, pseudonym, fields)
        if count:
            changed[model._meta.label_lower] = count
    return changed


def other_mentions(person: Person) -> dict[str, Any]:
    """Rows outside every holder's models whose text names the person (what the sweep would rewrite)."""
    covered = {model for holder in holders for model in holder.covers}
    found: dict[str, Any] = {}
    if not person.needles:
        return found
    for model, _fields, queryset in _mentioning(person, covered):
        matched = rows(queryset.order_by("pk")[:10_000])
        if matched:
            found[model._meta.label_lower] = matched
    return found


def _anything_names(person: Person) -> bool:
    return any(queryset.exists() for _model, _fields, queryset in _mentioning(person, ()))
