"""The journeys Touchpoint ships: one YAML file per engagement the seeds describe, ready to copy.

    for item in templates():      # welcome-series, onboarding-series, training, …
        print(item.key, item.name)
    source = template("renewal-countdown").source   # the YAML, comments and all

The files live in `journeys/library/` beside this module (package data: they ship in the wheel).
Each is a complete journey definition in English, Japanese, Russian and Thai; the builder offers
them as starting points ("new journey from a template") and `touchpoint journey apply` takes them
as they are. A template is only text here: saving it as a journey goes through
`services.save_version`, which validates it against this site's fields, playbooks and events.

A file's name is its key (`renewal-countdown.yaml` holds `key: renewal-countdown`); the tests check
that every file parses and passes the full validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

import yaml

from touchpoint.journeys.definition import parse

FOLDER = "library"
SUFFIX = ".yaml"


@dataclass(frozen=True)
class LibraryTemplate:
    key: str
    name: str  # the journey's name, in English as the file says it
    description: str
    source: str  # the YAML text


class UnknownTemplate(LookupError):
    """No shipped template has that key."""


def templates() -> list[LibraryTemplate]:
    """Every shipped template, in the order of their names."""
    return list(_load())


@cache
def _load() -> tuple[LibraryTemplate, ...]:
    """Read and check the files once per process (they change only with a new release)."""
    return read_folder(resources.files("touchpoint.journeys").joinpath(FOLDER))


def read_folder(folder: Traversable) -> tuple[LibraryTemplate, ...]:
    """The templates in a folder of YAML files, each parsed and named after its key."""
    found: list[LibraryTemplate] = []
    for entry in folder.iterdir():
        if not entry.name.endswith(SUFFIX):
            continue
        source = entry.read_text(encoding="utf-8")
        definition = parse(yaml.safe_load(source))
        stem = entry.name.removesuffix(SUFFIX)
        if definition.key != stem:
            raise ValueError(
                f"{FOLDER}/{entry.name} holds key {definition.key!r}; name the file after its key"
            )
        found.append(
            LibraryTemplate(
                key=definition.key, name=definition.name, description=definition.description, source=source
            )
        )
    return tuple(sorted(found, key=lambda item: (item.name.casefold(), item.key)))


def template(key: str) -> LibraryTemplate:
    """The shipped template with that key; UnknownTemplate when there is none."""
    for item in _load():
        if item.key == key:
            return item
    raise UnknownTemplate(key)
