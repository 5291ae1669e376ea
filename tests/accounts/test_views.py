import csv
import io

import pytest
from django.urls import reverse

from tests.factories import (
    AccountFactory,
    ContactFactory,
    EngagementFactory,
    PhaseFactory,
    SegmentFactory,
    UserFactory,
)
from touchpoint.accounts import services
from touchpoint.accounts.models import Engagement, TimelineEntry
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db


def test_pages_need_login(client, account):
    for url in (
        reverse("portfolio"),
        reverse("account-detail", args=[account.pk]),
        reverse("portfolio-export"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_login_with_email_and_password_then_logout(client, csm):
    response = client.post(
        reverse("login"), {"username": csm.email, "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert client.get(reverse("portfolio")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("portfolio")).status_code == 302


def test_wrong_password_shows_an_error_on_the_form(client, csm):
    response = client.post(reverse("login"), {"username": csm.email, "password": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


def test_portfolio_lists_and_searches_accounts(csm_client, csm):
    AccountFactory(name="Acme Rockets", owner=csm)
    AccountFactory(name="Globex", owner=csm, domain="globex.example")
    page = csm_client.get(reverse("portfolio"), {"q": "rocket"}).content.decode()
    assert "Acme Rockets" in page and "Globex" not in page
    page = csm_client.get(reverse("portfolio"), {"q": "globex.example"}).content.decode()
    assert "Globex" in page


def test_portfolio_filters_by_owner_segment_engagement_and_phase(csm_client, csm):
    other = UserFactory(role=Role.CSM)
    enterprise = SegmentFactory(name="Enterprise", tier=1)
    smb = SegmentFactory(name="SMB", tier=3)
    adoption = PhaseFactory(name="Adoption")
    AccountFactory(
        name="Mine High",
        owner=csm,
        segment=enterprise,
        engagement_model="high",
        phase=adoption,
        framework=adoption.framework,
    )
    AccountFactory(name="Theirs Low", owner=other, segment=smb, engagement_model="low")
    AccountFactory(name="Nobody's", owner=None, segment=smb, engagement_model="low")

    def names(**params):
        response = csm_client.get(reverse("portfolio"), params)
        return {a.name for a in response.context["page"].object_list}

    assert names(owner=csm.pk) == {"Mine High"}
    assert names(owner="none") == {"Nobody's"}
    assert names(segment=smb.pk) == {"Theirs Low", "Nobody's"}
    assert names(engagement="high") == {"Mine High"}
    assert names(phase=adoption.pk) == {"Mine High"}


def test_portfolio_bad_filter_value_is_shown_beside_the_field_and_ignored(csm_client, account):
    response = csm_client.get(reverse("portfolio"), {"segment": "999999", "engagement": "bogus"})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"segment", "engagement"}
    assert account.name in response.content.decode()
    assert 'class="field-error"' in response.content.decode()


def test_portfolio_sorts_both_ways_and_paginates(csm_client, csm, settings):
    settings.PORTFOLIO_PAGE_SIZE = 2
    for name in ["beta", "Alpha", "gamma"]:
        AccountFactory(name=name, owner=csm)
    first = csm_client.get(reverse("portfolio"), {"sort": "name"}).context["page"]
    assert [a.name for a in first.object_list] == ["Alpha", "beta"]
    second = csm_client.get(reverse("portfolio"), {"sort": "name", "page": 2}).context["page"]
    assert [a.name for a in second.object_list] == ["gamma"]
    descending = csm_client.get(reverse("portfolio"), {"sort": "-name"}).context["page"]
    assert [a.name for a in descending.object_list] == ["gamma", "beta"]


def test_htmx_request_gets_only_the_results(csm_client, account):
    response = csm_client.get(reverse("portfolio"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "portfolio-table" in body and "<html" not in body


def test_portfolio_query_count_does_not_grow_with_accounts(csm_client, csm, django_assert_max_num_queries):
    parent = AccountFactory(owner=csm)
    phase = PhaseFactory(name="Onboarding")
    AccountFactory.create_batch(60, owner=csm, parent=parent, phase=phase, framework=phase.framework)
    # 11: the health sparklines of the page's accounts are one query (health scores ride on the row query).
    # +1: whether CSMs read every book (the portfolio shows a CSM what they may read).
    # +3: the saved views menu (the views; whether this person may share one: the rule says no, so
    # Django's model backend asks for the user's and their groups' permissions too).
    # +1: whether "all accounts" shows more than their book (the same setting, asked for the filter).
    with django_assert_max_num_queries(15):
        response = csm_client.get(reverse("portfolio"))
    assert len(response.context["page"].object_list) == 50


def test_csv_export_has_every_filtered_account_not_just_one_page(csm_client, csm, settings):
    settings.PORTFOLIO_PAGE_SIZE = 2
    AccountFactory.create_batch(5, owner=csm, engagement_model="low")
    AccountFactory(owner=csm, engagement_model="high", name="札幌データ株式会社")
    response = csm_client.get(reverse("portfolio-export"), {"engagement": "low"})
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 5
    assert {row["engagement_model"] for row in rows} == {"low"}
    everything = b"".join(csm_client.get(reverse("portfolio-export")).streaming_content).decode("utf-8-sig")
    assert "札幌データ株式会社" in everything


def test_account_page_shows_header_contacts_and_timeline(csm_client, csm):
    parent = AccountFactory(name="Holding Co", owner=csm)
    account = AccountFactory(name="Daughter Co", owner=csm, parent=parent)
    child = AccountFactory(name="Grandchild Co", owner=csm, parent=account)
    ContactFactory(account=account, name="Мария Иванова", roles=["champion", "decision_maker"])
    services.log_engagement(
        account=account, kind="meeting", actor=csm, subject="Kick-off", duration_minutes=45
    )
    body = csm_client.get(reverse("account-detail", args=[account.pk])).content.decode()
    for text in (
        "Daughter Co",
        "Holding Co",
        child.name,
        "Мария Иванова",
        "Champion",
        "Decision maker",
        "Kick-off",
        "45 minutes",
        csm.full_name,
    ):
        assert text in body, text


def test_unknown_account_is_404(csm_client):
    assert csm_client.get(reverse("account-detail", args=[999999])).status_code == 404


def test_account_page_query_count_is_bounded(csm_client, csm, django_assert_max_num_queries):
    account = AccountFactory(owner=csm, parent=AccountFactory(owner=csm))
    AccountFactory.create_batch(5, parent=account, owner=csm)
    for _ in range(10):
        ContactFactory(account=account, roles=["user", "billing"])
    for _ in range(30):
        services.log_engagement(account=account, kind="note", actor=csm, body="Checked in")
    # +2: the permission check (whether CSMs read every book) and the account team section; +1 the
    # header's key people (champions and decision makers).
    with django_assert_max_num_queries(17):
        response = csm_client.get(reverse("account-detail", args=[account.pk]))
    assert response.status_code == 200


def test_timeline_pages_follow_each_other_without_gaps_or_repeats(csm_client, csm, account, settings):
    settings.TIMELINE_PAGE_SIZE = 7
    for index in range(20):
        services.log_engagement(account=account, kind="note", actor=csm, body=f"note number {index}")
    seen = []
    response = csm_client.get(reverse("account-detail", args=[account.pk]))
    seen += [entry.pk for entry in response.context["entries"]]
    cursor = response.context["next_cursor"]
    while cursor is not None:
        response = csm_client.get(
            reverse("account-timeline", args=[account.pk]), {"after": cursor.encode()}, HTTP_HX_REQUEST="true"
        )
        seen += [entry.pk for entry in response.context["entries"]]
        cursor = response.context["next_cursor"]
    all_ids = list(
        TimelineEntry.objects.filter(account=account)
        .order_by("-occurred_at", "-id")
        .values_list("pk", flat=True)
    )
    assert seen == all_ids


def test_csm_adds_a_note_with_htmx_and_gets_it_back_for_the_timeline(csm_client, account):
    response = csm_client.post(
        reverse("account-log-engagement", args=[account.pk]),
        {"kind": "note", "body": "Champion is moving teams\nNeed a new sponsor."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Champion is moving teams" in body and 'hx-swap-oob="afterbegin:#timeline-entries"' in body
    entry = TimelineEntry.objects.get(account=account, kind="note")
    assert entry.title == "Champion is moving teams" and entry.body == "Need a new sponsor."


def test_empty_note_shows_the_error_beside_the_field_and_writes_nothing(csm_client, account):
    response = csm_client.post(
        reverse("account-log-engagement", args=[account.pk]),
        {"kind": "note", "body": "  "},
        HTTP_HX_REQUEST="true",
    )
    assert "field-error" in response.content.decode()
    assert not Engagement.objects.exists()


def test_meeting_with_contacts_of_another_account_is_refused(csm_client, account):
    stranger = ContactFactory()
    response = csm_client.post(
        reverse("account-log-engagement", args=[account.pk]),
        {"kind": "meeting", "subject": "QBR", "contacts": [stranger.pk]},
        HTTP_HX_REQUEST="true",
    )
    assert "field-error" in response.content.decode()
    assert not Engagement.objects.exists()


def test_viewer_sees_no_form_and_cannot_post(viewer_client, account):
    page = viewer_client.get(reverse("account-detail", args=[account.pk])).content.decode()
    assert "engagement-form" not in page
    response = viewer_client.post(
        reverse("account-log-engagement", args=[account.pk]), {"kind": "note", "body": "sneaky"}
    )
    assert response.status_code == 403
    assert not Engagement.objects.exists()


def test_plain_form_post_without_htmx_redirects_back_to_the_account(csm_client, account):
    response = csm_client.post(
        reverse("account-log-engagement", args=[account.pk]), {"kind": "call", "subject": "Renewal call"}
    )
    assert response.status_code == 302
    assert EngagementFactory._meta.model.objects.filter(subject="Renewal call").exists()


def test_healthz(client):
    assert client.get("/healthz").json()["status"] == "ok"


def _edit_payload(account, **changes):
    payload = {
        "name": account.name,
        "domain": account.domain,
        "owner": account.owner_id or "",
        "segment": account.segment_id or "",
        "engagement_model": account.engagement_model,
    }
    payload.update(changes)
    return payload


def test_csm_edits_the_account_header_with_htmx(csm_client, csm, account):
    leader = UserFactory(role=Role.CS_LEADER, full_name="Olga Leader")
    # The phase is shown (and changed) in the header by the success app (tests/success/).
    response = csm_client.post(
        reverse("account-edit", args=[account.pk]),
        # The owner field is disabled for a CSM: a posted owner is ignored, the rest is saved.
        _edit_payload(account, owner=leader.pk, engagement_model="high"),
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'hx-swap-oob="afterbegin:#timeline-entries"' in body
    assert 'data-fact="phase"' in body
    account.refresh_from_db()
    assert (account.owner, account.engagement_model) == (csm, "high")
    assert TimelineEntry.objects.filter(account=account, kind="account_changed").count() == 1


def test_account_edit_errors_stay_beside_the_field(csm_client, account):
    response = csm_client.post(
        reverse("account-edit", args=[account.pk]),
        _edit_payload(account, name="", domain="not a domain"),
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert body.count('class="field-error"') == 2
    old_name = account.name
    account.refresh_from_db()
    assert account.name == old_name


def test_viewer_cannot_edit_an_account(viewer_client, account):
    response = viewer_client.post(
        reverse("account-edit", args=[account.pk]), _edit_payload(account, name="Hacked")
    )
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.name != "Hacked"
