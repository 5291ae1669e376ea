"""kill -9 in the middle of 1,000 journey emails, several times: every email arrives, none twice.

A real SMTP server (aiosmtpd) listens on 127.0.0.1 in this process; real `touchpoint journey_send
--loop` processes send the outbox of a database of their own (a SQLite file, or a new PostgreSQL
database with two workers at once) and are killed with SIGKILL at random moments, then restarted,
until everything is sent. The server counts what it accepted by Message-ID.
See journeys/delivery.py for the design this proves.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.db import connection, connections

from tests.journeys.delivery_support import Inbox, free_port
from tests.live import TOUCHPOINT, query, touchpoint

ROWS = 1000
KILLS = 6
LEASE_SECONDS = "2"
ROOT = Path(__file__).resolve().parents[2]

SEED = """
import datetime
from tests.journeys.delivery_support import LONG_AGO, make_version
from touchpoint.accounts.models import Account, Contact
from touchpoint.journeys.models import (DeliverySettings, Enrollment, OutboxKind, OutboxRow,
    subject_key_of)
rules = DeliverySettings.load()
rules.quiet_hours_start = rules.quiet_hours_end = datetime.time(0)
rules.weekly_email_cap = 0
rules.save()
version = make_version()
account = Account.objects.create(name="Acme", domain="acme.example")
contacts = Contact.objects.bulk_create(
    [Contact(account=account, name=f"Person {i}", email=f"p{i}@acme.example") for i in range(ROWS)])
enrollments = Enrollment.objects.bulk_create([
    Enrollment(journey=version.journey, version=version, account=account, contact=c,
               subject_key=subject_key_of(account.pk, c.pk), step_id="mail") for c in contacts])
OutboxRow.objects.bulk_create([
    OutboxRow(enrollment=e, step_id="mail", kind=OutboxKind.EMAIL, recipient_key=e.subject_key,
              account=account, contact=e.contact, payload={"message": "hello"}, next_attempt_at=LONG_AGO)
    for e in enrollments])
print(OutboxRow.objects.count())
"""


def _postgres_server() -> str:
    """A URL of the local PostgreSQL (the suite's, or the one scripts/postgres-for-tests.sh starts)."""
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith("postgres"):
        return base
    script = subprocess.run(
        [str(ROOT / "scripts" / "postgres-for-tests.sh")],
        env={
            **os.environ,
            "TOUCHPOINT_TEST_PG_DB": os.environ.get("TOUCHPOINT_TEST_PG_DB", "touchpoint_test"),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    if script.returncode == 3:
        pytest.skip("PostgreSQL is not installed on this machine: the PostgreSQL half is skipped")
    assert script.returncode == 0, script.stderr
    return script.stdout.strip().splitlines()[-1]


@contextmanager
def postgres_database() -> Iterator[tuple[str, bool]]:
    """A new database, and whether it already has the schema (a copy of the suite's migrated one)."""
    import psycopg

    base = _postgres_server()
    name = f"touchpoint_once_{os.getpid()}"
    template = connection.settings_dict["NAME"] if connection.vendor == "postgresql" else None
    if template:
        connections.close_all()  # CREATE DATABASE … TEMPLATE needs the template to itself
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if template:
            # Threads of earlier tests in this process (live servers, racing workers) may still hold
            # connections to this worker's own test database; nobody else uses it.
            admin.execute(
                # Client backends only: an autovacuum worker (a superuser process) cannot be ended by
                # this role, and CREATE DATABASE … TEMPLATE stops one itself.
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                (template,),
            )
        admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}", bool(template)
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def workers_database(kind: str, tmp_path: Path) -> Iterator[tuple[str, bool]]:
    """(URL, migrated?) of the workers' own database of that kind."""
    if kind == "postgresql":
        with postgres_database() as found:
            yield found
        return
    path = tmp_path / "outbox.sqlite3"
    if connection.vendor != "sqlite":
        yield f"sqlite:///{path}", False
        return
    # A copy of the suite's migrated (and, between transactional tests, empty) database.
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    yield f"sqlite:///{path}", True


@pytest.fixture
def database(tmp_path, transactional_db) -> Iterator[tuple[str, bool]]:
    """The kind the suite runs on: `make test` runs the suite on SQLite and then on PostgreSQL, so the
    proof is made on both without each half repeating the other's."""
    with workers_database(connection.vendor, tmp_path) as found:
        yield found


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def _statuses(url: str) -> dict[str, int]:
    return dict(query(url, "SELECT status, COUNT(*) FROM journeys_outboxrow GROUP BY status"))


def _wait(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _environment(database_url: str, port: int, tmp_path: Path, migrated: bool, rows: int) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TOUCHPOINT_DATA_DIR": str(tmp_path),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    if not migrated:
        touchpoint(env, "migrate", "--no-input", "-v", "0")
    assert touchpoint(env, "shell", "-c", f"ROWS = {rows}\n" + SEED).strip().endswith(str(rows))
    return env


def test_killed_workers_send_every_email_exactly_once(database, smtp, tmp_path):
    database_url, migrated = database
    inbox, port = smtp
    env = _environment(database_url, port, tmp_path, migrated, ROWS)
    parallel = 2 if database_url.startswith("postgres") else 1  # SKIP LOCKED lets two share the outbox
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            [
                str(TOUCHPOINT),
                "journey_send",
                "--loop",
                "--limit",
                "50",
                "--idle",
                "0.2",
                "--lease",
                LEASE_SECONDS,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )

    workers = [start() for _ in range(parallel)]
    kills = 0
    try:
        while kills < KILLS:
            arrived = len(inbox.ids())
            # Kill while it is sending: after the next message lands, at a random moment.
            _wait(
                lambda arrived=arrived: len(inbox.ids()) > arrived,
                timeout=60,
                what=f"emails to arrive (seed {seed})",
            )
            time.sleep(rng.uniform(0, 0.3))
            victim = rng.randrange(len(workers))
            os.killpg(workers[victim].pid, signal.SIGKILL)
            workers[victim].wait(timeout=10)
            kills += 1
            workers[victim] = start()
        assert len(inbox.ids()) < ROWS, "the kills came too late to prove anything"
        _wait(
            lambda: _statuses(database_url) == {"sent": ROWS},
            timeout=120,
            what=f"the outbox to empty (seed {seed}): {_statuses(database_url)}",
        )
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=10)
    time.sleep(0.5)  # a reply the server might still be writing
    received = Counter(inbox.ids())
    twice = {message_id: n for message_id, n in received.items() if n > 1}
    assert twice == {}, f"sent more than once (seed {seed}): {twice}"
    expected = {row[0] for row in query(database_url, "SELECT message_id FROM journeys_outboxrow")}
    assert len(expected) == ROWS
    assert set(received) == expected, f"lost (seed {seed}): {sorted(expected - set(received))[:10]}"
    assert query(database_url, "SELECT COUNT(*), COUNT(DISTINCT contact_id) FROM journeys_enrollment") == [
        (ROWS, ROWS)
    ]
    assert kills >= 5


# A worker that claims the email, sends all but the final dot, hands the socket to the guardian,
# commits "sent" (or not) and is killed right there: the moment no random kill can be sure to hit.
KILLED_AT_THE_DOT = """
import os, signal
from django.db import transaction
from django.utils import timezone
from touchpoint.journeys import delivery
from touchpoint.journeys.models import DeliverySettings, OutboxStatus
found, claim = delivery._claim_email(timezone.now(), delivery.LEASE, DeliverySettings.load(), delivery.Definitions())
smtp = delivery.Connection()
smtp.prepare(sender=claim.sender, recipients=[claim.to], message=claim.message)
assert delivery._GUARDIAN.hold(smtp.plain_socket, row_id=claim.row_id, attempts=claim.attempts)
if COMMIT:
    with transaction.atomic():
        delivery._ours(claim, OutboxStatus.SENDING).update(status=OutboxStatus.SENT, sent_at=claim.now)
print(delivery._GUARDIAN._process.pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _killed_at_the_dot(env: dict, *, commit: bool) -> int:
    """Run the worker above; the guardian's pid."""
    done = subprocess.run(
        [str(TOUCHPOINT), "shell", "-c", f"COMMIT = {commit}\n" + KILLED_AT_THE_DOT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    return int(done.stdout.split()[-1])


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_guardian_finishes_an_email_committed_just_before_the_kill(database, smtp, tmp_path):
    database_url, migrated = database
    inbox, port = smtp
    env = _environment(database_url, port, tmp_path, migrated, 1)
    guardian = _killed_at_the_dot(env, commit=True)
    _wait(lambda: _gone(guardian), timeout=60, what="the guardian to finish")
    [message_id] = [row[0] for row in query(database_url, "SELECT message_id FROM journeys_outboxrow")]
    assert inbox.ids() == [message_id]
    assert _statuses(database_url) == {"sent": 1}


def test_the_guardian_drops_an_email_whose_commit_never_happened(database, smtp, tmp_path):
    database_url, migrated = database
    inbox, port = smtp
    env = _environment(database_url, port, tmp_path, migrated, 1)
    guardian = _killed_at_the_dot(env, commit=False)
    _wait(lambda: _gone(guardian), timeout=60, what="the guardian to finish")
    assert inbox.ids() == []  # no dot: the server threw the message away
    assert _statuses(database_url) == {"sending": 1}
    # Once the lease has run out, the next worker sends it: once.
    long_ago = "2026-01-01 00:00:00" + ("+00:00" if database_url.startswith("postgres") else "")
    _execute(database_url, "UPDATE journeys_outboxrow SET next_attempt_at = %s", (long_ago,))
    touchpoint(env, "journey_send")
    assert len(inbox.ids()) == 1
    assert _statuses(database_url) == {"sent": 1}


def _execute(database_url: str, sql: str, params: tuple) -> None:
    if database_url.startswith("postgres"):
        import psycopg

        with psycopg.connect(database_url) as db:
            db.execute(sql, params)
        return
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
        db.execute(sql.replace("%s", "?"), params)
