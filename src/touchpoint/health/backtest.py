"""Back-test: the scores accounts had on past days, from data as it was then, against what they did next.

For each sampled day D the measure SQL runs as of D (rollups of days ≤ D, timeline entries before
D+1, subscription state from movements up to D: the same SQL the daily recompute uses), for the
customers with a live subscription that day. The outcome is whether the account churned or
contracted in (D, D + horizon]. A good score is low before churn: the ROC AUC is the chance that a
customer who stayed scored higher than one who left.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.accounts.models import Account, Segment
from touchpoint.health.measures import LIVE_SUBSCRIPTIONS, AsOf, has_shared_cte, losses_between, measured_sql
from touchpoint.health.models import Scorecard
from touchpoint.health.recompute import without_jit
from touchpoint.health.scoring import Definition, measure_points, score
from touchpoint.lazy_import import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")  # only the back-test pages need it: see touchpoint.lazy_import

# One default everywhere (the page, the command, the API): a quarter ahead is what a CS team can act
# on before a renewal, and 180 days of sampled days hold enough churn to judge a scorecard.
DEFAULT_HORIZON = 90
DEFAULT_SPAN = 180
# Resampling rounds for the AUC's interval: enough for a stable 95 % interval, a second or two at most.
BOOTSTRAP_ROUNDS = 200
BOOTSTRAP_SEED = 20260


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    every: int = 7
    horizon: int = DEFAULT_HORIZON

    @classmethod
    def around_today(
        cls,
        *,
        start: date | None = None,
        end: date | None = None,
        every: int = 7,
        horizon: int = DEFAULT_HORIZON,
    ) -> Period:
        """Sampled days from `DEFAULT_SPAN` days before the end to the end, which is `horizon` days
        ago by default, so every outcome window is complete."""
        if every < 1:
            raise ValidationError({"every": _("Must be at least 1 day.")})
        if not 1 <= horizon <= 730:
            raise ValidationError({"horizon": _("Must be between 1 and 730 days.")})
        end = end or timezone.localdate() - timedelta(days=horizon)
        start = start or end - timedelta(days=DEFAULT_SPAN)
        if start > end:
            raise ValidationError({"start": _("The start must not be after the end.")})
        if (end - start).days / every > 200:
            raise ValidationError({"every": _("Too many days to score: sample fewer (a larger step).")})
        return cls(start=start, end=end, every=every, horizon=horizon)

    def days(self) -> list[date]:
        count = (self.end - self.start).days // self.every
        return [self.end - timedelta(days=self.every * i) for i in range(count, -1, -1)]


@dataclass
class Samples:
    """Measure values per (day, account) for live customers, and whether they churned or contracted next."""

    days: list[date] = field(default_factory=list)
    day: list[date] = field(default_factory=list)
    account: list[int] = field(default_factory=list)
    values: list[dict[str, float]] = field(default_factory=list)
    outcome: list[bool] = field(default_factory=list)

    def subset(self, keep) -> Samples:
        picked = Samples(days=sorted({d for d, k in zip(self.day, keep, strict=True) if k}))
        for i, k in enumerate(keep):
            if k:
                picked.day.append(self.day[i])
                picked.account.append(self.account[i])
                picked.values.append(self.values[i])
                picked.outcome.append(self.outcome[i])
        return picked


@dataclass
class Result:
    days: list[date]
    samples: int
    positives: int
    auc: float | None
    deciles: list[dict]  # worst scores first: {"decile", "count", "rate", "lift", "mean_score"}
    calibration: list[dict]  # per score band: {"band", "count", "predicted", "observed"}
    # 95 % interval of the AUC from resampling accounts (see `auc_interval`).
    auc_low: float | None = None
    auc_high: float | None = None

    def auc_text(self, *, with_range: bool = False) -> str:
        """The AUC for a note or a command's output: "0.812", with its range "0.812 (0.760–0.861)"."""
        if self.auc is None:
            return "n/a"
        if not with_range or self.auc_low is None:
            return f"{self.auc:.3f}"
        return f"{self.auc:.3f} ({self.auc_low:.3f}–{self.auc_high:.3f})"

    def as_dict(self) -> dict:
        return {
            "days": [d.isoformat() for d in self.days],
            "samples": self.samples,
            "positives": self.positives,
            "auc": self.auc,
            "auc_interval": None if self.auc_low is None else [self.auc_low, self.auc_high],
            "deciles": self.deciles,
            "calibration": self.calibration,
        }


def _accounts_in_scope(segment: Segment | None) -> set[int] | None:
    """The accounts a scorecard scores: its segment's, or (the default) those of segments without one."""
    if segment is not None:
        return set(Account.objects.filter(segment=segment).values_list("id", flat=True))
    own = Scorecard.objects.exclude(segment=None).values_list("segment_id", flat=True)
    if not own:
        return None
    return set(Account.objects.exclude(segment_id__in=list(own)).values_list("id", flat=True))


def _customers_sql(at: AsOf) -> str:
    """Who was a customer at the end of the day: a live subscription where billing is known, else every
    account that existed by then."""
    if has_shared_cte(LIVE_SUBSCRIPTIONS):
        return f"SELECT DISTINCT account_id FROM {LIVE_SUBSCRIPTIONS}"
    return f"SELECT id AS account_id FROM {Account._meta.db_table} WHERE created_at < %s"


def collect(period: Period, *, segment: Segment | None = None, measures: list[str] | None = None) -> Samples:
    """One query per sampled day for the measures, one for the outcomes: nothing read is later than D."""
    scope = _accounts_in_scope(segment)
    losses: dict[int, list[date]] = defaultdict(list)
    for account_id, day in losses_between(period.start, period.end + timedelta(days=period.horizon)):
        losses[account_id].append(day)
    samples = Samples(days=period.days())
    for day in samples.days:
        at = AsOf(day)
        measured, params = measured_sql(at, keys=measures)
        sql = (
            f"WITH {measured}, live_accounts AS ({_customers_sql(at)}) "
            "SELECT l.account_id, m.measure, m.value FROM live_accounts l "
            "LEFT JOIN measured m ON m.account_id = l.account_id"
        )
        if not has_shared_cte(LIVE_SUBSCRIPTIONS):
            params = [*params, at.end]
        per_account: dict[int, dict[str, float]] = {}
        with transaction.atomic(), connection.cursor() as cursor:
            without_jit(cursor)
            cursor.execute(sql, params)
            for account_id, measure, value in cursor.fetchall():
                if scope is not None and account_id not in scope:
                    continue
                entry = per_account.setdefault(account_id, {})
                if measure is not None:
                    entry[measure] = value
        horizon_end = day + timedelta(days=period.horizon)
        for account_id in sorted(per_account):
            samples.day.append(day)
            samples.account.append(account_id)
            samples.values.append(per_account[account_id])
            samples.outcome.append(any(day < lost <= horizon_end for lost in losses.get(account_id, ())))
    return samples


def evaluate(samples: Samples, definition: Definition) -> Result:
    """AUC, lift by decile and calibration of a definition's scores on the samples (unknown scores left out)."""
    scores = np.array(
        [np.nan if (s := score(values, definition)) is None else s for values in samples.values], dtype=float
    )
    return evaluate_scores(samples, scores)


def evaluate_scores(samples: Samples, all_scores: np.ndarray) -> Result:
    """The same report for any 0–100 health per sample (the learned model's too); NaN is "no score"."""
    scored = ~np.isnan(all_scores)
    scores = all_scores[scored]
    outcomes = np.array(samples.outcome, dtype=bool)[scored]
    accounts = np.array(samples.account)[scored]
    positives = int(outcomes.sum())
    auc = None
    interval: tuple[float, float] | None = None
    if 0 < positives < len(outcomes):
        # Risk is the opposite of health: a churner should score low.
        from sklearn.metrics import (
            roc_auc_score,  # on first use: most processes never need it (tests/web/test_imports.py)
        )

        auc = float(roc_auc_score(outcomes, -scores))
        interval = auc_interval(outcomes, scores, accounts)
    base_rate = positives / len(outcomes) if len(outcomes) else 0.0
    deciles = []
    if len(scores):
        order = np.argsort(scores, kind="stable")
        for index, chunk in enumerate(np.array_split(order, min(10, len(order)))):
            if not len(chunk):
                continue
            rate = float(outcomes[chunk].mean())
            deciles.append(
                {
                    "decile": index + 1,
                    "count": int(len(chunk)),
                    "rate": rate,
                    "lift": rate / base_rate if base_rate else 0.0,
                    "mean_score": float(scores[chunk].mean()),
                }
            )
    calibration = []
    for low in range(0, 100, 10):
        in_band = (scores >= low) & ((scores < low + 10) if low < 90 else (scores <= 100))
        if in_band.any():
            calibration.append(
                {
                    "band": f"{low}–{low + 10}",
                    "count": int(in_band.sum()),
                    "predicted": float(1 - scores[in_band].mean() / 100),
                    "observed": float(outcomes[in_band].mean()),
                }
            )
    return Result(
        days=samples.days,
        samples=len(scores),
        positives=positives,
        auc=auc,
        auc_low=interval[0] if interval else None,
        auc_high=interval[1] if interval else None,
        deciles=deciles,
        calibration=calibration,
    )


def auc_interval(
    outcomes: np.ndarray, scores: np.ndarray, accounts: np.ndarray, *, rounds: int = BOOTSTRAP_ROUNDS
) -> tuple[float, float] | None:
    """95 % interval of the AUC, resampling whole accounts with replacement.

    The samples of one account on successive days are alike; resampling samples one by one would
    count each account many times over and draw the interval far too narrow. Seeded: the same
    history gives the same interval.
    """
    distinct, index = np.unique(accounts, return_inverse=True)
    # Rank once: a round only changes how often each sample counts, never the order of the scores.
    levels, level = np.unique(-scores, return_inverse=True)  # risk levels, lowest first
    positive = outcomes.astype(bool)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    values = []
    for _round in range(rounds):
        # How often each account is drawn becomes the weight of each of its samples.
        drawn = np.bincount(rng.integers(0, len(distinct), len(distinct)), minlength=len(distinct))
        weights = drawn[index].astype(float)
        auc = _weighted_auc(level, len(levels), positive, weights)
        if auc is not None:
            values.append(auc)
    if len(values) < rounds // 2:
        return None
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def _weighted_auc(level: np.ndarray, levels: int, positive: np.ndarray, weights: np.ndarray) -> float | None:
    """ROC AUC with sample weights from samples grouped by risk level (ties count one half)."""
    at_positive = np.bincount(level, weights=weights * positive, minlength=levels)
    at_negative = np.bincount(level, weights=weights * ~positive, minlength=levels)
    total_positive, total_negative = at_positive.sum(), at_negative.sum()
    if total_positive == 0 or total_negative == 0:
        return None
    below = np.cumsum(at_negative) - at_negative  # negatives at a lower risk than each level
    return float((at_positive * (below + 0.5 * at_negative)).sum() / (total_positive * total_negative))


def run(definition: Definition, period: Period, *, segment: Segment | None = None) -> Result:
    return evaluate(
        collect(period, segment=segment, measures=[r.measure for r in definition.rules]), definition
    )


def points_matrix(samples: Samples, definition: Definition) -> np.ndarray:
    """Points (0–100) per sample and rule, NaN where the measure is unknown."""
    matrix = np.full((len(samples.values), len(definition.rules)), np.nan)
    for row, values in enumerate(samples.values):
        for column, rule in enumerate(definition.rules):
            value = values.get(rule.measure)
            if value is not None:
                matrix[row, column] = measure_points(value, green=rule.green, red=rule.red)
    return matrix
