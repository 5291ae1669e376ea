"""Survey scores as pure functions: NPS with its confidence interval, CSAT and CES averages.

NPS = % promoters (9–10) − % detractors (0–6), from −100 to 100. Each answer is one of three
categories, so the counts follow a trinomial distribution; the estimate's variance is

    Var(NPS) = (p_P + p_D − (p_P − p_D)²) / n        (as proportions; ×100² in points)

The interval is the adjusted-Wald interval for NPS (Rocks 2016; Sauro & Lewis): before applying
the normal approximation, add 3 pseudo-answers spread 3/4 promoter, 3/2 passive, 3/4 detractor.
It keeps a sensible width for small samples (ten answers, all promoters, still give an interval
below 100) where the plain Wald interval collapses to a point. Bounds are clipped to [−100, 100].

CSAT: the average score (1–5) and the share satisfied (4 or 5); CES: the average (1–7). Both means
come with a normal-approximation interval (the sample's standard deviation / √n).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import TypeVar

CONFIDENCE = 0.95

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


def z_for(confidence: float = CONFIDENCE) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def nps_category(score: int) -> str:
    """promoter (9–10), passive (7–8) or detractor (0–6)."""
    if not 0 <= score <= 10:
        raise ValueError(f"an NPS score is 0–10, not {score}")
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


@dataclass(frozen=True)
class Nps:
    count: int
    promoters: int
    passives: int
    detractors: int
    score: float | None  # None without answers
    low: float | None
    high: float | None

    @property
    def promoter_share(self) -> float:
        return 100 * self.promoters / self.count if self.count else 0.0

    @property
    def passive_share(self) -> float:
        return 100 * self.passives / self.count if self.count else 0.0

    @property
    def detractor_share(self) -> float:
        return 100 * self.detractors / self.count if self.count else 0.0

    @property
    def margin(self) -> float | None:
        """Half the interval's width, in points (what "± 8" says)."""
        if self.low is None or self.high is None:
            return None
        return (self.high - self.low) / 2


def nps_from_counts(promoters: int, passives: int, detractors: int, *, confidence: float = CONFIDENCE) -> Nps:
    if min(promoters, passives, detractors) < 0:
        raise ValueError("counts cannot be negative")
    n = promoters + passives + detractors
    if n == 0:
        return Nps(0, 0, 0, 0, None, None, None)
    score = 100 * (promoters - detractors) / n
    n_adj = n + 3
    p_adj = (promoters + 0.75) / n_adj
    d_adj = (detractors + 0.75) / n_adj
    centre = p_adj - d_adj
    variance = (p_adj + d_adj - centre**2) / n_adj
    half = z_for(confidence) * math.sqrt(max(variance, 0.0))
    low = max(-100.0, 100 * (centre - half))
    high = min(100.0, 100 * (centre + half))
    # The adjusted centre sits a little toward 0; the interval always holds the estimate itself.
    low, high = min(low, score), max(high, score)
    return Nps(n, promoters, passives, detractors, score, low, high)


def nps(scores: Iterable[int], *, confidence: float = CONFIDENCE) -> Nps:
    counts = {"promoter": 0, "passive": 0, "detractor": 0}
    for score in scores:
        counts[nps_category(score)] += 1
    return nps_from_counts(counts["promoter"], counts["passive"], counts["detractor"], confidence=confidence)


@dataclass(frozen=True)
class Mean:
    count: int
    average: float | None
    low: float | None
    high: float | None
    satisfied_share: float | None = None  # CSAT: % of 4–5

    @property
    def margin(self) -> float | None:
        if self.low is None or self.high is None:
            return None
        return (self.high - self.low) / 2


def _mean(scores: Sequence[int], lowest: int, highest: int, confidence: float) -> tuple[float, float, float]:
    n = len(scores)
    average = sum(scores) / n
    if n < 2:
        return average, float(lowest), float(highest)
    variance = sum((s - average) ** 2 for s in scores) / (n - 1)
    half = z_for(confidence) * math.sqrt(variance / n)
    return average, max(float(lowest), average - half), min(float(highest), average + half)


def csat(scores: Iterable[int], *, confidence: float = CONFIDENCE) -> Mean:
    values = list(scores)
    for score in values:
        if not 1 <= score <= 5:
            raise ValueError(f"a CSAT score is 1–5, not {score}")
    if not values:
        return Mean(0, None, None, None, None)
    average, low, high = _mean(values, 1, 5, confidence)
    satisfied = 100 * sum(1 for s in values if s >= 4) / len(values)
    return Mean(len(values), average, low, high, satisfied)


def ces(scores: Iterable[int], *, confidence: float = CONFIDENCE) -> Mean:
    values = list(scores)
    for score in values:
        if not 1 <= score <= 7:
            raise ValueError(f"a CES score is 1–7, not {score}")
    if not values:
        return Mean(0, None, None, None)
    average, low, high = _mean(values, 1, 7, confidence)
    return Mean(len(values), average, low, high)


def summary(kind: str, scores: Iterable[int]) -> Nps | Mean:
    """The figure a survey of this kind reports."""
    if kind == "nps":
        return nps(scores)
    if kind == "csat":
        return csat(scores)
    if kind == "ces":
        return ces(scores)
    raise ValueError(f"unknown survey kind {kind!r}")


def grouped(
    items: Iterable[T], key: Callable[[T], K], score: Callable[[T], int], kind: str
) -> dict[K, Nps | Mean]:
    """The figure per group (a segment, an owner, a phase, a month), groups in first-seen order."""
    buckets: dict[K, list[int]] = {}
    for item in items:
        buckets.setdefault(key(item), []).append(score(item))
    return {group: summary(kind, values) for group, values in buckets.items()}


def distribution(kind: str, scores: Iterable[int]) -> list[tuple[int, int]]:
    """(score, how many) for every score of the scale, lowest first."""
    lowest, highest = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}[kind]
    counts = dict.fromkeys(range(lowest, highest + 1), 0)
    for score in scores:
        if score in counts:
            counts[score] += 1
    return sorted(counts.items())
