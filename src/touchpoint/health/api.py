"""Health in the REST API: an account's score, grade, trend and what drives it."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from touchpoint.accounts.models import Account
from touchpoint.api_contract import READ, Id, answers, require_perm
from touchpoint.health import selectors

router = Router(tags=["health"])


class TrendOut(Schema):
    change_7_days: float | None
    change_30_days: float | None


class DriverOut(Schema):
    measure: str
    label: str
    unit: str
    known: bool
    value: float | None
    points: float | None
    weight: float | None
    contribution: float | None
    change_7_days: float | None


class HealthOut(Schema):
    score: float | None
    grade: str
    day: date | None
    scorecard: str | None
    version: int | None
    trend: TrendOut
    drivers: list[DriverOut]


@router.get(
    "/accounts/{account_id}/health",
    response=answers({200: HealthOut}, *READ, 404),
    summary="Health score, explained",
)
def account_health(request: HttpRequest, account_id: Id):
    """The latest score (0–100, null when no measure has data), its grade, its change over 7 and 30
    days, and per measure: the raw value, the points (0–100), the weight, the points it adds to the
    score and how that changed since a week before. A measure without data that day is listed with
    `known: false` and `value: null`: it still counts, with the points its scorecard gives "not
    enough data" (50 unless set or fitted), so a new account does not look healthy for lack of data."""
    account = get_object_or_404(Account, pk=account_id)
    require_perm(request, "health.view_healthscore", account)
    explained = selectors.explain(account, history_days=31)
    row = explained.score
    version = selectors.version_of(row) if row is not None else None
    return {
        "score": None if row is None or row.score is None else round(row.score, 1),
        "grade": row.grade if row is not None else "unknown",
        "day": row.day if row is not None else None,
        "scorecard": version.scorecard.name if version else None,
        "version": version.number if version else None,
        "trend": {"change_7_days": _round(explained.trend_7), "change_30_days": _round(explained.trend_30)},
        "drivers": [
            {
                "measure": d.measure,
                "label": d.label,
                "unit": d.unit,
                "known": d.value is not None,
                "value": _round(d.value, 2),
                "points": _round(d.points),
                "weight": d.weight,
                "contribution": _round(d.contribution),
                "change_7_days": _round(d.change),
            }
            for d in explained.drivers
        ],
    }


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)
