"""Surveys in a real browser (issue 16's "done when"): a survey is sent through its journey to a
local SMTP server (aiosmtpd); the contact, logged out, opens the link from the email (the page speaks
their language and answers nothing on opening), answers as a detractor with a comment; a CSM then
sees the answer on the account page and the risk task it opened. In English and Russian."""

from __future__ import annotations

import re

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from tests.factories import AccountFactory, ContactFactory, UserFactory
from tests.journeys.delivery_support import Inbox, free_port, part_of
from touchpoint.journeys import delivery
from touchpoint.journeys.models import DeliverySettings
from touchpoint.surveys import sending, services
from touchpoint.surveys.models import Answer
from touchpoint.tasks.models import Task
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = {
    "en": "How likely are you to recommend Acme Cloud to a colleague?",
    "ru": "Насколько вероятно, что вы порекомендуете Acme Cloud коллеге?",
}
COMMENT = {"en": "Support is too slow", "ru": "Поддержка слишком медленная"}


@pytest.fixture
def smtp(settings, live_server):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.TOUCHPOINT_BASE_URL = live_server.url
    yield inbox
    controller.stop()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_contact_answers_from_the_email_link_and_the_csm_sees_it_with_a_task(
    page, live_server, log_in, smtp, language
):
    DeliverySettings.objects.update_or_create(
        pk=1, defaults={"quiet_hours_start": "00:00", "quiet_hours_end": "00:00"}
    )
    csm = UserFactory(role=Role.CSM, email="csm@example.com", full_name="Kate Miller")
    account = AccountFactory(owner=csm, name="Globex")
    contact = ContactFactory(
        account=account, name="Ivan Orlov", email="ivan@globex.example", language=language
    )
    survey = services.create_survey(
        name="Relationship NPS",
        key="nps",
        texts={"en": {"question": QUESTION["en"]}, "ru": {"question": QUESTION["ru"]}},
    )
    assert sending.send_survey(survey=survey, contacts=[contact]).enrolled == 1
    assert delivery.send_due() == 1
    [email] = smtp.messages
    link = re.search(re.escape(live_server.url) + r"/s/[^/\s]+/", part_of(email, "text/plain")).group(0)

    # Logged out, the contact opens the link: the question in their language, nothing answered yet.
    page.goto(link)
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#answer-form legend")).to_contain_text(QUESTION[language])
    assert not Answer.objects.exists()
    page.locator(".sv-score", has_text=re.compile(r"^3$")).click()
    page.locator("#comment").fill(COMMENT[language])
    page.locator("#send-answer").click()
    expect(page.locator("#answer-recorded")).to_be_visible()
    answer = Answer.objects.get()
    assert (answer.score, answer.category, answer.language) == (3, "detractor", language)

    # The CSM sees the answer on the account page, and the risk task it opened.
    log_in(page, csm)
    if language != "en":
        page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    panel = page.locator("#surveys-panel")
    expect(panel.locator(f"#survey-answer-{answer.pk}")).to_contain_text(COMMENT[language])
    task = Task.objects.get(account=account)
    assert task.owner_id == csm.pk and task.title == "Detractor: Ivan Orlov gave 3/10"
    expect(panel.locator(f"a[href='/tasks/{task.pk}/']")).to_be_visible()
    page.goto(f"{live_server.url}/tasks/")
    expect(page.locator("body")).to_contain_text("Detractor: Ivan Orlov gave 3/10")
