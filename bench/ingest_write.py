"""Ingestion's database write alone, in one process: the part SQLite runs one batch at a time.

bench/ingest.py measures the whole path over HTTP, where on this small machine the noise of the other
processes is ±10–15% from one run to the next. This bench takes the database write out of it: 100-event
batches, validated and prepared first (not timed), then written as the tracking API writes them (claim
the message ids, resolve accounts and people, append the raw events, note the pending rollups; two
batches per transaction, as the group commit usually finds them), then the background worker's rollup
refresh. Against the same rows put straight into the raw table in the same run (executemany on SQLite,
COPY on PostgreSQL, one transaction), it prints:
  - the write's events/s and its ratio to that baseline. On SQLite this is a ceiling: writers take
    turns, so no number of web processes takes in events end to end faster than this one write;
  - the refresh's cost per event;
  - the CPU one event's write costs, in this process and (PostgreSQL) in the database server.

    .venv/bin/python bench/ingest_write.py [--events 30000]
Uses DATABASE_URL when set (PostgreSQL: a throw-away test database beside it), else a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import throwaway_database

ACCOUNTS = 50
BATCH = 100
BATCHES_PER_TRANSACTION = 2


def payloads(count: int) -> list[dict]:
    """The events bench/ingest.py sends: 2,000 people over 50 accounts, three event names."""
    now = datetime.now(UTC).isoformat()
    return [
        {
            "type": "track",
            "messageId": f"bench-{i}",
            "userId": f"user-{i % 2000}",
            "event": ("Report created", "Dashboard viewed", "Export downloaded")[i % 3],
            "properties": {"n": i},
            "context": {"groupId": f"acct-{i % ACCOUNTS}"},
            "timestamp": now,
        }
        for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=30_000)
    args = parser.parse_args()
    _workdir, drop_database = throwaway_database("tp-bench-ingest-write-")
    from django.db import connection, transaction
    from django.utils import timezone

    from touchpoint.usage import group_commit, rollups, services, store
    from touchpoint.usage.models import RawEvent
    from touchpoint.usage.segment import parse_message

    try:
        source = services.create_source(name="Bench", actor=None)
        services.ingest(
            source=source,
            payloads=[
                {"type": "group", "messageId": f"g-{n}", "userId": f"owner-{n}", "groupId": f"acct-{n}"}
                for n in range(ACCOUNTS)
            ],
        )
        rollups.refresh_pending()
        received_at = timezone.now()
        events = payloads(args.events)
        batches = []
        for start in range(0, len(events), BATCH):
            messages = [parse_message(p, received_at=received_at) for p in events[start : start + BATCH]]
            batches.append((messages, store.prepare(source, messages, received_at=received_at)))

        server_cpu = _server_cpu_reader(connection)
        cpu, wall, server = time.process_time(), time.perf_counter(), server_cpu()
        for start in range(0, len(batches), BATCHES_PER_TRANSACTION):
            with group_commit.writer_lock(), transaction.atomic():
                for messages, prepared in batches[start : start + BATCHES_PER_TRANSACTION]:
                    services._store(source, messages, prepared, received_at)
        write_wall = time.perf_counter() - wall
        write_cpu, write_server = time.process_time() - cpu, server_cpu() - server
        cpu, wall = time.process_time(), time.perf_counter()
        rollups.refresh_pending()
        refresh_wall, refresh_cpu = time.perf_counter() - wall, time.process_time() - cpu
        stored = RawEvent.objects.filter(source=source, type="track").count()
        assert stored == args.events, f"{stored} of {args.events} events stored"

        base_seconds = _baseline(connection, RawEvent, events, source.pk)
        count = args.events
        write_rate, base_rate = count / write_wall, count / base_seconds
        micros = 1e6 / count
        label = "SQLite" if connection.vendor == "sqlite" else "PostgreSQL"
        print(
            f"{label:10} write {write_rate:8,.0f} events/s (ratio {write_rate / base_rate:5.3f}"
            + (", the most SQLite can take in end to end" if connection.vendor == "sqlite" else "")
            + f")   baseline {base_rate:9,.0f} events/s"
        )
        server_part = f", database server {write_server * micros:.1f}" if write_server else ""
        print(
            f"{'':10} per event: write {write_wall * micros:.1f} µs (CPU here {write_cpu * micros:.1f}{server_part}); "
            f"rollup refresh {refresh_wall * micros:.1f} µs (CPU here {refresh_cpu * micros:.1f})"
        )
    finally:
        drop_database()


def _server_cpu_reader(connection):
    """A function giving the CPU seconds this connection's PostgreSQL backend has used (0.0 elsewhere,
    or when its /proc entry cannot be read: another machine, another user)."""
    if connection.vendor != "postgresql":
        return lambda: 0.0
    import os

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    stat = Path("/proc") / str(pid) / "stat"

    def read() -> float:
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return read


def _baseline(connection, model, events: list[dict], source_id: int) -> float:
    """Seconds to put the same rows straight into the raw table, in one transaction."""
    from django.db import transaction

    now = datetime.now(UTC)
    rows = [
        (
            source_id,
            e["messageId"] + "-base",
            "track",
            e["event"],
            e["userId"],
            "",
            e["context"]["groupId"],
            None,
            None,
            now,
            now.date(),
            now,
            json.dumps(e["properties"]),
            json.dumps(e["context"]),
        )
        for e in events
    ]
    from touchpoint.usage.store import RAW_EVENT_COLUMNS

    names = ", ".join(RAW_EVENT_COLUMNS)
    table = model._meta.db_table
    raw = connection.connection  # the driver's own connection: no Django wrapper in the baseline
    started = time.perf_counter()
    with transaction.atomic():
        if connection.vendor == "sqlite":
            rows = [
                (*r[:9], r[9].isoformat(sep=" "), r[10].isoformat(), r[11].isoformat(sep=" "), *r[12:])
                for r in rows
            ]
            started = time.perf_counter()
            raw.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(RAW_EVENT_COLUMNS))})", rows
            )
        else:
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
