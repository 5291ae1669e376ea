from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.factories import AccountFactory, ContactFactory, SegmentFactory, UserFactory
from tests.feature_requests.conftest import arr_account
from touchpoint.accounts.models import TimelineEntry
from touchpoint.events.models import DomainEvent
from touchpoint.feature_requests import selectors, services
from touchpoint.feature_requests.models import Ask, FeatureRequest, RequestChange, RequestLink, Status
from touchpoint.tasks.models import Task
from touchpoint.users.models import AuditLogEntry
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db


def test_an_account_asking_twice_is_one_link_keeping_both_verbatims(csm, account):
    request = services.create_request(title="Export reports to CSV", product_area="Reports", actor=csm)
    ana = ContactFactory(account=account)
    earlier = timezone.now() - timedelta(days=30)
    services.ask(request=request, account=account, verbatim="We copy it by hand", asked_at=earlier, actor=csm)
    link = services.ask(request=request, account=account, verbatim="Still copying", contact=ana, actor=csm)
    assert RequestLink.objects.filter(request=request).count() == 1
    assert list(Ask.objects.filter(link=link).values_list("verbatim", flat=True)) == [
        "We copy it by hand",
        "Still copying",
    ]
    link.refresh_from_db()
    assert (link.verbatim, link.contact, link.first_asked_at) == ("Still copying", ana, earlier)
    entries = TimelineEntry.objects.filter(account=account, kind="feature_requested")
    assert entries.count() == 2
    assert DomainEvent.objects.filter(kind="feature_request.asked", account_id=account.pk).count() == 2
    assert AuditLogEntry.objects.filter(action="feature_requests.asked").count() == 2


def test_a_contact_of_another_account_is_refused(csm, account):
    request = services.create_request(title="Dark mode", actor=csm)
    with pytest.raises(ValidationError) as error:
        services.ask(request=request, account=account, contact=ContactFactory(), actor=csm)
    assert "contact" in error.value.message_dict
    assert not RequestLink.objects.exists()


@pytest.mark.parametrize("title", ["", "   ", "x" * 201, "a\x00b"])
def test_a_bad_title_names_the_field(csm, title):
    with pytest.raises(ValidationError) as error:
        services.create_request(title=title, actor=csm)
    assert "title" in error.value.message_dict


def test_a_status_change_needs_a_note_and_is_kept_in_the_history(leader):
    request = services.create_request(title="Dark mode", actor=leader)
    with pytest.raises(ValidationError) as error:
        services.change_status(request=request, status=Status.PLANNED, note="  ", actor=leader)
    assert "note" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.change_status(request=request, status="maybe", note="x", actor=leader)
    services.change_status(request=request, status=Status.PLANNED, note="Q3", actor=leader)
    services.change_status(request=request, status=Status.PLANNED, note="again", actor=leader)  # no change
    changes = list(RequestChange.objects.filter(request=request).values_list("kind", "to_status", "note"))
    assert changes == [("created", "new", ""), ("status", "planned", "Q3")]


def test_shipping_gives_each_owner_one_task_once_and_tells_the_timeline(leader, csm):
    other_owner = UserFactory(role=Role.CSM)
    mine = [AccountFactory(owner=csm), AccountFactory(owner=csm)]
    theirs = AccountFactory(owner=other_owner)
    unowned = AccountFactory(owner=None)
    request = services.create_request(title="Export reports to CSV", actor=csm)
    for account in [*mine, theirs, unowned]:
        services.ask(request=request, account=account, actor=csm)
    services.change_status(request=request, status=Status.SHIPPED, note="In 4.2", actor=leader)
    tasks = Task.objects.filter(about_url=f"/feature-requests/{request.pk}/")
    assert sorted(tasks.values_list("owner_id", flat=True)) == sorted([csm.pk, other_owner.pk])
    assert mine[0].name in tasks.get(owner=csm).notes and mine[1].name in tasks.get(owner=csm).notes
    assert TimelineEntry.objects.filter(kind="feature_shipped").count() == 4
    assert DomainEvent.objects.filter(kind="feature_request.shipped").count() == 4
    # Back to in progress and shipped again (the task closed meanwhile): no second task.
    tasks.update(status="done", closed_at=timezone.now())
    services.change_status(request=request, status=Status.IN_PROGRESS, note="Reverted", actor=leader)
    services.change_status(request=request, status=Status.SHIPPED, note="Really shipped", actor=leader)
    assert Task.objects.filter(about_url=f"/feature-requests/{request.pk}/").count() == 2


def test_merging_keeps_one_link_per_account_every_ask_and_the_history(leader, csm):
    both, only_dup, only_survivor = AccountFactory(), AccountFactory(), AccountFactory()
    survivor = services.create_request(title="Export reports to CSV", actor=csm)
    duplicate = services.create_request(title="CSV export of reports", actor=csm)
    services.ask(request=survivor, account=both, verbatim="first", actor=csm)
    services.ask(request=survivor, account=only_survivor, actor=csm)
    services.ask(request=duplicate, account=both, verbatim="later words", actor=csm)
    services.ask(request=duplicate, account=only_dup, actor=csm)
    services.change_status(request=duplicate, status=Status.PLANNED, note="dup planned", actor=leader)
    services.merge(duplicate=duplicate, survivor=survivor, actor=leader)
    duplicate.refresh_from_db()
    assert duplicate.merged_into == survivor
    links = RequestLink.objects.filter(request=survivor)
    assert sorted(links.values_list("account_id", flat=True)) == sorted(
        [both.pk, only_dup.pk, only_survivor.pk]
    )
    assert not RequestLink.objects.filter(request=duplicate).exists()
    kept = links.get(account=both)
    assert sorted(kept.asks.values_list("verbatim", flat=True)) == ["first", "later words"]
    assert kept.verbatim == "later words"
    page = selectors.request_page(survivor, reader=leader)
    assert {c.note for c in page.history} >= {"dup planned"}
    assert [c.kind for c in page.history if c.request_id == survivor.pk][-1] == "merged_in"
    assert AuditLogEntry.objects.filter(action="feature_requests.merged").count() == 1
    # A later ask for the merged request lands on the survivor.
    link = services.ask(request=duplicate, account=AccountFactory(), actor=csm)
    assert link.request_id == survivor.pk
    with pytest.raises(ValidationError):
        services.merge(duplicate=duplicate, survivor=survivor, actor=leader)
    with pytest.raises(ValidationError):
        services.merge(duplicate=survivor, survivor=survivor, actor=leader)


def test_ranking_weights_arr_by_renewal_and_health(today):
    calm = arr_account(arr=100_000, renewal_in=300, grade="green")
    urgent = arr_account(arr=60_000, renewal_in=30, grade="red")
    small = arr_account(arr=10_000)
    big_calm = services.create_request(title="Custom roles", actor=None)
    at_risk = services.create_request(title="Audit log export", actor=None)
    popular = services.create_request(title="Dark mode", actor=None)
    services.ask(request=big_calm, account=calm, actor=None)
    services.ask(request=at_risk, account=urgent, actor=None)
    for account in (small, arr_account(arr=0), AccountFactory()):
        services.ask(request=popular, account=account, actor=None)
    rows = selectors.ranked(selectors.Filters())
    assert [r.request for r in rows] == [at_risk, big_calm, popular]
    assert rows[0].stake.total == Decimal(120_000)  # 60,000 × (1 + 0.5 + 0.5)
    assert rows[0].stake.renewal_boost == rows[0].stake.health_boost == Decimal(30_000)
    by_accounts = selectors.ranked(selectors.Filters(sort="accounts"))
    assert by_accounts[0].request == popular and by_accounts[0].stake.accounts == 3


def test_a_segment_filter_counts_only_its_accounts():
    enterprise, smb = SegmentFactory(name="Enterprise"), SegmentFactory(name="SMB")
    request = services.create_request(title="SSO", actor=None)
    other = services.create_request(title="Dark mode", actor=None)
    services.ask(request=request, account=arr_account(arr=48_000, segment=enterprise), actor=None)
    services.ask(request=request, account=arr_account(arr=6_000, segment=smb), actor=None)
    services.ask(request=other, account=arr_account(arr=1_200, segment=smb), actor=None)
    rows = selectors.ranked(selectors.Filters(segment_id=enterprise.pk))
    assert [(r.request, r.stake.total) for r in rows] == [(request, Decimal(48_000))]
    shares = selectors.segments_of(selectors.ranked(selectors.Filters()))
    assert [(s.segment, s.requests, s.accounts) for s in shares] == [(enterprise, 1, 1), (smb, 2, 2)]


def test_status_and_area_filters(leader):
    shipped = services.create_request(title="A", product_area="Reports", actor=leader)
    services.change_status(request=shipped, status=Status.SHIPPED, note="done", actor=leader)
    open_one = services.create_request(title="B", product_area="Admin", actor=leader)
    assert [r.request for r in selectors.ranked(selectors.Filters())] == [open_one]
    assert [r.request for r in selectors.ranked(selectors.Filters(status="shipped"))] == [shipped]
    assert len(selectors.ranked(selectors.Filters(status=""))) == 2
    assert [r.request for r in selectors.ranked(selectors.Filters(status="", product_area="reports"))] == [
        shipped
    ]


def test_duplicates_are_suggested_until_someone_says_they_differ(leader):
    first = services.create_request(title="Export reports to CSV", actor=leader)
    second = services.create_request(title="CSV export of the reports", actor=leader)
    services.create_request(title="Single sign-on", actor=leader)
    assert [(p.first, p.second) for p in selectors.suggested_duplicates()] == [(first, second)]
    assert [other for other, _score in selectors.duplicates_of(first)] == [second]
    services.not_a_duplicate(first=second, second=first, actor=leader)
    assert selectors.suggested_duplicates() == []
    assert selectors.duplicates_of(first) == []


def test_requesters_outside_the_readers_book_are_counted_not_shown(own_books_only, csm, outsider, account):
    request = services.create_request(title="SSO", actor=csm)
    services.ask(request=request, account=account, actor=csm)
    services.ask(request=request, account=AccountFactory(), actor=None)
    page = selectors.request_page(request, reader=csm)
    assert [link.account for link, _part in page.shown] == [account]
    assert page.hidden == 1 and page.ranked.stake.accounts == 2
    assert selectors.request_page(request, reader=outsider).hidden == 2


def test_an_external_id_is_unique(csm):
    services.create_request(title="A", external_id="CANNY-1", actor=csm)
    with pytest.raises(ValidationError) as error:
        services.create_request(title="B", external_id="CANNY-1", actor=csm)
    assert "external_id" in error.value.message_dict
    assert FeatureRequest.objects.count() == 1


# Committed for real: the events consumer reads only committed transactions (on PostgreSQL).
@pytest.mark.django_db(transaction=True)
def test_a_journey_started_on_shipped_emails_exactly_the_contacts_who_asked(leader, csm):
    from tests.events.test_events import settle
    from tests.journeys.entries_support import live_journey
    from touchpoint.journeys import engine, triggers
    from touchpoint.journeys.models import Enrollment, OutboxRow

    live_journey(
        {
            "key": "tell-the-askers",
            "name": "Tell the askers",
            "subject": "contact",
            "entry": {"trigger": "event", "event": "feature_request.shipped_for_contact"},
            "messages": {
                "shipped": {"en": {"subject": "It shipped", "body": "{{ entry.payload.title }} is live"}}
            },
            "steps": [{"id": "mail", "type": "email", "message": "shipped"}],
        }
    )
    account = AccountFactory(owner=csm)
    asker, bystander = ContactFactory(account=account), ContactFactory(account=account)
    request = services.create_request(title="Export reports to CSV", actor=csm)
    services.ask(request=request, account=account, contact=asker, actor=csm)
    services.ask(request=request, account=AccountFactory(owner=csm), actor=csm)  # nobody named: no email
    services.change_status(request=request, status=Status.SHIPPED, note="4.2", actor=leader)
    settle()  # PostgreSQL: every event recorded so far can be handed out
    triggers.follow_events()
    assert list(Enrollment.objects.values_list("subject_key", flat=True)) == [f"contact:{asker.pk}"]
    engine.advance_due(now=timezone.now() + timedelta(minutes=1))
    rows = OutboxRow.objects.all()
    assert [row.contact_id for row in rows] == [asker.pk] and bystander.pk not in [r.contact_id for r in rows]
