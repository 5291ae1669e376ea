"""Event writers on PostgreSQL: the chosen ordering (transaction id + snapshot xmin) against an advisory lock.

Each of T threads runs N transactions that each record one domain event and then do the rest of a
typical service's work (an audit-log row, the commit). Times, in the same run:
  - xmin: what the code does (no lock; consumers read only settled transactions);
  - advisory lock: `pg_advisory_xact_lock` taken just before the insert, held to the commit, so ids
    commit in order (the alternative docs/architecture.md weighs).
Also times `events_after` reading 1,000 events, with and without the snapshot-xmin cut.

    DATABASE_URL=postgres://… .venv/bin/python bench/events.py [--threads 4] [--transactions 300]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import throwaway_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--transactions", type=int, default=300)
    args = parser.parse_args()
    _workdir, drop_database = throwaway_database("tp-bench-events-")
    from django.db import connection, connections, transaction

    from touchpoint.events.models import DomainEvent
    from touchpoint.events.registry import register_kind
    from touchpoint.events.selectors import events_after
    from touchpoint.events.services import record_event
    from touchpoint.users.services import record_audit

    if connection.vendor != "postgresql":
        print("PostgreSQL only: SQLite has one writer at a time, so ids commit in order anyway.")
        return
    register_kind("bench.happened", "bench")
    try:

        def writer(lock: bool) -> None:
            try:
                for n in range(args.transactions):
                    with transaction.atomic():
                        if lock:
                            with connection.cursor() as cursor:
                                cursor.execute("SELECT pg_advisory_xact_lock(7477)")
                        event = record_event(kind="bench.happened", payload={"n": n})
                        record_audit(actor=None, action="bench", instance=event)
            finally:
                connections.close_all()

        for name, lock in (("xmin (chosen)", False), ("advisory lock", True), ("xmin (chosen)", False)):
            threads = [threading.Thread(target=writer, args=(lock,)) for _ in range(args.threads)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - started
            total = args.threads * args.transactions
            print(
                f"{name:>15}: {total} event-writing transactions in {seconds:.2f}s ({total / seconds:,.0f}/s)"
            )
        started = time.perf_counter()
        for _ in range(20):
            list(events_after(None, limit=1000))
        with_cut = (time.perf_counter() - started) / 20
        started = time.perf_counter()
        for _ in range(20):
            list(DomainEvent.objects.order_by("transaction_id", "id")[:1000])
        without = (time.perf_counter() - started) / 20
        print(
            f"events_after(1,000): {with_cut * 1000:.1f} ms with the xmin cut, {without * 1000:.1f} ms without"
        )
    finally:
        connections.close_all()
        drop_database()


if __name__ == "__main__":
    main()
