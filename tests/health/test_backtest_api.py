"""The back-test and the fit in the API: the command's JSON, applied only when asked, a proposal that
is no improvement refused without an override, leaders' and admins' to apply, bad input a 422."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from tests.conftest import assert_api_error
from tests.health.test_fit import PERIOD, RECENCY, perfectly_foreseen_history
from touchpoint.health import services
from touchpoint.health.models import ScorecardVersion
from touchpoint.health.scoring import Definition, MeasureRule
from touchpoint.users.models import AuditLogEntry

pytestmark = pytest.mark.django_db

WINDOW = {"start": str(PERIOD.start), "end": str(PERIOD.end), "every": 7, "horizon": 30}
COMMAND_WINDOW = ["--start", str(PERIOD.start), "--end", str(PERIOD.end), "--every", "7", "--horizon", "30"]
# Every value of the history is far below "green": every account scores 100, nothing is told apart.
BLIND = MeasureRule("engagement_recency", weight=1, green=500, red=1000)


@pytest.fixture
def scorecard(admin_user):
    perfectly_foreseen_history()
    scorecard = services.ensure_default_scorecard()
    services.save_scorecard(definition=Definition(rules=(RECENCY,)), actor=admin_user, scorecard=scorecard)
    scorecard.refresh_from_db()
    return scorecard


def command_json(*args: str) -> dict:
    out = StringIO()
    call_command("health", *args, "--json", *COMMAND_WINDOW, stdout=out)
    return json.loads(out.getvalue())


def test_the_backtest_answers_what_the_command_prints(api, scorecard):
    response = api.get("/health/backtest", **WINDOW)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == command_json("backtest")
    assert body["auc"] > 0.8 and body["samples"] >= 30 and len(body["days"]) == 6
    assert body["scorecard_id"] == scorecard.pk and body["period"]["horizon"] == 30
    named = api.get("/health/backtest", scorecard=scorecard.pk, **WINDOW).json()
    assert named == body


def test_a_fit_answers_what_the_command_prints_and_writes_nothing(api, scorecard):
    versions = ScorecardVersion.objects.count()
    response = api.send("post", "/health/fit", WINDOW)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {**command_json("fit"), "applied_version": None, "learned_applied": False}
    assert body["learned"]["result"]["samples"] == body["current"]["samples"]
    assert body["improves"] is False and body["current"]["auc"] == pytest.approx(1.0)
    assert body["train_days"] and body["test_days"] and max(body["train_days"]) < min(body["test_days"])
    assert {"weight", "green", "red", "missing"} <= set(body["proposed_definition"]["measures"][0])
    assert ScorecardVersion.objects.count() == versions


def test_a_proposal_that_is_no_improvement_is_applied_only_with_an_override(admin_api, admin_user, scorecard):
    versions = ScorecardVersion.objects.count()
    refused = admin_api.send("post", "/health/fit", {**WINDOW, "apply": True})
    body = assert_api_error(refused, 409, "override")
    assert "no improvement" in body["detail"]
    assert ScorecardVersion.objects.count() == versions
    applied = admin_api.send("post", "/health/fit", {**WINDOW, "apply": True, "override": True})
    assert applied.status_code == 200, applied.content
    version = ScorecardVersion.objects.get(scorecard=scorecard, number=applied.json()["applied_version"])
    assert version.number == scorecard.current_version.number + 1
    assert "applied by override" in version.note and version.created_by == admin_user
    entry = AuditLogEntry.objects.filter(action="new_version").latest("id")
    assert entry.actor == admin_user and entry.changes["version"] == version.number


def test_an_improvement_is_applied_without_an_override(admin_api, admin_user):
    perfectly_foreseen_history()
    scorecard = services.ensure_default_scorecard()
    services.save_scorecard(definition=Definition(rules=(BLIND,)), actor=admin_user, scorecard=scorecard)
    response = admin_api.send("post", "/health/fit", {**WINDOW, "scorecard": scorecard.pk, "apply": True})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["improves"] is True and body["proposed"]["auc"] > body["current"]["auc"]
    scorecard.refresh_from_db()
    assert scorecard.current_version.number == body["applied_version"]
    rule = Definition.from_dict(scorecard.current_version.definition).rules[0]
    assert rule.green < BLIND.green  # the thresholds moved to where the risk changes
    assert "no improvement" not in scorecard.current_version.note


def test_csms_and_viewers_read_and_fit_but_only_leaders_and_admins_apply(api, viewer_api, leader, scorecard):
    from tests.conftest import Api
    from touchpoint.users.services import create_api_key

    versions = ScorecardVersion.objects.count()
    for client in (api, viewer_api):
        assert client.get("/health/backtest", **WINDOW).status_code == 200
        assert client.send("post", "/health/fit", WINDOW).status_code == 200
        assert_api_error(client.send("post", "/health/fit", {**WINDOW, "apply": True, "override": True}), 403)
    assert ScorecardVersion.objects.count() == versions
    leader_api = Api(create_api_key(user=leader)[1])
    applied = leader_api.send("post", "/health/fit", {**WINDOW, "apply": True, "override": True})
    assert applied.status_code == 200 and ScorecardVersion.objects.count() == versions + 1
    assert Api(None).get("/health/backtest", **WINDOW).status_code == 401


@pytest.mark.parametrize(
    "params, field",
    [
        ({"horizon": 0}, "horizon"),
        ({"horizon": 731}, "horizon"),
        ({"horizon": 10**12}, "horizon"),
        ({"every": 0}, "every"),
        ({"start": "0001-01-01"}, "start"),
        ({"end": "9999-12-31"}, "end"),
        ({"start": "2026-02-30"}, "start"),
        ({"start": "1767225600"}, "start"),
        ({"scorecard": 2**63}, "scorecard"),
        ({"start": "2026-05-01", "end": "2026-04-01"}, "start"),
        ({"start": "2020-01-01", "end": "2026-01-01", "every": 1}, "every"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(api, scorecard, params, field):
    assert_api_error(api.get("/health/backtest", **{**WINDOW, **params}), 422, field)
    body = {**WINDOW, **params}
    assert_api_error(api.send("post", "/health/fit", body), 422, field)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"apply": "yes"}, "apply"),
        ({"override": 1}, "override"),
        ({"horizon": "30"}, "horizon"),
        ({"colour": "red"}, "colour"),
        ({"start": "x" * 100_000}, "start"),
    ],
)
def test_a_bad_fit_body_is_a_422_naming_the_field(admin_api, scorecard, body, field):
    versions = ScorecardVersion.objects.count()
    assert_api_error(admin_api.send("post", "/health/fit", {**WINDOW, **body}), 422, field)
    assert ScorecardVersion.objects.count() == versions


def test_an_unknown_scorecard_is_a_404_and_too_little_history_a_422(api, scorecard):
    assert_api_error(api.get("/health/backtest", scorecard=scorecard.pk + 1000, **WINDOW), 404)
    one_day = {**WINDOW, "start": WINDOW["end"]}
    assert_api_error(api.send("post", "/health/fit", one_day), 422, "start")
    deep = "[" * 300 + "]" * 300
    assert api.send("post", "/health/fit", raw='{"start": ' + deep + "}").status_code in (400, 422)


def test_the_learned_model_is_put_in_use_through_the_api_only_with_an_override_when_no_better(
    api, admin_api, scorecard
):
    from touchpoint.health.models import LearnedModel

    assert api.send("post", "/health/fit", {**WINDOW, "apply_learned": True}).status_code == 403  # a CSM
    refused = admin_api.send("post", "/health/fit", {**WINDOW, "apply_learned": True})
    # The current scorecard foresees every churner here: the learned model cannot do better.
    assert refused.status_code == 409 and refused.json()["errors"][0]["field"] == "override"
    assert not LearnedModel.objects.exists()
    applied = admin_api.send("post", "/health/fit", {**WINDOW, "apply_learned": True, "override": True})
    assert applied.status_code == 200 and applied.json()["learned_applied"] is True
    assert LearnedModel.objects.filter(scorecard=scorecard, withdrawn_at__isnull=True).count() == 1
