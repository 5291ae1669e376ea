"""Portfolio page with many accounts: the full page against the bare queries behind it.

Builds N accounts (default 10,000) with owners, segments, phases and parents in a fresh database,
then times, in the same run:
  - the page: GET /accounts/ (and a search, a filter and the last page) through Django's full stack
    (session, auth, form, selector, template);
  - the baseline: the two SQL statements that page needs (count, then the 50 rows with their joins)
    sent straight through the database cursor.
Prints milliseconds per request for both and the ratio page/baseline.

    .venv/bin/python bench/portfolio.py [--accounts 10000] [--repeat 20]
Uses DATABASE_URL when set (PostgreSQL), else a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tp-bench-"))
    os.environ.setdefault("TOUCHPOINT_DATA_DIR", str(workdir))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "touchpoint.settings"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    if connection.vendor == "postgresql":
        # Never touch a real database: work in a throw-away one beside it.
        from django.test.utils import get_runner

        runner = get_runner(settings)(verbosity=0)
        old_config = runner.setup_databases()
    else:
        old_config = None
        call_command("migrate", verbosity=0)

    from touchpoint.accounts.models import Account, Segment
    from touchpoint.accounts.selectors import PortfolioFilter, portfolio
    from touchpoint.success.models import LifecyclePhase, SuccessFramework
    from touchpoint.users.roles import Role
    from touchpoint.users.services import create_user

    owners = [
        create_user(
            email=f"csm{i}@bench.example",
            role=Role.CSM,
            password="x",
            check_password_strength=False,
            full_name=f"CSM {i}",
        )[0]
        for i in range(8)
    ]
    segments = [
        Segment.objects.create(name=n, tier=t) for t, n in enumerate(["Enterprise", "Mid-market", "SMB"], 1)
    ]
    framework = SuccessFramework.objects.create(name="Standard", is_default=True)
    phases = [
        LifecyclePhase.objects.create(framework=framework, name=n, position=i)
        for i, n in enumerate(["Onboarding", "First use", "Adoption", "Renewal"])
    ]
    started = time.perf_counter()
    Account.objects.bulk_create(
        [
            Account(
                name=f"Customer {i:05d}",
                domain=f"customer{i}.example",
                external_id=f"acct_{i}",
                owner=owners[i % 8],
                segment=segments[i % 3],
                engagement_model=["high", "low", "hybrid"][i % 3],
                framework=framework,
                phase=phases[i % 4],
            )
            for i in range(args.accounts)
        ],
        batch_size=2000,
    )
    parents = list(Account.objects.order_by("id")[:200])
    children = list(Account.objects.order_by("-id")[:600])
    for index, child in enumerate(children):
        child.parent = parents[index % len(parents)]
    Account.objects.bulk_update(children, ["parent"], batch_size=2000)
    print(f"built {args.accounts:,} accounts in {time.perf_counter() - started:.1f}s on {connection.vendor}")

    client = Client()
    client.force_login(owners[0])

    def time_page(url: str) -> float:
        client.get(url)  # warm caches
        samples = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            response = client.get(url)
            samples.append(time.perf_counter() - t0)
            assert response.status_code == 200, response.status_code
        return statistics.median(samples)

    def time_baseline(filters: PortfolioFilter, offset: int) -> float:
        qs = portfolio(filters)
        count_sql, count_params = qs.order_by().values("id").query.sql_with_params()
        page_sql, page_params = qs[offset : offset + settings.PORTFOLIO_PAGE_SIZE].query.sql_with_params()
        count_sql = f"SELECT COUNT(*) FROM ({count_sql}) AS counted"
        samples = []
        with connection.cursor() as cursor:
            for _ in range(args.repeat + 1):
                t0 = time.perf_counter()
                cursor.execute(count_sql, count_params)
                cursor.fetchall()
                cursor.execute(page_sql, page_params)
                cursor.fetchall()
                samples.append(time.perf_counter() - t0)
        return statistics.median(samples[1:])

    last_page = (args.accounts + settings.PORTFOLIO_PAGE_SIZE - 1) // settings.PORTFOLIO_PAGE_SIZE
    cases = [
        ("first page, by name", "/accounts/", PortfolioFilter(), 0),
        ("search 'customer 09'", "/accounts/?q=customer+09", PortfolioFilter(search="customer 09"), 0),
        (
            "owner + segment filter",
            f"/accounts/?owner={owners[1].pk}&segment={segments[1].pk}",
            PortfolioFilter(owner_id=owners[1].pk, segment_id=segments[1].pk),
            0,
        ),
        (
            "last page, by owner",
            f"/accounts/?sort=owner&page={last_page}",
            PortfolioFilter(order="owner"),
            (last_page - 1) * settings.PORTFOLIO_PAGE_SIZE,
        ),
    ]
    print(f"{'case':28} {'page ms':>9} {'baseline ms':>12} {'ratio':>7}")
    for label, url, filters, offset in cases:
        page_s = time_page(url)
        base_s = time_baseline(filters, offset)
        print(f"{label:28} {page_s * 1000:9.1f} {base_s * 1000:12.1f} {page_s / base_s:7.2f}")

    if old_config is not None:
        runner.teardown_databases(old_config)


if __name__ == "__main__":
    main()
