"""The fields a journey's conditions may name (`account.health_grade`, `contact.role`…), as a registry.

A field reads one value of a subject *as of a moment*: the live engine asks for now, the simulation
for a moment in the past, so a resolver reads history where the data keeps it (health by day,
subscriptions by date, product events by timestamp) and today's value where it does not.

    register_field("account.health_grade", _("Health grade"), kind="choice", resolve=health_grade_at)

Two families are open-ended: `account.attributes.<key>` (the account's free-form attributes) and
`entry.<path>` (what the entry brought: a domain event's payload, a product event's properties as
`entry.properties.<key>`). `known()` accepts them; the validator refuses every other unknown name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from touchpoint.journeys.interpreter import Subject

OPEN_PREFIXES = ("account.attributes.", "entry.")

Resolver = Callable[["Subject", datetime, dict[str, Any]], Any]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: Any  # a lazy translated string
    kind: str  # "text", "number", "choice", "list" (a value per item, e.g. roles or tags), "date"
    resolve: Resolver
    choices: tuple[str, ...] = ()  # for kind "choice": the values it can take (validation, the builder)


_FIELDS: dict[str, FieldSpec] = {}


def register_field(
    name: str, label: Any, *, kind: str, resolve: Resolver, choices: tuple[str, ...] = ()
) -> FieldSpec:
    if name.startswith(OPEN_PREFIXES) or "." not in name:
        raise ValueError(f"field {name!r}: use '<subject>.<name>' outside the open prefixes {OPEN_PREFIXES}")
    spec = FieldSpec(name=name, label=label, kind=kind, resolve=resolve, choices=choices)
    _FIELDS[name] = spec
    return spec


def registered_fields() -> list[FieldSpec]:
    return sorted(_FIELDS.values(), key=lambda spec: spec.name)


def field_named(name: str) -> FieldSpec | None:
    return _FIELDS.get(name)


def known(name: str) -> bool:
    """Whether a condition may name this field (registered, or under an open prefix with a key)."""
    if name in _FIELDS:
        return True
    return any(name.startswith(prefix) and len(name) > len(prefix) for prefix in OPEN_PREFIXES)
