"""How measure values become a 0–100 score and a grade: pure functions, no ORM.

The recompute does the same arithmetic in SQL (see `recompute.py`); tests hold the two equal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DEFAULT_GREEN_AT = 70.0
DEFAULT_RED_BELOW = 40.0
# Weights are relative (the score is a weighted mean), so 0–100 says everything a scorecard needs;
# a weight of a billion is a typo that would drown every other measure.
MAX_WEIGHT = 100.0
# Thresholds are in the measure's own unit (days, percent, seats…); past this they are typos too.
MAX_THRESHOLD = 1e9
# What a measure without a value earns unless the scorecard (or a fit) says otherwise: halfway, so
# "no data yet" neither lifts an account to green nor sinks it to red. It is never left out of the
# weighting: dropping it would rescale the others and make the newest accounts look the healthiest.
DEFAULT_MISSING_POINTS = 50.0


@dataclass(frozen=True)
class MeasureRule:
    measure: str
    weight: float
    green: float  # the value that earns all 100 points
    red: float  # the value that earns none
    missing: float = DEFAULT_MISSING_POINTS  # the points when the measure has no value for the account

    def as_dict(self) -> dict:
        return {
            "measure": self.measure,
            "weight": self.weight,
            "green": self.green,
            "red": self.red,
            "missing": self.missing,
        }


@dataclass(frozen=True)
class Definition:
    """What a scorecard version holds: the rules per measure and where the grades start."""

    rules: tuple[MeasureRule, ...]
    green_at: float = DEFAULT_GREEN_AT
    red_below: float = DEFAULT_RED_BELOW
    extra: dict = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict:
        return {
            "measures": [rule.as_dict() for rule in self.rules],
            "grades": {"green": self.green_at, "red": self.red_below},
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> Definition:
        """Read and validate a definition (from JSON, YAML or a form); errors name the field."""
        errors: dict[str, list[str]] = {}
        from touchpoint.health.measures import get_measure

        rules = []
        raw_measures = data.get("measures") if isinstance(data, Mapping) else None
        if not isinstance(raw_measures, list) or not raw_measures:
            raise ValidationError({"measures": _("List at least one measure.")})
        seen = set()
        for index, raw in enumerate(raw_measures):
            where = f"measures.{index}"
            if not isinstance(raw, Mapping):
                errors.setdefault(where, []).append(
                    _("Expected a mapping with measure, weight, green and red.")
                )
                continue
            key = str(raw.get("measure", ""))
            if get_measure(key) is None:
                errors.setdefault(f"{where}.measure", []).append(
                    _("Unknown measure “%(key)s”.") % {"key": key}
                )
                continue
            if key in seen:
                errors.setdefault(f"{where}.measure", []).append(
                    _("Measure “%(key)s” is listed twice.") % {"key": key}
                )
                continue
            seen.add(key)
            numbers = {}
            for name in ("weight", "green", "red"):
                try:
                    numbers[name] = float(raw[name])
                except (KeyError, TypeError, ValueError):
                    errors.setdefault(f"{where}.{name}", []).append(_("Enter a number."))
            if len(numbers) < 3:
                continue
            if not all(math.isfinite(value) for value in numbers.values()):
                for name, value in numbers.items():
                    if not math.isfinite(value):
                        errors.setdefault(f"{where}.{name}", []).append(_("Enter a finite number."))
                continue
            if numbers["weight"] < 0:
                errors.setdefault(f"{where}.weight", []).append(_("A weight cannot be negative."))
            elif numbers["weight"] > MAX_WEIGHT:
                errors.setdefault(f"{where}.weight", []).append(
                    _("A weight is at most %(max)s (weights are relative to each other).")
                    % {"max": int(MAX_WEIGHT)}
                )
            for name in ("green", "red"):
                if abs(numbers[name]) > MAX_THRESHOLD:
                    errors.setdefault(f"{where}.{name}", []).append(
                        _("Use a threshold between -1,000,000,000 and 1,000,000,000.")
                    )
            if numbers["green"] == numbers["red"]:
                errors.setdefault(f"{where}.green", []).append(_("Green and red thresholds must differ."))
            missing = raw.get("missing", DEFAULT_MISSING_POINTS)
            try:
                numbers["missing"] = float(DEFAULT_MISSING_POINTS if missing is None else missing)
            except (TypeError, ValueError):
                errors.setdefault(f"{where}.missing", []).append(_("Enter a number."))
                continue
            if not 0 <= numbers["missing"] <= 100:  # also refuses NaN
                errors.setdefault(f"{where}.missing", []).append(
                    _("Points without data are between 0 and 100.")
                )
            rules.append(MeasureRule(measure=key, **numbers))
        grades = data.get("grades") or {}
        try:
            green_at = float(grades.get("green", DEFAULT_GREEN_AT))
            red_below = float(grades.get("red", DEFAULT_RED_BELOW))
        except (TypeError, ValueError, AttributeError):
            errors.setdefault("grades", []).append(_("Grade thresholds must be numbers."))
            green_at, red_below = DEFAULT_GREEN_AT, DEFAULT_RED_BELOW
        if not 0 <= red_below <= green_at <= 100:
            errors.setdefault("grades", []).append(_("Need 0 ≤ red ≤ green ≤ 100 for the grade thresholds."))
        if rules and not errors and sum(rule.weight for rule in rules) <= 0:
            errors.setdefault("measures", []).append(_("At least one measure needs a weight above zero."))
        if errors:
            raise ValidationError(errors)
        return cls(rules=tuple(rules), green_at=green_at, red_below=red_below)


def measure_points(value: float, *, green: float, red: float) -> float:
    """0–100 points for a measure value: 0 at (or beyond) red, 100 at (or beyond) green, linear between."""
    share = (value - red) / (green - red)
    return 100.0 * min(1.0, max(0.0, share))


def rule_points(value: float | None, rule: MeasureRule) -> float:
    """A rule's points for a value, or its points for "no data" when there is none."""
    if value is None:
        return rule.missing
    return measure_points(value, green=rule.green, red=rule.red)


def score(values: Mapping[str, float | None], definition: Definition) -> float | None:
    """The weighted mean of every rule's points; None when no measure that is evidence (see
    `Measure.evidence`) has a value for the account.

    A measure without a value (missing or None) keeps its weight and earns the rule's `missing`
    points: "not enough data" is a state of its own, not a reason to rescale the others.
    """
    from touchpoint.health.measures import get_measure

    total = 0.0
    weights = 0.0
    known = 0
    for rule in definition.rules:
        value = values.get(rule.measure)
        measure = get_measure(rule.measure)
        # A measure such as tenure is known for every account: alone it is no data to score on.
        known += value is not None and (measure is None or measure.evidence)
        total += rule.weight * rule_points(value, rule)
        weights += rule.weight
    if weights <= 0 or not known:
        return None
    return min(100.0, max(0.0, total / weights))


def grade(value: float | None, definition: Definition) -> str:
    if value is None:
        return "unknown"
    if value >= definition.green_at:
        return "green"
    if value < definition.red_below:
        return "red"
    return "yellow"


def contributions(measures: Mapping[str, Mapping]) -> dict[str, float]:
    """Points each measure adds to the score (they sum to the score), from a stored row: measures
    without data are stored with their "no data" points (older rows left them out)."""
    weights = sum(float(entry["weight"]) for entry in measures.values())
    if weights <= 0:
        return {key: 0.0 for key in measures}
    return {key: float(entry["weight"]) * float(entry["points"]) / weights for key, entry in measures.items()}


def default_definition() -> Definition:
    from touchpoint.health.measures import registered_measures

    return Definition(
        rules=tuple(
            MeasureRule(measure=m.key, weight=float(m.weight), green=float(m.green), red=float(m.red))
            for m in registered_measures()
        )
    )


def _number(value: float) -> str:
    return f"{value:g}"


def describe_changes(old: Definition | None, new: Definition, labels: Mapping[str, str]) -> list[str]:
    """What changed from one version to the next, one line per change, in the active language:
    "Weight of Logins 20 → 30". `labels` names each measure (its key when missing)."""
    if old is None:
        return []
    lines: list[str] = []
    before = {rule.measure: rule for rule in old.rules}
    after = {rule.measure: rule for rule in new.rules}
    for key, rule in after.items():
        name = labels.get(key, key)
        previous = before.get(key)
        if previous is None:
            lines.append(
                _("%(measure)s added (weight %(weight)s)") % {"measure": name, "weight": _number(rule.weight)}
            )
            continue
        for part, label in (
            ("weight", _("Weight of %(measure)s")),
            ("green", _("Green of %(measure)s")),
            ("red", _("Red of %(measure)s")),
            ("missing", _("Points without data of %(measure)s")),
        ):
            was, now = getattr(previous, part), getattr(rule, part)
            if was != now:
                lines.append(f"{label % {'measure': name}} {_number(was)} → {_number(now)}")
    for key in before:
        if key not in after:
            lines.append(_("%(measure)s removed") % {"measure": labels.get(key, key)})
    if old.green_at != new.green_at:
        lines.append(f"{_('Green from score')} {_number(old.green_at)} → {_number(new.green_at)}")
    if old.red_below != new.red_below:
        lines.append(f"{_('Red below score')} {_number(old.red_below)} → {_number(new.red_below)}")
    return lines
