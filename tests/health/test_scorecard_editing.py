"""Scorecard editing: bounded weights and thresholds, a message saying what changed, "Rescore now"."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.conftest import logged_in_client
from tests.health.helpers import old_account
from touchpoint.health import services
from touchpoint.health.models import HealthScore, Scorecard, ScorecardVersion
from touchpoint.health.scoring import Definition, MeasureRule, describe_changes
from touchpoint.health.tasks import recompute_health_task
from touchpoint.users.models import AuditLogEntry

pytestmark = pytest.mark.django_db


def _form_data(client, scorecard) -> dict:
    form = client.get(reverse("health-scorecard", args=[scorecard.pk])).context["form"]
    return {
        n: form[n].value()
        for n in form.fields
        if form[n].value() is not None and form[n].value() is not False
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("engagement_recency__weight", "1e9"),
        ("engagement_recency__weight", "100.5"),
        ("engagement_recency__weight", "-1"),
        ("engagement_recency__weight", "inf"),
        ("engagement_recency__weight", "nan"),
        ("engagement_recency__green", "1e12"),
        ("engagement_recency__red", "-1e10"),
    ],
)
def test_out_of_bounds_weights_and_thresholds_are_field_errors(admin_user, field, value):
    scorecard = services.ensure_default_scorecard()
    client = logged_in_client(admin_user)
    data = {**_form_data(client, scorecard), field: value}
    response = client.post(reverse("health-scorecard", args=[scorecard.pk]), data)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert ScorecardVersion.objects.filter(scorecard=scorecard).count() == 1


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"weight": 1e9, "green": 14, "red": 90}, "weight"),
        ({"weight": float("inf"), "green": 14, "red": 90}, "weight"),
        ({"weight": 1, "green": float("nan"), "red": 90}, "green"),
        ({"weight": 1, "green": 14, "red": 5e9}, "red"),
    ],
)
def test_the_definition_bounds_hold_for_yaml_too(rule, field):
    with pytest.raises(ValidationError) as refused:
        Definition.from_dict({"measures": [{"measure": "engagement_recency", **rule}]})
    assert list(refused.value.message_dict) == [f"measures.0.{field}"]
    with pytest.raises(ValidationError):
        services.apply_scorecards_yaml(
            text="scorecards:\n  - name: Default\n    measures:\n      engagement_recency: {weight: 1000000000, green: 14, red: 90}\n",
            actor=None,
        )
    assert Definition.from_dict(
        {"measures": [{"measure": "engagement_recency", "weight": 100, "green": 1, "red": 2}]}
    )


def test_saving_says_what_changed(admin_user):
    scorecard = services.ensure_default_scorecard()
    client = logged_in_client(admin_user)
    data = _form_data(client, scorecard)
    data["engagement_recency__weight"] = "30"
    data["engagement_recency__red"] = "60"
    data["grade_green"] = "75"
    response = client.post(reverse("health-scorecard", args=[scorecard.pk]), data, follow=True)
    page = response.content.decode()
    assert "Saved as version 2" in page
    assert "Weight of Engagement recency 1 → 30" in page
    assert "Red of Engagement recency 90 → 60" in page
    assert "Green from score 70 → 75" in page
    assert "Rescore now" in page
    again = client.post(reverse("health-scorecard", args=[scorecard.pk]), data, follow=True)
    assert "Nothing changed" in again.content.decode()


def test_describe_changes_names_added_and_removed_measures():
    old = Definition(rules=(MeasureRule("a", 1, 1, 0), MeasureRule("b", 2, 1, 0)))
    new = Definition(rules=(MeasureRule("a", 1.5, 1, 0), MeasureRule("c", 3, 1, 0)), green_at=80)
    assert describe_changes(old, new, {"a": "Logins", "c": "Seats"}) == [
        "Weight of Logins 1 → 1.5",
        "Seats added (weight 3)",
        "b removed",
        "Green from score 70 → 80",
    ]
    assert describe_changes(None, new, {}) == []


def test_rescore_now_queues_todays_scores_and_they_follow_the_new_weights(
    admin_user, django_capture_on_commit_callbacks
):
    account = old_account()
    scorecard = services.ensure_default_scorecard()
    client = logged_in_client(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("health-scorecard-rescore", args=[scorecard.pk]), follow=True)
    assert "Rescoring every account for today" in response.content.decode()
    queued = DBTaskResult.objects.get()
    assert queued.task_path.endswith("recompute_health_task")
    assert AuditLogEntry.objects.filter(action="rescore", object_id=str(scorecard.pk)).exists()
    # What the worker then runs: today's score for every account.
    assert recompute_health_task.call() >= 1
    assert HealthScore.objects.filter(account=account, day=timezone.localdate()).exists()


def test_only_leaders_and_admins_rescore(csm, leader):
    scorecard = services.ensure_default_scorecard()
    assert (
        logged_in_client(csm).post(reverse("health-scorecard-rescore", args=[scorecard.pk])).status_code
        == 403
    )
    assert (
        logged_in_client(leader).get(reverse("health-scorecard-rescore", args=[scorecard.pk])).status_code
        == 405
    )
    assert (
        logged_in_client(leader).post(reverse("health-scorecard-rescore", args=[424242])).status_code == 404
    )
    assert Scorecard.objects.count() == 1
