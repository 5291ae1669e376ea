"""CSV import throughput: `touchpoint import` against the plainest load of the same file, same run.

Per kind, writes an N-row file (default 100,000), then in a fresh database times:
  - import: runner.run (encoding and delimiter detection, the check pass over every row, then the write
    pass through the bulk services, one transaction):
      accounts: Salesforce columns, owners and segments; account, timeline entry, audit entry, event;
      subscriptions: one row per subscription (ID, account, product, plan, MRR, currency, start, status,
      end date; a tenth canceled) over 10,000 accounts; subscription, renewal opportunity, MRR movements
      (new / expansion / churn / contraction), their timeline entries and events, audit entries;
  - baseline: csv.reader over the same file and bulk_create of the same rows (accounts, or
    subscriptions), nothing else, committed as the import commits; the fastest of three runs;
and prints rows/s for both and the ratio import/baseline, the re-import of the same file (all
unchanged, nothing written), and the process's peak resident memory before and after the import (it
must not grow with the file: rows stream a chunk at a time, only the ids seen are kept).

    .venv/bin/python bench/import.py [--rows 100000] [--kind accounts|subscriptions|all] [--profile FILE]
Uses DATABASE_URL when set (PostgreSQL: a throw-away test database beside it), else a temporary SQLite file.
`--profile FILE`: the import (not the baseline) under cProfile, stats written to FILE.<kind>.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import resource
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import throwaway_database

SUBSCRIPTION_ACCOUNTS = 10_000


def _rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _import(path: Path, kind: str, rows: int, profile: str | None) -> tuple[float, float, float]:
    """(seconds to import, seconds to re-import, peak RSS after) for the file."""
    from touchpoint.integrations.csv_import import runner

    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    result = runner.run(path, kind)
    if profiler:
        profiler.disable()
        profiler.dump_stats(f"{profile}.{kind}")
    imported = time.perf_counter() - started
    rss_after = _rss()
    assert result.ok and result.created == rows, result.as_dict()
    again = time.perf_counter()
    repeat = runner.run(path, kind)
    reimported = time.perf_counter() - again
    assert repeat.unchanged == rows, repeat.as_dict()
    return imported, reimported, rss_after


BASELINE_RUNS = 3


def _baseline(load: Callable[[], None], model: type) -> float:
    """The fastest of BASELINE_RUNS loads, each one transaction committed as the import's is (on
    PostgreSQL the foreign keys are checked at COMMIT; on SQLite the commit writes the pages), its rows
    then deleted, untimed, for the next run. The plain load's own spread from run to run on this
    machine is ±15%, and its best is what the import is held against."""
    from django.db import connection, transaction
    from django.db.models import Max

    table = connection.ops.quote_name(model._meta.db_table)
    key = connection.ops.quote_name(model._meta.pk.column)
    best = float("inf")
    for _run in range(BASELINE_RUNS):
        before = model._base_manager.aggregate(last=Max("pk"))["last"] or 0
        started = time.perf_counter()
        with transaction.atomic():
            load()
        best = min(best, time.perf_counter() - started)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE {key} > %s", [before])
            if connection.vendor == "postgresql":
                cursor.execute(f"VACUUM ANALYZE {table}")  # the next run starts on a table as clean
    return best


def _report(kind: str, rows: int, imported: float, reimported: float, baseline: float, rss: tuple) -> None:
    print(f"{kind}: import   {rows / imported:,.0f} rows/s ({imported:.1f} s)")
    print(
        f"{kind}: re-import of the same file (all unchanged): {rows / reimported:,.0f} rows/s ({reimported:.1f} s)"
    )
    print(f"{kind}: baseline {rows / baseline:,.0f} rows/s ({baseline:.1f} s; csv.reader + bulk_create)")
    print(f"{kind}: ratio import/baseline: {baseline / imported:.3f}")
    print(f"{kind}: peak resident memory: {rss[0]:.0f} MiB before the import, {rss[1]:.0f} MiB after")


def accounts(workdir: Path, rows: int, profile: str | None) -> None:

    from touchpoint.accounts.models import Account, Segment
    from touchpoint.users.models import User

    segments = [
        Segment.objects.get_or_create(name=name, defaults={"tier": tier})[0]
        for tier, name in enumerate(["Enterprise", "Mid-market", "SMB"], start=1)
    ]
    owners = [
        User.objects.get_or_create(email=f"csm{n}@bench.example", defaults={"full_name": f"CSM {n}"})[0]
        for n in range(5)
    ]
    path = workdir / "accounts.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["Account ID", "Account Name", "Website", "Account Owner", "Segment"])
        for n in range(rows):
            writer.writerow(
                [
                    f"001A{n:010d}",
                    f"Company {n} Ltd",
                    f"company{n}.example",
                    owners[n % 5].email,
                    segments[n % 3].name,
                ]
            )
    print(f"accounts: {rows:,} rows, {path.stat().st_size / 1e6:.1f} MB")
    rss_before = _rss()
    imported, reimported, rss_after = _import(path, "accounts", rows, profile)

    Account.objects.filter(external_id__startswith="001A").delete()
    owner_ids = {u.email: u.pk for u in owners}
    segment_ids = {s.name: s.pk for s in segments}

    def load() -> None:
        with path.open(encoding="utf-8", newline="") as file:
            reader = csv.reader(file)
            next(reader)
            batch = []
            for external_id, name, domain, owner, segment in reader:
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

    baseline = _baseline(load, Account)
    _report("accounts", rows, imported, reimported, baseline, (rss_before, rss_after))


def subscriptions(workdir: Path, rows: int, profile: str | None) -> None:
    from django.utils import timezone

    from touchpoint.accounts.models import Account
    from touchpoint.revenue.models import Subscription

    count = min(SUBSCRIPTION_ACCOUNTS, rows)
    long_ago = timezone.now() - timedelta(days=3650)
    Account.objects.bulk_create(
        [
            Account(external_id=f"SUBACC{n:06d}", name=f"Customer {n}", created_at=long_ago)
            for n in range(count)
        ],
        batch_size=2000,
    )
    first = date(2020, 1, 1)
    path = workdir / "subscriptions.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(
            [
                "Subscription ID",
                "Account ID",
                "Product",
                "Plan",
                "MRR",
                "Currency",
                "Start Date",
                "Status",
                "End Date",
            ]
        )
        for n in range(rows):
            started = first + timedelta(days=(n * 7) % 1500)
            canceled = n % 10 == 9
            writer.writerow(
                [
                    f"sub_{n:09d}",
                    f"SUBACC{n % count:06d}",
                    f"Product {n % 7}",
                    ["Starter", "Pro", "Enterprise"][n % 3],
                    f"{100 + n % 900}.00",
                    "USD",
                    started.isoformat(),
                    "canceled" if canceled else "active",
                    (started + timedelta(days=200)).isoformat() if canceled else "",
                ]
            )
    print(f"subscriptions: {rows:,} rows over {count:,} accounts, {path.stat().st_size / 1e6:.1f} MB")
    rss_before = _rss()
    imported, reimported, rss_after = _import(path, "subscriptions", rows, profile)

    Subscription.objects.all().delete()
    account_ids = dict(
        Account.objects.filter(external_id__startswith="SUBACC").values_list("external_id", "pk")
    )

    def load() -> None:
        with path.open(encoding="utf-8", newline="") as file:
            reader = csv.reader(file)
            next(reader)
            batch = []
            for external_id, account, product, plan, mrr, currency, started, status, ended in reader:
                batch.append(
                    Subscription(
                        external_id=external_id,
                        account_id=account_ids[account],
                        product=product,
                        plan=plan,
                        mrr=Decimal(mrr),
                        currency=currency,
                        started_on=date.fromisoformat(started),
                        status=status,
                        canceled_on=date.fromisoformat(ended) if ended else None,
                    )
                )
                if len(batch) == 2000:
                    Subscription.objects.bulk_create(batch)
                    batch = []
            Subscription.objects.bulk_create(batch)

    baseline = _baseline(load, Subscription)
    _report("subscriptions", rows, imported, reimported, baseline, (rss_before, rss_after))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--kind", choices=["accounts", "subscriptions", "all"], default="all")
    parser.add_argument("--profile", default=None)
    args = parser.parse_args()
    workdir, drop_database = throwaway_database("tp-bench-import-")
    from django.db import connection

    print(f"on {connection.vendor}")
    try:
        if args.kind in ("accounts", "all"):
            accounts(workdir, args.rows, args.profile)
        if args.kind in ("subscriptions", "all"):
            subscriptions(workdir, args.rows, args.profile)
    finally:
        drop_database()


if __name__ == "__main__":
    main()
