"""Batches for the same new account and user arriving at the same moment on PostgreSQL."""

import threading

import pytest
from django.db import connections

from touchpoint.accounts.models import Account, Contact
from touchpoint.usage import rollups
from touchpoint.usage.models import DailyAccountRollup, PendingRollup, RawEvent
from touchpoint.usage.services import create_source, ingest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(
    connections["default"].vendor != "postgresql",
    reason="SQLite queues writers at BEGIN IMMEDIATE; the in-memory test database cannot race",
)
def test_concurrent_batches_for_one_new_account_all_land_and_add_up():
    source = create_source(name="Race", actor=None)
    barrier = threading.Barrier(4)
    errors = []

    def send(worker: int) -> None:
        try:
            barrier.wait()
            ingest(
                source=source,
                payloads=[
                    {
                        "type": "group",
                        "messageId": f"g{worker}",
                        "userId": "shared-user",
                        "groupId": "new-co",
                        "traits": {"name": "New Co"},
                    },
                    *[
                        {
                            "type": "track",
                            "messageId": f"w{worker}-{i}",
                            "userId": "shared-user",
                            "event": "Report created",
                            "context": {"groupId": "new-co"},
                        }
                        for i in range(25)
                    ],
                ],
            )
            rollups.refresh_pending()  # refreshers racing the other batches' ingestion
        except Exception as error:
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    account = Account.objects.get(external_id="new-co")
    assert Contact.objects.filter(external_id="shared-user", account=account).count() == 1
    assert RawEvent.objects.filter(type="track").count() == 100
    rollups.refresh_pending()  # whatever was still in flight when each refresher looked
    assert sum(DailyAccountRollup.objects.filter(account=account).values_list("events", flat=True)) == 100
    before = sorted(DailyAccountRollup.objects.values_list("account_id", "day", "events", "active_users"))
    rollups.rebuild()
    assert (
        sorted(DailyAccountRollup.objects.values_list("account_id", "day", "events", "active_users"))
        == before
    )


@pytest.mark.skipif(connections["default"].vendor != "postgresql", reason="two drainers at once: PostgreSQL")
def test_two_drainers_at_once_never_drain_a_pending_row_twice():
    source = create_source(name="Two drainers", actor=None)
    for n in range(3):
        Account.objects.create(name=f"Co {n}", external_id=f"co-{n}")
    for batch in range(6):
        ingest(
            source=source,
            payloads=[
                {
                    "type": "track",
                    "messageId": f"b{batch}-{i}",
                    "userId": f"u{i % 5}",
                    "event": "Report created",
                    "context": {"groupId": f"co-{i % 3}"},
                }
                for i in range(50)
            ],
        )
    pending_rows = PendingRollup.objects.count()
    assert rollups.backlog()[0] == 300 and pending_rows == 18  # a row per batch and account (6 × 3)
    barrier = threading.Barrier(2)
    taken: list[int] = []
    errors: list[str] = []

    def drain() -> None:
        try:
            barrier.wait()
            taken.append(rollups.refresh_pending())
        except Exception as error:
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert rollups.backlog() == (0, None) and not PendingRollup.objects.exists()
    assert sum(DailyAccountRollup.objects.values_list("events", flat=True)) == 300
    assert DailyAccountRollup.objects.count() == 3  # one row per account and day, none twice
    assert sorted(DailyAccountRollup.objects.values_list("active_users", flat=True)) == [5, 5, 5]
    assert sum(taken) == 3  # the (account, day) pairs the two took: each pending pair drained by one of them
