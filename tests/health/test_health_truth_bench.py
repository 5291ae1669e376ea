"""bench/health_truth.py's own arithmetic: the split it judges on and its intervals by account."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import numpy as np
from bench.health_truth import _intervals, _split

from touchpoint.health.backtest import Samples


def _samples(days: int, accounts: int) -> Samples:
    first = date(2026, 1, 5)
    sampled = [first + timedelta(days=7 * i) for i in range(days)]
    samples = Samples(days=sampled)
    for day in sampled:
        for account in range(1, accounts + 1):
            samples.day.append(day)
            samples.account.append(account)
            samples.values.append({"tenure": float(account)})
            samples.outcome.append(account % 4 == 0)
    return samples


def test_without_split_days_the_later_third_of_the_days_tests():
    samples = _samples(9, 5)
    train, test = _split(samples, SimpleNamespace())
    assert not (train & test).any() and (train | test).all()
    assert sorted({d for d, t in zip(samples.day, test, strict=True) if t}) == samples.days[6:]


def test_the_product_s_split_is_followed_sample_by_sample():
    samples = _samples(6, 6)

    def split_days(given: Samples):
        days = given.days
        keep = lambda d, a: d in days[4:] and a % 2 == 0  # noqa: E731
        return (
            days[:4],
            days[4:],
            given.subset([d in days[:4] and a % 2 for d, a in zip(given.day, given.account, strict=True)]),
            given.subset([keep(d, a) for d, a in zip(given.day, given.account, strict=True)]),
        )

    train, test = _split(samples, SimpleNamespace(split_days=split_days))
    assert train.sum() == 4 * 3 and test.sum() == 2 * 3
    assert {samples.account[i] for i in np.flatnonzero(test)} == {2, 4, 6}
    assert {samples.account[i] for i in np.flatnonzero(train)} == {1, 3, 5}


def test_intervals_resample_accounts():
    rng = np.random.default_rng(0)
    accounts = np.repeat(np.arange(200), 3)
    outcomes = np.repeat(rng.random(200) < 0.3, 3)
    perfect = outcomes.astype(float)
    noise = rng.random(600)
    found = _intervals(accounts, outcomes, {"reference": perfect, "fitted": noise}, 100, 1)
    assert found["reference"] == [1.0, 1.0]
    low, high = found["fitted"]
    assert 0.35 < low < 0.5 < high < 0.65
    assert 0.35 < found["reference − fitted"][0] < found["reference − fitted"][1] < 0.65
    assert "reference − learned" not in found
    assert _intervals(accounts, outcomes, {"reference": perfect}, 0, 1) == {}
