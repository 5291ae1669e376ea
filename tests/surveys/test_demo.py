"""Demo step "surveys": NPS answers over the demo's history in the accounts' languages, detractors
at accounts that churned later, some CSAT, the timeline and events of each answer; deterministic."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Max, Min
from django.utils import timezone

from tests.conftest import demo_once_per_module
from touchpoint.accounts.models import TimelineEntry
from touchpoint.events.models import DomainEvent
from touchpoint.revenue.models import MrrMovement
from touchpoint.surveys.models import Answer, Survey
from touchpoint.surveys.themes import script_of

pytestmark = pytest.mark.django_db

company = demo_once_per_module("--accounts=60", "--days=540", "--seed=7", f"--today={timezone.localdate()}")


def test_nps_answers_span_more_than_a_year_with_each_answer_recorded(company):
    nps = Survey.objects.get(key="relationship-nps")
    span = Answer.objects.filter(survey=nps).aggregate(first=Min("answered_at"), last=Max("answered_at"))
    assert (span["last"] - span["first"]).days > 365
    count = Answer.objects.count()
    assert count > 100
    assert DomainEvent.objects.filter(kind="survey.answered").count() == count
    assert TimelineEntry.objects.filter(kind="survey_answer").count() == count
    assert Answer.objects.filter(survey__key="support-csat").exists()


def test_detractors_at_accounts_that_churned_later(company):
    churned = dict(
        MrrMovement.objects.filter(kind="churn")
        .values("account_id")
        .annotate(day=Max("occurred_on"))
        .values_list("account_id", "day")
    )
    assert churned, "the demo has churned accounts"
    before_churn = [
        answer
        for answer in Answer.objects.filter(category="detractor", account_id__in=churned)
        if answer.answered_at.date() <= churned[answer.account_id]
    ]
    assert len({answer.account_id for answer in before_churn}) >= len(churned) // 2


def test_comments_are_in_the_accounts_languages(company):
    scripts = {
        script_of(text) for text in Answer.objects.exclude(comment="").values_list("comment", flat=True)
    }
    assert {"en", "ja", "ru", "th"} <= scripts
    for answer in Answer.objects.exclude(comment="").select_related("account")[:200]:
        assert script_of(answer.comment) == (
            answer.language if answer.language in ("ja", "ru", "th") else "en"
        )


def test_recent_detractors_have_a_task(company):
    recent = Answer.objects.filter(category="detractor", answered_at__gte=timezone.now() - timedelta(days=14))
    assert all(answer.task_id for answer in recent)
