"""Surveys pages: the list, a survey's results, the settings, the account panel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import logged_in_client
from tests.factories import AccountFactory, ContactFactory, SegmentFactory
from touchpoint.surveys import services
from touchpoint.surveys.models import Survey, SurveySettings

pytestmark = pytest.mark.django_db


@pytest.fixture
def answers(survey, account, contact):
    account.segment = SegmentFactory(name="Enterprise")
    account.save()
    now = timezone.now()
    for days, score, comment in [(5, 10, "Love the reports"), (40, 3, "Support is slow"), (70, 8, "")]:
        services.record_answer(
            survey=survey,
            account=account,
            contact=contact,
            score=score,
            comment=comment,
            answered_at=now - timedelta(days=days),
            react=False,
        )


def test_the_list_shows_each_survey_with_its_score(answers, csm_client, django_assert_max_num_queries):
    services.create_survey(name="Support CSAT", kind="csat")
    with django_assert_max_num_queries(12):
        response = csm_client.get("/surveys/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Quarterly NPS" in html and "Support CSAT" in html
    assert "<strong>0</strong>" in html  # (1 promoter − 1 detractor) / 3 answers


def test_the_survey_page_shows_nps_with_interval_breakdowns_and_answers(
    answers, csm_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20):
        response = csm_client.get("/surveys/nps/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="nps-score">0<' in html
    assert "95% confidence interval" in html
    assert "Enterprise" in html
    assert "Support is slow" in html


def test_a_leader_creates_and_edits_a_survey_errors_beside_the_field(leader):
    client = logged_in_client(leader)
    bad = client.post("/surveys/", {"name": "", "kind": "nps", "on_detractor": "task"})
    assert bad.status_code == 422 and 'id="id_name-error"' in bad.content.decode()
    created = client.post(
        "/surveys/",
        {
            "name": "Onboarding CSAT",
            "key": "onboarding",
            "kind": "csat",
            "on_detractor": "task",
            "question_ja": "満足度は？",
        },
    )
    assert created.status_code == 302 and created["Location"] == "/surveys/onboarding/"
    survey = Survey.objects.get(key="onboarding")
    assert survey.texts == {"ja": {"question": "満足度は？"}}
    edited = client.post(
        "/surveys/onboarding/",
        {"action": "edit", "name": "Onboarding", "on_detractor": "playbook", "detractor_target": "Nope"},
    )
    assert edited.status_code == 422 and 'id="id_detractor_target-error"' in edited.content.decode()


def test_a_viewer_reads_but_cannot_create_or_send(survey, viewer_client):
    assert viewer_client.get("/surveys/nps/").status_code == 200
    assert (
        viewer_client.post("/surveys/", {"name": "X", "kind": "nps", "on_detractor": "task"}).status_code
        == 403
    )
    assert viewer_client.post("/surveys/nps/", {"action": "send", "channel": "email"}).status_code == 403


def test_a_leader_sends_to_a_segment(survey, leader, smtp):
    segment = SegmentFactory(name="SMB")
    inside = AccountFactory(segment=segment)
    ContactFactory(account=inside, email="a@example.com")
    ContactFactory(account=AccountFactory(segment=SegmentFactory(name="Enterprise")), email="b@example.com")
    client = logged_in_client(leader)
    response = client.post("/surveys/nps/", {"action": "send", "channel": "email", "segment": segment.pk})
    assert response.status_code == 302
    from touchpoint.journeys.models import Enrollment

    assert Enrollment.objects.filter(account=inside).count() == 1
    assert Enrollment.objects.count() == 1


def test_settings_are_for_admins(admin_user, leader):
    assert (
        logged_in_client(leader)
        .post("/surveys/-/settings/", {"resurvey_days": 1, "decline_days": 1, "monthly_account_cap": 1})
        .status_code
        == 403
    )
    client = logged_in_client(admin_user)
    assert client.get("/surveys/-/settings/").status_code == 200
    bad = client.post(
        "/surveys/-/settings/", {"resurvey_days": -1, "decline_days": 1, "monthly_account_cap": 1}
    )
    assert bad.status_code == 422
    ok = client.post(
        "/surveys/-/settings/", {"resurvey_days": 60, "decline_days": 14, "monthly_account_cap": 5}
    )
    assert ok.status_code == 302 and SurveySettings.current().decline_days == 14


def test_the_account_panel_lists_answers(answers, account, csm_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = csm_client.get(f"/accounts/{account.pk}/surveys/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Love the reports" in html and "NPS, 12 months" in html


def test_the_account_panel_follows_the_book(answers, account, own_books_only, outsider):
    assert logged_in_client(outsider).get(f"/accounts/{account.pk}/surveys/").status_code == 403
