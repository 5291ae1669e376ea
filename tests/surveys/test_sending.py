"""Sending surveys through journeys, the answer link, and the public answer page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import ContactFactory
from tests.journeys.delivery_support import part_of, subject_of
from touchpoint.journeys.delivery import send_due
from touchpoint.journeys.models import Journey, JourneyStatus, OutboxKind, OutboxRow, OutboxStatus
from touchpoint.surveys import sending, services, throttle
from touchpoint.surveys.models import Answer, Decline
from touchpoint.tasks.models import Task

pytestmark = pytest.mark.django_db


def _link(message) -> str:
    found = re.search(r"https://cs\.example\.com(/s/[^/\s]+/)", part_of(message, "text/plain"))
    assert found, "no answer link in the email"
    return found.group(1)


def test_send_goes_through_a_journey_and_the_email_carries_the_answer_link(survey, contact, smtp, leader):
    result = sending.send_survey(survey=survey, contacts=[contact], actor=leader)
    assert result.enrolled == 1
    journey = Journey.objects.get(key="survey-nps-email")
    assert journey.status == JourneyStatus.LIVE
    send_due()
    row = OutboxRow.objects.get(kind=OutboxKind.EMAIL)
    assert row.status == OutboxStatus.SENT and row.payload["survey"] == "nps"
    [message] = smtp.messages
    assert subject_of(message) == "A quick question from us"
    assert "How likely are you to recommend Acme?" in part_of(message, "text/plain")
    assert message["List-Unsubscribe"]  # journeys' rules hold for survey emails
    assert _link(message) == sending.answer_path(row)


def test_the_email_is_in_the_contacts_language(survey, account, smtp):
    contact = ContactFactory(account=account, email="ivan@example.com", language="ru")
    sending.send_survey(survey=survey, contacts=[contact])
    send_due()
    text = part_of(smtp.messages[0], "text/plain")
    assert "Насколько вероятно, что вы порекомендуете Acme?" in text


def test_a_get_never_answers_and_a_post_answers_once(survey, contact, smtp):
    sending.send_survey(survey=survey, contacts=[contact])
    send_due()
    path = _link(smtp.messages[0])
    visitor = Client(enforce_csrf_checks=True)
    page = visitor.get(path + "?score=3")  # a scanner following a scale button
    assert page.status_code == 200
    assert "How likely are you to recommend Acme?" in page.content.decode()
    assert not Answer.objects.exists()
    token = page.cookies["csrftoken"].value
    answered = visitor.post(path, {"score": "3", "comment": "Too slow", "csrfmiddlewaretoken": token})
    assert answered.status_code == 200 and "is recorded" in answered.content.decode()
    answer = Answer.objects.get()
    assert (answer.score, answer.comment, answer.channel, answer.contact_id) == (
        3,
        "Too slow",
        "email",
        contact.pk,
    )
    assert Task.objects.filter(account=contact.account, title__startswith="Detractor").count() == 1
    again = visitor.post(path, {"score": "10", "csrfmiddlewaretoken": token})
    assert again.status_code == 200
    assert Answer.objects.get().score == 3


def test_a_bad_score_is_shown_in_the_persons_language(survey, account, smtp):
    contact = ContactFactory(account=account, email="ivan@example.com", language="ru")
    sending.send_survey(survey=survey, contacts=[contact])
    send_due()
    path = _link(smtp.messages[0])
    response = Client().post(path, {"score": "12"})
    assert response.status_code == 422
    assert 'id="score-error"' in response.content.decode()
    assert 'lang="ru"' in response.content.decode()
    assert not Answer.objects.exists()


def test_a_forged_or_foreign_token_is_404(survey, contact, smtp):
    sending.send_survey(survey=survey, contacts=[contact])
    send_due()
    path = _link(smtp.messages[0])
    assert Client().get(path[:-3] + "x/").status_code == 404
    assert Client().get("/s/12.abc/").status_code == 404


def test_not_now_declines_and_the_person_waits_the_shorter_time(survey, contact, smtp):
    sending.send_survey(survey=survey, contacts=[contact])
    send_due()
    path = _link(smtp.messages[0])
    assert Client().post(path, {"action": "decline"}).status_code == 200
    assert Decline.objects.filter(contact=contact).count() == 1
    now = timezone.now()
    kwargs = {"contact_id": contact.pk, "account_id": contact.account_id}
    assert throttle.reason_not_to_survey(now=now + timedelta(days=29), **kwargs) == throttle.DECLINED
    assert throttle.reason_not_to_survey(now=now + timedelta(days=31), **kwargs) == ""


def test_a_person_surveyed_recently_is_not_asked_again(survey, contact, smtp):
    sending.send_survey(survey=survey, contacts=[contact])
    send_due()
    other = services.create_survey(name="CSAT", kind="csat")
    result = sending.send_survey(survey=other, contacts=[contact])
    assert (result.enrolled, result.skipped["throttled"]) == (0, 1)
    now = timezone.now()
    kwargs = {"contact_id": contact.pk, "account_id": contact.account_id}
    assert throttle.reason_not_to_survey(now=now + timedelta(days=89), **kwargs) == throttle.THROTTLED
    assert throttle.reason_not_to_survey(now=now + timedelta(days=91), **kwargs) == ""


def test_an_email_over_the_account_cap_is_suppressed_when_claimed(survey, account, smtp, admin_user):
    services.update_settings(resurvey_days=90, decline_days=30, monthly_account_cap=1, actor=admin_user)
    people = [ContactFactory(account=account, email=f"p{i}@example.com") for i in range(3)]
    assert sending.send_survey(survey=survey, contacts=people).enrolled == 3
    send_due()
    statuses = sorted(OutboxRow.objects.values_list("status", "suppressed_reason"))
    assert statuses == [("sent", ""), ("suppressed", "account_cap"), ("suppressed", "account_cap")]
    assert len(smtp.messages) == 1


def test_an_unsubscribed_person_gets_no_survey(survey, contact, smtp):
    from touchpoint.journeys import consent

    consent.unsubscribe(contact=contact, source=consent.SOURCE_LINK)
    sending.send_survey(survey=survey, contacts=[contact])
    send_due()
    assert OutboxRow.objects.get().suppressed_reason == "unsubscribed"
    assert smtp.messages == []


def test_sending_twice_asks_once(survey, contact, smtp):
    sending.send_survey(survey=survey, contacts=[contact])
    second = sending.send_survey(survey=survey, contacts=[contact])
    assert second.skipped["throttled"] == 1
    send_due()
    assert len(smtp.messages) == 1


def test_a_journey_may_name_the_survey_and_an_inactive_one_is_refused(survey):
    from touchpoint.journeys.documents import problems_of

    text = "key: ask\nname: Ask\nentry: {trigger: manual}\nsubject: contact\nsteps:\n  - {id: s, type: survey, survey: nps}\n"
    assert problems_of(text) == []
    services.update_survey(survey=survey, is_active=False)
    assert [p.message for p in problems_of(text)] == ["no active survey has the key “nps”"]


def test_the_answer_page_keeps_its_token_on_this_site_and_out_of_search(survey, contact, smtp):
    sending.send_survey(survey=survey, contacts=[contact])
    send_due()
    page = Client().get(_link(smtp.messages[0]))
    # same-origin, not no-referrer: with no-referrer the browser posts the form with "Origin: null".
    assert page["Referrer-Policy"] == "same-origin"
    assert page["X-Robots-Tag"] == "noindex"
