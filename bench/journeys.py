"""Journeys: the engine advancing enrollments, and the simulation over 90 days of history.

(a) Engine. Builds A accounts (one contact each) and E enrollments (default 100,000: ten per account,
    each its own entry key) of a live journey `wait 1 day → split on the engagement model → email
    (low-touch) or task (the others)`, all due. Times, in the same run:
      - baseline: a raw UPDATE of the same rows, one per transaction (what the engine's one
        transaction per enrollment costs at the least), and, for reference, one set-based UPDATE;
      - engine: `engine.advance_due(limit=500)` until nothing is due: each enrollment leaves the
        wait, reads its account's engagement model, takes a branch and writes its outbox row (the
        email, or the task created through the tasks service);
    prints enrollments/s for both, the ratio engine/baseline (goal ≥ 0.2) and the process's peak
    memory. Then the email rows are sent by `delivery.send_due` to a local SMTP sink (aiosmtpd in a
    thread), at most --emails of them, for emails/s. On PostgreSQL the engine run is repeated with
    2 worker processes sharing the queue (SKIP LOCKED).
(b) Simulation. For the same accounts: daily health scores over the window, health-grade changes
    (domain events) and product events; `simulation.simulate` of a journey entered on a grade change
    (red or yellow), with a goal (grade back to green, seen by the daily re-check), a split, a wait
    for a product event with a time-out and two emails, over 90 days; against one SQL scan of the
    same history (the events of the kind, the product events of the name, the health scores of the
    window), fetched in the same run. Prints seconds for both and the ratio (goal ≤ 5×).

    .venv/bin/python bench/journeys.py [--enrollments 100000] [--accounts 10000] [--days 90] [--small]
                                       [--part all|engine|simulation]
Uses DATABASE_URL when set (PostgreSQL, in a throw-away test database beside it), else a temporary SQLite file.
`--small` (200 enrollments, 100 accounts) is what tests/journeys/test_simulation_bench.py runs.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import resource
import socket
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import throwaway_database

ENGINE_JOURNEY = {
    "key": "bench-advance",
    "name": "Bench: advance",
    "entry": {"trigger": "manual"},
    "messages": {
        "hello": {"en": {"subject": "Hello {{ contact.first_name }}", "body": "Hi {{ account.name }}"}}
    },
    "steps": [
        {"id": "wait", "type": "wait", "days": 1},
        {
            "id": "split",
            "type": "split",
            "when": {"field": "account.engagement_model", "op": "eq", "value": "low_touch"},
            "then": [{"id": "mail", "type": "email", "message": "hello"}],
            "else": [{"id": "call", "type": "task", "title": "Call them"}],
        },
    ],
}

SIMULATED_JOURNEY = {
    "key": "bench-simulation",
    "name": "Bench: health dropped",
    "entry": {
        "trigger": "event",
        "event": "health.grade_changed",
        "where": {"field": "entry.payload.grade", "op": "in", "value": ["red", "yellow"]},
    },
    "reentry": {"policy": "after_exit"},
    "goal": {"field": "account.health_grade", "op": "eq", "value": "green"},
    "messages": {
        "tips": {"en": {"subject": "Tips for {{ account.name }}", "body": "Hello {{ contact.name }}"}},
        "report": {"en": {"subject": "Your first report", "body": "Hello {{ contact.name }}"}},
    },
    "steps": [
        {"id": "settle", "type": "wait", "days": 2},
        {
            "id": "low",
            "type": "split",
            "when": {"field": "account.engagement_model", "op": "eq", "value": "low_touch"},
            "then": [{"id": "tips", "type": "email", "message": "tips"}],
            "else": [{"id": "call", "type": "task", "title": "Call about health"}],
        },
        {"id": "report", "type": "wait", "event": "Report created", "timeout_days": 14},
        {"id": "nudge", "type": "email", "message": "report"},
    ],
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Sink:
    """The local SMTP server the emails go to: counts what it receives."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received += 1
        return "250 OK"


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enrollments", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument(
        "--emails", type=int, default=2_000, help="how many of the email rows to send over SMTP"
    )
    parser.add_argument("--small", action="store_true", help="a quick run: 200 enrollments, 100 accounts")
    parser.add_argument(
        "--part", choices=("all", "engine", "simulation"), default="all", help="run only (a) or only (b)"
    )
    args = parser.parse_args()
    if args.small:
        args.enrollments, args.accounts, args.emails = 200, 100, 20

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command otherwise
    sink = Sink()
    port = free_port()
    os.environ["EMAIL_HOST"], os.environ["EMAIL_PORT"] = "127.0.0.1", str(port)
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    _workdir, drop_database = throwaway_database("tp-bench-journeys-")
    try:
        from django.db import connection

        print(f"on {connection.vendor}")
        build_accounts(args.accounts)
        if args.part in ("all", "engine"):
            engine_bench(args, sink)
        if args.part in ("all", "simulation"):
            simulation_bench(args)
    finally:
        controller.stop()
        drop_database()


# --- Data ---------------------------------------------------------------------------------------------


def numbers_sql(pg: bool) -> str:
    if pg:
        return "SELECT generate_series(1, %s) AS n"
    return (
        "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < %s) SELECT n FROM seq"
    )


def build_accounts(count: int) -> None:
    from django.db import connection
    from django.utils import timezone

    pg = connection.vendor == "postgresql"
    started = time.perf_counter()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    created = connection.ops.adapt_datetimefield_value(timezone.now() - timedelta(days=400))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_account (name, domain, engagement_model, attributes, language, created_at, updated_at) "
            "SELECT 'Customer ' || n, 'customer' || n || '.example', "
            "CASE n %% 3 WHEN 0 THEN 'low' WHEN 1 THEN 'hybrid' ELSE 'high' END, '{}', '', %s, %s "
            f"FROM ({numbers_sql(pg)}) nums",
            [created, now, count],
        )
        cursor.execute(
            "INSERT INTO accounts_contact (name, email, title, phone, language, time_zone, created_at, updated_at, account_id) "
            "SELECT 'Person ' || a.id, 'person' || a.id || '@customer.example', '', '', '', '', %s, %s, a.id "
            "FROM accounts_account a",
            [created, now],
        )
    print(f"built {count:,} accounts with a contact each in {time.perf_counter() - started:.1f}s")


def live_version(data: dict[str, Any]) -> Any:
    from django.utils import timezone

    from touchpoint.journeys.definition import parse
    from touchpoint.journeys.models import Journey, JourneyVersion

    definition = parse(data)
    journey = Journey.objects.create(key=definition.key, name=definition.name, status="live")
    version = JourneyVersion.objects.create(
        journey=journey,
        number=1,
        definition=definition.model_dump(mode="json", by_alias=True),
        launched_at=timezone.now() - timedelta(days=30),
    )
    journey.live_version = version
    journey.save(update_fields=["live_version"])
    return version


# --- (a) The engine -----------------------------------------------------------------------------------


def engine_bench(args: argparse.Namespace, sink: Sink) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from touchpoint.journeys.models import DeliverySettings, Enrollment, OutboxRow

    pg = connection.vendor == "postgresql"
    DeliverySettings.objects.update_or_create(
        pk=1, defaults={"weekly_email_cap": 0, "quiet_hours_start": "00:00", "quiet_hours_end": "00:00"}
    )
    version = live_version(ENGINE_JOURNEY)
    per_account = max(1, -(-args.enrollments // args.accounts))
    now = timezone.now()
    entered = connection.ops.adapt_datetimefield_value(now - timedelta(days=2))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO journeys_enrollment (journey_id, version_id, account_id, subject_key, entry_key, status, "
            "step_id, step_entered_at, wake_at, waiting_for, choices, entry_data, entered_at, exit_reason) "
            "SELECT %s, %s, a.id, 'account:' || a.id, 'k' || k.n, 'active', 'wait', %s, %s, '', '{}', '{}', %s, '' "
            f"FROM accounts_account a CROSS JOIN ({numbers_sql(pg)}) k ORDER BY a.id, k.n LIMIT %s",
            [version.journey_id, version.pk, entered, entered, entered, per_account, args.enrollments],
        )
        cursor.execute("ANALYZE")
    ids = list(Enrollment.objects.order_by("id").values_list("id", flat=True))
    print(
        f"\n(a) {len(ids):,} due enrollments of 'wait → split → email | task' made in {time.perf_counter() - started:.1f}s"
    )

    def reset() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE journeys_enrollment SET status = 'active', step_id = 'wait', wake_at = %s, ended_at = NULL, "
                "step_entered_at = %s, choices = '{}'",
                [entered, entered],
            )

    # Baseline 1: the same rows, one UPDATE per transaction.
    done_at = connection.ops.adapt_datetimefield_value(now)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for pk in ids:
            with transaction.atomic():
                cursor.execute(
                    "UPDATE journeys_enrollment SET status = 'completed', step_id = '', wake_at = NULL, ended_at = %s "
                    "WHERE id = %s",
                    [done_at, pk],
                )
    per_row = time.perf_counter() - started
    reset()
    # Baseline 2 (for reference): one set-based UPDATE of them all.
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE journeys_enrollment SET status = 'completed', step_id = '', wake_at = NULL, ended_at = %s",
            [done_at],
        )
    set_based = time.perf_counter() - started
    reset()

    rate_row = len(ids) / per_row
    memory_before = peak_memory_mb()
    seconds = advance_everything(workers=1)
    rate = len(ids) / seconds
    advanced = Enrollment.objects.filter(status="completed").count()
    emails = OutboxRow.objects.filter(kind="email").count()
    tasks = OutboxRow.objects.filter(kind="task", status="sent").count()
    print(f"  baseline: UPDATE per row, one transaction each: {rate_row:,.0f} rows/s ({per_row:.2f}s)")
    print(
        f"  reference: one set-based UPDATE of all rows: {len(ids) / set_based:,.0f} rows/s ({set_based:.2f}s)"
    )
    print(
        f"  engine.advance_due, 1 worker: {rate:,.0f} enrollments/s ({seconds:.2f}s; {advanced:,} completed, "
        f"{emails:,} email rows, {tasks:,} tasks)"
    )
    print(f"  ratio engine / per-row UPDATE: {rate / rate_row:.2f} (goal ≥ 0.2)")
    print(f"  peak memory: {peak_memory_mb():,.0f} MB (before the engine run: {memory_before:,.0f} MB)")
    if advanced != len(ids):
        raise SystemExit(f"the engine completed {advanced} of {len(ids)} enrollments")

    send_some(min(args.emails, emails), sink)

    if pg:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM tasks_task")
            cursor.execute("DELETE FROM journeys_outboxrow")
            cursor.execute("DELETE FROM journeys_stepvisit")
        reset()
        seconds = advance_everything(workers=2)
        advanced = Enrollment.objects.filter(status="completed").count()
        print(
            f"  PostgreSQL, 2 worker processes: {len(ids) / seconds:,.0f} enrollments/s ({seconds:.2f}s; "
            f"{advanced:,} completed, {OutboxRow.objects.count():,} outbox rows)"
        )
        if advanced != len(ids) or OutboxRow.objects.count() != len(ids):
            raise SystemExit("two workers lost or doubled an enrollment")


def _worker() -> None:
    from django.db import connection

    from touchpoint.journeys.engine import advance_due

    while advance_due(limit=500):
        pass
    connection.close()


def advance_everything(*, workers: int) -> float:
    from django.db import connections

    started = time.perf_counter()
    if workers == 1:
        _worker()
        return time.perf_counter() - started
    connections.close_all()  # each process opens its own
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_worker) for _ in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
        if process.exitcode:
            raise SystemExit(f"a worker exited with {process.exitcode}")
    return time.perf_counter() - started


def send_some(count: int, sink: Sink) -> None:
    from touchpoint.journeys.delivery import send_emails
    from touchpoint.journeys.models import OutboxRow

    if count <= 0:
        return
    # Only `count` rows are due now; the rest wait an hour (they are not part of this measure).
    keep = list(OutboxRow.objects.filter(kind="email").order_by("id").values_list("id", flat=True)[:count])
    later = datetime.now().astimezone() + timedelta(hours=1)
    OutboxRow.objects.filter(kind="email").exclude(pk__in=keep).update(next_attempt_at=later)
    started = time.perf_counter()
    sent = 0
    while True:
        moved = send_emails(limit=100)
        sent += moved
        if moved == 0:
            break
    seconds = time.perf_counter() - started
    time.sleep(0.2)
    print(
        f"  delivery.send_emails to a local SMTP server (aiosmtpd): {sent:,} of {count:,} emails in {seconds:.2f}s "
        f"= {sent / seconds:,.0f} emails/s; the server received {sink.received:,}"
    )


# --- (b) The simulation -------------------------------------------------------------------------------


def simulation_bench(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.utils import timezone

    from touchpoint.health.services import ensure_default_scorecard
    from touchpoint.journeys.definition import parse
    from touchpoint.journeys.simulation import simulate
    from touchpoint.usage.models import Source

    pg = connection.vendor == "postgresql"
    now = timezone.now()
    today = timezone.localdate(now)
    days = args.days
    version = ensure_default_scorecard().current_version
    assert version is not None
    source = Source.objects.create(name="bench")
    started = time.perf_counter()
    day_expr = "(%s::date - d.n + 1)" if pg else "date(%s, '-' || (d.n - 1) || ' days')"
    moment_expr = (
        "(%s::timestamptz - ((a.id * 7 + k.n * 29) %% {days}) * interval '1 day' - (a.id %% 24) * interval '1 hour')"
        if pg
        else "datetime(%s, '-' || ((a.id * 7 + k.n * 29) %% {days}) || ' days', '-' || (a.id %% 24) || ' hours')"
    ).format(days=days)
    json = "json_object" if not pg else "jsonb_build_object"
    now_param = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        # Health by day: each account's grade moves through green, yellow and red on its own rhythm.
        cursor.execute(
            "INSERT INTO health_healthscore (account_id, day, version_id, score, grade, measures) "
            f"SELECT a.id, {day_expr}, %s, 50, "
            "CASE WHEN (a.id + d.n / 5) %% 4 = 0 THEN 'red' WHEN (a.id + d.n / 5) %% 4 = 1 THEN 'yellow' "
            "ELSE 'green' END, '{}' "
            f"FROM accounts_account a CROSS JOIN ({numbers_sql(pg)}) d",
            [connection.ops.adapt_datefield_value(today), version.pk, days],
        )
        # Three grade changes per account in the window.
        cursor.execute(
            "INSERT INTO events_domainevent (kind, account_id, subject_type, subject_id, payload, occurred_at, created_at) "
            f"SELECT 'health.grade_changed', a.id, 'accounts.account', a.id, "
            f"{json}('grade', CASE (a.id + k.n) %% 3 WHEN 0 THEN 'red' WHEN 1 THEN 'yellow' ELSE 'green' END), "
            f"{moment_expr}, %s FROM accounts_account a CROSS JOIN ({numbers_sql(pg)}) k",
            [now_param, now_param, 3],
        )
        # Five product events per account (those the journey's wait waits for).
        cursor.execute(
            "INSERT INTO usage_rawevent (source_id, message_id, type, event, user_id, anonymous_id, group_id, "
            "account_id, contact_id, timestamp, day, received_at, properties, context) "
            f"SELECT %s, 'm-' || a.id || '-' || k.n, 'track', 'Report created', 'u' || a.id, '', '', a.id, NULL, "
            f"{moment_expr}, %s, %s, '{{}}', '{{}}' FROM accounts_account a CROSS JOIN ({numbers_sql(pg)}) k",
            [source.pk, now_param, connection.ops.adapt_datefield_value(today), now_param, 5],
        )
        if not pg:
            cursor.execute("UPDATE usage_rawevent SET day = date(timestamp)")
        else:
            cursor.execute("UPDATE usage_rawevent SET day = timestamp::date")
        cursor.execute("ANALYZE")
        cursor.execute("SELECT COUNT(*) FROM health_healthscore")
        scores = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM events_domainevent WHERE kind = 'health.grade_changed'")
        events = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM usage_rawevent")
        product = cursor.fetchone()[0]
    print(
        f"\n(b) history of {args.accounts:,} accounts over {days} days: {scores:,} health scores, {events:,} grade "
        f"changes, {product:,} product events, made in {time.perf_counter() - started:.1f}s"
    )

    start = now - timedelta(days=days)
    timings = []
    for _repeat in range(2):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, account_id, subject_type, subject_id, payload, occurred_at FROM events_domainevent "
                "WHERE kind = %s AND occurred_at >= %s AND occurred_at <= %s",
                ["health.grade_changed", connection.ops.adapt_datetimefield_value(start), now_param],
            )
            scanned = len(cursor.fetchall())
            cursor.execute(
                "SELECT id, account_id, contact_id, user_id, group_id, timestamp FROM usage_rawevent "
                "WHERE type = 'track' AND event = %s AND timestamp >= %s AND timestamp <= %s",
                ["Report created", connection.ops.adapt_datetimefield_value(start), now_param],
            )
            scanned += len(cursor.fetchall())
            cursor.execute(
                "SELECT account_id, day, grade, score FROM health_healthscore WHERE day <= %s ORDER BY account_id, day",
                [connection.ops.adapt_datefield_value(today)],
            )
            scanned += len(cursor.fetchall())
        timings.append(time.perf_counter() - started)
    baseline = min(timings)

    definition = parse(SIMULATED_JOURNEY)
    timings = []
    for _repeat in range(2):
        started = time.perf_counter()
        result = simulate(definition, days=days, now=now)
        timings.append(time.perf_counter() - started)
    seconds = min(timings)
    data = result.to_json()
    print(f"  baseline: one scan of the same history ({scanned:,} rows fetched): {baseline:.2f}s")
    print(
        f"  simulate(): {seconds:.2f}s: {data['entered']:,} entered, {data['conversions']:,} converted, "
        f"{data['messages_total']:,} messages ({len(data['messages'])} rendered), "
        f"{data['effects'].get('task', 0):,} tasks, refused {data['refused']}"
    )
    print(f"  ratio simulate / scan: {seconds / baseline:.1f}× (goal ≤ 5×)")
    if not data["entered"] or not data["conversions"]:
        raise SystemExit("the simulation found nobody to follow: the history is not what the bench meant")


if __name__ == "__main__":
    main()
