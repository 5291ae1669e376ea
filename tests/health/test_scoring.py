"""Properties of the score: in range, monotone in each measure, unknowns left out of the weighting."""

from __future__ import annotations

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
        rules.append(MeasureRule(measure=key, weight=weight, green=green, red=red))
    if sum(rule.weight for rule in rules) == 0:
        rules[0] = MeasureRule(rules[0].measure, 1.0, rules[0].green, rules[0].red)
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
def test_unknown_measures_are_left_out_not_counted_as_zero(definition, measured):
    known = {key: value for key, value in measured.items() if value is not None}
    only_known_rules = Definition(rules=tuple(r for r in definition.rules if r.measure in known))
    expected = score(known, only_known_rules) if only_known_rules.rules else None
    assert score(measured, definition) == expected
    # Adding an unknown never changes the score, whatever its weight.
    unknown_key = next((k for k in KEYS if k not in known), None)
    if unknown_key is not None and expected is not None:
        heavier = Definition(rules=(*only_known_rules.rules, MeasureRule(unknown_key, 1000.0, 1.0, 0.0)))
        assert score(known, heavier) == expected


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
