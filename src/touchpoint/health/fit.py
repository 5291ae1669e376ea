"""Propose scorecard weights from history: regularised logistic regression on each measure's points.

The samples are the back-test's (measure values as of each past day, churn or contraction in the
horizon after it). The earlier days train, the later days test, so the proposal is judged on days it
never saw. Thresholds stay as the scorecard has them; a measure whose points do not lower the risk
gets weight 0. The proposal is only a proposal: an admin accepts it as a new scorecard version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from touchpoint.accounts.models import Segment
from touchpoint.health.backtest import Period, Result, Samples, collect, evaluate, points_matrix
from touchpoint.health.scoring import Definition, MeasureRule

TOTAL_WEIGHT = 10.0


@dataclass
class Proposal:
    definition: Definition
    coefficients: dict[str, float]
    train_days: list[date]
    test_days: list[date]
    outcome_windows_overlap: bool  # a training day's horizon reaches into the test days
    current: Result  # the current scorecard on the test days
    proposed: Result  # the proposal on the test days


def propose(
    definition: Definition, period: Period, *, segment: Segment | None = None, samples: Samples | None = None
) -> Proposal:
    """Fit weights on the earlier two thirds of the sampled days, back-test both on the rest."""
    samples = samples or collect(period, segment=segment, measures=[r.measure for r in definition.rules])
    days = samples.days
    if len(days) < 2:
        raise ValidationError({"start": _("Need at least two sampled days to train and test.")})
    cut = max(1, (len(days) * 2) // 3)
    train_days, test_days = days[:cut], days[cut:]
    train = samples.subset([d in set(train_days) for d in samples.day])
    test = samples.subset([d in set(test_days) for d in samples.day])
    outcomes = np.array(train.outcome, dtype=bool)
    if outcomes.all() or not outcomes.any():
        raise ValidationError(
            {
                "start": _(
                    "The training days need both customers who churned or contracted "
                    "and customers who stayed."
                )
            }
        )
    points = points_matrix(train, definition) / 100.0
    means = (
        np.nanmean(np.where(np.isnan(points).all(axis=0), 0.5, points), axis=0)
        if points.size
        else np.zeros(len(definition.rules))
    )
    means = np.where(np.isnan(means), 0.5, means)
    features = np.where(np.isnan(points), means, points)
    from sklearn.linear_model import (
        LogisticRegression,  # on first use: most processes never need it (tests/web/test_imports.py)
    )

    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
    model.fit(features, outcomes)
    # More points should mean less risk: a negative coefficient is a measure that protects.
    protection = np.clip(-model.coef_[0], 0, None)
    if protection.sum() <= 0:
        raise ValidationError({"start": _("No measure lowered the risk of churn in the training days.")})
    weights = protection / protection.sum() * TOTAL_WEIGHT
    proposal = Definition(
        rules=tuple(
            MeasureRule(measure=rule.measure, weight=round(float(weight), 2), green=rule.green, red=rule.red)
            for rule, weight in zip(definition.rules, weights, strict=True)
        ),
        green_at=definition.green_at,
        red_below=definition.red_below,
    )
    if sum(rule.weight for rule in proposal.rules) <= 0:
        raise ValidationError({"start": _("No measure lowered the risk of churn in the training days.")})
    overlap = bool(test_days) and (train_days[-1] - test_days[0]).days + period.horizon > 0
    return Proposal(
        definition=proposal,
        coefficients={
            rule.measure: float(c) for rule, c in zip(definition.rules, model.coef_[0], strict=True)
        },
        train_days=train_days,
        test_days=test_days,
        outcome_windows_overlap=overlap,
        current=evaluate(test, definition),
        proposed=evaluate(test, proposal),
    )
