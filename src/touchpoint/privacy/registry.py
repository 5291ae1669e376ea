"""The privacy seam: every app that can hold a person registers a `Holder` here.

An app registers from its own `privacy.py`, imported in its AppConfig.ready():

    from touchpoint.privacy.registry import Holder, holders, identities
    holders.add(Holder(key="surveys", label=_("Surveys"), find=find, erase=erase))

`find(person)` returns what the app holds about the person as JSON-ready data (one file of the
export); `erase(person, pseudonym)` removes or anonymises it and returns counts ({what: rows}).
`identities.add(fn)` lets an app add what it knows about the person before the holders run
(`fn(person)` adds product user ids, names, emails or addresses to the person's sets).
The privacy app names no domain app: the shared apps' holders live in privacy/holders.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model, Q
from django.utils.functional import Promise

# A needle shorter than this is never searched for in free text: "Al" or "42" would match everywhere.
MIN_TEXT_NEEDLE = 4


@dataclass
class Person:
    """Everything that identifies one person, resolved from an email address.

    `contact_ids`: the contacts with that email (any account); `user_ids`: the product userIds and
    anonymousIds linked to them; `staff_ids`: the Touchpoint users with that email (exported, never
    erased). `names`, `emails`, `phones`, `addresses` (IP addresses) are the strings that name them
    in free text: what erasure replaces and what the export searches for.
    """

    email: str
    contact_ids: set[int] = field(default_factory=set)
    user_ids: set[str] = field(default_factory=set)
    staff_ids: set[int] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    addresses: set[str] = field(default_factory=set)

    @property
    def needles(self) -> list[str]:
        """The strings that name the person, longest first (so an email goes before the name in it)."""
        values = {
            v.strip()
            for v in (self.email, *self.emails, *self.names, *self.phones, *self.user_ids, *self.addresses)
        }
        return sorted((v for v in values if len(v) >= MIN_TEXT_NEEDLE), key=lambda v: (-len(v), v))

    @property
    def found(self) -> bool:
        return bool(self.contact_ids or self.user_ids or self.staff_ids)

    def mentions(self, *fields: str) -> Q:
        """Rows whose text fields contain any of the needles (case-insensitive); matches nothing without needles."""
        query = Q(pk__in=[])
        for name in fields:
            for needle in self.needles:
                query |= Q(**{f"{name}__icontains": needle})
        return query

    def _pattern(self) -> re.Pattern[str] | None:
        needles = self.needles
        if not needles:
            return None
        return re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE)

    def names_in(self, value: Any) -> bool:
        pattern = self._pattern()
        if pattern is None:
            return False
        if isinstance(value, str):
            return bool(pattern.search(value))
        if isinstance(value, dict):
            return any(self.names_in(k) or self.names_in(v) for k, v in value.items())
        if isinstance(value, list | tuple):
            return any(self.names_in(v) for v in value)
        return False

    def scrub(self, value: Any, pseudonym: str) -> Any:
        """`value` (text, or JSON: dicts, lists) with every needle replaced by `pseudonym`."""
        pattern = self._pattern()
        if pattern is None:
            return value
        return _scrub(value, pattern, pseudonym)


def _scrub(value: Any, pattern: re.Pattern[str], pseudonym: str) -> Any:
    if isinstance(value, str):
        return pattern.sub(pseudonym, value)
    if isinstance(value, dict):
        return {_scrub(k, pattern, pseudonym): _scrub(v, pattern, pseudonym) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, pattern, pseudonym) for v in value]
    return value


Find = Callable[[Person], dict[str, Any]]
Erase = Callable[[Person, str], dict[str, int]]


@dataclass(frozen=True)
class Holder:
    key: str  # the export's file name (<key>.json) and the key of the erasure's counts
    label: str | Promise
    find: Find
    erase: Erase
    order: int = 100
    # Models whose rows this holder handles in full: the final sweep for leftover mentions skips them
    # (a holder names them when searching their free text would cost a scan of a huge table).
    covers: tuple[type, ...] = ()


class HolderRegistry:
    def __init__(self) -> None:
        self._holders: dict[str, Holder] = {}

    def add(self, holder: Holder) -> None:
        self._holders[holder.key] = holder

    def __iter__(self):
        return iter(sorted(self._holders.values(), key=lambda h: (h.order, h.key)))

    def __len__(self) -> int:
        return len(self._holders)

    def keys(self) -> list[str]:
        return [h.key for h in self]


class IdentityRegistry:
    def __init__(self) -> None:
        self._sources: dict[str, Callable[[Person], None]] = {}

    def add(self, fn: Callable[[Person], None], *, key: str | None = None) -> None:
        self._sources[key or f"{fn.__module__}.{fn.__qualname__}"] = fn

    def __iter__(self):
        return iter(list(self._sources.values()))


holders = HolderRegistry()
identities = IdentityRegistry()


# --- Helpers for holders --------------------------------------------------------------------------


def rows(queryset: Iterable[Any], *, exclude: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Model rows as JSON-ready dicts (every concrete field; foreign keys as ids)."""
    out = []
    for obj in queryset:
        row = {}
        for f in obj._meta.concrete_fields:
            if f.attname in exclude or f.name in exclude:
                continue
            row[f.attname] = getattr(obj, f.attname)
        out.append(json.loads(json.dumps(row, cls=DjangoJSONEncoder)))
    return out


def scrub_rows(queryset: Any, person: Person, pseudonym: str, fields: Iterable[str]) -> int:
    """Replace the person's needles in `fields` of every row of `queryset`; returns rows changed."""
    return len(_scrub_rows(queryset, person, pseudonym, fields))


def _scrub_rows(queryset: Any, person: Person, pseudonym: str, fields: Iterable[str]) -> set[Any]:
    fields = list(fields)
    changed = set()
    for obj in queryset.only("pk", *fields):
        updates = {}
        for name in fields:
            before = getattr(obj, name)
            after = person.scrub(before, pseudonym)
            if after != before:
                updates[name] = after
        if updates:
            type(obj)._default_manager.filter(pk=obj.pk).update(**updates)
            changed.add(obj.pk)
    return changed


@dataclass(frozen=True)
class Part:
    """One model's rows about a person, for `parts_holder`.

    `about(person)` selects the rows linked to the person (by contact id, email…); `text` are the
    fields whose free text may name them (those rows and any other row naming them are scrubbed);
    `erase` is what happens to the linked rows: "keep" (only `clear` and the text scrub: the rows
    feed counts), or "delete" (rows that exist only to reach the person again).
    """

    model: type[Model]
    about: Callable[[Person], Q] | None = None
    text: tuple[str, ...] = ()
    erase: str = "keep"
    # Field values set on the linked rows: a value, or a callable of the pseudonym.
    clear: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.erase not in ("keep", "delete"):
            raise ValueError(f"Part({self.model.__name__}).erase is 'keep' or 'delete', not {self.erase!r}")
        if self.erase == "delete" and self.clear:
            raise ValueError(f"Part({self.model.__name__}): deleted rows have nothing to clear")

    def queryset(self, person: Person) -> Any:
        query = self.about(person) if self.about is not None else Q(pk__in=[])
        return self.model._default_manager.filter(query | person.mentions(*self.text)).distinct()

    def linked(self, person: Person) -> Any:
        if self.about is None:
            return self.model._default_manager.none()
        return self.model._default_manager.filter(self.about(person))


def parts_holder(key: str, label: str | Promise, parts: Iterable[Part], *, order: int = 100) -> Holder:
    """A holder that exports and erases the rows of `parts` (one list per model in the export)."""
    parts = tuple(parts)

    def find(person: Person) -> dict[str, Any]:
        return {part.model._meta.label_lower: rows(part.queryset(person).order_by("pk")) for part in parts}

    def erase(person: Person, pseudonym: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for part in parts:
            linked = set(part.linked(person).values_list("pk", flat=True))
            if part.erase == "delete":
                part.model._default_manager.filter(pk__in=linked).delete()
            elif part.clear and linked:
                values = {k: (v(pseudonym) if callable(v) else v) for k, v in part.clear.items()}
                part.model._default_manager.filter(pk__in=linked).update(**values)
            else:
                linked = set()  # linked rows that stay as they are were not changed
            scrubbed = (
                _scrub_rows(part.queryset(person), person, pseudonym, part.text) if part.text else set()
            )
            counts[part.model._meta.label_lower] = len(linked | scrubbed)
        return counts

    return Holder(
        key=key, label=label, find=find, erase=erase, order=order, covers=tuple(p.model for p in parts)
    )


def contact_of(field_name: str = "contact") -> Callable[[Person], Q]:
    """`about` for rows with a foreign key to the person's contacts."""
    return lambda person: Q(**{f"{field_name}__in": person.contact_ids})
