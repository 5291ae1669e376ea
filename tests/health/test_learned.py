"""The learned model beside the scorecard: it bends with each measure, gives "no data" the risk it carried,
sees measures that matter together, explains each account per measure, is judged on later days and
accounts it never saw, and is put in use only when it does better (or on purpose)."""

from __future__ import annotations

import json
import math
import random
from datetime import date, timedelta

import numpy as np
import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from tests.conftest import logged_in_client
from tests.health.test_fit import PERIOD, RECENCY, perfectly_foreseen_history
from tests.health.test_views import scored_account
from touchpoint.health import backtest, fit, learned, services
from touchpoint.health.backtest import Samples
from touchpoint.health.models import LearnedModel
from touchpoint.health.scoring import Definition
from touchpoint.users.models import AuditLogEntry

DAYS = [date(2026, 1, 1) + timedelta(days=7 * i) for i in range(9)]
PERIOD_OF_SAMPLES = backtest.Period(start=DAYS[0], end=DAYS[-1], every=7, horizon=30)


def history(risk_of, *, accounts: int = 600, seed: int = 7) -> Samples:
    """Each account on every sampled day; `risk_of(values)` is its chance of churn next, `values_of`
    draws its measures once (the same account looks alike from one week to the next)."""
    rng = random.Random(seed)
    made = Samples(days=list(DAYS))
    for account in range(1, accounts + 1):
        tenure = rng.uniform(0, 900)
        usage = rng.uniform(0, 100) if rng.random() > 0.2 else None  # a fifth have no usage data yet
        for week, day in enumerate(DAYS):
            values = {"tenure": tenure + 7 * week, "active_users": usage}
            made.day.append(day)
            made.account.append(account)
            made.values.append(values)
            made.outcome.append(rng.random() < risk_of(values))
    return made


def early_and_unused(values) -> float:
    """Risk falls steeply over the first 90 days, then is flat; no usage data is as risky as low use."""
    tenure_risk = 0.5 if values["tenure"] < 90 else 0.05
    usage = values["active_users"]
    return min(0.95, tenure_risk * (2.0 if usage is None or usage < 20 else 0.6))


def test_the_model_bends_with_tenure_and_gives_no_data_its_own_risk():
    made = history(early_and_unused)
    model = learned.fit_model(made, ["tenure", "active_users"], horizon=30)
    young, settled, old = ({"tenure": t, "active_users": 60.0} for t in (30.0, 200.0, 800.0))
    risk = model.risk([young, settled, old, {"tenure": 200.0, "active_users": None}])
    assert risk[0] > 2 * risk[1]  # the first months carry the risk
    assert abs(risk[1] - risk[2]) < 0.06  # and then it flattens (a straight line could not do both)
    assert risk[3] > 1.5 * risk[1]  # "no usage data" is risky here, not healthy

    explained = {part["measure"]: part for part in model.explain({"tenure": 30.0, "active_users": None})}
    assert explained["tenure"]["points"] > 0 and explained["active_users"]["points"] > 0
    assert explained["active_users"]["known"] is False
    calm = {part["measure"]: part for part in model.explain({"tenure": 800.0, "active_users": 90.0})}
    assert calm["tenure"]["points"] < 0 and calm["active_users"]["points"] < 0


def test_measures_that_matter_together_are_seen_together():
    """Churn only where both are bad: a model of parts that only add up ranks this worse."""

    def both_bad(values):
        usage = values["active_users"] or 0.0
        return 0.6 if values["tenure"] < 300 and usage < 40 else 0.03

    made = history(both_bad, accounts=900)
    train_days, test_days, train, test = fit.split_days(made)
    model = learned.fit_model(train, ["tenure", "active_users"], horizon=30)
    auc = roc_auc_score(test.outcome, model.risk(test.values))
    assert auc > 0.8


def test_the_parameters_are_plain_json_and_give_the_same_risks_back():
    made = history(early_and_unused, accounts=300)
    model = learned.fit_model(made, ["tenure", "active_users"], horizon=30)
    stored = json.loads(json.dumps(model.as_dict()))
    again = learned.LearnedModel.from_dict(stored)
    rows = made.values[:50]
    assert np.allclose(model.risk(rows), again.risk(rows))
    with pytest.raises(ValueError):
        learned.LearnedModel.from_dict({**stored, "format": 99})


def test_the_test_holds_out_later_days_and_accounts_the_fit_never_saw():
    made = history(early_and_unused, accounts=300)
    train_days, test_days, train, test = fit.split_days(made)
    assert max(train_days) < min(test_days)
    assert not set(train.account) & set(test.account)
    assert {d for d in test.day} <= set(test_days) and {d for d in train.day} <= set(train_days)
    share = len(set(test.account)) / 300
    assert 0.2 < share < 0.45  # about a third of the accounts, not every third id


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=2**40), st.integers(min_value=2, max_value=40))
def test_the_auc_range_comes_from_whole_accounts_and_holds_the_auc(seed, repeats):
    """Copying every sample of an account many times adds no information: the range must not shrink
    as it would if samples were drawn one by one."""
    rng = np.random.default_rng(seed % 2**32)
    accounts = np.arange(60)
    outcomes = rng.random(60) < 0.3
    if outcomes.all() or not outcomes.any():
        outcomes[0], outcomes[1] = True, False
    scores = rng.normal(size=60) - outcomes
    once = backtest.auc_interval(outcomes, scores, accounts)
    many = backtest.auc_interval(
        np.repeat(outcomes, repeats), np.repeat(scores, repeats), np.repeat(accounts, repeats)
    )
    auc = roc_auc_score(outcomes, -scores)
    assert once is not None and many is not None
    assert once[0] <= auc <= once[1]
    assert math.isclose(once[0], many[0], abs_tol=1e-9) and math.isclose(once[1], many[1], abs_tol=1e-9)


@pytest.mark.django_db
def test_the_learned_model_is_judged_on_the_scorecards_test_and_applied_only_when_better(admin_user):
    perfectly_foreseen_history(60)
    scorecard = services.ensure_default_scorecard()
    services.save_scorecard(definition=Definition(rules=(RECENCY,)), actor=admin_user, scorecard=scorecard)
    query = {"start": PERIOD.start, "end": PERIOD.end, "every": 7, "horizon": 30}
    client = logged_in_client(admin_user)
    page = client.get(reverse("health-backtest"), query)
    assert page.status_code == 200
    proposal, fitted = page.context["learned"], page.context["proposal"]
    # The same later days and the same held-out accounts as the scorecard's fit.
    assert proposal.test_days == fitted.test_days
    assert proposal.current.samples == fitted.current.samples == proposal.proposed.samples
    assert proposal.current.auc_low is not None and proposal.current.auc_low <= proposal.current.auc
    assert 'id="auc-test-learned"' in page.content.decode()
    # The scorecard already tells every churner apart: the model cannot do better.
    assert not proposal.improves
    refused = client.post(reverse("health-learned-apply"), {**query, "scorecard": scorecard.pk})
    assert refused.status_code == 400 and not LearnedModel.objects.exists()
    applied = client.post(
        reverse("health-learned-apply"), {**query, "scorecard": scorecard.pk, "override": "1"}
    )
    assert applied.status_code == 302
    in_use = LearnedModel.objects.get()
    assert in_use.withdrawn_at is None and "applied by override" in in_use.note
    assert AuditLogEntry.objects.filter(action="apply_learned_model").exists()
    again = client.post(
        reverse("health-learned-apply"), {**query, "scorecard": scorecard.pk, "override": "1"}
    )
    assert again.status_code == 302
    assert LearnedModel.objects.filter(withdrawn_at__isnull=True).count() == 1
    assert LearnedModel.objects.count() == 2
    client.post(reverse("health-learned-withdraw", args=[scorecard.pk]))
    assert not LearnedModel.objects.filter(withdrawn_at__isnull=True).exists()


@pytest.mark.django_db
def test_the_account_page_shows_the_models_risk_and_its_reasons(csm, admin_user):
    account = scored_account()
    scorecard = services.ensure_default_scorecard()
    keys = [rule["measure"] for rule in scorecard.current_version.definition["measures"]]
    rng = random.Random(3)
    made = Samples(days=list(DAYS))
    for index in range(400):
        recency = rng.uniform(0, 120)
        made.day.append(DAYS[index % len(DAYS)])
        made.account.append(index)
        made.values.append({"engagement_recency": recency})
        made.outcome.append(rng.random() < (0.5 if recency > 60 else 0.05))
    model = learned.fit_model(made, keys, horizon=90)
    result = backtest.evaluate_scores(made, learned.learned_scores(model, made))
    proposal = learned.LearnedProposal(
        model=model, train_days=DAYS, test_days=DAYS, current=result, proposed=result
    )
    services.apply_learned_model(scorecard=scorecard, proposal=proposal, actor=admin_user, override=True)
    body = logged_in_client(csm).get(reverse("account-health", args=[account.pk])).content.decode()
    assert 'id="learned-risk"' in body and "Engagement recency" in body
    assert "chance of churn or contraction within 90 days" in body
    # A model fitted on a measure this score did not store is not shown (fit it again).
    retired = learned.fit_model(made, [*keys, "retired_measure"], horizon=90)
    LearnedModel.objects.update(parameters=retired.as_dict())
    body = logged_in_client(csm).get(reverse("account-health", args=[account.pk])).content.decode()
    assert 'id="learned-risk"' not in body


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.booleans(), st.integers(1, 4)), min_size=2, max_size=40))
def test_the_weighted_auc_of_the_resampling_is_scikit_learns(rows):
    scores = np.array([float(score) for score, _o, _w in rows])
    outcomes = np.array([o for _s, o, _w in rows])
    weights = np.array([float(w) for _s, _o, w in rows])
    levels, level = np.unique(-scores, return_inverse=True)
    ours = backtest._weighted_auc(level, len(levels), outcomes, weights)
    if outcomes.all() or not outcomes.any():
        assert ours is None
    else:
        assert ours == pytest.approx(roc_auc_score(outcomes, -scores, sample_weight=weights))
