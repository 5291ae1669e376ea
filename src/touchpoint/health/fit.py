"""Propose a scorecard from history: thresholds, points without data and weights, fitted and judged on
days the fit never saw.

The samples are the back-test's (measure values as of each past day, churn or contraction in the
horizon after it). The earlier two thirds of the sampled days train, the later third tests.

1. **Thresholds** (per measure): an isotonic regression (scikit-learn) of the outcome on the measure's
   value gives the risk as a monotone curve of the value. Red goes where the curve has covered 90 %
   of its way from its safest to its riskiest level, green where it has covered 10 %, so the ramp
   between them is where the risk actually changes. Green stays on the side of the value the scorecard
   had as the good one; a measure whose risk does not move that way (or barely moves) keeps its
   thresholds. That fixes the case where nearly every sample sat past "green" and the measure could
   not tell anyone apart, whatever its weight.
2. **Weights and points without data**: a regularised logistic regression of the outcome on each
   measure's points (0 where the value is missing) and, for a measure that is missing for some
   accounts, an indicator of "missing". A measure whose points lower the risk gets a weight in
   proportion to that effect (weights sum to 10), one that does not gets 0; the indicator's effect
   turns into the points the measure gives an account without data (the same risk as that many
   points), so "no data yet" is scored as what it has meant in the history, not as healthy.

A proposal is only a proposal. `improves` says whether it beats the current scorecard on the test
days; one that does not is shown as "no improvement" and is applied only with an explicit override.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from touchpoint.accounts.models import Segment
from touchpoint.health.backtest import Period, Result, Samples, collect, evaluate, points_matrix
from touchpoint.health.scoring import MAX_THRESHOLD, Definition, MeasureRule
from touchpoint.lazy_import import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")  # only the back-test pages need it: see touchpoint.lazy_import

TOTAL_WEIGHT = 10.0
# Below this many known values, or when the measure alone tells churners apart no better than this
# (ROC AUC, on the side the scorecard calls good), its thresholds are left as they are: too little to
# say where its risk changes, and noise would move them.
MIN_VALUES_FOR_THRESHOLDS = 30
MIN_SIGNAL_AUC = 0.55
# Green and red go where the measure's risk curve is this share from its safest and riskiest levels:
# small, so the ramp spans nearly all of the change (values beyond it tie, and ties lose ranking).
SAFE_SHARE = 0.05
HOLD_OUT_EVERY = 3  # one account in three is kept out of the training to test on (see `split_days`)


@dataclass
class Proposal:
    definition: Definition
    coefficients: dict[str, float]
    train_days: list[date]
    test_days: list[date]
    current: Result  # the current scorecard on the test days
    proposed: Result  # the proposal on the test days

    @property
    def improves(self) -> bool:
        """Whether the proposal foresaw churn better than the current scorecard on the test days."""
        if self.proposed.auc is None:
            return False
        return self.current.auc is None or self.proposed.auc > self.current.auc

    def as_dict(self) -> dict:
        """The proposal as the command's --json and the API give it."""
        return {
            "improves": self.improves,
            "train_days": [d.isoformat() for d in self.train_days],
            "test_days": [d.isoformat() for d in self.test_days],
            "current": self.current.as_dict(),
            "proposed": self.proposed.as_dict(),
            "proposed_definition": self.definition.as_dict(),
            "coefficients": self.coefficients,
        }


def split_days(samples: Samples) -> tuple[list[date], list[date], Samples, Samples]:
    """Train on the earlier two thirds of the sampled days, test on the later third, and on accounts
    the training never saw (one in `HOLD_OUT_EVERY`, by id).

    Later days alone would not do: an account's churn 60 days ahead is an outcome of its training
    days and of its test days alike, and a model flexible enough to recognise the account (tenure
    and days to renewal together name it) scored 0.97 on the demo by remembering who left. On
    accounts it never saw it cannot; that is also how the model is used, on days nobody knows the
    end of yet.
    """
    days = samples.days
    if len(days) < 2:
        raise ValidationError({"start": _("Need at least two sampled days to train and test.")})
    cut = max(1, (len(days) * 2) // 3)
    train_days, test_days = days[:cut], days[cut:]
    earlier, later = set(train_days), set(test_days)
    train = samples.subset(
        [d in earlier and not held_out(a) for d, a in zip(samples.day, samples.account, strict=True)]
    )
    test = samples.subset(
        [d in later and held_out(a) for d, a in zip(samples.day, samples.account, strict=True)]
    )
    return train_days, test_days, train, test


def held_out(account_id: int) -> bool:
    """Whether the account is kept for the test: a fixed scramble of its id, so the same accounts
    every time, and not every third one created (ids follow the order rows came in: an import in
    threes, a demo's pattern)."""
    scrambled = ((account_id * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> 32
    return scrambled % HOLD_OUT_EVERY == 0


def fitted_thresholds(values: np.ndarray, outcomes: np.ndarray, rule: MeasureRule) -> tuple[float, float]:
    """(green, red) where the monotone risk curve of this measure changes, or the rule's own.

    `values` are the known values of the measure in the training samples, `outcomes` whether each
    was followed by churn or contraction.
    """
    if len(values) < MIN_VALUES_FOR_THRESHOLDS or len(np.unique(values)) < 3 or len(np.unique(outcomes)) < 2:
        return rule.green, rule.red
    from sklearn.isotonic import IsotonicRegression  # on first use: most processes never fit
    from sklearn.metrics import roc_auc_score

    higher_is_better = rule.green > rule.red
    if roc_auc_score(outcomes, -values if higher_is_better else values) < MIN_SIGNAL_AUC:
        return rule.green, rule.red
    # The risk falls as the value rises when higher is better: fit a decreasing curve, else increasing.
    curve = IsotonicRegression(increasing=not higher_is_better, out_of_bounds="clip")
    order = np.argsort(values, kind="stable")
    xs, ys = values[order], outcomes[order].astype(float)
    risk = curve.fit_transform(xs, ys)
    # The curve's own ends rest on a few samples each (a handful of churners among the lowest values,
    # none among the highest): its levels are read where 5 % of the samples are beyond them instead.
    ends = float(risk[int(0.05 * (len(risk) - 1))]), float(risk[int(0.95 * (len(risk) - 1))])
    low, high = min(ends), max(ends)
    if high <= low:
        return rule.green, rule.red
    # The value where the risk has covered a share of its way from the safest level to the riskiest.
    safe_side = low + SAFE_SHARE * (high - low)
    risky_side = low + (1 - SAFE_SHARE) * (high - low)
    if higher_is_better:  # risk decreasing in the value: red is the largest value still risky
        red = float(xs[risk >= risky_side].max())
        green = float(xs[risk <= safe_side].min())
    else:  # risk increasing: red is the smallest value already risky
        red = float(xs[risk >= risky_side].min())
        green = float(xs[risk <= safe_side].max())
    if green == red or (green > red) != higher_is_better:
        return rule.green, rule.red
    clamp = lambda number: max(-MAX_THRESHOLD, min(MAX_THRESHOLD, round(number, 4)))  # noqa: E731
    return clamp(green), clamp(red)


def propose(
    definition: Definition, period: Period, *, segment: Segment | None = None, samples: Samples | None = None
) -> Proposal:
    """Fit thresholds, points without data and weights on the earlier two thirds of the sampled days,
    back-test the proposal and the current scorecard on the rest."""
    samples = samples or collect(period, segment=segment, measures=[r.measure for r in definition.rules])
    train_days, test_days, train, test = split_days(samples)
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
    thresholded = []
    for rule in definition.rules:
        pairs = [
            (float(value), o)
            for values, o in zip(train.values, outcomes, strict=True)
            if (value := values.get(rule.measure)) is not None and np.isfinite(float(value))
        ]
        green, red = fitted_thresholds(
            np.array([value for value, _o in pairs], dtype=float),
            np.array([o for _value, o in pairs], dtype=bool),
            rule,
        )
        thresholded.append(
            MeasureRule(measure=rule.measure, weight=rule.weight, green=green, red=red, missing=rule.missing)
        )
    shaped = Definition(
        rules=tuple(thresholded), green_at=definition.green_at, red_below=definition.red_below
    )
    points = points_matrix(train, shaped) / 100.0
    missing = np.isnan(points)
    # An indicator for each measure that is missing for some training samples but not for all.
    indicated = [j for j in range(points.shape[1]) if missing[:, j].any() and not missing[:, j].all()]
    features = np.hstack([np.where(missing, 0.0, points), missing[:, indicated].astype(float)])
    from sklearn.linear_model import (
        LogisticRegression,  # on first use: most processes never need it (tests/web/test_imports.py)
    )

    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
    model.fit(features, outcomes)
    n = len(shaped.rules)
    point_effects, missing_effects = model.coef_[0][:n], dict(zip(indicated, model.coef_[0][n:], strict=True))
    # More points should mean less risk: a negative coefficient is a measure that protects.
    protection = np.clip(-point_effects, 0, None)
    if protection.sum() <= 0:
        raise ValidationError({"start": _("No measure lowered the risk of churn in the training days.")})
    weights = protection / protection.sum() * TOTAL_WEIGHT
    rules = []
    for j, (rule, weight) in enumerate(zip(shaped.rules, weights, strict=True)):
        without_data = rule.missing
        if protection[j] > 0 and j in missing_effects:
            # The points whose effect equals the "missing" indicator's: effect(points) = coef · points.
            without_data = float(np.clip(100.0 * missing_effects[j] / point_effects[j], 0.0, 100.0))
        rules.append(
            MeasureRule(
                measure=rule.measure,
                weight=round(float(weight), 2),
                green=rule.green,
                red=rule.red,
                missing=round(without_data, 1),
            )
        )
    proposal = Definition(rules=tuple(rules), green_at=definition.green_at, red_below=definition.red_below)
    if sum(rule.weight for rule in proposal.rules) <= 0:
        raise ValidationError({"start": _("No measure lowered the risk of churn in the training days.")})
    coefficients = {rule.measure: float(c) for rule, c in zip(definition.rules, point_effects, strict=True)}
    return Proposal(
        definition=proposal,
        coefficients=coefficients,
        train_days=train_days,
        test_days=test_days,
        current=evaluate(test, definition),
        proposed=evaluate(test, proposal),
    )


def fit_note(proposal: Proposal, period: Period) -> str:
    """The version note of an applied proposal: where it was fitted and how it did on the test days."""

    note = (
        f"Fitted on {period.start}…{period.end}, horizon {period.horizon} days; "
        f"test AUC {proposal.proposed.auc_text()} against {proposal.current.auc_text()}"
    )
    return note if proposal.improves else note + " (no improvement: applied by override)"
