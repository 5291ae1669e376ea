"""Health in the REST API: an account's score, grade, trend and what drives it; the back-test of a
scorecard and its fitted proposal, as `touchpoint health backtest|fit --json` print them."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from touchpoint.accounts.models import Account
from touchpoint.api_contract import READ, WRITE, Day, Id, Strict, answers, caller, require_perm
from touchpoint.health import backtest, fit, learned, selectors, services
from touchpoint.health.models import Scorecard
from touchpoint.health.reports import backtest_report, fit_report
from touchpoint.health.scoring import Definition

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


# --- The back-test and the fitted proposal ----------------------------------------------------------


class Open(Schema):
    """Output that may carry more than the fields named here (the back-test grows with the product)."""

    model_config = ConfigDict(extra="allow")


class BacktestDecileOut(Open):
    decile: int
    count: int
    rate: float
    lift: float
    mean_score: float


class BacktestCalibrationOut(Open):
    band: str
    count: int
    predicted: float
    observed: float


class BacktestResultOut(Open):
    days: list[date]
    samples: int = Field(description="Scores that took part (unknown scores are left out).")
    positives: int = Field(description="Of them, followed by churn or contraction within the horizon.")
    auc: float | None = Field(
        description="ROC AUC: the chance a customer who stayed scored higher than one who left."
    )
    auc_interval: list[float] | None = Field(
        None, description="95 % range of the AUC from resampling accounts (low, high); null without an AUC."
    )
    deciles: list[BacktestDecileOut] = Field(description="Worst scores first: churn rate and lift per tenth.")
    calibration: list[BacktestCalibrationOut]


class BacktestPeriodOut(Schema):
    start: date
    end: date
    every: int
    horizon: int


class BacktestOut(BacktestResultOut):
    scorecard: str
    scorecard_id: int
    version: int | None
    period: BacktestPeriodOut


class ScorecardRuleOut(Open):
    measure: str
    weight: float
    green: float
    red: float
    missing: float


class ScorecardGradesOut(Schema):
    green: float
    red: float


class ScorecardDefinitionOut(Open):
    measures: list[ScorecardRuleOut]
    grades: ScorecardGradesOut


class LearnedOut(Open):
    improves: bool = Field(description="Whether the learned model beat the current scorecard on the test.")
    result: BacktestResultOut = Field(description="The learned model on the test days and accounts.")
    parameters: dict[str, Any] = Field(description="The model's knots, coefficients and averages.")


class FitOut(Open):
    scorecard: str
    scorecard_id: int
    version: int | None = Field(description="The scorecard's version the proposal was fitted against.")
    period: BacktestPeriodOut
    improves: bool = Field(description="Whether the proposal beat the current scorecard on the test days.")
    train_days: list[date]
    test_days: list[date]
    current: BacktestResultOut = Field(description="The current scorecard on the test days.")
    proposed: BacktestResultOut = Field(description="The proposal on the test days.")
    current_definition: ScorecardDefinitionOut
    proposed_definition: ScorecardDefinitionOut
    coefficients: dict[str, float]
    applied_version: int | None = Field(
        None, description="The scorecard version the proposal became, when it was applied."
    )
    learned: LearnedOut | None = Field(None, description="The learned model on the same test.")
    learned_applied: bool = Field(False, description="Whether the learned model was put in use.")


HORIZON = Field(backtest.DEFAULT_HORIZON, ge=1, le=730, description="Days after a score to look for churn.")
EVERY = Field(7, ge=1, le=730, description="Days between sampled days.")


class BacktestQuery(Schema):
    scorecard: Id | None = Field(None, description="The scorecard's id (the default scorecard if omitted).")
    start: Day | None = Field(
        None, description=f"First sampled day (default: {backtest.DEFAULT_SPAN} days before the end)."
    )
    end: Day | None = Field(None, description="Last sampled day (default: horizon days ago).")
    every: int = EVERY
    horizon: int = HORIZON


class FitIn(Strict):
    scorecard: Id | None = Field(None, description="The scorecard's id (the default scorecard if omitted).")
    start: Day | None = None
    end: Day | None = None
    every: int = EVERY
    horizon: int = HORIZON
    apply: bool = Field(False, description="Keep the proposal as the scorecard's new version.")
    apply_learned: bool = Field(False, description="Put the learned model in use beside the scorecard.")
    override: bool = Field(
        False, description="With apply or apply_learned: apply even what is no improvement."
    )


def _inputs(
    scorecard_id: int | None, *, start: date | None, end: date | None, every: int, horizon: int
) -> tuple[Scorecard, Definition, backtest.Period]:
    """The scorecard (the default one when not named), its current definition and the period."""
    found = selectors.scorecards()
    scorecard = (
        found.filter(pk=scorecard_id).first() if scorecard_id else found.filter(segment__isnull=True).first()
    )
    if scorecard is None or scorecard.current_version is None:
        raise Http404
    period = backtest.Period.around_today(start=start, end=end, every=every, horizon=horizon)
    return scorecard, Definition.from_dict(scorecard.current_version.definition), period


@router.get(
    "/health/backtest",
    response=answers({200: BacktestOut}, *READ, 404),
    summary="Back-test a scorecard",
)
def health_backtest(request: HttpRequest, query: Query[BacktestQuery]):
    """How well a scorecard's past scores foresaw churn and contraction: on every `every`-th day from
    `start` to `end`, each live customer's score from the data as it was that day, against whether it
    churned or contracted within `horizon` days. The same figures as `touchpoint health backtest --json`."""
    require_perm(request, "health.view_scorecard")
    scorecard, definition, period = _inputs(
        query.scorecard, start=query.start, end=query.end, every=query.every, horizon=query.horizon
    )
    result = backtest.run(definition, period, segment=scorecard.segment)
    return backtest_report(scorecard, period, result)


@router.post(
    "/health/fit",
    response=answers({200: FitOut}, *WRITE, 404, 409),
    summary="Fit a scorecard on history (and apply it)",
)
def health_fit(request: HttpRequest, body: FitIn):
    """Fit thresholds, points without data and weights on the earlier two thirds of the sampled days,
    and test the proposal against the current scorecard on the rest, as `touchpoint health fit --json`.
    With `apply`, the proposal becomes the scorecard's new version (leaders and admins); a proposal
    that is no improvement is refused with 409 unless `override` is true as well."""
    require_perm(request, "health.view_scorecard")
    if body.apply or body.apply_learned:
        require_perm(request, "health.change_scorecard")
    scorecard, definition, period = _inputs(
        body.scorecard, start=body.start, end=body.end, every=body.every, horizon=body.horizon
    )
    samples = backtest.collect(
        period, segment=scorecard.segment, measures=[rule.measure for rule in definition.rules]
    )
    proposal = fit.propose(definition, period, samples=samples)
    model = learned.propose_learned(definition, period, samples=samples)
    report = fit_report(scorecard, definition, period, proposal, learned=model)
    with transaction.atomic():
        try:
            if body.apply:
                version = services.apply_proposal(
                    scorecard=scorecard,
                    proposal=proposal,
                    period=period,
                    actor=caller(request),
                    override=body.override,
                )
                report["applied_version"] = version.number
            if body.apply_learned:
                services.apply_learned_model(
                    scorecard=scorecard,
                    proposal=model,
                    actor=caller(request),
                    override=body.override,
                    note=learned.fit_note(model, period),
                )
                report["learned_applied"] = True
        except ValidationError as error:
            if not any(e.code == "no_improvement" for e in error.error_dict.get("override", [])):
                raise
            transaction.set_rollback(True)  # both or neither: one refused leaves the other unapplied
            return Status(
                409,
                {
                    "detail": _("Not applied: the proposal is no improvement on the current scorecard."),
                    "errors": [{"field": "override", "message": " ".join(error.message_dict["override"])}],
                },
            )
    return report
