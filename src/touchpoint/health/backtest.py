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

import numpy as np
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.accounts.models import Account, Segment
from touchpoint.health.measures import LIVE_SUBSCRIPTIONS, AsOf, has_shared_cte, losses_between, measured_sql
from touchpoint.health.models import Scorecard
from touchpoint.health.recompute import without_jit
from touchpoint.health.scoring import Definition, measure_points, score

# One default everywhere (the page, the command, the API): a quarter ahead is what a CS team can act
# on before a renewal, and 180 days of sampled days hold enough churn to judge a scorecard.
DEFAULT_HORIZON = 90
DEFAULT_SPAN = 180


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

    def as_dict(self) -> dict:
        return {
            "days": [d.isoformat() for d in self.days],
            "samples": self.samples,
            "positives": self.positives,
            "auc": self.auc,
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
    scored = [
        (s, o)
        for s, o in ((score(v, definition), o) for v, o in zip(samples.values, samples.outcome, strict=True))
        if s is not None
    ]
    scores = np.array([s for s, _o in scored], dtype=float)
    outcomes = np.array([o for _s, o in scored], dtype=bool)
    positives = int(outcomes.sum())
    auc = None
    if 0 < positives < len(outcomes):
        # Risk is the opposite of health: a churner should score low.
        from sklearn.metrics import (
            roc_auc_score,  # on first use: most processes never need it (tests/web/test_imports.py)
        )

        auc = float(roc_auc_score(outcomes, -scores))
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
        deciles=deciles,
        calibration=calibration,
    )


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
