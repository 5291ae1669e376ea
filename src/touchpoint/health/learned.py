"""A learned model beside the scorecard: the chance of churn or contraction within the horizon, fitted on
history, explained per account by what each measure adds to it.

It is fitted in two stages, both regularised logistic regressions (scikit-learn):

1. each measure gets a spline of its value (SplineTransformer), all added up: a risk that falls steeply
   over the first months of tenure and then flattens, a usage level that matters below a point and
   not above it. This gives each measure a *term*: its part of the log-odds of churn.
2. the terms and their products two by two: measures that matter together (few active users *and* a
   renewal inside the horizon) count for more than each alone. On the demo this took the model from
   0.93 to within 0.01 AUC of a gradient-boosted forest on the same samples (bench/health_truth.py).

Each account's risk is explained per measure: how far the risk would move if that one measure were
at the average of the history (its term and every product it is in at zero), in points of risk.

A measure without a value is its own state: its spline part is zero and a "missing" indicator takes
its place, so "no data yet" carries the risk it carried in the history.

The model is plain numbers (knots, coefficients, averages) kept as JSON on a `LearnedModel` row, so
scoring an account needs neither the training samples nor a pickle.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from touchpoint.accounts.models import Segment
from touchpoint.health.backtest import Period, Result, Samples, collect, evaluate, evaluate_scores
from touchpoint.health.scoring import Definition
from touchpoint.lazy_import import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")  # only the back-test pages need it: see touchpoint.lazy_import

# Knots at these quantiles of a measure's known values: enough bends for a risk that falls then
# flattens, few enough that a few hundred accounts do not draw noise.
KNOT_QUANTILES = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)
DEGREE = 3
# Strengths of the L2 penalty tried by cross-validation on left-out accounts (see `_logistic`): the
# splines' stage and the products' stage.
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
PAIR_C_GRID = (0.1, 1.0, 10.0, 100.0)
FOLDS = 3
FORMAT = 2  # of the stored parameters


@dataclass(frozen=True)
class MeasureTerm:
    """One measure's part of the model: a spline of its value, or (missing) the indicator's effect."""

    measure: str
    knots: tuple[float, ...]  # empty: the measure took one value in training, only "missing" counts
    coefficients: tuple[float, ...]  # one per spline basis function
    missing: float | None  # log-odds when the value is unknown; None: never missing in training
    mean: float  # the term's average over the training samples (contributions are measured from it)

    def basis(self, values: np.ndarray) -> np.ndarray:
        """Spline basis of the known values (rows for unknown values are zero)."""
        known = ~np.isnan(values)
        if not self.knots:
            return np.zeros((len(values), 0))
        spline = _spline(self.knots)
        clipped = np.clip(np.where(known, values, self.knots[0]), self.knots[0], self.knots[-1])
        matrix = spline.transform(clipped.reshape(-1, 1))
        matrix[~known] = 0.0
        return matrix

    def log_odds(self, values: np.ndarray) -> np.ndarray:
        """This measure's part of the log-odds of churn, per sample."""
        part = self.basis(values) @ np.array(self.coefficients) if self.knots else np.zeros(len(values))
        unknown = np.isnan(values)
        if unknown.any():
            part = np.where(unknown, self.missing if self.missing is not None else 0.0, part)
        return part


@dataclass(frozen=True)
class LearnedModel:
    terms: tuple[MeasureTerm, ...]
    weights: tuple[float, ...]  # one per term (stage 2)
    pair_weights: tuple[float, ...]  # one per pair of terms (j < k, in order)
    intercept: float
    horizon: int

    @property
    def measures(self) -> list[str]:
        return [term.measure for term in self.terms]

    def matrix(self, rows: Sequence[Mapping[str, float | None]]) -> np.ndarray:
        return _values(rows, self.measures)

    def centred_terms(self, rows: Sequence[Mapping[str, float | None]]) -> np.ndarray:
        """Each measure's term per row, less its training average (0 = an average account)."""
        values = self.matrix(rows)
        if not self.terms:
            return np.zeros((len(rows), 0))
        return np.column_stack([term.log_odds(values[:, j]) - term.mean for j, term in enumerate(self.terms)])

    def _log_odds(self, centred: np.ndarray) -> np.ndarray:
        return self.intercept + _stage_two(centred) @ np.array(self.weights + self.pair_weights)

    def risk(self, rows: Sequence[Mapping[str, float | None]]) -> np.ndarray:
        """Chance of churn or contraction within the horizon, per row of measure values."""
        return 1.0 / (1.0 + np.exp(-self._log_odds(self.centred_terms(rows))))

    def explain(self, values: Mapping[str, float | None]) -> list[dict]:
        """Each measure's part of one account's risk, largest first: how many points of risk (0–100)
        it adds against the same account with that measure at the history's average."""
        centred = self.centred_terms([values])
        risk = _probability(float(self._log_odds(centred)[0]))
        explained = []
        for j, term in enumerate(self.terms):
            at_average = centred.copy()
            at_average[0, j] = 0.0
            without = _probability(float(self._log_odds(at_average)[0]))
            value = values.get(term.measure)
            explained.append(
                {
                    "measure": term.measure,
                    "value": value,
                    "known": value is not None,
                    "points": round(100.0 * (risk - without), 1),
                }
            )
        return sorted(explained, key=lambda entry: -abs(entry["points"]))

    def as_dict(self) -> dict:
        return {
            "format": FORMAT,
            "horizon": self.horizon,
            "intercept": self.intercept,
            "weights": list(self.weights),
            "pair_weights": list(self.pair_weights),
            "terms": [
                {
                    "measure": term.measure,
                    "knots": list(term.knots),
                    "coefficients": list(term.coefficients),
                    "missing": term.missing,
                    "mean": term.mean,
                }
                for term in self.terms
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> LearnedModel:
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown learned model format {data.get('format')!r}")
        return cls(
            terms=tuple(
                MeasureTerm(
                    measure=str(term["measure"]),
                    knots=tuple(float(k) for k in term["knots"]),
                    coefficients=tuple(float(c) for c in term["coefficients"]),
                    missing=None if term["missing"] is None else float(term["missing"]),
                    mean=float(term["mean"]),
                )
                for term in data["terms"]
            ),
            weights=tuple(float(w) for w in data["weights"]),
            pair_weights=tuple(float(w) for w in data["pair_weights"]),
            intercept=float(data["intercept"]),
            horizon=int(data["horizon"]),
        )


def _stage_two(centred: np.ndarray) -> np.ndarray:
    """The terms and their products two by two (j < k), the second stage's features."""
    n = centred.shape[1]
    products = [centred[:, j] * centred[:, k] for j in range(n) for k in range(j + 1, n)]
    return np.hstack([centred, np.column_stack(products)]) if products else centred


def _probability(log_odds: float) -> float:
    return 1.0 / (1.0 + math.exp(-log_odds))


def _spline(knots: tuple[float, ...]):
    from sklearn.preprocessing import SplineTransformer  # on first use: most processes never fit

    grid = np.array(knots).reshape(-1, 1)
    # Beyond the outer knots the risk stays where the edge left it (values are clipped to them).
    return SplineTransformer(knots=grid, degree=DEGREE, extrapolation="constant").fit(grid)


def _values(rows: Sequence[Mapping[str, float | None]], measures: list[str]) -> np.ndarray:
    matrix = np.full((len(rows), len(measures)), np.nan)
    for i, row in enumerate(rows):
        for j, key in enumerate(measures):
            value = row.get(key)
            if value is not None and math.isfinite(float(value)):
                matrix[i, j] = float(value)
    return matrix


def _knots(known: np.ndarray) -> tuple[float, ...]:
    if len(known) == 0:
        return ()
    knots = np.unique(np.quantile(known, KNOT_QUANTILES))
    return tuple(float(k) for k in knots) if len(knots) >= 2 else ()


def fit_model(samples: Samples, measures: list[str], horizon: int) -> LearnedModel:
    """Fit the model on these samples (their outcomes say who churned or contracted next)."""
    outcomes = np.array(samples.outcome, dtype=bool)
    if outcomes.all() or not outcomes.any():
        raise ValidationError(
            {
                "start": _(
                    "The training days need both customers who churned or contracted and customers who stayed."
                )
            }
        )
    values = _values(samples.values, measures)
    blocks, layout = [], []
    for j, key in enumerate(measures):
        column = values[:, j]
        unknown = np.isnan(column)
        knots = _knots(column[~unknown])
        term = MeasureTerm(measure=key, knots=knots, coefficients=(), missing=None, mean=0.0)
        basis = term.basis(column)
        indicator = unknown.any() and not unknown.all()
        blocks.append(basis)
        if indicator:
            blocks.append(unknown.astype(float).reshape(-1, 1))
        layout.append((key, knots, basis.shape[1], indicator))
    features = np.hstack(blocks) if blocks else np.zeros((len(outcomes), 0))
    accounts = np.array(samples.account)
    stage_one = _logistic(features, outcomes, accounts, C_GRID)
    coefficients = stage_one.coef_[0]
    terms, at = [], 0
    for j, (key, knots, width, indicator) in enumerate(layout):
        spline_coefficients = tuple(float(c) for c in coefficients[at : at + width])
        at += width
        missing = None
        if indicator:
            missing = float(coefficients[at])
            at += 1
        term = MeasureTerm(
            measure=key, knots=knots, coefficients=spline_coefficients, missing=missing, mean=0.0
        )
        mean = float(term.log_odds(values[:, j]).mean())
        terms.append(
            MeasureTerm(
                measure=key, knots=knots, coefficients=spline_coefficients, missing=missing, mean=mean
            )
        )
    centred = np.column_stack([t.log_odds(values[:, j]) - t.mean for j, t in enumerate(terms)])
    products = _stage_two(centred)
    stage_two = _logistic(products, outcomes, accounts, PAIR_C_GRID)
    weights = stage_two.coef_[0]
    n = len(terms)
    return LearnedModel(
        terms=tuple(terms),
        weights=tuple(float(w) for w in weights[:n]),
        pair_weights=tuple(float(w) for w in weights[n:]),
        intercept=float(stage_two.intercept_[0]),
        horizon=horizon,
    )


def _logistic(features: np.ndarray, outcomes: np.ndarray, accounts: np.ndarray, grid: tuple[float, ...]):
    """A logistic regression whose penalty is chosen by cross-validation on accounts left out, as the
    model is judged (see fit.split_days): one account's days never sit on both sides of a fold."""
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.model_selection import GroupKFold

    folds = min(FOLDS, len(np.unique(accounts)))
    splits = list(GroupKFold(n_splits=folds).split(features, outcomes, accounts)) if folds >= 2 else []
    usable = bool(splits) and all(
        len(set(outcomes[train])) == 2 and len(set(outcomes[test])) == 2 for train, test in splits
    )
    if not usable:  # too few accounts, or a fold with one outcome only: the middle strength, no search
        return LogisticRegression(C=grid[len(grid) // 2], max_iter=5000).fit(features, outcomes)
    return LogisticRegressionCV(
        Cs=list(grid),
        cv=splits,
        scoring="neg_log_loss",
        max_iter=5000,
        l1_ratios=(0.0,),
        use_legacy_attributes=False,
    ).fit(features, outcomes)


def learned_scores(model: LearnedModel, samples: Samples) -> np.ndarray:
    """Health as the model sees it, 0–100 (100 = no risk), for the back-test's score-based report.

    NaN where the scorecard has no score either (no measure that is evidence has a value), so both
    are judged on the same accounts and days."""
    from touchpoint.health.measures import evidence_measures

    evidence = [key for key in model.measures if key in evidence_measures()]
    scores = 100.0 * (1.0 - model.risk(samples.values))
    scoreable = np.array(
        [any(values.get(key) is not None for key in evidence) for values in samples.values], dtype=bool
    )
    return np.where(scoreable, scores, np.nan)


@dataclass
class LearnedProposal:
    model: LearnedModel
    train_days: list
    test_days: list
    current: Result  # the current scorecard on the test days
    proposed: Result  # the learned model on the test days

    @property
    def improves(self) -> bool:
        if self.proposed.auc is None:
            return False
        return self.current.auc is None or self.proposed.auc > self.current.auc


def propose_learned(
    definition: Definition, period: Period, *, segment: Segment | None = None, samples: Samples | None = None
) -> LearnedProposal:
    """Fit the model on the earlier two thirds of the sampled days (the scorecard fit's split), on the
    scorecard's measures, and back-test it against the current scorecard on the rest."""
    from touchpoint.health.fit import split_days

    measures = [rule.measure for rule in definition.rules]
    samples = samples or collect(period, segment=segment, measures=measures)
    train_days, test_days, train, test = split_days(samples)
    model = fit_model(train, measures, period.horizon)
    return LearnedProposal(
        model=model,
        train_days=train_days,
        test_days=test_days,
        current=evaluate(test, definition),
        proposed=evaluate_scores(test, learned_scores(model, test)),
    )


def fit_note(proposal: LearnedProposal, period: Period) -> str:
    """What is kept with an applied model: where it was fitted and how it did on the test."""

    note = (
        f"Fitted on {period.start}…{period.end}, horizon {period.horizon} days; "
        f"test AUC {proposal.proposed.auc_text()} against the scorecard's {proposal.current.auc_text()}"
    )
    return note if proposal.improves else note + " (no improvement: applied by override)"
