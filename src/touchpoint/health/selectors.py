"""Reads for health: an account's score explained, portfolio figures, scorecards as YAML."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, TypedDict, cast

import yaml
from django.db.models import Count, QuerySet
from django.utils import timezone

from touchpoint.accounts.models import Account
from touchpoint.health.measures import get_measure
from touchpoint.health.models import HealthScore, LearnedModel, Scorecard, ScorecardVersion
from touchpoint.health.scoring import DEFAULT_MISSING_POINTS, contributions

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


@dataclass(frozen=True)
class Driver:
    """One measure's part in a score, and how it moved since the comparison day."""

    measure: str
    label: str
    unit: str
    value: float | None  # None: not enough data (points then are the rule's "no data" points)
    points: float | None  # None: the score did not weigh it (rows stored before "no data" counted)
    weight: float | None
    contribution: float | None  # points it adds to the score
    change: float | None  # contribution now minus then (None when either is unknown)


@dataclass(frozen=True)
class HealthExplained:
    score: HealthScore | None
    week_ago: HealthScore | None
    month_ago: HealthScore | None
    drivers: list[Driver]
    history: list[tuple[date, float | None]]

    @property
    def trend_7(self) -> float | None:
        return _change(self.score, self.week_ago)

    @property
    def trend_30(self) -> float | None:
        return _change(self.score, self.month_ago)


def _change(now: HealthScore | None, then: HealthScore | None) -> float | None:
    if now is None or then is None or now.score is None or then.score is None:
        return None
    return now.score - then.score


def explain(account: Account, *, history_days: int = 90) -> HealthExplained:
    """The account's latest score, its trend, each measure's contribution and what moved since last week."""
    rows = list(HealthScore.objects.filter(account=account).order_by("-day")[: history_days + 1])
    latest = rows[0] if rows else None
    by_day = {row.day: row for row in rows}
    week_ago = month_ago = None
    if latest is not None:
        week_ago = by_day.get(latest.day - timedelta(days=7))
        month_ago = by_day.get(latest.day - timedelta(days=30))
    drivers = _drivers(latest, week_ago)
    history = [(row.day, row.score) for row in reversed(rows)]
    return HealthExplained(
        score=latest, week_ago=week_ago, month_ago=month_ago, drivers=drivers, history=history
    )


def version_of(row: HealthScore) -> ScorecardVersion | None:
    """The scorecard version that made a score (None if its scorecard has since been deleted)."""
    return ScorecardVersion.objects.select_related("scorecard").filter(pk=row.version_id).first()


def _drivers(now: HealthScore | None, then: HealthScore | None) -> list[Driver]:
    if now is None:
        return []
    version = ScorecardVersion.objects.only("definition").filter(pk=now.version_id).first()
    keys = (
        [rule["measure"] for rule in version.definition.get("measures", [])]
        if version is not None
        else sorted(now.measures)
    )
    now_parts = contributions(now.measures)
    then_parts = contributions(then.measures) if then is not None else {}
    drivers = []
    for key in keys:
        measure = get_measure(key)
        entry = now.measures.get(key)
        contribution = now_parts.get(key)
        change = None
        if then is not None and key in then_parts and contribution is not None:
            change = contribution - then_parts[key]
        elif then is not None and then.score is not None and contribution is not None:
            change = contribution  # it became known this week
        drivers.append(
            Driver(
                measure=key,
                label=str(measure.label) if measure else key,
                unit=str(measure.unit) if measure else "",
                value=entry.get("value") if entry else None,  # absent: not enough data that day
                points=entry["points"] if entry else None,
                weight=entry["weight"] if entry else None,
                contribution=contribution,
                change=change,
            )
        )
    # What moved the score most comes first; unknown measures last.
    drivers.sort(key=lambda d: (d.contribution is None, -abs(d.change or 0), -(d.contribution or 0)))
    return drivers


@dataclass(frozen=True)
class LearnedPart:
    label: str
    unit: str
    value: float | None  # None: not enough data (the model gives that state its own risk)
    points: float  # points of risk (0–100) it adds against the history's average for this measure


@dataclass(frozen=True)
class LearnedRisk:
    model: LearnedModel
    risk: float  # 0–1: the chance of churn or contraction within the model's horizon
    parts: list[LearnedPart]


def learned_model_in_use(scorecard_id: int) -> LearnedModel | None:
    return (
        LearnedModel.objects.filter(scorecard_id=scorecard_id, withdrawn_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )


def learned_risk(row: HealthScore, version: ScorecardVersion | None) -> LearnedRisk | None:
    """The learned model's risk for a stored score, explained per measure; None when the scorecard has
    no model in use, or the model weighs a measure this score did not store (fitted on another
    version's measures: fit it again)."""
    from touchpoint.health.learned import LearnedModel as Model

    if version is None:
        return None
    in_use = learned_model_in_use(version.scorecard_id)
    if in_use is None:
        return None
    model = Model.from_dict(in_use.parameters)
    if any(key not in row.measures for key in model.measures):
        return None
    values = {key: row.measures[key].get("value") for key in model.measures}
    risk = float(model.risk([values])[0])
    parts = []
    for part in model.explain(values):
        measure = get_measure(part["measure"])
        parts.append(
            LearnedPart(
                label=str(measure.label) if measure else part["measure"],
                unit=str(measure.unit) if measure else "",
                value=part["value"],
                points=part["points"],
            )
        )
    return LearnedRisk(model=in_use, risk=risk, parts=parts)


def latest_day() -> date | None:
    return HealthScore.objects.order_by("-day").values_list("day", flat=True).first()


class _Graded(TypedDict):
    health_grade: str | None


def grade_distribution(accounts: QuerySet[Account]) -> dict[str, int]:
    """How many of these accounts have each grade on their latest scored day, in one query."""
    graded = cast("QuerySet[WithAnnotations[Account, _Graded]]", accounts)  # as portfolio() annotates them
    rows = graded.order_by().values("health_grade").annotate(n=Count("id"))
    return {row["health_grade"] or "unknown": row["n"] for row in rows}


def sparklines(account_ids: list[int], *, days: int = 30) -> dict[int, list[float | None]]:
    """Daily scores of the last `days` days per account (oldest first), in one query."""
    if not account_ids:
        return {}
    today = timezone.localdate()
    rows = (
        HealthScore.objects.filter(
            account_id__in=account_ids, day__gt=today - timedelta(days=days), day__lte=today
        )
        .order_by("account_id", "day")
        .values_list("account_id", "score")
    )
    series: dict[int, list[float | None]] = {}
    for account_id, value in rows:
        series.setdefault(account_id, []).append(value)
    return series


def scorecards() -> QuerySet[Scorecard]:
    return Scorecard.objects.select_related("segment", "current_version", "current_version__created_by")


def scorecards_yaml() -> str:
    """Every scorecard's current version as the YAML `touchpoint scorecard apply` reads back."""
    document: dict[str, list[dict[str, Any]]] = {"scorecards": []}
    for scorecard in scorecards():
        version = scorecard.current_version
        if version is None:
            continue
        definition = version.definition
        document["scorecards"].append(
            {
                "name": scorecard.name,
                "segment": scorecard.segment.name if scorecard.segment else None,
                "version": version.number,
                "grades": definition.get("grades", {}),
                "measures": {
                    rule["measure"]: {
                        "weight": rule["weight"],
                        "green": rule["green"],
                        "red": rule["red"],
                        "missing": rule.get("missing", DEFAULT_MISSING_POINTS),
                    }
                    for rule in definition.get("measures", [])
                },
            }
        )
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def score_on(account_id: int, day: date) -> HealthScore | None:
    """The account's health score as of that day: the latest scored day on or before it."""
    return HealthScore.objects.filter(account_id=account_id, day__lte=day).order_by("-day").first()
