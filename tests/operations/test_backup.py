"""`touchpoint backup` / `touchpoint restore`, on whichever database the tests run on."""

from __future__ import annotations

import io
import json
import sqlite3
import threading
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.factories import (
    AccountFactory,
    ContactFactory,
    EngagementFactory,
    SubscriptionFactory,
    UserFactory,
)
from touchpoint.accounts.models import Account, Contact, Engagement
from touchpoint.operations import backup as ops
from touchpoint.revenue.models import Subscription
from touchpoint.users.models import User

pytestmark = pytest.mark.django_db(transaction=True)
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")


def _snapshot() -> dict:
    return {
        "counts": {
            model.__name__: model.objects.count()
            for model in (User, Account, Contact, Engagement, Subscription)
        },
        "accounts": sorted(Account.objects.values_list("id", "name", "domain", "owner__email")),
        "contacts": sorted(Contact.objects.values_list("id", "account_id", "email", "name")),
        "engagements": sorted(Engagement.objects.values_list("id", "account_id", "subject", "body")),
        "subscriptions": sorted(Subscription.objects.values_list("id", "account_id", "mrr", "quantity")),
    }


def _seed() -> list[Account]:
    accounts = [AccountFactory(owner=UserFactory()) for _ in range(3)]
    for account in accounts:
        ContactFactory(account=account)
        EngagementFactory(account=account, subject="Kick-off — 日本語 ✓")
        SubscriptionFactory(account=account, mrr=Decimal("1234.50"))
    return accounts


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_backup_change_restore_gives_every_row_back(tmp_path):
    accounts = _seed()
    before = _snapshot()
    file = tmp_path / "touchpoint.backup"
    said = _run("backup", str(file))
    assert f"into {file}" in said
    assert not (tmp_path / "touchpoint.backup.partial").exists()
    note = json.loads((tmp_path / "touchpoint.backup.json").read_text())
    assert note["kind"] == connection.vendor
    assert "operations.0001_initial" in note["migrations"]

    Account.objects.filter(pk=accounts[0].pk).delete()  # cascades to its contact, notes, subscription
    Account.objects.filter(pk=accounts[1].pk).update(name="Renamed")
    Contact.objects.filter(account=accounts[2]).update(email="changed@example.com")
    AccountFactory(name="Made after the backup")
    assert _snapshot() != before

    said = _run("restore", str(file), "--yes")
    assert "Restored the" in said and "checked" in said
    assert _snapshot() == before
    assert before["counts"]["Account"] == 3 and before["counts"]["Subscription"] == 3


def test_check_changes_nothing(tmp_path):
    _seed()
    file = tmp_path / "b"
    _run("backup", str(file))
    AccountFactory(name="Kept")
    said = _run("restore", str(file), "--check")
    assert "nothing was changed" in said
    assert Account.objects.filter(name="Kept").exists()


def test_restore_without_yes_and_no_terminal_refuses(tmp_path, monkeypatch):
    file = tmp_path / "b"
    _run("backup", str(file))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    AccountFactory(name="Kept")
    with pytest.raises(CommandError, match="pass --yes"):
        _run("restore", str(file))
    assert Account.objects.filter(name="Kept").exists()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "the file is empty"),
        (b"id,name\n1,Acme\n", "not a Touchpoint backup"),
        (b"\x00" * 4096, "not a Touchpoint backup"),
    ],
)
def test_files_that_are_no_backup_are_refused(tmp_path, content, problem):
    file = tmp_path / "bad"
    file.write_bytes(content)
    AccountFactory(name="Kept")
    with pytest.raises(CommandError, match=problem):
        _run("restore", str(file), "--yes")
    assert Account.objects.filter(name="Kept").exists()


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        _run("restore", str(tmp_path / "nowhere"), "--yes")


def test_a_backup_of_the_other_database_kind_is_refused(tmp_path):
    file = tmp_path / "other"
    if connection.vendor == "sqlite":
        file.write_bytes(b"PGDMP\x01\x0f\x00" + b"\x00" * 100)
        expected = "a PostgreSQL backup, and this Touchpoint runs on SQLite"
    else:
        sqlite3.connect(file).execute("CREATE TABLE django_migrations (id integer)").connection.close()
        expected = "an SQLite backup, and this Touchpoint runs on PostgreSQL"
    with pytest.raises(CommandError, match=expected):
        _run("restore", str(file), "--yes")


def test_a_backup_from_a_newer_touchpoint_is_refused(tmp_path):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES ('operations', '9999_from_the_future', %s)",
            ["2030-01-01 00:00:00"],
        )
    file = tmp_path / "newer"
    _run("backup", str(file))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE name = '9999_from_the_future'")
    AccountFactory(name="Kept")
    with pytest.raises(
        CommandError, match=r"newer Touchpoint: its migrations operations\.9999_from_the_future"
    ):
        _run("restore", str(file), "--yes")
    assert Account.objects.filter(name="Kept").exists()


def test_a_note_of_the_other_kind_is_refused(tmp_path):
    file = tmp_path / "b"
    _run("backup", str(file))
    note = tmp_path / "b.json"
    data = json.loads(note.read_text())
    data["kind"] = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    note.write_text(json.dumps(data))
    with pytest.raises(CommandError, match="notes a"):
        _run("restore", str(file), "--yes")


def test_backup_into_a_missing_directory_is_refused(tmp_path):
    with pytest.raises(CommandError, match="no such directory"):
        _run("backup", str(tmp_path / "nope" / "b"))


@on_sqlite
def test_an_sqlite_database_that_is_not_touchpoints_is_refused(tmp_path):
    file = tmp_path / "other.sqlite3"
    db = sqlite3.connect(file)
    db.execute("CREATE TABLE notes (id integer primary key, body text)")
    db.commit()
    db.close()
    with pytest.raises(CommandError, match="no django_migrations table"):
        _run("restore", str(file), "--yes")


@on_sqlite
def test_a_damaged_sqlite_backup_is_refused(tmp_path):
    _seed()
    file = tmp_path / "damaged"
    _run("backup", str(file))
    data = bytearray(file.read_bytes())
    page = 4096
    for offset in range(2 * page, len(data) - page, 3 * page):  # scribble over many pages' headers
        data[offset : offset + 64] = b"\xff" * 64
    file.write_bytes(bytes(data))
    kept = AccountFactory(name="Kept")
    with pytest.raises(CommandError, match="damaged SQLite database"):
        _run("restore", str(file), "--yes")
    assert Account.objects.filter(pk=kept.pk).exists()


@on_sqlite
def test_restore_gives_up_while_another_connection_holds_the_write_lock(tmp_path):
    file = tmp_path / "b"
    _run("backup", str(file))
    kept = AccountFactory(name="Kept")
    holder = sqlite3.connect(
        connection.settings_dict["NAME"], uri=True, isolation_level=None, check_same_thread=False
    )
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE accounts_account SET name = 'Held' WHERE id = ?", [kept.pk])
    try:
        with pytest.raises(ops.BackupError, match="nothing was restored"):
            ops.restore(file, lock_timeout=0.5)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert Account.objects.filter(pk=kept.pk, name="Kept").exists()


def test_restore_into_a_live_file_waits_for_the_write_lock_then_gives_up(tmp_path):
    """On a WAL database file, as served: another process's write transaction makes restore give up."""
    backup_file, live = tmp_path / "backup.sqlite3", tmp_path / "live.sqlite3"
    for path, value in ((backup_file, "from the backup"), (live, "live")):
        db = sqlite3.connect(path)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (v text)")
        db.execute("INSERT INTO t VALUES (?)", [value])
        db.commit()
        db.close()
    sqlite3.connect(backup_file).execute("PRAGMA journal_mode=DELETE").connection.close()
    holder = sqlite3.connect(live, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES ('being written')")
    target = sqlite3.connect(live, isolation_level=None, timeout=0.1)
    with pytest.raises(ops.BackupError, match="stayed busy for 0.3 seconds"):
        ops.sqlite_restore_into(backup_file, target, lock_timeout=0.3)
    holder.execute("COMMIT")
    holder.close()
    assert target.execute("SELECT v FROM t ORDER BY v").fetchall() == [("being written",), ("live",)]
    ops.sqlite_restore_into(backup_file, target, lock_timeout=0.3)  # free now: restored
    assert target.execute("SELECT v FROM t").fetchall() == [("from the backup",)]
    other = sqlite3.connect(live)  # another process sees the restored data, WAL and all
    assert other.execute("SELECT v FROM t").fetchall() == [("from the backup",)]
    other.close()
    target.close()


def test_backup_while_another_thread_writes_is_consistent(tmp_path):
    """A live WAL database written by another thread: every copy is one moment of it."""
    live = tmp_path / "live.sqlite3"
    setup = sqlite3.connect(live)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE ledger (id integer primary key, amount integer, filler text)")
    setup.execute("CREATE TABLE total (id integer primary key, amount integer)")
    setup.execute("INSERT INTO total VALUES (1, 0)")
    setup.commit()
    setup.close()
    stop = threading.Event()
    written = [0]

    def write() -> None:
        db = sqlite3.connect(live, isolation_level=None)
        db.execute("PRAGMA busy_timeout=5000")
        n = 0
        while not stop.is_set():
            n += 1
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT INTO ledger (amount, filler) VALUES (?, ?)",
                [(n % 7 + 1, "x" * 500) for _ in range(20)],
            )
            db.execute("UPDATE total SET amount = amount + ? WHERE id = 1", [20 * (n % 7 + 1)])
            db.execute("COMMIT")
            written[0] = n
        db.close()

    writer = threading.Thread(target=write)
    writer.start()
    rows_seen = []
    try:
        source = sqlite3.connect(live, check_same_thread=False)
        for i in range(8):
            copy = tmp_path / f"copy{i}.sqlite3"
            ops.sqlite_copy(source, copy)
            db = sqlite3.connect(copy)
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
            ledger, rows = db.execute("SELECT coalesce(sum(amount), 0), count(*) FROM ledger").fetchone()
            assert db.execute("SELECT amount FROM total").fetchone() == (ledger,)
            assert rows % 20 == 0
            rows_seen.append(rows)
            db.close()
        source.close()
    finally:
        stop.set()
        writer.join()
    assert written[0] > 0
    assert rows_seen[-1] > rows_seen[0], "the writer should have gone on while the copies were made"


on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")


@on_postgresql
def test_a_missing_pg_dump_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CommandError, match=r"pg_dump is not installed .* postgresql-client-\d+"):
        _run("backup", str(tmp_path / "b"))
    assert not (tmp_path / "b").exists()


@on_postgresql
def test_a_pg_dump_older_than_the_server_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / "pg_dump"
    fake.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CommandError, match=r"pg_dump is version 9 and the server is PostgreSQL \d+"):
        _run("backup", str(tmp_path / "b"))


@on_postgresql
def test_the_password_goes_in_the_environment_never_on_the_command_line(tmp_path, monkeypatch):
    import subprocess

    seen: list[tuple[list[str], dict]] = []
    real_run = subprocess.run

    def spy(command, *args, **kwargs):
        seen.append((list(command), kwargs.get("env") or {}))
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", spy)
    _run("backup", str(tmp_path / "b"))
    password = connection.settings_dict["PASSWORD"]
    dumps = [
        (command, env)
        for command, env in seen
        if command[0].endswith("pg_dump") and "--version" not in command
    ]
    assert dumps and all(password not in " ".join(command) for command, _ in seen)
    assert all(env["PGPASSWORD"] == password for _, env in dumps)


@on_postgresql
def test_a_truncated_dump_is_refused(tmp_path):
    _seed()
    file = tmp_path / "b"
    _run("backup", str(file))
    file.write_bytes(file.read_bytes()[:2000])
    kept = AccountFactory(name="Kept")
    with pytest.raises(CommandError, match="reading the archive failed: pg_restore: error"):
        _run("restore", str(file), "--yes")
    assert Account.objects.filter(pk=kept.pk).exists()
