"""Entries from domain events, dates and schedules (product events: test_triggers_product.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.events.test_events import settle
from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory
from tests.journeys.entries_support import definition, enrollments, live_journey
from touchpoint.accounts.models import Account
from touchpoint.events.models import ConsumerPosition
from touchpoint.events.services import record_event
from touchpoint.journeys import triggers
from touchpoint.journeys.models import Enrollment, EnrollmentStatus, JourneyCursor, JourneyStatus


def _event_journey(key: str = "on-change", launched_at=None, **more):
    return live_journey(
        definition(key, {"trigger": "event", "event": "account.changed"}, **more), launched_at=launched_at
    )


def _changed(account, **payload):
    return record_event(kind="account.changed", account=account, payload=payload)


def _follow():
    settle()  # PostgreSQL: every event recorded so far can be handed out
    return triggers.follow_events()


# --- Domain events ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_event_enrolls_its_account_once_even_when_read_again():
    version = _event_journey(reentry={"policy": "after_exit"})
    account = AccountFactory()
    event = _changed(account, fields=["name"])
    _follow()
    # Replayed from the start (a restored backup, a consumer reset): the entry key is taken.
    ConsumerPosition.objects.filter(name=triggers.CONSUMER).update(transaction_id=0, event_id=0)
    _follow()
    [enrollment] = enrollments(version)
    assert enrollment.account == account and enrollment.contact is None
    assert enrollment.entry_key == f"event:{event.pk}"
    assert enrollment.entry_data == {
        "event": "account.changed",
        "payload": {"fields": ["name"]},
        "event_id": event.pk,
    }


@pytest.mark.django_db(transaction=True)
def test_where_reads_the_payload():
    version = live_journey(
        definition(
            "where-payload",
            {
                "trigger": "event",
                "event": "account.changed",
                "where": {"field": "entry.payload.grade", "op": "eq", "value": "red"},
            },
            reentry={"policy": "after_exit"},
        )
    )
    red, green = AccountFactory(), AccountFactory()
    _changed(red, grade="red")
    _changed(green, grade="green")
    _follow()
    assert [e.account for e in enrollments(version)] == [red]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("status", [JourneyStatus.DRAFT, JourneyStatus.PAUSED, JourneyStatus.ARCHIVED])
def test_only_live_journeys_take_entries(status):
    version = live_journey(
        definition("not-live", {"trigger": "event", "event": "account.changed"}), status=status
    )
    _changed(AccountFactory())
    _follow()
    assert enrollments(version) == []


@pytest.mark.django_db(transaction=True)
def test_events_from_before_the_launch_enroll_nobody():
    account = AccountFactory()
    _changed(account)
    version = _event_journey(launched_at=timezone.now() + timedelta(seconds=1))
    _follow()
    assert enrollments(version) == []


@pytest.mark.django_db(transaction=True)
def test_reentry_never_holds_a_subject_to_one_enrollment():
    version = _event_journey()  # re-entry "never" is the default
    account = AccountFactory()
    _changed(account)
    _changed(account)
    _follow()
    [enrollment] = enrollments(version)
    assert enrollment.entry_key == ""


@pytest.mark.django_db(transaction=True)
def test_contact_added_enrolls_that_contact_in_a_contact_journey():
    from touchpoint.accounts.services import create_contact

    version = live_journey(
        definition(
            "new-contact",
            {"trigger": "event", "event": "contact.added"},
            subject="contact",
            audience={"roles": ["champion"]},
        )
    )
    account = AccountFactory()
    ContactFactory(account=account, roles=["champion"])  # already there: not added by an event
    champion = create_contact(account=account, name="Kim Champion", roles=["champion"], actor=None)
    create_contact(account=account, name="Lee User", roles=["user"], actor=None)  # not in the audience
    _follow()
    [enrollment] = enrollments(version)
    assert enrollment.contact == champion
    assert enrollment.subject_key == f"contact:{champion.pk}"


@pytest.mark.django_db(transaction=True)
def test_an_account_event_enrolls_the_contacts_with_the_audience_roles():
    version = live_journey(
        definition(
            "account-to-people",
            {"trigger": "event", "event": "account.changed"},
            subject="contact",
            audience={"roles": ["champion", "decision_maker"]},
        )
    )
    account = AccountFactory()
    champion = ContactFactory(account=account, roles=["champion"])
    both = ContactFactory(account=account, roles=["champion", "decision_maker"])
    ContactFactory(account=account, roles=["user"])
    ContactFactory(roles=["champion"])  # another account's
    _changed(account)
    _follow()
    assert sorted(e.contact_id for e in enrollments(version)) == sorted([champion.pk, both.pk])


@pytest.mark.django_db(transaction=True)
def test_a_wait_for_an_event_is_woken_by_it():
    waiting_version = live_journey(
        {
            "key": "waits",
            "name": "Waits",
            "entry": {"trigger": "manual"},
            "steps": [
                {"id": "ev", "type": "wait", "event": "account.changed", "timeout_days": 5},
                {"id": "t", "type": "tag", "tag": "x"},
            ],
        }
    )
    account = AccountFactory()
    enrollment = Enrollment.objects.create(
        journey=waiting_version.journey,
        version=waiting_version,
        account=account,
        subject_key=f"account:{account.pk}",
        step_id="ev",
        waiting_for="account.changed",
        wake_at=timezone.now() + timedelta(days=5),
    )
    other = AccountFactory()
    _changed(other)  # another account's event wakes nobody here
    _follow()
    enrollment.refresh_from_db()
    assert enrollment.event_seen_at is None and enrollment.step_id == "ev"
    _changed(account)
    _follow()
    enrollment.refresh_from_db()
    assert enrollment.event_seen_at is not None


@pytest.mark.django_db
def test_no_journey_on_events_costs_two_queries_and_reads_no_event(django_assert_num_queries):
    _changed(AccountFactory())
    with django_assert_num_queries(2):  # the live versions, the waits
        assert triggers.follow_events() == 0


# --- Dates ------------------------------------------------------------------------------------------


def _date_journey(key: str, date_kind: str, days: int, launched_days_ago: int = 0, **more):
    return live_journey(
        definition(
            key,
            {"trigger": "date", "date": date_kind, "days": days},
            reentry={"policy": "after_exit"},
            **more,
        ),
        launched_at=timezone.now() - timedelta(days=launched_days_ago),
    )


@pytest.mark.django_db
def test_renewal_countdown_enrolls_on_the_day_and_once():
    today = timezone.localdate()
    version = _date_journey("renewal-30", "renewal", -30)
    due = SubscriptionFactory(renewal_date=today + timedelta(days=30))
    SubscriptionFactory(renewal_date=today + timedelta(days=31))  # tomorrow's
    SubscriptionFactory(renewal_date=today + timedelta(days=30), status="canceled")
    assert triggers.scan_dates(today=today) == 1
    assert triggers.scan_dates(today=today) == 0  # the day is covered
    [enrollment] = enrollments(version)
    assert enrollment.account == due.account
    assert enrollment.entry_key == f"renewal:{due.pk}:{due.renewal_date.isoformat()}"
    assert enrollment.entry_data == {
        "date": "renewal",
        "anchor_date": due.renewal_date.isoformat(),
        "days": -30,
    }


@pytest.mark.django_db
def test_the_date_scan_catches_up_the_days_it_missed():
    today = timezone.localdate()
    version = _date_journey("renewal-7", "renewal", -7, launched_days_ago=10)
    JourneyCursor.objects.create(name=f"dates:{version.pk}", day=today - timedelta(days=3))
    missed = [SubscriptionFactory(renewal_date=today + timedelta(days=7 - back)) for back in (0, 1, 2)]
    SubscriptionFactory(renewal_date=today + timedelta(days=7 - 3))  # scanned on its day already
    assert triggers.scan_dates(today=today) == 3
    assert sorted(e.account_id for e in enrollments(version)) == sorted(s.account_id for s in missed)
    assert JourneyCursor.objects.get(name=f"dates:{version.pk}").day == today


@pytest.mark.django_db
def test_a_first_scan_covers_the_launch_day_and_not_before():
    today = timezone.localdate()
    version = _date_journey("starts", "subscription_start", 7, launched_days_ago=1)
    yesterdays = SubscriptionFactory(started_on=today - timedelta(days=8))  # its day was the launch day
    todays = SubscriptionFactory(started_on=today - timedelta(days=7))
    SubscriptionFactory(started_on=today - timedelta(days=9))  # its day came before the launch
    triggers.scan_dates(today=today)
    assert sorted(e.entry_key for e in enrollments(version)) == sorted(
        [
            f"subscription_start:{yesterdays.pk}:{yesterdays.started_on.isoformat()}",
            f"subscription_start:{todays.pk}:{todays.started_on.isoformat()}",
        ]
    )


@pytest.mark.django_db
def test_account_created_anniversary_for_contacts():
    today = timezone.localdate()
    version = _date_journey(
        "welcome-week", "account_created", 7, subject="contact", audience={"roles": ["champion"]}
    )
    account = AccountFactory()
    Account.objects.filter(pk=account.pk).update(created_at=timezone.now() - timedelta(days=7))
    champion = ContactFactory(account=account, roles=["champion"])
    ContactFactory(account=account, roles=["user"])
    AccountFactory()  # created today
    triggers.scan_dates(today=today)
    [enrollment] = enrollments(version)
    assert enrollment.contact == champion
    assert enrollment.entry_key.startswith(f"account_created:{account.pk}:")


# --- Schedules --------------------------------------------------------------------------------------


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo("UTC"))


@pytest.mark.django_db
def test_a_schedule_enrolls_the_audience_once_per_fire_time(settings):
    settings.TIME_ZONE = "UTC"
    day = date(2026, 3, 2)
    version = live_journey(
        definition(
            "monthly-review", {"trigger": "schedule", "cron": "0 9 * * *"}, reentry={"policy": "after_exit"}
        ),
        launched_at=_at(day, 8),
    )
    accounts = [AccountFactory(), AccountFactory()]
    assert triggers.fire_schedules(now=_at(day, 8, 30)) == 0  # not yet
    assert triggers.fire_schedules(now=_at(day, 9, 1)) == 2
    assert triggers.fire_schedules(now=_at(day, 9, 2)) == 0  # that fire time is done
    # They finish the journey; the next day's fire time enrolls them again (re-entry after exit).
    Enrollment.objects.filter(version=version).update(status=EnrollmentStatus.COMPLETED, step_id="")
    assert triggers.fire_schedules(now=_at(day + timedelta(days=1), 10)) == 2
    keys = sorted({e.entry_key for e in enrollments(version)})
    assert keys == ["schedule:2026-03-02T09:00:00+00:00", "schedule:2026-03-03T09:00:00+00:00"]
    assert {e.account_id for e in enrollments(version)} == {a.pk for a in accounts}


@pytest.mark.django_db
def test_a_schedule_missed_for_days_fires_once_late(settings):
    settings.TIME_ZONE = "UTC"
    day = date(2026, 3, 2)
    version = live_journey(
        definition("daily", {"trigger": "schedule", "cron": "0 9 * * *"}, reentry={"policy": "after_exit"}),
        launched_at=_at(day, 8),
    )
    AccountFactory()
    assert triggers.fire_schedules(now=_at(day + timedelta(days=3), 12)) == 1
    assert [e.entry_key for e in enrollments(version)] == ["schedule:2026-03-05T09:00:00+00:00"]


@pytest.mark.django_db
def test_a_schedule_the_cron_library_cannot_read_is_skipped(settings):
    version = live_journey(definition("bad-cron", {"trigger": "schedule", "cron": "every day"}))
    AccountFactory()
    assert triggers.fire_schedules() == 0
    assert enrollments(version) == []


@pytest.mark.django_db
def test_a_schedule_for_contacts_enrolls_people_with_the_roles():
    version = live_journey(
        definition(
            "qbr-invite",
            {"trigger": "schedule", "cron": "* * * * *"},
            subject="contact",
            audience={"roles": ["decision_maker"]},
        ),
        launched_at=timezone.now() - timedelta(hours=1),
    )
    decider = ContactFactory(roles=["decision_maker"])
    ContactFactory(roles=["user"])
    assert triggers.fire_schedules() == 1
    assert [e.contact for e in enrollments(version)] == [decider]
    assert all(e.status == EnrollmentStatus.ACTIVE for e in enrollments(version))


@pytest.mark.django_db(transaction=True)
def test_several_workers_fire_a_schedule_once(settings):
    """PostgreSQL, real connections: each worker polls at the same moment; one claims the fire time."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("several workers run on PostgreSQL")
    settings.TIME_ZONE = "UTC"
    day = date(2026, 3, 2)
    version = live_journey(
        definition("weekly", {"trigger": "schedule", "cron": "0 9 * * *"}, reentry={"policy": "after_exit"}),
        launched_at=_at(day, 8),
    )
    for _n in range(5):
        AccountFactory()
    JourneyCursor.objects.create(name=f"schedule:{version.pk}", moment=_at(day, 8))
    start = threading.Barrier(4)
    made: list[int] = []

    def worker() -> None:
        try:
            start.wait()
            made.append(triggers.fire_schedules(now=_at(day, 9, 1)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(made) == [0, 0, 0, 5]
    assert len(enrollments(version)) == 5
    assert JourneyCursor.objects.get(name=f"schedule:{version.pk}").moment == _at(day, 9)


@pytest.mark.django_db(transaction=True)
def test_a_journey_that_cannot_take_an_entry_does_not_hold_back_the_others(caplog):
    broken = live_journey(
        definition(
            "broken-where",
            {
                "trigger": "event",
                "event": "account.changed",
                "where": {"field": "account.no_such_field", "op": "eq", "value": 1},
            },
        )
    )
    working = _event_journey()
    account = AccountFactory()
    _changed(account)
    _follow()
    assert enrollments(broken) == []
    assert [e.account for e in enrollments(working)] == [account]
    assert "could not enroll" in caplog.text
    assert triggers.follow_events() == 0  # the position moved past the event
