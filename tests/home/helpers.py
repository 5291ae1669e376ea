"""Rows the home tests share: health scores of a day, with per-measure points."""

from __future__ import annotations

from datetime import date

from touchpoint.health.models import HealthScore
from touchpoint.health.services import ensure_default_scorecard


def score(account, day: date, value: float, grade: str, **points: float) -> HealthScore:
    """A stored score; `points` per measure (each weight 1), e.g. usage_trend=80."""
    version = ensure_default_scorecard().current_version
    return HealthScore.objects.create(
        account=account,
        day=day,
        version_id=version.pk,
        score=value,
        grade=grade,
        measures={key: {"value": p, "points": p, "weight": 1} for key, p in points.items()},
    )
