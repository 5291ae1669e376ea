"""Advocacy in a real browser: a CSM opens the pool, asks a promoter for a reference, marks it done and
sees it on the account's timeline; a second ask beyond the quarter's limit is refused with the message.
In English and in Russian."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.advocacy.helpers import grade, promoted
from tests.factories import AccountFactory, ContactFactory, UserFactory
from touchpoint.advocacy.models import Activity, AdvocacySettings, Ask
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)

REFUSED = {"en": "the limit of 1 ask per contact per quarter", "ru": "не более 1"}


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_csm_asks_a_promoter_for_a_reference_and_a_second_ask_is_refused(
    page, live_server, log_in, language
):
    csm = UserFactory(role=Role.CSM, email="csm@example.com", full_name="Anna Smirnova")
    account = AccountFactory(owner=csm, name="Globex")
    grade(account, "green")
    promoter = ContactFactory(account=account, name="Ada Lovelace")
    promoted(promoter, 10, answer_id=41)
    AdvocacySettings(max_asks_per_quarter=1).save()
    log_in(page, csm)
    if language != "en":
        page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])

    # The pool lists the promoter; "Ask" opens the ask form for her.
    page.goto(f"{live_server.url}/advocacy/pool/")
    if language != "en":
        expect(page.locator("html")).to_have_attribute("lang", language)
    row = page.locator(f"#candidate-{promoter.pk}")
    expect(row).to_contain_text("Ada Lovelace")
    row.locator("a.pool-ask").click()
    expect(page).to_have_url(f"{live_server.url}/advocacy/ask/?contact={promoter.pk}")
    page.locator("select[name=kind]").select_option("reference_call")
    page.locator("textarea[name=note]").fill("A prospect in banking")
    page.locator("#send-ask").click()
    expect(page).to_have_url(f"{live_server.url}/advocacy/contacts/{promoter.pk}/?saved=1")
    the_ask = Ask.objects.get(contact=promoter)

    # It went well: mark it done.
    item = page.locator(f"#ask-{the_ask.pk}")
    item.locator("summary").click()
    item.locator(f"select[name=ask-{the_ask.pk}-status]").select_option("done")
    item.locator(f"textarea[name=ask-{the_ask.pk}-outcome_note]").fill("The prospect signed")
    item.locator("button[type=submit]").click()
    expect(page.locator("#advocate-badge")).to_be_visible()
    activity = Activity.objects.get(ask=the_ask)
    assert activity.kind == "reference_call"

    # The account's timeline shows it, with a link back to her advocacy page.
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    entry = page.locator("#timeline-entries .timeline-entry.kind-advocacy_activity")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Ada Lovelace")
    expect(entry.locator("a")).to_have_attribute("href", f"/advocacy/contacts/{promoter.pk}/")

    # A second ask this quarter is one too many: refused, with the limit and the day she can be asked.
    page.goto(f"{live_server.url}/advocacy/contacts/{promoter.pk}/")
    page.locator("#ask-contact").click()
    page.locator("select[name=kind]").select_option("review")
    page.locator("#send-ask").click()
    error = page.locator("#ask-form .field-error")
    expect(error).to_contain_text(REFUSED[language])
    expect(error).to_contain_text("Ada Lovelace")
    next_quarter_year = str(timezone.localdate().year + (1 if timezone.localdate().month > 9 else 0))
    expect(error).to_contain_text(next_quarter_year)
    assert Ask.objects.filter(contact=promoter).count() == 1
