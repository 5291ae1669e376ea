"""The back-test and the fitted proposal as plain data: what `touchpoint health backtest|fit --json`
prints and what the API answers, built in one place so the two never disagree."""

from __future__ import annotations

from touchpoint.health.backtest import Period, Result
from touchpoint.health.fit import Proposal
from touchpoint.health.learned import LearnedProposal
from touchpoint.health.models import Scorecard
from touchpoint.health.scoring import Definition


def _about(scorecard: Scorecard, period: Period) -> dict:
    version = scorecard.current_version
    return {
        "scorecard": scorecard.name,
        "scorecard_id": scorecard.pk,
        "version": version.number if version is not None else None,
        "period": {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "every": period.every,
            "horizon": period.horizon,
        },
    }


def backtest_report(scorecard: Scorecard, period: Period, result: Result) -> dict:
    """The scorecard and period, then the result's figures (AUC, deciles, calibration) at the top level."""
    return {**_about(scorecard, period), **result.as_dict()}


def fit_report(
    scorecard: Scorecard,
    definition: Definition,
    period: Period,
    proposal: Proposal,
    *,
    learned: LearnedProposal | None = None,
) -> dict:
    """The scorecard, period and current definition, then the proposal (test results of both, the
    proposed definition, train and test days, whether it improves) and the learned model on the same
    test (its result, whether it improves, its parameters)."""
    report = {**_about(scorecard, period), "current_definition": definition.as_dict(), **proposal.as_dict()}
    if learned is not None:
        report["learned"] = {
            "improves": learned.improves,
            "result": learned.proposed.as_dict(),
            "parameters": learned.model.as_dict(),
        }
    return report
