from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import logged_in_client
from tests.factories import AccountFactory, ContactFactory
from touchpoint.advocacy import services
from touchpoint.advocacy.models import Ask

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(account):
    return ContactFactory(account=account, name="Katherine Johnson")


def test_a_csm_asks_from_the_form_and_marks_it_done(csm_client, contact):
    page = csm_client.get(reverse("advocacy-ask") + f"?contact={contact.pk}")
    assert page.status_code == 200 and b"Katherine Johnson" in page.content
    sent = csm_client.post(
        reverse("advocacy-ask") + f"?contact={contact.pk}",
        {"contact": contact.pk, "kind": "reference_call", "note": "For a prospect"},
    )
    assert sent.status_code == 302
    the_ask = Ask.objects.get()
    done = csm_client.post(
        reverse("advocacy-contact", args=[contact.pk]),
        {
            "action": "status",
            "ask": the_ask.pk,
            f"ask-{the_ask.pk}-status": "done",
            f"ask-{the_ask.pk}-outcome_note": "Went well",
        },
    )
    assert done.status_code == 302
    the_ask.refresh_from_db()
    assert the_ask.status == "done"
    timeline = csm_client.get(reverse("account-timeline", args=[contact.account_id]))
    assert "Reference call by Katherine Johnson" in timeline.content.decode()


def test_an_ask_beyond_the_limit_is_refused_beside_the_field(csm_client, contact, csm):
    services.ask(contact=contact, kind="review", actor=csm)
    services.ask(contact=contact, kind="referral", actor=csm)
    refused = csm_client.post(
        reverse("advocacy-ask") + f"?contact={contact.pk}", {"contact": contact.pk, "kind": "speaking"}
    )
    assert refused.status_code == 422
    text = refused.content.decode()
    assert "the limit of 2 asks per contact per quarter" in text and "field-error" in text
    assert Ask.objects.count() == 2


def test_the_advocate_page_records_activities_and_rewards(csm_client, contact, csm):
    services.add_advocate(contact=contact, actor=csm)
    url = reverse("advocacy-contact", args=[contact.pk])
    assert (
        csm_client.post(
            url, {"action": "activity", "kind": "testimonial", "occurred_on": "2026-01-10"}
        ).status_code
        == 302
    )
    bad = csm_client.post(
        url, {"action": "reward", "kind": "gift", "value": "-5", "currency": "USD", "given_on": "2026-01-10"}
    )
    assert bad.status_code == 422 and b"field-error" in bad.content
    ok = csm_client.post(
        url, {"action": "reward", "kind": "swag", "value": "20", "currency": "USD", "given_on": "2026-01-11"}
    )
    assert ok.status_code == 302
    page = csm_client.get(url).content.decode()
    assert "Testimonial" in page and "Swag" in page


def test_the_account_panel_shows_advocates_open_asks_and_history(csm_client, contact, csm):
    other = ContactFactory(account=contact.account, name="Dorothy Vaughan")
    services.ask(contact=other, kind="review", actor=csm)
    the_ask = services.ask(contact=contact, kind="case_study", actor=csm)
    services.change_ask(the_ask=the_ask, status="done", actor=csm)
    panel = csm_client.get(reverse("account-advocacy", args=[contact.account_id])).content.decode()
    assert "Katherine Johnson" in panel and "Dorothy Vaughan" in panel
    assert 'id="account-open-asks"' in panel and "Case study by Katherine Johnson" in panel


def test_the_advocates_list_costs_a_fixed_number_of_queries(csm, django_assert_max_num_queries):
    for _ in range(5):
        advocate = services.add_advocate(contact=ContactFactory(account=AccountFactory(owner=csm)), actor=csm)
        services.record_activity(advocate=advocate, kind="review", actor=csm)
        services.give_reward(advocate=advocate, kind="gift", value=5, actor=csm)
    client = logged_in_client(csm)
    with django_assert_max_num_queries(10):
        page = client.get(reverse("advocacy"))
    assert page.content.count(b'<tr id="advocate-') == 5


def test_a_viewer_reads_the_pages_but_sees_no_forms(viewer_client, contact, csm):
    services.ask(contact=contact, kind="review", actor=csm)
    for name in ("advocacy", "advocacy-pool", "advocacy-asks", "advocacy-settings"):
        assert viewer_client.get(reverse(name)).status_code == 200
    page = viewer_client.get(reverse("advocacy-contact", args=[contact.pk])).content.decode()
    assert "Record how it went" not in page
    assert (
        viewer_client.post(
            reverse("advocacy-contact", args=[contact.pk]), {"action": "candidate"}
        ).status_code
        == 403
    )


def test_only_admins_change_the_settings_page(csm_client, admin_user):
    assert (
        csm_client.post(
            reverse("advocacy-settings"), {"max_asks_per_quarter": 3, "pool_quiet_days": 30}
        ).status_code
        == 403
    )
    admin = logged_in_client(admin_user)
    assert (
        admin.post(
            reverse("advocacy-settings"), {"max_asks_per_quarter": 3, "pool_quiet_days": 30}
        ).status_code
        == 302
    )
    assert (
        admin.post(
            reverse("advocacy-settings"), {"max_asks_per_quarter": 0, "pool_quiet_days": 30}
        ).status_code
        == 422
    )


def test_the_account_panel_asks_one_of_the_accounts_contacts(csm_client, contact):
    other_account_contact = ContactFactory()
    url = reverse("advocacy-ask") + f"?account={contact.account_id}"
    page = csm_client.get(url).content.decode()
    assert "Katherine Johnson" in page and other_account_contact.name not in page
    # A contact of another account is not a choice here.
    refused = csm_client.post(url, {"contact": other_account_contact.pk, "kind": "review"})
    assert refused.status_code == 422 and not Ask.objects.exists()
    assert csm_client.post(url, {"contact": contact.pk, "kind": "review"}).status_code == 302
    assert Ask.objects.get().contact_id == contact.pk


def test_a_csm_outside_the_book_cannot_open_the_ask_form(contact):
    from tests.factories import UserFactory
    from touchpoint.users.roles import Role

    outsider = logged_in_client(UserFactory(role=Role.CSM))
    assert outsider.get(reverse("advocacy-ask") + f"?contact={contact.pk}").status_code == 403
    assert outsider.get(reverse("advocacy-contact", args=[contact.pk])).status_code == 200  # reads every book
