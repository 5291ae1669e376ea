from __future__ import annotations

import json
import random
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from tests.health.helpers import TODAY, churn, contract, old_account, subscription, touch
from touchpoint.health import backtest, fit
from touchpoint.health.scoring import Definition, MeasureRule

pytestmark = pytest.mark.django_db

RECENCY_ONLY = Definition(rules=(MeasureRule("engagement_recency", weight=1, green=7, red=60),))
D = TODAY - timedelta(days=60)
PERIOD = backtest.Period(start=D - timedelta(days=14), end=D, every=7, horizon=30)


def customers(n: int, *, separating: bool, seed: int = 1) -> None:
    """n live customers; a third churn or contract 10 days after D. Their last touch before the
    sampled days is either far back (churners, when separating) or random."""
    rng = random.Random(seed)
    for index in range(n):
        account = old_account()
        sub = subscription(account, started=D - timedelta(days=400))
        leaves = index % 3 == 0
        if separating:
            touch(account, on=D - timedelta(days=(50 if leaves else 0) + 20 + rng.randint(0, 5)))
        else:
            touch(account, on=D - timedelta(days=20 + rng.randint(0, 60)))
        if leaves:
            (churn if index % 2 else contract)(sub, on=D + timedelta(days=10))
            # A touch after the outcome: a score that peeked at later data would see it.
            touch(account, on=D + timedelta(days=12))


def test_perfectly_separating_measure_has_auc_1():
    customers(30, separating=True)
    result = backtest.run(RECENCY_ONLY, PERIOD)
    assert result.auc == pytest.approx(1.0)
    assert result.deciles[0]["rate"] == 1.0 and result.deciles[-1]["rate"] == 0.0


def test_random_measure_has_auc_near_one_half():
    customers(240, separating=False, seed=5)
    result = backtest.run(RECENCY_ONLY, PERIOD)
    assert result.positives > 100
    assert 0.4 < result.auc < 0.6


def test_outcomes_and_scores_respect_the_horizon_and_the_day():
    customers(6, separating=True)
    # Day D + 11: the churns are in the past, the later touches known: no positives left in a window.
    late = backtest.Period(start=D + timedelta(days=11), end=D + timedelta(days=11), horizon=30)
    samples = backtest.collect(late)
    assert not any(samples.outcome)
    # Churned customers are no longer live; contracted ones are, with their touch of D + 12 unseen on D + 11.
    assert len(samples.account) == 6 - 1


def test_fit_weights_the_measure_that_predicts_over_noise():
    rng = random.Random(3)
    for index in range(90):
        account = old_account()
        sub = subscription(
            account,
            started=D - timedelta(days=400),
            seats=10,
            renewal=D + timedelta(days=rng.randint(40, 300)),
        )
        leaves = index % 3 == 0
        if leaves:
            touch(account, on=D - timedelta(days=70 + rng.randint(0, 10)))
            churn(sub, on=D + timedelta(days=10))
        else:  # stayers hear from their CSM every week or two
            for weeks_before in range(6):
                touch(account, on=D - timedelta(days=7 * weeks_before + rng.randint(0, 6)))
    definition = Definition(
        rules=(
            MeasureRule("engagement_recency", weight=1, green=7, red=60),
            MeasureRule("renewal_proximity", weight=1, green=120, red=30),
        )
    )
    period = backtest.Period(start=D - timedelta(days=28), end=D, every=7, horizon=45)
    proposal = fit.propose(definition, period)
    weights = {rule.measure: rule.weight for rule in proposal.definition.rules}
    assert weights["engagement_recency"] > weights["renewal_proximity"]
    assert proposal.train_days and proposal.test_days and max(proposal.train_days) < min(proposal.test_days)
    assert proposal.proposed.auc >= proposal.current.auc - 1e-9


def test_backtest_command_prints_json():
    customers(9, separating=True)
    out = StringIO()
    call_command(
        "health",
        "backtest",
        "--json",
        "--start",
        str(PERIOD.start),
        "--end",
        str(PERIOD.end),
        "--horizon",
        "30",
        stdout=out,
    )
    result = json.loads(out.getvalue())
    assert result["auc"] == pytest.approx(1.0)
    assert result["samples"] == 9 * 3
