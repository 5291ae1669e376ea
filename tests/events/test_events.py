"""Domain events: recorded in the writer's transaction, read in order, followed by consumers exactly once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from tests.factories import AccountFactory
from touchpoint.events.models import ConsumerPosition, DomainEvent
from touchpoint.events.registry import register_kind, registered_kinds
from touchpoint.events.selectors import events_after
from touchpoint.events.services import consume, delete_old_events, record_event
from touchpoint.scheduler.registry import registered_schedules

register_kind("test.happened", "Something happened (tests)")
register_kind("test.other", "Something else happened (tests)")


def settle(timeout: float = 120) -> None:
    """Wait until every event recorded so far is settled (handed out by events_after).

    On PostgreSQL an event waits until every transaction older than it has ended, in the whole
    cluster: other test runs on a shared server can hold it back for a while.
    """
    if connections["default"].vendor != "postgresql":
        return
    newest = max(DomainEvent.objects.values_list("transaction_id", flat=True), default=0)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            if cursor.fetchone()[0] > newest:
                return
        time.sleep(0.05)
    raise AssertionError("events did not settle: a transaction in the cluster stayed open")


@pytest.mark.django_db
def test_record_event_stores_kind_account_subject_and_payload():
    account = AccountFactory()
    event = record_event(kind="test.happened", account=account, subject=account, payload={"n": 1})
    event.refresh_from_db()
    assert (event.kind, event.account_id, event.subject_type, event.subject_id, event.payload) == (
        "test.happened",
        account.pk,
        "accounts.account",
        account.pk,
        {"n": 1},
    )
    assert event.occurred_at is not None and event.created_at is not None
    if connections["default"].vendor == "postgresql":
        assert event.transaction_id > 0  # the writing transaction's id, from the column's default
    else:
        assert event.transaction_id == 0


@pytest.mark.django_db
def test_an_unregistered_kind_is_refused():
    with pytest.raises(ValueError, match="unknown domain event kind"):
        record_event(kind="test.never_registered")
    assert not DomainEvent.objects.exists()


@pytest.mark.django_db
def test_an_event_rolls_back_with_its_transaction():
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(kind="test.happened")
        raise RuntimeError
    assert not DomainEvent.objects.exists()


def test_apps_register_the_kinds_they_write():
    kinds = {event_kind.kind for event_kind in registered_kinds()}
    assert {
        "account.created",
        "account.changed",
        "account.owner_changed",
        "contact.added",
        "contact.changed",
        "contact.removed",
        "engagement.logged",
        "subscription.created",
        "subscription.changed",
        "subscription.canceled",
        "subscription.reactivated",
        "mrr.movement",
        "health.grade_changed",
    } <= kinds


@pytest.mark.django_db(transaction=True)
def test_events_after_reads_in_order_from_a_position_with_kinds_and_limit():
    first = record_event(kind="test.happened", payload={"n": 1})
    second = record_event(kind="test.other", payload={"n": 2})
    third = record_event(kind="test.happened", payload={"n": 3})
    settle()
    assert list(events_after(None)) == [first, second, third]
    assert list(events_after(first.position)) == [second, third]
    assert list(events_after(None, kinds=["test.happened"])) == [first, third]
    assert list(events_after(None, limit=2)) == [first, second]
    assert list(events_after(third.position)) == []


@pytest.mark.django_db(transaction=True)
def test_consume_hands_each_event_once_across_batches():
    events = [record_event(kind="test.happened", payload={"n": n}) for n in range(5)]
    settle()
    seen = []
    assert consume("counter", lambda event: seen.append(event.pk), batch_size=2) == 2
    assert consume("counter", lambda event: seen.append(event.pk), batch_size=2) == 2
    assert consume("counter", lambda event: seen.append(event.pk), batch_size=2) == 1
    assert consume("counter", lambda event: seen.append(event.pk), batch_size=2) == 0
    assert seen == [event.pk for event in events]
    assert ConsumerPosition.objects.get(name="counter").position == events[-1].position


@pytest.mark.django_db(transaction=True)
def test_a_consumer_that_crashes_mid_batch_neither_loses_nor_repeats_an_event():
    events = [record_event(kind="test.happened", payload={"n": n}) for n in range(4)]
    settle()
    crash_at = events[2].pk

    def handler(event: DomainEvent, *, crash: bool) -> None:
        # The handler's own write: a marker row per event handled, in the batch's transaction.
        ConsumerPosition.objects.create(name=f"handled-{event.pk}")
        if crash and event.pk == crash_at:
            raise RuntimeError("worker died")

    with pytest.raises(RuntimeError):
        consume("journeys", lambda event: handler(event, crash=True), batch_size=10)
    # Nothing of the failed batch stayed: not the handler's writes, not a moved position.
    assert not ConsumerPosition.objects.filter(name__startswith="handled-").exists()
    assert ConsumerPosition.objects.get(name="journeys").position == (0, 0)

    assert consume("journeys", lambda event: handler(event, crash=False), batch_size=10) == 4
    assert sorted(
        ConsumerPosition.objects.filter(name__startswith="handled-").values_list("name", flat=True)
    ) == sorted(f"handled-{event.pk}" for event in events)  # each exactly once (names are unique)
    assert consume("journeys", lambda event: handler(event, crash=False), batch_size=10) == 0


@pytest.mark.skipif(
    connections["default"].vendor != "postgresql",
    reason="SQLite has one writer at a time, so event ids commit in order",
)
@pytest.mark.django_db(transaction=True)
def test_a_lower_id_that_commits_late_is_not_skipped_on_postgresql():
    """Transaction A takes the lower id, B takes the next and commits first; a consumer reads in between."""
    a_inserted, consumer_done = threading.Event(), threading.Event()
    ids: dict[str, int] = {}
    errors: list[str] = []

    def writer_a() -> None:
        try:
            with transaction.atomic():
                ids["a"] = record_event(kind="test.happened", payload={"who": "a"}).pk
                a_inserted.set()
                assert consumer_done.wait(timeout=30)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(repr(error))
            a_inserted.set()
        finally:
            connections.close_all()

    def writer_b() -> None:
        try:
            with transaction.atomic():
                ids["b"] = record_event(kind="test.happened", payload={"who": "b"}).pk
        except Exception as error:  # pragma: no cover - reported below
            errors.append(repr(error))
        finally:
            connections.close_all()

    thread_a = threading.Thread(target=writer_a)
    thread_a.start()
    assert a_inserted.wait(timeout=30)
    thread_b = threading.Thread(target=writer_b)
    thread_b.start()
    thread_b.join(timeout=30)
    assert ids["a"] < ids["b"]
    assert DomainEvent.objects.filter(pk=ids["b"]).exists()  # B's event is committed and visible

    seen: list[str] = []
    handled_while_a_open = consume("late", lambda event: seen.append(event.payload["who"]))
    consumer_done.set()
    thread_a.join(timeout=30)
    assert not errors
    assert handled_while_a_open == 0  # B waits until nothing older can still appear
    settle()
    while consume("late", lambda event: seen.append(event.payload["who"])):
        pass
    assert seen == ["a", "b"]


@pytest.mark.django_db
def test_retention_deletes_events_older_than_the_setting(settings):
    settings.DOMAIN_EVENT_RETENTION_DAYS = 30
    old = record_event(kind="test.happened")
    recent = record_event(kind="test.happened")
    DomainEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    DomainEvent.objects.filter(pk=recent.pk).update(created_at=timezone.now() - timedelta(days=29))
    assert delete_old_events() == 1
    assert list(DomainEvent.objects.values_list("pk", flat=True)) == [recent.pk]


def test_retention_runs_as_a_daily_schedule():
    schedule = next(s for s in registered_schedules() if s.name == "events.retention")
    assert schedule.task.name.endswith("delete_old_events_task")
