"""Surveys' writes: answers with their event, timeline and audit entries, detractor tasks, settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.factories import ContactFactory
from touchpoint.accounts.models import TimelineEntry
from touchpoint.events.models import DomainEvent
from touchpoint.surveys import services
from touchpoint.surveys.models import Answer, OnDetractor, SurveySettings
from touchpoint.tasks.models import Task, TaskPriority, TaskType
from touchpoint.users.models import AuditLogEntry

pytestmark = pytest.mark.django_db


def test_an_answer_records_the_event_with_its_exact_payload(survey, account, contact):
    answer = services.record_answer(
        survey=survey, account=account, contact=contact, score=10, comment="Great"
    )
    event = DomainEvent.objects.get(kind="survey.answered")
    assert event.payload == {
        "survey_id": survey.pk,
        "answer_id": answer.pk,
        "contact_id": contact.pk,
        "kind": "nps",
        "score": 10,
        "category": "promoter",
    }
    assert event.account_id == account.pk
    entry = TimelineEntry.objects.get(kind="survey_answer")
    assert (entry.account_id, entry.body) == (account.pk, "Great")
    from touchpoint.accounts.timeline import entry_title

    assert entry_title(entry) == "Ann Lee answered 10 to “Quarterly NPS” (promoter)"
    assert AuditLogEntry.objects.filter(action="survey.answer", object_id=str(answer.pk)).exists()
    assert not Task.objects.exists()


def test_a_csat_answer_has_no_category(account, contact):
    survey = services.create_survey(name="Support CSAT", kind="csat")
    services.record_answer(survey=survey, account=account, contact=None, score=4)
    payload = DomainEvent.objects.get(kind="survey.answered").payload
    assert (payload["kind"], payload["category"], payload["contact_id"]) == ("csat", "", None)


def test_a_detractor_opens_a_risk_task_for_the_owner(survey, account, contact):
    answer = services.record_answer(survey=survey, account=account, contact=contact, score=3, comment="Slow")
    task = Task.objects.get()
    assert (task.account_id, task.owner_id, task.type, task.priority) == (
        account.pk,
        account.owner_id,
        TaskType.RISK,
        TaskPriority.HIGH,
    )
    assert task.title == "Detractor: Ann Lee gave 3/10"
    assert "Slow" in task.notes
    answer.refresh_from_db()
    assert answer.task_id == task.pk


def test_a_survey_may_do_nothing_for_detractors_and_imports_never_react(account, contact):
    quiet = services.create_survey(name="Quiet", on_detractor=OnDetractor.NOTHING)
    services.record_answer(survey=quiet, account=account, contact=contact, score=0)
    loud = services.create_survey(name="Loud")
    services.record_answer(survey=loud, account=account, contact=contact, score=0, react=False)
    assert not Task.objects.exists()


def test_a_detractor_may_start_a_playbook(account, contact):
    from touchpoint.playbooks.models import Playbook, PlaybookRun

    playbook = Playbook.objects.create(name="Save the account")
    playbook.steps.create(position=1, title="Call the sponsor", day_offset=0)
    survey = services.create_survey(
        name="NPS", on_detractor=OnDetractor.PLAYBOOK, detractor_target="Save the account"
    )
    services.record_answer(survey=survey, account=account, contact=contact, score=2)
    assert PlaybookRun.objects.filter(playbook=playbook, account=account).exists()
    assert not Task.objects.filter(title__startswith="Detractor").exists()


def test_a_playbook_that_cannot_start_falls_back_to_the_task(account, contact):
    from touchpoint.playbooks.models import Playbook

    Playbook.objects.create(name="Empty")
    survey = services.create_survey(name="NPS", on_detractor=OnDetractor.PLAYBOOK, detractor_target="Empty")
    services.record_answer(survey=survey, account=account, contact=contact, score=2)
    assert Task.objects.get().title == "Detractor: Ann Lee gave 2/10"


@pytest.mark.parametrize(
    ("score", "field"), [(11, "score"), (-1, "score"), ("ten", "score"), (2**70, "score")]
)
def test_bad_scores_are_refused_naming_the_field(survey, account, score, field):
    with pytest.raises(ValidationError) as caught:
        services.record_answer(survey=survey, account=account, contact=None, score=score)
    assert field in caught.value.message_dict
    assert not Answer.objects.exists()


def test_a_contact_of_another_account_is_refused(survey, account):
    stranger = ContactFactory()
    with pytest.raises(ValidationError) as caught:
        services.record_answer(survey=survey, account=account, contact=stranger, score=9)
    assert "contact" in caught.value.message_dict


def test_an_imported_answer_is_counted_once_by_its_external_id(survey, account):
    moment = timezone.now() - timedelta(days=400)
    services.record_answer(
        survey=survey, account=account, contact=None, score=9, external_id="old-1", answered_at=moment
    )
    with pytest.raises(ValidationError) as caught:
        services.record_answer(survey=survey, account=account, contact=None, score=9, external_id="old-1")
    assert "external_id" in caught.value.message_dict
    assert Answer.objects.get().answered_at == moment


def test_survey_keys_and_texts_are_checked(db):
    with pytest.raises(ValidationError) as caught:
        services.create_survey(name="X", key="Not a key!")
    assert "key" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.create_survey(name="X", texts={"fr": {"question": "?"}})
    assert "texts" in caught.value.message_dict
    services.create_survey(name="Onboarding CSAT")
    with pytest.raises(ValidationError) as caught:
        services.create_survey(name="Onboarding CSAT")
    assert "key" in caught.value.message_dict


def test_settings_are_saved_and_bounded(admin_user):
    assert SurveySettings.current().resurvey_days == 90
    services.update_settings(resurvey_days=60, decline_days=20, monthly_account_cap=0, actor=admin_user)
    assert (SurveySettings.current().resurvey_days, SurveySettings.current().monthly_account_cap) == (60, 0)
    with pytest.raises(ValidationError) as caught:
        services.update_settings(resurvey_days=99999, decline_days=1, monthly_account_cap=1)
    assert "resurvey_days" in caught.value.message_dict
