"""The shape of a readiness map as text: what a map's YAML file may say, checked by pydantic.

    key: billing-v2                    # the map's key: applying the text again updates this map
    name: Billing v2 launch
    kind: release                      # product (the default), release, market or plan
    product: Touchpoint Cloud
    launch_on: 2027-03-01
    owner: pm@example.com              # a user's email
    stages:                            # the columns, in order
      - {key: hear, name: Hear of it}
      - {key: buy, name: Buy it}
    functions:                         # the rows, in order
      - {key: marketing, name: Marketing, lead: lead@example.com}
    touchpoints:
      - key: pricing-page
        stage: buy
        function: marketing
        name: Pricing page
        owner: someone@example.com
        due_on: 2027-02-01
        status: not_applicable         # set by hand, with a reason; left out, the checklist decides
        reason: No hardware in this launch
        checklist:
          - Is every plan on the page?                     # a question not answered yet
          - {question: Prices in every currency?, answer: partly, note: EUR missing,
             evidence: "https://example.com/pricing"}
        links:
          - {kind: journey, target: welcome}

This module knows only shapes and the rules that need no database (keys unique, touchpoints in the
map's stages and functions, a reason with every status set by hand). What needs the database (do the
people exist? is the link kind installed?) is checked by readiness/documents.py, which also turns
pydantic's errors into "line N, column M: …". Rule messages are English and Django-free here;
documents.py says them through gettext.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

# The same limits as readiness/services.py (kept apart so that this module needs no Django; a test
# checks that they agree).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
MAX_TOUCHPOINTS = 500
MAX_QUESTIONS = 30
MAX_ROWS = 30

KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
Key = Annotated[str, Field(min_length=1, max_length=64, pattern=KEY_PATTERN)]
Email = Annotated[str, Field(max_length=254)]
MapKindName = Literal["product", "release", "market", "plan"]
StatusName = Literal["", "ready", "gap", "at_risk", "not_applicable"]
AnswerName = Literal["", "yes", "partly", "no", "not_applicable"]

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DAY_FORM = "a date is written YYYY-MM-DD, like 2027-03-01"
NOT_A_DAY = "this day is not in the calendar"
DAY_RANGE = f"give a date between {FIRST_DAY} and {LAST_DAY}"
NOT_A_QUESTION = "a checklist item is a question, or a mapping with question: and answer:"


def _day(value: Any) -> Any:
    """YAML 1.2 reads dates as text: parse them here, and only them (pydantic would read a number
    as seconds since 1970)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    elif isinstance(value, str) and _DAY.match(value.strip()):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(NOT_A_DAY) from None
    else:
        raise ValueError(DAY_FORM)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(DAY_RANGE)
    return day


def _target(value: Any) -> Any:
    """A link's target is the kind's key or id as text; an id written as a number is meant as text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _question(value: Any) -> Any:
    """A bare question is short for {question: …} (not answered yet)."""
    if isinstance(value, str):
        return {"question": value}
    if not isinstance(value, dict):
        raise ValueError(NOT_A_QUESTION)
    return value


Day = Annotated[date, BeforeValidator(_day)]


class Strict(BaseModel):
    # Surrounding spaces are dropped as the services drop them, so what is checked is what is stored.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class StageDef(Strict):
    key: Key
    name: Annotated[str, Field(min_length=1, max_length=120)]
    description: Annotated[str, Field(max_length=500)] = ""


class FunctionDef(Strict):
    key: Key
    name: Annotated[str, Field(min_length=1, max_length=120)]
    lead: Email = ""


class QuestionDef(Strict):
    question: Annotated[str, Field(min_length=1, max_length=500)]
    answer: AnswerName = ""
    note: Annotated[str, Field(max_length=5000)] = ""
    evidence: Annotated[str, Field(max_length=500)] = ""


class LinkDef(Strict):
    kind: Annotated[str, Field(min_length=1, max_length=32)]
    target: Annotated[str, Field(min_length=1, max_length=128), BeforeValidator(_target)]


class TouchpointDef(Strict):
    key: Key
    stage: Key
    function: Key
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=5000)] = ""
    owner: Email = ""
    due_on: Day | None = None
    status: StatusName = ""
    reason: Annotated[str, Field(max_length=500)] = ""
    checklist: list[Annotated[QuestionDef, BeforeValidator(_question)]] = Field(
        default_factory=list, max_length=MAX_QUESTIONS
    )
    links: list[LinkDef] = Field(default_factory=list, max_length=100)


class MapDefinition(Strict):
    key: Key
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: MapKindName = "product"
    product: Annotated[str, Field(max_length=200)] = ""
    description: Annotated[str, Field(max_length=5000)] = ""
    launch_on: Day | None = None
    owner: Email = ""
    stages: list[StageDef] = Field(min_length=1, max_length=MAX_ROWS)
    functions: list[FunctionDef] = Field(min_length=1, max_length=MAX_ROWS)
    touchpoints: list[TouchpointDef] = Field(default_factory=list, max_length=MAX_TOUCHPOINTS)

    @model_validator(mode="after")
    def _references(self) -> MapDefinition:
        # readiness/documents.py places each of these at its own line; pydantic gives the first.
        for label, keys in (
            ("stage", [s.key for s in self.stages]),
            ("function", [f.key for f in self.functions]),
            ("touchpoint", [t.key for t in self.touchpoints]),
        ):
            duplicates = sorted({k for k in keys if keys.count(k) > 1})
            if duplicates:
                raise ValueError(f"{label} keys must be unique: {', '.join(duplicates)}")
        stages = {s.key for s in self.stages}
        functions = {f.key for f in self.functions}
        for touchpoint in self.touchpoints:
            if touchpoint.stage not in stages:
                raise ValueError(f"touchpoint {touchpoint.key}: no stage {touchpoint.stage} in this map")
            if touchpoint.function not in functions:
                raise ValueError(
                    f"touchpoint {touchpoint.key}: no function {touchpoint.function} in this map"
                )
            if touchpoint.status and not touchpoint.reason:
                raise ValueError(f"touchpoint {touchpoint.key}: a status set by hand needs a reason")
            if touchpoint.reason and not touchpoint.status:
                raise ValueError(f"touchpoint {touchpoint.key}: a reason goes with a status set by hand")
        return self


def parse(data: Any) -> MapDefinition:
    """The map in `data` (a dict read from YAML or JSON); raises pydantic.ValidationError."""
    return MapDefinition.model_validate(data)
