"""Properties of the score: in range, monotone in each measure, a measure without data scored as a
state of its own (its "points without data"), never left out with the others rescaled."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from touchpoint.health.scoring import Definition, MeasureRule, grade, measure_points, score

KEYS = ["a", "b", "c", "d"]
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@st.composite
def definitions(draw, positive: bool = False):
    rules = []
    for key in draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=4, unique=True)):
        green = draw(finite)
        red = draw(finite.filter(lambda value, green=green: abs(value - green) > 1e-3))
        weight = draw(st.floats(min_value=0.01 if positive else 0, max_value=100))
        missing = draw(st.floats(min_value=0, max_value=100))
        rules.append(MeasureRule(measure=key, weight=weight, green=green, red=red, missing=missing))
    if sum(rule.weight for rule in rules) == 0:
        rules[0] = MeasureRule(rules[0].measure, 1.0, rules[0].green, rules[0].red, rules[0].missing)
    return Definition(rules=tuple(rules))


values = st.dictionaries(st.sampled_from(KEYS), st.one_of(st.none(), finite))


@given(definitions(), values)
def test_score_stays_between_0_and_100(definition, measured):
    result = score(measured, definition)
    assert result is None or 0 <= result <= 100


@given(definitions(positive=True), values, st.sampled_from(KEYS), st.floats(min_value=0, max_value=1e6))
def test_improving_one_measure_never_lowers_the_score(definition, measured, key, step):
    rule = next((r for r in definition.rules if r.measure == key), None)
    if rule is None or measured.get(key) is None:
        return
    better = dict(measured)
    better[key] = measured[key] + (step if rule.green > rule.red else -step)
    assert score(better, definition) >= score(measured, definition) - 1e-9


@given(definitions(positive=True), values)
def test_a_measure_without_data_counts_at_its_points_without_data(definition, measured):
    known = {key: value for key, value in measured.items() if value is not None}
    if not any(rule.measure in known for rule in definition.rules):
        assert score(measured, definition) is None  # no data at all: no score, not a made-up one
        return
    # The same as giving each missing measure a value that earns exactly its "no data" points.
    total = sum(
        rule.weight
        * (
            measure_points(known[rule.measure], green=rule.green, red=rule.red)
            if rule.measure in known
            else rule.missing
        )
        for rule in definition.rules
    )
    expected = total / sum(rule.weight for rule in definition.rules)
    assert score(measured, definition) == pytest.approx(min(100.0, max(0.0, expected)))


@given(definitions(positive=True), values, st.floats(min_value=0, max_value=100))
def test_missing_data_never_lifts_an_account_above_its_points_without_data(definition, measured, low):
    """The newest accounts must not look healthiest: with "no data" worth `low` points, an account
    missing a measure scores exactly as one whose value there earns `low` points."""
    key = definition.rules[0].measure
    if not any(measured.get(rule.measure) is not None for rule in definition.rules if rule.measure != key):
        return
    rule = definition.rules[0]
    lowered = Definition(
        rules=(MeasureRule(key, rule.weight, rule.green, rule.red, low), *definition.rules[1:])
    )
    without = {**measured, key: None}
    # A value on the red side earns 0 points: "no data" at `low` points is never below it.
    at_red = {**measured, key: rule.red}
    assert score(without, lowered) >= score(at_red, lowered) - 1e-9


@given(
    st.floats(min_value=-1e3, max_value=1e3),
    st.floats(min_value=-1e3, max_value=1e3),
    st.floats(min_value=-1e3, max_value=1e3),
)
def test_points_are_0_at_red_and_100_at_green(value, green, red):
    if abs(green - red) < 1e-6:
        return
    assert measure_points(green, green=green, red=red) == 100
    assert measure_points(red, green=green, red=red) == 0
    assert 0 <= measure_points(value, green=green, red=red) <= 100


def test_grade_thresholds():
    definition = Definition(rules=(MeasureRule("a", 1, 1, 0),), green_at=70, red_below=40)
    assert [grade(v, definition) for v in (None, 39.9, 40, 69.9, 70)] == [
        "unknown",
        "red",
        "yellow",
        "yellow",
        "green",
    ]
