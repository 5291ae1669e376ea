"""The shipped templates (library/*.yaml): a map's stages, functions and touchpoints with their
checklist questions, written in English, Japanese, Russian and Thai. A new map takes the texts in the
language of the person who makes it (English where a text lacks that language)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from touchpoint.readiness.structure import FunctionShape, MapShape, QuestionShape, StageShape, TouchpointShape

LIBRARY = Path(__file__).parent / "library"
FALLBACK = "en"


@functools.cache
def _raw(key: str) -> dict[str, Any]:
    path = LIBRARY / f"{key}.yaml"
    if not path.is_file() or not key.replace("-", "").isalnum():
        raise KeyError(key)
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def template_keys() -> list[str]:
    return sorted(path.stem for path in LIBRARY.glob("*.yaml"))


def _in(text: Any, language: str) -> str:
    if isinstance(text, dict):
        return str(text.get(language) or text.get(FALLBACK) or "")
    return "" if text is None else str(text)


def _language(language: str) -> str:
    return (language or FALLBACK).split("-")[0].split("_")[0].lower()


def template_name(key: str, language: str) -> str:
    return _in(_raw(key)["name"], _language(language))


def template(key: str, language: str) -> MapShape:
    """The template `key` in `language` (a language code such as "ja"; "ja-jp" reads as "ja")."""
    language = _language(language)
    raw = _raw(key)
    return MapShape(
        key=key,
        name=_in(raw["name"], language),
        description=_in(raw.get("description"), language),
        stages=tuple(
            StageShape(
                key=s["key"], name=_in(s["name"], language), description=_in(s.get("description"), language)
            )
            for s in raw["stages"]
        ),
        functions=tuple(FunctionShape(key=f["key"], name=_in(f["name"], language)) for f in raw["functions"]),
        touchpoints=tuple(
            TouchpointShape(
                key=t["key"],
                stage=t["stage"],
                function=t["function"],
                name=_in(t["name"], language),
                description=_in(t.get("description"), language),
                checklist=tuple(QuestionShape(question=_in(q, language)) for q in t.get("checklist", ())),
            )
            for t in raw["touchpoints"]
        ),
    )
