from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from tests.factories import AccountFactory, ContactFactory, UserFactory
from tests.support.conftest import NOW, ticket_data
from touchpoint.accounts.models import TimelineEntry
from touchpoint.events.models import DomainEvent
from touchpoint.support import services
from touchpoint.support.models import SlaBreach, SlaTarget, Ticket
from touchpoint.tasks.models import Task
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db


def test_a_new_ticket_gets_its_tier_policy_and_due_moments(make_ticket, enterprise):
    ticket = make_ticket()
    assert ticket.policy.segment == enterprise
    assert ticket.first_reply_due_at == ticket.opened_at + timedelta(hours=1)
    assert ticket.resolution_due_at == ticket.opened_at + timedelta(hours=4)
    assert ticket.next_due_at == ticket.first_reply_due_at
    assert not ticket.breached
    assert TimelineEntry.objects.filter(account=ticket.account, kind="ticket_opened").count() == 1
    assert DomainEvent.objects.filter(kind="ticket.opened", subject_id=ticket.pk).count() == 1


def test_an_account_of_another_segment_takes_the_default_policy(make_ticket, db, csm):
    other = AccountFactory(owner=csm, segment=None)
    ticket = make_ticket(account=other)
    assert ticket.policy.segment is None
    assert ticket.first_reply_due_at == ticket.opened_at + timedelta(hours=2)


def test_an_older_or_equal_update_changes_nothing(make_ticket):
    ticket = make_ticket()
    same, outcome = services.upsert_ticket(
        data=ticket_data(subject="Changed", updated_at=ticket.source_updated_at),
        account=ticket.account,
        actor=None,
        now=NOW,
    )
    assert outcome == "unchanged" and Ticket.objects.get(pk=ticket.pk).subject == "Login fails"
    _t, outcome = services.upsert_ticket(
        data=ticket_data(subject="Older", updated_at=ticket.source_updated_at - timedelta(minutes=1)),
        account=ticket.account,
        actor=None,
        now=NOW,
    )
    assert outcome == "unchanged"
    _t, outcome = services.upsert_ticket(
        data=ticket_data(subject="Newer", updated_at=NOW), account=ticket.account, actor=None, now=NOW
    )
    assert outcome == "updated" and Ticket.objects.get(pk=ticket.pk).subject == "Newer"
    assert Ticket.objects.count() == 1


def test_the_requester_is_matched_to_a_contact_of_the_account(make_ticket, big_account):
    contact = ContactFactory(account=big_account, email="ann@acme.example")
    ticket = make_ticket(requester_email="ANN@acme.example")
    assert ticket.contact == contact


def test_a_reply_in_time_meets_and_a_late_one_breaches_at_once(make_ticket):
    on_time = make_ticket(external_id="1", first_reply_at=NOW - timedelta(minutes=5))
    assert on_time.first_reply_minutes == 25 and not on_time.breached
    late = make_ticket(
        external_id="2",
        opened_at=NOW - timedelta(hours=3),
        updated_at=NOW,
        first_reply_at=NOW - timedelta(hours=1),
    )
    assert late.breached
    breach = SlaBreach.objects.get(ticket=late)
    assert breach.metric == "first_reply" and breach.due_at == late.opened_at + timedelta(hours=1)


def test_the_minute_job_records_a_breach_once_with_event_timeline_and_escalation(make_ticket, policy):
    engineer = UserFactory(role=Role.VIEWER, email="eng@example.com")
    SlaTarget.objects.filter(policy=policy, priority="urgent").update(escalate_to=engineer)
    ticket = make_ticket()
    assert services.check_breaches(now=NOW) == 0
    later = ticket.first_reply_due_at + timedelta(seconds=1)
    assert services.check_breaches(now=later) == 1
    assert services.check_breaches(now=later + timedelta(minutes=1)) == 0  # once
    breach = SlaBreach.objects.get(ticket=ticket)
    assert breach.metric == "first_reply"
    assert DomainEvent.objects.filter(kind="ticket.sla_breached", subject_id=ticket.pk).count() == 1
    assert TimelineEntry.objects.filter(kind="sla_breached", account=ticket.account).count() == 1
    task = Task.objects.get(pk=breach.escalation_task_id)
    assert task.owner == engineer and task.about_url == f"/support/tickets/{ticket.pk}/"
    ticket.refresh_from_db()
    assert ticket.breached and ticket.next_due_at == ticket.resolution_due_at
    # the resolution clock breaches later, recorded as a second breach
    assert services.check_breaches(now=ticket.resolution_due_at + timedelta(seconds=1)) == 1


def test_pending_stops_the_clock_and_resuming_moves_the_due_moment(make_ticket):
    ticket = make_ticket(first_reply_at=NOW - timedelta(minutes=20))
    due = ticket.resolution_due_at
    paused, _o = services.upsert_ticket(
        data=ticket_data(status="pending", updated_at=NOW), account=ticket.account, actor=None, now=NOW
    )
    assert paused.resolution_due_at is None and paused.next_due_at is None
    assert services.check_breaches(now=NOW + timedelta(days=3)) == 0
    resumed_at = NOW + timedelta(hours=5)
    resumed, _o = services.upsert_ticket(
        data=ticket_data(status="open", updated_at=resumed_at),
        account=ticket.account,
        actor=None,
        now=resumed_at,
    )
    assert resumed.resolution_due_at == due + timedelta(hours=5)
    assert not resumed.breached


def test_solving_records_the_time_to_fix(make_ticket):
    ticket = make_ticket(first_reply_at=NOW - timedelta(minutes=20))
    solved, _o = services.upsert_ticket(
        data=ticket_data(status="solved", updated_at=NOW, solved_at=NOW),
        account=ticket.account,
        actor=None,
        now=NOW,
    )
    assert solved.resolution_minutes == 30 and solved.resolution_calendar_minutes == 30
    assert solved.next_due_at is None
    assert TimelineEntry.objects.filter(kind="ticket_solved", account=ticket.account).count() == 1


def test_next_reply_clock_runs_from_the_customers_message(make_ticket):
    ticket = make_ticket(first_reply_at=NOW - timedelta(minutes=20))
    wrote = NOW - timedelta(minutes=10)
    again, _o = services.upsert_ticket(
        data=ticket_data(updated_at=wrote, awaiting_reply_since=wrote),
        account=ticket.account,
        actor=None,
        now=NOW,
    )
    assert again.next_reply_due_at == wrote + timedelta(hours=2)
    assert again.first_reply_at == NOW - timedelta(minutes=20)  # kept though the snapshot left it out


def test_bad_values_name_their_field(big_account, policy):
    with pytest.raises(ValidationError) as caught:
        services.upsert_ticket(data=ticket_data(priority="p1"), account=big_account, actor=None, now=NOW)
    assert "priority" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.upsert_ticket(
            data=ticket_data(solved_at=NOW - timedelta(hours=5)), account=big_account, actor=None, now=NOW
        )
    assert "solved_at" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.upsert_ticket(data=ticket_data(subject=" "), account=big_account, actor=None, now=NOW)
    assert "subject" in caught.value.message_dict


def test_match_account_by_external_id_name_and_domain(big_account):
    assert services.match_account(organization_id="acme-1") == big_account
    assert services.match_account(organization="ACME") == big_account
    assert services.match_account(email="bob@acme.example") == big_account
    assert services.match_account(organization="Nobody", email="x@nowhere.example") is None


def test_one_policy_per_tier(calendar, policy, enterprise):
    with pytest.raises(ValidationError) as caught:
        services.save_policy(name="Again", segment=enterprise, calendar=calendar, targets={}, actor=None)
    assert "segment" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.save_policy(name="Second default", segment=None, calendar=calendar, targets={}, actor=None)


def test_calendar_checks(db):
    from datetime import date, time

    with pytest.raises(ValidationError) as caught:
        services.save_calendar(
            name="X",
            time_zone="Mars/Olympus",
            working_days=[0],
            opens_at=time(9),
            closes_at=time(17),
            holidays=[],
            actor=None,
        )
    assert "time_zone" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.save_calendar(
            name="X",
            time_zone="UTC",
            working_days=[],
            opens_at=time(9),
            closes_at=time(17),
            holidays=[],
            actor=None,
        )
    assert "working_days" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.save_calendar(
            name="X",
            time_zone="UTC",
            working_days=[1],
            opens_at=time(17),
            closes_at=time(9),
            holidays=[],
            actor=None,
        )
    assert "closes_at" in caught.value.message_dict
    made = services.save_calendar(
        name="Berlin",
        time_zone="Europe/Berlin",
        working_days=[0, 1, 2, 3, 4],
        opens_at=time(9),
        closes_at=time(17),
        holidays=[date(2026, 12, 25)],
        actor=None,
    )
    assert made.as_calendar().holidays == frozenset({date(2026, 12, 25)})
