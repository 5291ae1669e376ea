"""Key features as a YAML file: read one with problems that name the line and the column, and write
every key feature back as a file that applies to the same set.

    features = validate_text(text)     # [Wanted, ...], or DocumentError (every problem, line and column)
    problems_of(text)                  # the same problems as a list (never raises)
    export_text()                      # every key feature, as YAML

The file:

    key_features:
      - event: Report created          # as it appears in the rollups (a track name, or "page: Name")
        label: Reports                 # optional; a feature listed without one has no label
      - event: "page: Dashboard"

Reading goes through the shared YAML reader (touchpoint/yaml_text.py), as journeys and readiness
maps do: YAML 1.2's core schema, a key given twice is a problem, and pydantic's errors are said as
sentences at their line and column.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, cast

import pydantic
import yaml
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field

from touchpoint.usage.key_features import Wanted
from touchpoint.usage.models import KeyFeature
from touchpoint.yaml_text import (
    Builder,
    DocumentError,
    Dumper,
    Problem,
    Vocabulary,
    load,
    mapping_items,
    model_keys,
    nul_problems,
    path_text,
    place,
    schema_problems,
    within,
)

__all__ = ["DocumentError", "Problem", "export_text", "problems_of", "validate_text"]

EVENT_LIMIT = cast(int, KeyFeature._meta.get_field("event").max_length)
LABEL_LIMIT = cast(int, KeyFeature._meta.get_field("label").max_length)


class FeatureDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    event: str = Field(min_length=1, max_length=EVENT_LIMIT)
    label: str = Field("", max_length=LABEL_LIMIT)


class KeyFeaturesDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    key_features: list[FeatureDefinition]


@functools.cache
def _known_keys() -> list[str]:
    return model_keys(sys.modules[__name__])


def _twice(data: dict[str, Any], builder: Builder) -> list[Problem]:
    """An event listed twice, at the second listing (the first would win silently otherwise)."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, item in mapping_items(data, "key_features"):
        event = item.get("event")
        if not isinstance(event, str) or not event.strip():
            continue
        event = event.strip()
        if event in seen:
            path = ("key_features", index, "event")
            line, column = place(builder, path, on_key=False)
            first_line, _column = place(builder, ("key_features", seen[event], "event"), on_key=False)
            problems.append(
                Problem(
                    line,
                    column,
                    path_text(path),
                    _("the event “%(event)s” is listed twice (first on line %(line)d)")
                    % {"event": event, "line": first_line},
                )
            )
        else:
            seen[event] = index
    return problems


_VOCABULARY = Vocabulary(known_keys=_known_keys)


def _checked(text: Any) -> tuple[list[Wanted] | None, list[Problem]]:
    if not isinstance(text, str):
        return None, [Problem(1, 1, "", _("a key-features file is text"))]
    data, builder, problems = load(
        text,
        empty=_("the text is empty: expected “key_features:” and a list of events"),
        not_a_mapping=_("a key-features file is a mapping: “key_features:” and a list of events under it"),
        too_many_values=_("the text expands to more than %(max)d values (aliases?)"),
    )
    if problems:
        return None, [within(problem, text) for problem in problems]
    for path, message in nul_problems(data):
        line, column = place(builder, path, on_key=False)
        problems.append(Problem(line, column, path_text(path), message))
    definition = None
    if not problems:
        try:
            definition = KeyFeaturesDefinition.model_validate(data)
        except pydantic.ValidationError as error:
            problems = schema_problems(data, builder, error, _VOCABULARY) or [
                Problem(1, 1, "", _("this is not a key-features file"))
            ]
        problems += _twice(data, builder)
    problems = sorted((within(problem, text) for problem in problems), key=lambda p: (p.line, p.column))
    if problems or definition is None:
        return None, problems
    return [Wanted(event=item.event, label=item.label) for item in definition.key_features], []


def problems_of(text: str) -> list[Problem]:
    """Every problem of a key-features text, in the order of the text; empty when it is good to apply."""
    return _checked(text)[1]


def validate_text(text: str) -> list[Wanted]:
    """The key features a YAML text lists; DocumentError (every problem, with line and column) if any."""
    features, problems = _checked(text)
    if problems or features is None:
        raise DocumentError(problems or [Problem(1, 1, "", _("this is not a key-features file"))])
    return features


class _Dumper(Dumper):
    """Lists indented under their key, as people write them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def export_text() -> str:
    """Every key feature as a file `touchpoint keyfeature apply` reads back to the same set."""
    features = [
        {"event": event, **({"label": label} if label else {})}
        for event, label in KeyFeature.objects.order_by("event").values_list("event", "label")
    ]
    body = yaml.dump(
        {"key_features": features},
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1000,
    )
    header = (
        "# Key features: the events that count towards breadth of adoption.\n"
        "# Apply with `touchpoint keyfeature apply FILE` (add --prune to remove those not listed).\n"
    )
    return header + body
