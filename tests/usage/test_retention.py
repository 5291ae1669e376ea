"""Raw events older than RAW_EVENT_RETENTION_DAYS go (on SQLite and PostgreSQL); rollups stay."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from tests.factories import AccountFactory
from touchpoint.scheduler.registry import registered_schedules
from touchpoint.usage import rollups
from touchpoint.usage.models import DailyAccountRollup, RawEvent
from touchpoint.usage.retention import delete_old_raw_events, retention_cutoff
from touchpoint.usage.services import create_source, ingest
from touchpoint.usage.tasks import delete_old_raw_events_task

pytestmark = pytest.mark.django_db(transaction=True)


def track(message_id: str, when: datetime, user: str = "u1") -> dict:
    return {
        "type": "track",
        "messageId": message_id,
        "userId": user,
        "event": "Opened",
        "context": {"groupId": "acme"},
        "timestamp": when.isoformat(),
    }


def days_ago(n: int) -> datetime:
    return datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=n)


def rollup_events() -> dict:
    return dict(DailyAccountRollup.objects.order_by("day").values_list("day", "events"))


def test_old_events_go_in_chunks_rollups_stay_and_a_day_waiting_for_its_rollup_is_kept():
    account = AccountFactory(external_id="acme")
    source = create_source(name="App", actor=None)
    for n, count in ((400, 3), (399, 2), (370, 1), (10, 2), (0, 1)):
        when = days_ago(n)
        result = ingest(
            source=source,
            payloads=[track(f"{n}-{i}", when, user=f"u{i}") for i in range(count)],
            received_at=when,
        )
        assert result.accepted == count
    rollups.refresh_pending()
    before = rollup_events()
    assert sum(before.values()) == 9
    # An event for a day 380 days ago arrives late; its rollup has not been refreshed yet.
    ingest(source=source, payloads=[track("late", days_ago(380))])

    result = delete_old_raw_events(days=365, chunk=2)

    assert result.cutoff == timezone.localdate() - timedelta(days=365)
    # Six rolled-up old events went: all in chunks on SQLite; whole months first on PostgreSQL.
    assert result.rows_deleted <= 6 and (result.partitions_dropped or result.rows_deleted == 6)
    left = sorted(RawEvent.objects.values_list("message_id", flat=True))
    assert left == ["0-0", "10-0", "10-1", "late"]
    assert rollup_events() == before  # counts stay: the rollups are what is left of old days
    assert DailyAccountRollup.objects.filter(account=account).aggregate(n=Sum("events"))["n"] == 9

    rollups.refresh_pending()  # the late day is counted; the next run may drop it
    delete_old_raw_events(days=365, chunk=2)
    assert sorted(RawEvent.objects.values_list("message_id", flat=True)) == ["0-0", "10-0", "10-1"]
    after = rollup_events()
    assert after[days_ago(380).date()] == 1
    assert sum(after.values()) == 10


def test_retention_is_off_at_zero_days_and_the_daily_job_is_scheduled(settings):
    source = create_source(name="App", actor=None)
    AccountFactory(external_id="acme")
    ingest(source=source, payloads=[track("old", days_ago(3000))], received_at=days_ago(3000))
    rollups.refresh_pending()
    settings.RAW_EVENT_RETENTION_DAYS = 0
    assert retention_cutoff() is None
    assert delete_old_raw_events().rows_deleted == 0
    assert RawEvent.objects.count() == 1
    schedule = next(s for s in registered_schedules() if s.name == "usage.retention")
    assert schedule.task is delete_old_raw_events_task
    settings.RAW_EVENT_RETENTION_DAYS = 365
    delete_old_raw_events_task.call()
    assert RawEvent.objects.count() == 0
