"""The fitted proposal: thresholds where a measure's risk changes, points for "no data" learned from
history, and a proposal that does not beat the current scorecard is never applied by accident."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import logged_in_client
from tests.health.helpers import TODAY, churn, old_account, subscription, touch
from touchpoint.health import backtest, fit, services
from touchpoint.health.backtest import Samples
from touchpoint.health.models import ScorecardVersion
from touchpoint.health.scoring import Definition, MeasureRule, measure_points

RECENCY = MeasureRule("engagement_recency", weight=1, green=7, red=60)
ACTIVE = MeasureRule("active_users", weight=1, green=5, red=0)  # higher is better


def test_thresholds_move_to_where_the_risk_changes_when_every_sample_sat_past_green():
    # Nearly every account is "green" (above 5) under the current rule, so its points cannot tell
    # anyone apart; the churners are those below 30.
    rng = np.random.default_rng(1)
    values = rng.uniform(0, 100, 2000)
    outcomes = rng.random(2000) < np.where(values < 30, 0.6, 0.05)
    before = [measure_points(v, green=ACTIVE.green, red=ACTIVE.red) for v in values]
    assert np.mean(np.array(before) == 100) > 0.9
    green, red = fit.fitted_thresholds(values, outcomes, ACTIVE)
    assert red < green  # higher is still better
    assert 20 <= red <= 32 and 28 <= green <= 45
    after = np.array([measure_points(v, green=green, red=red) for v in values])
    assert np.mean(after == 100) < 0.8 and np.mean(after == 0) < 0.4


def test_a_measure_without_signal_or_with_the_opposite_signal_keeps_its_thresholds():
    rng = np.random.default_rng(2)
    values = rng.uniform(0, 100, 2000)
    noise = rng.random(2000) < 0.2
    assert fit.fitted_thresholds(values, noise, ACTIVE) == (ACTIVE.green, ACTIVE.red)
    # More active users, more churn: not what the scorecard says is good; the fit does not flip it.
    backwards = rng.random(2000) < np.where(values > 70, 0.6, 0.05)
    assert fit.fitted_thresholds(values, backwards, ACTIVE) == (ACTIVE.green, ACTIVE.red)
    # Too few values to say anything.
    assert fit.fitted_thresholds(values[:10], backwards[:10], ACTIVE) == (ACTIVE.green, ACTIVE.red)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-1e6, 1e6, allow_nan=False), st.booleans()), min_size=0, max_size=300),
    st.sampled_from([RECENCY, ACTIVE]),
)
def test_fitted_thresholds_keep_the_good_side_and_stay_within_the_data(pairs, rule):
    values = np.array([value for value, _o in pairs], dtype=float)
    outcomes = np.array([o for _v, o in pairs], dtype=bool)
    green, red = fit.fitted_thresholds(values, outcomes, rule)
    assert green != red and (green > red) == (rule.green > rule.red)
    if (green, red) != (rule.green, rule.red):
        assert values.min() <= min(green, red) and max(green, red) <= values.max() + 1e-3


def samples(values_of, n: int = 1200, seed: int = 4) -> Samples:
    """n samples over six days: `values_of(rng)` gives (the measures' values, churned or not)."""
    rng = random.Random(seed)
    days = [date(2026, 1, 1) + timedelta(days=7 * i) for i in range(6)]
    made = Samples(days=days)
    for index in range(n):
        values, churned = values_of(rng)
        made.day.append(days[index % len(days)])
        made.account.append(index)
        made.values.append(values)
        made.outcome.append(churned)
    return made


def recency_sometimes_missing(churn_when_missing: float):
    def values_of(rng):
        missing = rng.random() < 0.25
        churned = rng.random() < (churn_when_missing if missing else 0.15)
        recency = rng.uniform(0, 40) + (25 if churned else 0)
        return ({} if missing else {"engagement_recency": recency}), churned

    return values_of


PERIOD_OF_SAMPLES = backtest.Period(start=date(2026, 1, 1), end=date(2026, 2, 5), every=7, horizon=7)


@pytest.mark.parametrize("churn_when_missing, low, high", [(0.7, 0, 25), (0.01, 60, 100)])
def test_points_without_data_are_learned_from_how_accounts_without_data_fared(churn_when_missing, low, high):
    definition = Definition(rules=(RECENCY,))
    history = samples(recency_sometimes_missing(churn_when_missing))
    (rule,) = fit.propose(definition, PERIOD_OF_SAMPLES, samples=history).definition.rules
    # "No data" meant churn: scored near red; it meant a safe customer: scored near green.
    assert low <= rule.missing <= high


def test_a_fit_beats_a_scorecard_under_which_nearly_everyone_was_green():
    def values_of(rng):
        active = rng.uniform(0, 100)
        return {"active_users": active}, rng.random() < (0.6 if active < 30 else 0.05)

    proposal = fit.propose(Definition(rules=(ACTIVE,)), PERIOD_OF_SAMPLES, samples=samples(values_of))
    assert proposal.current.auc < 0.6  # every sample past "green" (5) scores the same
    assert proposal.improves and proposal.proposed.auc > 0.75


D = TODAY - timedelta(days=60)
PERIOD = backtest.Period(start=D - timedelta(days=35), end=D, every=7, horizon=30)


def perfectly_foreseen_history(n: int = 30) -> None:
    """Churners had no touch for two months; the current recency rule already tells them apart."""
    for index in range(n):
        account = old_account()
        sub = subscription(account, started=D - timedelta(days=400))
        leaves = index % 3 == 0
        touch(account, on=D - timedelta(days=110 if leaves else 36))
        for days_before in range(0, 36, 5):
            if not leaves:
                touch(account, on=D - timedelta(days=days_before))
        if leaves:
            churn(sub, on=D + timedelta(days=10))


@pytest.mark.django_db
def test_a_proposal_that_is_no_improvement_is_said_so_and_needs_an_override(admin_user):
    perfectly_foreseen_history()
    scorecard = services.ensure_default_scorecard()
    services.save_scorecard(definition=Definition(rules=(RECENCY,)), actor=admin_user, scorecard=scorecard)
    versions = ScorecardVersion.objects.count()
    query = {"start": PERIOD.start, "end": PERIOD.end, "every": 7, "horizon": 30}
    client = logged_in_client(admin_user)
    page = client.get(reverse("health-backtest"), query)
    assert page.status_code == 200 and not page.context["proposal"].improves
    assert "No improvement." in page.content.decode() and 'name="override"' in page.content.decode()
    refused = client.post(reverse("health-backtest-accept"), {**query, "scorecard": scorecard.pk})
    assert refused.status_code == 400 and "no improvement" in refused.content.decode()
    assert ScorecardVersion.objects.count() == versions
    applied = client.post(
        reverse("health-backtest-accept"), {**query, "scorecard": scorecard.pk, "override": "1"}
    )
    assert applied.status_code == 302 and ScorecardVersion.objects.count() == versions + 1
    assert "applied by override" in ScorecardVersion.objects.latest("created_at").note


@pytest.mark.django_db
def test_the_fit_command_prints_what_the_page_shows_and_applies_only_an_improvement(admin_user):
    perfectly_foreseen_history()
    scorecard = services.ensure_default_scorecard()
    services.save_scorecard(definition=Definition(rules=(RECENCY,)), actor=admin_user, scorecard=scorecard)
    window = ["--start", str(PERIOD.start), "--end", str(PERIOD.end), "--horizon", "30"]
    out = StringIO()
    call_command("health", "fit", "--json", *window, stdout=out)
    result = json.loads(out.getvalue())
    assert result["improves"] is False and result["current"]["auc"] == pytest.approx(1.0)
    assert result["proposed_definition"]["measures"][0]["measure"] == "engagement_recency"
    assert {"weight", "green", "red", "missing"} <= set(result["proposed_definition"]["measures"][0])
    versions = ScorecardVersion.objects.count()
    with pytest.raises(CommandError, match="no improvement"):
        call_command("health", "fit", *window, "--apply", "--actor", admin_user.email, stdout=StringIO())
    assert ScorecardVersion.objects.count() == versions
    out = StringIO()
    call_command("health", "fit", *window, "--apply", "--override", "--actor", admin_user.email, stdout=out)
    assert "Applied as" in out.getvalue() and ScorecardVersion.objects.count() == versions + 1


@pytest.mark.django_db
def test_one_default_horizon_for_the_page_the_form_and_the_command():
    from touchpoint.health.forms import BacktestForm

    assert BacktestForm().fields["horizon"].initial == backtest.DEFAULT_HORIZON
    period = backtest.Period.around_today()
    assert period.horizon == backtest.DEFAULT_HORIZON
    assert (period.end - period.start).days == backtest.DEFAULT_SPAN
    from touchpoint.health.management.commands.health import Command

    parser = Command().create_parser("touchpoint", "health")
    options = parser.parse_args(["backtest"])
    assert options.horizon == backtest.DEFAULT_HORIZON


@pytest.mark.django_db
def test_recompute_of_past_days_says_how_many_scores_it_wrote_and_which_days_had_no_account():
    from datetime import datetime

    from django.utils import timezone

    from tests.factories import AccountFactory

    AccountFactory(owner=None, segment=None, created_at=timezone.make_aware(datetime(2026, 6, 28, 12)))
    out = StringIO()
    call_command("health", "recompute", "--date", "2026-06-30", "--days", "5", stdout=out)
    text = out.getvalue()
    # Created on the 28th: scored from the end of the 28th on.
    assert "Wrote 3 scores over 5 day(s)" in text
    assert "No account existed yet on 2 of those days (2026-06-26 … 2026-06-27)" in text
