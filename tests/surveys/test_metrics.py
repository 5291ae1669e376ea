"""NPS, CSAT and CES as pure functions (surveys/metrics.py), with property tests."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from touchpoint.surveys import metrics

nps_scores = st.lists(st.integers(min_value=0, max_value=10), max_size=300)


def test_nps_is_promoters_minus_detractors_in_points():
    result = metrics.nps([10, 9, 9, 8, 7, 6, 0, 3, 10, 10])
    assert (result.promoters, result.passives, result.detractors) == (5, 2, 3)
    assert result.score == pytest.approx(20.0)
    assert result.count == 10


def test_no_answers_is_no_score():
    result = metrics.nps([])
    assert result.score is None and result.low is None and result.count == 0


def test_categories_follow_the_standard_cut_points():
    assert [metrics.nps_category(s) for s in (0, 6, 7, 8, 9, 10)] == [
        "detractor",
        "detractor",
        "passive",
        "passive",
        "promoter",
        "promoter",
    ]
    with pytest.raises(ValueError):
        metrics.nps_category(11)


def test_a_small_unanimous_sample_still_has_an_interval():
    # The plain Wald interval collapses to [100, 100] here; the adjusted one does not.
    result = metrics.nps([10] * 10)
    assert result.score == 100
    assert result.high == 100 and result.low < 90


def test_the_interval_matches_the_adjusted_wald_formula():
    result = metrics.nps([10] * 40 + [8] * 30 + [3] * 30)
    n = 103
    p, d = 40.75 / n, 30.75 / n
    half = 1.959964 * ((p + d - (p - d) ** 2) / n) ** 0.5
    assert result.low == pytest.approx(100 * (p - d - half), abs=1e-3)
    assert result.high == pytest.approx(100 * (p - d + half), abs=1e-3)


@given(nps_scores)
def test_nps_stays_in_range_and_the_interval_holds_it(scores):
    result = metrics.nps(scores)
    if not scores:
        assert result.score is None
        return
    assert -100 <= result.low <= result.score <= result.high <= 100
    assert result.promoters + result.passives + result.detractors == len(scores)
    expected = 100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)
    assert result.score == pytest.approx(expected)


@given(nps_scores, st.randoms())
def test_nps_ignores_the_order_of_answers(scores, random):
    shuffled = list(scores)
    random.shuffle(shuffled)
    assert metrics.nps(shuffled) == metrics.nps(scores)


@given(st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=50))
def test_more_of_the_same_answers_narrow_the_interval(scores):
    once, four_times = metrics.nps(scores), metrics.nps(scores * 4)
    assert four_times.margin <= once.margin + 1e-9


@given(st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=200))
def test_csat_average_and_share_satisfied(scores):
    result = metrics.csat(scores)
    assert result.average == pytest.approx(sum(scores) / len(scores))
    assert result.satisfied_share == pytest.approx(100 * sum(s >= 4 for s in scores) / len(scores))
    assert 1 <= result.low <= result.average <= result.high <= 5


@given(st.lists(st.integers(min_value=1, max_value=7), min_size=2, max_size=200))
def test_ces_average_with_its_interval(scores):
    result = metrics.ces(scores)
    assert 1 <= result.low <= result.average <= result.high <= 7


def test_out_of_scale_scores_are_refused():
    with pytest.raises(ValueError):
        metrics.csat([6])
    with pytest.raises(ValueError):
        metrics.ces([0])


def test_grouped_and_distribution():
    rows = [("a", 10), ("a", 0), ("b", 9)]
    groups = metrics.grouped(rows, key=lambda r: r[0], score=lambda r: r[1], kind="nps")
    assert groups["a"].score == 0 and groups["b"].score == 100
    assert metrics.distribution("csat", [5, 5, 1]) == [(1, 1), (2, 0), (3, 0), (4, 0), (5, 2)]
