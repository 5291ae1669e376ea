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
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import throwaway_database
from ingest import baseline_rows, make_batches, process_cpu_seconds, sqlite_rows

ACCOUNTS = 50
BATCHES_PER_TRANSACTION = 2


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
        sent = make_batches(args.events, ACCOUNTS)  # what bench/ingest.py sends
        batches = []
        for payloads in sent:
            messages = [parse_message(p, received_at=received_at) for p in payloads]
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

        base_seconds = _baseline(connection, RawEvent, baseline_rows(sent, source.pk))
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
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    return lambda: process_cpu_seconds(pid)


def _baseline(connection, model, rows: list[tuple]) -> float:
    """Seconds to put these rows (bench/ingest.py's baseline rows) straight into the raw table, in one
    transaction, through the driver's own connection (no Django wrapper)."""
    from django.db import transaction

    from touchpoint.usage.store import RAW_EVENT_COLUMNS

    names = ", ".join(RAW_EVENT_COLUMNS)
    table = model._meta.db_table
    raw = connection.connection
    if connection.vendor == "sqlite":
        rows = sqlite_rows(rows)
    started = time.perf_counter()
    with transaction.atomic():
        if connection.vendor == "sqlite":
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
