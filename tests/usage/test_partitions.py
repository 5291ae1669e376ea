"""PostgreSQL keeps raw events in monthly partitions; SQLite in one table."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from tests.factories import AccountFactory
from touchpoint.usage import rollups, store
from touchpoint.usage.models import DailyAccountRollup, RawEvent
from touchpoint.usage.services import create_source, ingest

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="partitioning is a PostgreSQL feature; SQLite keeps one table",
    ),
]


def partitions() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'usage_rawevent'::regclass ORDER BY 1"
        )
        return [row[0] for row in cursor.fetchall()]


def rows_in(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        return cursor.fetchone()[0]


def track(message_id: str, when: datetime) -> dict:
    return {
        "type": "track",
        "messageId": message_id,
        "userId": "u1",
        "event": "Opened",
        "context": {"groupId": "acme"},
        "timestamp": when.isoformat(),
    }


def test_events_land_in_their_months_partition_and_a_new_month_gets_one():
    AccountFactory(external_id="acme")
    source = create_source(name="App", actor=None)
    now = datetime.now(UTC)
    ingest(source=source, payloads=[track("now", now)])
    assert rows_in(f"usage_rawevent_{now:%Y%m}") == 1
    # A month beyond the ones made in advance: created on first use.
    later = now.replace(year=now.year + 3)
    ingest(source=source, payloads=[track("later", later)], received_at=later)
    assert f"usage_rawevent_{later:%Y%m}" in partitions()
    assert rows_in(f"usage_rawevent_{later:%Y%m}") == 1
    assert rows_in("usage_rawevent_default") == 0


def test_a_backfill_older_than_every_partition_is_kept_in_the_default_one_and_still_counted():
    account = AccountFactory(external_id="acme")
    source = create_source(name="App", actor=None)
    long_ago = datetime(2001, 5, 17, 12, tzinfo=UTC)
    with connection.cursor() as cursor:  # as if the month's partition had never been made
        cursor.execute(
            "INSERT INTO usage_rawevent (message_id, type, event, user_id, anonymous_id, group_id, "
            "timestamp, day, received_at, properties, context, account_id, source_id) VALUES "
            "('old', 'track', 'Opened', 'u1', '', 'acme', %s, %s, %s, '{}', '{}', %s, %s)",
            [long_ago, long_ago.date(), long_ago, account.pk, source.pk],
        )
    assert rows_in("usage_rawevent_default") == 1
    store.ensure_partitions([long_ago.date()])  # must not fail on the rows already in DEFAULT
    assert "usage_rawevent_200105" not in partitions()
    rollups.rebuild()
    assert DailyAccountRollup.objects.get(account=account, day=long_ago.date()).events == 1


def test_old_months_are_dropped_whole_for_retention():
    AccountFactory(external_id="acme")
    source = create_source(name="App", actor=None)
    now = datetime.now(UTC)
    ingest(source=source, payloads=[track("now", now)])
    oldest = partitions()[0]
    dropped = store.drop_partitions_before(now.date().replace(day=1))
    assert oldest in dropped and f"usage_rawevent_{now:%Y%m}" not in dropped
    assert RawEvent.objects.count() == 1
