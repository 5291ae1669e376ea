"""A map's shape as plain data: what the shipped template, another map or a YAML text give to
`services.create_map` and `services.apply_structure`. Texts are in one language here; the template's
four languages are resolved before (readiness/library.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class StageShape:
    key: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class FunctionShape:
    key: str
    name: str
    lead_email: str = ""


@dataclass(frozen=True)
class QuestionShape:
    question: str
    answer: str = ""  # Answer values; "" is not answered
    note: str = ""
    evidence_url: str = ""


@dataclass(frozen=True)
class TouchpointShape:
    key: str
    stage: str
    function: str
    name: str
    description: str = ""
    owner_email: str = ""
    due_on: date | None = None
    status: str = ""  # set by hand (with `status_reason`); "" follows the checklist
    status_reason: str = ""
    checklist: tuple[QuestionShape, ...] = ()
    links: tuple[tuple[str, str], ...] = ()  # (kind, target)


@dataclass(frozen=True)
class MapShape:
    key: str
    name: str
    kind: str = "product"
    product: str = ""
    description: str = ""
    launch_on: date | None = None
    owner_email: str = ""
    stages: tuple[StageShape, ...] = ()
    functions: tuple[FunctionShape, ...] = ()
    touchpoints: tuple[TouchpointShape, ...] = field(default=())
