"""CSV import throughput: `touchpoint import accounts` against the plainest load of the same file, same run.

Writes an N-row accounts file (default 100,000; Salesforce column names, owners and segments), then in a
fresh database times:
  - import: runner.run (encoding and delimiter detection, the check pass over every row, then the write
    pass through the account services: account, timeline entry and audit entry per row, one transaction);
  - baseline: csv.reader over the same file and bulk_create of the same accounts, nothing else;
and prints rows/s for both and the ratio import/baseline, plus the process's peak resident memory before
and after the import (it must not grow with the file: rows stream, only the ids seen are kept).

    .venv/bin/python bench/import.py [--rows 100000]
Uses DATABASE_URL when set (PostgreSQL: a throw-away test database beside it), else a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import throwaway_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    workdir, drop_database = throwaway_database("tp-bench-import-")
    from django.db import connection, transaction

    from touchpoint.accounts.models import Account, Segment
    from touchpoint.integrations.csv_import import runner
    from touchpoint.users.models import User

    segments = [
        Segment.objects.get_or_create(name=name, defaults={"tier": tier})[0]
        for tier, name in enumerate(["Enterprise", "Mid-market", "SMB"], start=1)
    ]
    owners = [
        User.objects.create_user(email=f"csm{n}@bench.example", password=None, full_name=f"CSM {n}")
        for n in range(5)
    ]
    path = workdir / "accounts.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["Account ID", "Account Name", "Website", "Account Owner", "Segment"])
        for n in range(args.rows):
            writer.writerow(
                [
                    f"001A{n:010d}",
                    f"Company {n} Ltd",
                    f"company{n}.example",
                    owners[n % 5].email,
                    segments[n % 3].name,
                ]
            )
    print(f"{args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB, on {connection.vendor}")

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    result = runner.run(path, "accounts")
    imported = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert result.ok and result.created == args.rows, result.as_dict()
    again = time.perf_counter()
    repeat = runner.run(path, "accounts")
    reimported = time.perf_counter() - again
    assert repeat.unchanged == args.rows

    Account.objects.all().delete()
    owner_ids = {u.email: u.pk for u in owners}
    segment_ids = {s.name: s.pk for s in segments}
    started = time.perf_counter()
    with transaction.atomic(), path.open(encoding="utf-8", newline="") as file:
        rows = csv.reader(file)
        next(rows)
        batch = []
        for external_id, name, domain, owner, segment in rows:
            batch.append(
                Account(
                    external_id=external_id,
                    name=name,
                    domain=domain,
                    owner_id=owner_ids[owner],
                    segment_id=segment_ids[segment],
                )
            )
            if len(batch) == 2000:
                Account.objects.bulk_create(batch)
                batch = []
        Account.objects.bulk_create(batch)
    baseline = time.perf_counter() - started

    print(
        f"import:   {args.rows / imported:,.0f} rows/s ({imported:.1f} s; check + write with timeline and audit)"
    )
    print(
        f"re-import of the same file (all unchanged): {args.rows / reimported:,.0f} rows/s ({reimported:.1f} s)"
    )
    print(f"baseline: {args.rows / baseline:,.0f} rows/s ({baseline:.1f} s; csv.reader + bulk_create)")
    print(f"ratio import/baseline: {baseline / imported:.3f}")
    print(f"peak resident memory: {rss_before:.0f} MiB before the import, {rss_after:.0f} MiB after")
    drop_database()


if __name__ == "__main__":
    main()
