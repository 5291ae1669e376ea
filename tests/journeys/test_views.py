"""The journeys pages: the list, the builder's flow, versions and their diff, delivery settings,
webhook endpoints and the account panel."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import logged_in_client
from tests.factories import AccountFactory, ContactFactory
from tests.journeys.ui_support import WELCOME, make_journey
from touchpoint.journeys.models import (
    DeliverySettings,
    Enrollment,
    EnrollmentStatus,
    JourneyStatus,
    WebhookEndpoint,
    subject_key_of,
)
from touchpoint.journeys.views import step_of_path

pytestmark = pytest.mark.django_db


def _enroll(
    journey, account, *, status=EnrollmentStatus.ACTIVE, step_id="wait-a-week", contact=None, **extra
):
    version = journey.live_version or journey.versions.first()
    return Enrollment.objects.create(
        journey=journey,
        version=version,
        account=account,
        contact=contact,
        subject_key=subject_key_of(account.pk, contact.pk if contact else None),
        status=status,
        step_id=step_id if status == EnrollmentStatus.ACTIVE else "",
        **extra,
    )


def test_the_list_shows_each_journey_with_its_counts_and_live_version(
    csm_client, django_assert_max_num_queries
):
    journey = make_journey(versions=2, live=True)
    make_journey(WELCOME.replace("key: welcome", "key: second").replace("Welcome series", "Second one"))
    for _index in range(3):
        _enroll(journey, AccountFactory(), status=EnrollmentStatus.ACTIVE)
    _enroll(journey, AccountFactory(), status=EnrollmentStatus.CONVERTED)
    with django_assert_max_num_queries(12):
        response = csm_client.get(reverse("journeys"))
    html = response.content.decode()
    assert response.status_code == 200
    row = html[html.index('id="journey-welcome"') :]
    row = row[: row.index("</tr>")]
    assert "Welcome series" in row and "v2" in row and "Live" in row
    assert [cell for cell in ("4", "3", "1") if f'<td class="number">{cell}</td>' in row] == ["4", "3", "1"]
    assert "Second one" in html and "Draft" in html
    assert "New journey" not in html  # a CSM reads journeys; leaders and admins make them


def test_the_list_offers_a_new_journey_to_leaders(leader):
    html = logged_in_client(leader).get(reverse("journeys")).content.decode()
    assert "New journey" in html and 'name="template"' in html and "A blank journey" in html


def test_the_builder_draws_steps_branches_and_arms(csm_client):
    make_journey()
    response = csm_client.get(reverse("journey", args=["welcome"]))
    html = response.content.decode()
    assert response.status_code == 200
    for step_id in ("say-hello", "wait-a-week", "healthy", "thank", "call", "ab", "nudge-a"):
        assert f'id="step-{step_id}"' in html
    assert "Email “hello”" in html and "Wait 7 days" in html
    assert html.count('class="branch"') == 4  # then, else, arm A, arm B
    assert "A · 50%" in html and "B · 50%" in html
    # The split's branches are inside the split's item, not after it.
    split = html[html.index('id="step-healthy"') : html.index('id="step-ab"')]
    assert 'id="step-thank"' in split and 'id="step-call"' in split
    # A CSM sees the flow but no editing.
    assert "Edit" not in split and "Launch" not in html


def test_the_builder_offers_editing_and_launch_to_leaders(leader):
    make_journey()
    html = logged_in_client(leader).get(reverse("journey", args=["welcome"])).content.decode()
    assert reverse("journey-step", args=["welcome", "wait-a-week"]) in html
    assert "Launch version 1" in html and "Simulate on the last 90 days" in html
    assert reverse("journey-preview", args=["welcome", "hello", "ja"]) in html


def test_an_unknown_journey_or_step_is_not_found(leader):
    client = logged_in_client(leader)
    make_journey()
    assert client.get(reverse("journey", args=["nope"])).status_code == 404
    assert client.get(reverse("journey-step", args=["welcome", "nope"])).status_code == 404
    assert client.get(reverse("journey-stats", args=["nope"])).status_code == 404


def test_versions_show_a_diff_between_any_two(csm_client):
    make_journey(versions=3)
    response = csm_client.get(reverse("journey-versions", args=["welcome"]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="version-3"' in html and 'id="version-1"' in html
    # By default the newest against the one before: days 9 → 10.
    assert '<tr class="diff-remove">' in html and "days: 9" in html and "days: 10" in html
    html = csm_client.get(reverse("journey-versions", args=["welcome"]) + "?a=1&b=3").content.decode()
    assert "days: 7" in html and "days: 10" in html and "days: 9" not in html
    same = csm_client.get(reverse("journey-versions", args=["welcome"]) + "?a=2&b=2").content.decode()
    assert "These two versions are the same." in same
    # A version that does not exist falls back to the default instead of failing.
    assert csm_client.get(reverse("journey-versions", args=["welcome"]) + "?a=99&b=x").status_code == 200


@pytest.mark.parametrize(
    ("path", "step"),
    [
        ("steps.2.then.0.tag", "thank"),
        (("steps", 2, "split", "else", 0, "task", "due_in_days"), "call"),
        ("steps[3].arms[0].steps[0]", "nudge-a"),
        ("steps.3.arms.1.percent", "ab"),
        ("steps.1", "wait-a-week"),
        ("entry.trigger", ""),
        ("messages.hello.en.body", ""),
        ("", ""),
    ],
)
def test_a_problems_path_names_the_step_it_concerns(path, step):
    import yaml

    assert step_of_path(yaml.safe_load(WELCOME), path) == step


def test_delivery_settings_are_read_by_leaders_and_changed_by_admins(leader, admin_user):
    page = logged_in_client(leader).get(reverse("journeys-delivery"))
    assert page.status_code == 200 and "Admins change these settings." in page.content.decode()
    assert not DeliverySettings.objects.exists()  # reading writes nothing
    assert logged_in_client(leader).post(reverse("journeys-delivery"), {}).status_code == 403
    admin = logged_in_client(admin_user)
    response = admin.post(
        reverse("journeys-delivery"),
        {
            "weekly_email_cap": "2",
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "07:30",
            "track_opens_and_clicks": "on",
            "from_address": "cs@example.com",
        },
    )
    assert response.status_code == 302
    saved = DeliverySettings.load()
    assert (
        saved.weekly_email_cap == 2
        and saved.track_opens_and_clicks
        and saved.from_address == "cs@example.com"
    )
    bad = admin.post(reverse("journeys-delivery"), {"weekly_email_cap": "-1", "quiet_hours_start": "25:00"})
    assert bad.status_code == 422 and "field-error" in bad.content.decode()


def test_admins_add_webhook_endpoints_with_a_secret(admin_user, leader):
    admin = logged_in_client(admin_user)
    response = admin.post(
        reverse("journeys-webhooks"),
        {"name": "crm", "url": "https://hooks.example.com/in", "is_active": "on"},
    )
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get(name="crm")
    assert len(endpoint.secret) == 64
    assert endpoint.secret in admin.get(reverse("journeys-webhooks")).content.decode()
    leader_page = logged_in_client(leader).get(reverse("journeys-webhooks")).content.decode()
    assert "crm" in leader_page and endpoint.secret not in leader_page
    assert logged_in_client(leader).post(reverse("journeys-webhooks"), {"name": "x"}).status_code == 403
    bad = admin.post(reverse("journeys-webhooks"), {"name": "crm", "url": "not a url"})
    assert bad.status_code == 422 and WebhookEndpoint.objects.count() == 1


def test_the_account_panel_lists_enrollments_and_consent(csm_client, account, viewer):
    journey = make_journey(live=True)
    contact = ContactFactory(account=account, name="Kim Champion")
    _enroll(journey, account, contact=contact)
    _enroll(
        make_journey(WELCOME.replace("key: welcome", "key: old").replace("Welcome series", "Old series")),
        account,
        status=EnrollmentStatus.EXITED,
        exit_reason="Asked us to stop",
    )
    html = csm_client.get(reverse("account-journeys", args=[account.pk])).content.decode()
    assert "Welcome series" in html and "wait-a-week" in html and "Kim Champion" in html
    assert "Old series" in html and "Asked us to stop" in html
    assert 'value="add"' in html and 'value="exit"' in html and 'value="consent"' in html
    viewer_html = (
        logged_in_client(viewer).get(reverse("account-journeys", args=[account.pk])).content.decode()
    )
    assert (
        "Welcome series" in viewer_html
        and 'value="add"' not in viewer_html
        and 'value="exit"' not in viewer_html
    )
    assert (
        logged_in_client(viewer)
        .post(reverse("account-journeys", args=[account.pk]), {"action": "add"})
        .status_code
        == 403
    )


def test_the_account_panel_refuses_unknown_actions(csm_client, account):
    response = csm_client.post(reverse("account-journeys", args=[account.pk]), {"action": "dance"})
    assert response.status_code == 400
    assert (
        csm_client.post(reverse("account-journeys", args=[account.pk]), {"action": "exit"}).status_code == 400
    )


def test_journeys_are_in_the_navigation(csm_client):
    html = csm_client.get(reverse("journeys")).content.decode()
    assert 'data-nav="journeys"' in html


def test_status_is_shown(csm_client):
    make_journey(live=True)
    html = csm_client.get(reverse("journey", args=["welcome"])).content.decode()
    assert "status-live" in html and str(JourneyStatus.LIVE.label) in html


CHECK_IN = """\
key: check-in
name: Check-in
entry: {trigger: manual}
steps:
  - {id: pause, type: wait, days: 3}
  - {id: call, type: task, title: Check in}
"""


def test_a_csm_adds_the_account_to_a_live_journey_and_takes_it_out(csm_client, account, csm):
    from touchpoint.journeys import services

    version = services.save_version(source=CHECK_IN, actor=None)
    services.launch(journey=version.journey, actor=None)
    url = reverse("account-journeys", args=[account.pk])
    html = csm_client.get(url).content.decode()
    assert f'<option value="{version.journey.pk}">Check-in</option>' in html
    response = csm_client.post(url, {"action": "add", "journey": version.journey.pk}, HTTP_HX_REQUEST="true")
    enrollment = Enrollment.objects.get(account=account)
    assert response.status_code == 200 and f'id="enrollment-{enrollment.pk}"' in response.content.decode()
    assert enrollment.step_id == "pause" and enrollment.is_active
    again = csm_client.post(url, {"action": "add", "journey": version.journey.pk}, HTTP_HX_REQUEST="true")
    assert "Not added: already in this journey" in again.content.decode()
    assert Enrollment.objects.filter(account=account).count() == 1
    missing_reason = csm_client.post(url, {"action": "exit", "enrollment": enrollment.pk, "reason": ""})
    assert missing_reason.status_code == 422
    out = csm_client.post(url, {"action": "exit", "enrollment": enrollment.pk, "reason": "Customer asked"})
    enrollment.refresh_from_db()
    assert out.status_code == 200 and enrollment.status == EnrollmentStatus.EXITED
    assert enrollment.exit_reason == "Customer asked"


def test_an_outsider_cannot_take_an_enrollment_of_another_book(account, outsider):
    from touchpoint.journeys import engine, services

    version = services.save_version(source=CHECK_IN, actor=None)
    services.launch(journey=version.journey, actor=None)
    enrollment = engine.enroll(version=version, account=account)
    assert enrollment is not None
    response = logged_in_client(outsider).post(
        reverse("account-journeys", args=[account.pk]),
        {"action": "exit", "enrollment": enrollment.pk, "reason": "x"},
    )
    assert response.status_code == 403
    enrollment.refresh_from_db()
    assert enrollment.is_active
    # An enrollment of another account is not found through this account's panel.
    other = AccountFactory(owner=account.owner)
    response = logged_in_client(account.owner).post(
        reverse("account-journeys", args=[other.pk]),
        {"action": "exit", "enrollment": enrollment.pk, "reason": "x"},
    )
    assert response.status_code == 404


def test_a_csm_records_a_contacts_no_to_journey_emails_and_yes_again(csm_client, account, viewer):
    from touchpoint.journeys.models import ConsentStatus, MessagingConsent

    contact = ContactFactory(account=account, name="Kim Champion")
    url = reverse("account-journeys", args=[account.pk])
    response = csm_client.post(url, {"action": "consent", "contact": contact.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Unsubscribed" in response.content.decode()
    assert MessagingConsent.objects.get(contact=contact).status == ConsentStatus.UNSUBSCRIBED
    csm_client.post(url, {"action": "consent", "contact": contact.pk, "subscribed": "on"})
    assert MessagingConsent.objects.get(contact=contact).status == ConsentStatus.SUBSCRIBED
    # Someone else's contact is not found here; a viewer may not change it.
    stranger = ContactFactory()
    assert csm_client.post(url, {"action": "consent", "contact": stranger.pk}).status_code == 404
    assert logged_in_client(viewer).post(url, {"action": "consent", "contact": contact.pk}).status_code == 403
