"""Backing up and restoring Touchpoint's database, on SQLite and on PostgreSQL.

SQLite: SQLite's online backup API copies the live database in one read transaction, so the copy is
consistent while the app serves and writes (WAL lets the writers go on). It is written to
FILE.partial, switched to a single self-contained file (journal_mode=DELETE), fsynced and renamed.
A restore copies the backup into the live database with the same API, which writes under SQLite's
own write lock: the other processes see the restored data at their next transaction, and nothing is
replaced under their feet (replacing the file would leave them a stale WAL).

PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean --if-exists --no-owner
--single-transaction`, with the connection from settings (the password in PGPASSWORD, never on the
command line).

Beside FILE, FILE.json notes the database kind, Touchpoint version, migrations and time. What a
restore checks is read from the backup itself (its kind from its first bytes, its migrations from
its django_migrations table), so a lost or edited note cannot let a wrong file through.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from django.db import connection
from django.db.migrations.loader import MigrationLoader

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
KINDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
A_KIND = {"sqlite": "an SQLite", "postgresql": "a PostgreSQL"}


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why, for the person running it."""


@dataclass(frozen=True)
class Note:
    kind: str  # "sqlite" | "postgresql"
    touchpoint_version: str
    created_at: str  # ISO 8601, UTC
    migrations: list[str] = field(default_factory=list)  # "app.name", applied, sorted

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": "touchpoint-backup/1",
                "kind": self.kind,
                "touchpoint_version": self.touchpoint_version,
                "created_at": self.created_at,
                "migrations": self.migrations,
            },
            indent=2,
        )


@dataclass(frozen=True)
class Checked:
    """What a restore found in a backup before touching anything."""

    kind: str
    migrations: list[str]
    pending: list[str]  # the code's migrations the backup does not have yet (`touchpoint migrate`)
    note: dict[str, Any] | None


def touchpoint_version() -> str:
    try:
        return package_version("touchpoint")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "unknown"


def database_kind() -> str:
    if connection.vendor not in KINDS:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {connection.vendor}.")
    return connection.vendor


def note_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - a platform without directory handles
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(partial: Path, path: Path) -> None:
    _fsync_file(partial)
    os.replace(partial, path)
    _fsync_dir(path.parent)


def _write_note(path: Path, note: Note) -> None:
    target = note_path(path)
    partial = _partial(target)
    partial.write_text(note.to_json() + "\n", encoding="utf-8")
    _publish(partial, target)


def code_migrations() -> set[str]:
    loader = MigrationLoader(None, ignore_no_migrations=True, load=True)
    return {f"{app}.{name}" for app, name in loader.disk_migrations}


def check_migrations(applied: list[str]) -> list[str]:
    """Refuse a backup with migrations this code does not know; return those it has not applied."""
    known = code_migrations()
    unknown = sorted(set(applied) - known)
    if unknown:
        shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
        raise BackupError(
            f"The backup was made by a newer Touchpoint: its migrations {shown} are unknown to this "
            f"version ({touchpoint_version()}). Upgrade Touchpoint, then restore."
        )
    return sorted(known - set(applied))


def read_note(path: Path) -> dict[str, Any] | None:
    target = note_path(path)
    if not target.exists():
        return None
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise BackupError(f"{target}: not a Touchpoint backup note ({error}).") from error
    return data if isinstance(data, dict) else None


def file_kind(path: Path) -> str:
    """ "sqlite" or "postgresql" from the file's first bytes; BackupError for anything else."""
    if not path.exists():
        raise BackupError(f"{path}: no such file.")
    if not path.is_file():
        raise BackupError(f"{path}: not a file.")
    with open(path, "rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    if not head:
        raise BackupError(f"{path}: the file is empty.")
    raise BackupError(
        f"{path}: not a Touchpoint backup (neither an SQLite database nor a pg_dump custom-format archive)."
    )


# --- SQLite -------------------------------------------------------------------------------------


def sqlite_copy(source: sqlite3.Connection, target: Path) -> None:
    """Copy `source` (a live database, in WAL mode or not) into a new self-contained file `target`.

    One backup step copies every page inside one read transaction: the copy is the database as of
    one moment, whatever other connections write meanwhile.
    """
    target.unlink(missing_ok=True)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination, pages=-1)
        destination.execute("PRAGMA journal_mode=DELETE")
    finally:
        destination.close()


def _sqlite_applied(db: sqlite3.Connection, path: Path) -> list[str]:
    has_table = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'django_migrations'"
    ).fetchone()
    if not has_table:
        raise BackupError(
            f"{path}: an SQLite database, but not Touchpoint's (it has no django_migrations table)."
        )
    return sorted(f"{app}.{name}" for app, name in db.execute("SELECT app, name FROM django_migrations"))


def _live_sqlite() -> sqlite3.Connection:
    connection.ensure_connection()
    raw = connection.connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


def backup_sqlite(path: Path) -> Note:
    source = _live_sqlite()
    partial = _partial(path)
    try:
        sqlite_copy(source, partial)
        check = sqlite3.connect(f"file:{partial}?mode=ro", uri=True)
        try:
            applied = _sqlite_applied(check, partial)
        finally:
            check.close()
        _publish(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Note("sqlite", touchpoint_version(), _now(), applied)


def check_sqlite(path: Path) -> list[str]:
    """The backup's applied migrations, after PRAGMA integrity_check and the django_migrations check."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:  # pragma: no cover - the magic bytes were read a moment ago
        raise BackupError(f"{path}: cannot be opened ({error}).") from error
    try:
        try:
            problems = [row[0] for row in db.execute("PRAGMA integrity_check(5)")]
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{path}: a damaged SQLite database ({error}).") from error
        if problems != ["ok"]:
            raise BackupError(f"{path}: a damaged SQLite database (integrity check: {'; '.join(problems)}).")
        return _sqlite_applied(db, path)
    finally:
        db.close()


def sqlite_restore_into(path: Path, target: sqlite3.Connection, *, lock_timeout: float) -> None:
    """Copy the backup at `path` into `target` under its write lock; refuse after `lock_timeout` s busy."""
    if target.in_transaction:
        raise BackupError("The database connection is inside a transaction; restore from a fresh process.")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    deadline = time.monotonic() + lock_timeout

    def progress(status: int, remaining: int, total: int) -> None:
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and time.monotonic() > deadline:
            raise BackupError(
                f"The database stayed busy for {lock_timeout:g} seconds (another process holds its write "
                "lock); nothing was restored. Stop the web and worker processes, or try again."
            )

    try:
        source.backup(target, pages=-1, progress=progress, sleep=0.1)
    except sqlite3.OperationalError as error:
        raise BackupError(f"The database could not be written ({error}); nothing was restored.") from error
    finally:
        source.close()


def restore_sqlite(path: Path, *, lock_timeout: float) -> None:
    sqlite_restore_into(path, _live_sqlite(), lock_timeout=lock_timeout)
    connection.close()


# --- PostgreSQL ---------------------------------------------------------------------------------


def _pg_env() -> dict[str, str]:
    settings = connection.settings_dict
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGDATABASE", "NAME")):
        if settings.get(key):
            env[variable] = str(settings[key])
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings["PASSWORD"])
    return env


def _pg_tool(name: str) -> str:
    """The path of pg_dump / pg_restore, checked against the server's major version."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed (or not on PATH). Install the PostgreSQL client tools of the "
            f"server's version ({server_major()}), e.g. the postgresql-client-{server_major()} package."
        )
    output = subprocess.run([found, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", output)
    tool_major = int(match.group(1)) if match else 0
    if tool_major < server_major():
        raise BackupError(
            f"{name} is version {tool_major} and the server is PostgreSQL {server_major()}: {name} must be "
            f"at least the server's major version. Install postgresql-client-{server_major()}."
        )
    return found


def server_major() -> int:
    connection.ensure_connection()
    return int(connection.pg_version) // 10000  # type: ignore[attr-defined]


def _run(command: list[str], what: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, env=_pg_env(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        shown = next((line for line in lines if "error" in line.lower()), lines[-1] if lines else "")
        raise BackupError(f"{what} failed: {shown or f'exit status {result.returncode}'}")
    return result


def _pg_applied(path: Path) -> list[str]:
    tool = _pg_tool("pg_restore")
    listing = _run([tool, "--list", str(path)], f"{path}: reading the archive")
    if not re.search(r"TABLE DATA \S+ django_migrations ", listing.stdout):
        raise BackupError(
            f"{path}: a PostgreSQL dump, but not Touchpoint's (it has no django_migrations table)."
        )
    data = _run(
        [tool, "--data-only", "--table=django_migrations", "--file=-", str(path)],
        f"{path}: reading its migrations",
    )
    applied, copying = [], False
    for line in data.stdout.splitlines():
        if line.startswith("COPY ") and "django_migrations" in line:
            copying = True
        elif copying and line == "\\.":
            break
        elif copying:
            columns = line.split("\t")
            applied.append(f"{columns[1]}.{columns[2]}")
    return sorted(applied)


def backup_postgresql(path: Path) -> Note:
    tool = _pg_tool("pg_dump")
    partial = _partial(path)
    partial.unlink(missing_ok=True)
    try:
        _run([tool, "--format=custom", f"--file={partial}"], "pg_dump")
        applied = _pg_applied(partial)
        _publish(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Note("postgresql", touchpoint_version(), _now(), applied)


_DROP_CONSTRAINT = re.compile(rb"^ALTER TABLE IF EXISTS ONLY (\S+) DROP CONSTRAINT IF EXISTS \S+;$")


def _live_partitions() -> set[bytes]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        )
        return {row[0].encode() for row in cursor.fetchall()}


def restore_postgresql(path: Path) -> None:
    """`pg_restore --clean --if-exists --no-owner` piped into `psql --single-transaction`: all or nothing.

    pg_restore's clean step drops a partition's primary key before its table, which PostgreSQL refuses
    for a constraint the partition inherits (usage_rawevent's partitions); those lines are left out of
    the clean step (dropping the table drops them). Everything else is pg_restore's own script.
    """
    restore_tool, psql = _pg_tool("pg_restore"), _pg_tool("psql")
    partitions = _live_partitions()
    connection.close()
    env = _pg_env()
    with tempfile.TemporaryFile() as dump_errors, tempfile.TemporaryFile() as load_errors:
        dump = subprocess.Popen(
            [restore_tool, "--clean", "--if-exists", "--no-owner", "--file=-", str(path)],
            stdout=subprocess.PIPE,
            stderr=dump_errors,
            env=env,
        )
        load = subprocess.Popen(
            [psql, "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1", "--file=-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=load_errors,
            env=env,
        )
        assert dump.stdout is not None and load.stdin is not None
        cleaning = True
        try:
            for line in dump.stdout:
                if cleaning and line.startswith((b"CREATE ", b"COPY ")):
                    cleaning = False
                if cleaning:
                    match = _DROP_CONSTRAINT.match(line.rstrip(b"\n"))
                    if match and match.group(1) in partitions:
                        continue
                load.stdin.write(line)
            load.stdin.close()
        except BrokenPipeError:
            pass  # psql stopped at an error; its message is read below
        dump.stdout.close()
        if load.wait() != 0 and dump.poll() is None:
            dump.kill()
        dump.wait()
        for process, errors, what in ((load, load_errors, "psql"), (dump, dump_errors, "pg_restore")):
            if process.returncode != 0:
                errors.seek(0)
                lines = [line for line in errors.read().decode(errors="replace").splitlines() if line.strip()]
                shown = next(
                    (line for line in lines if "ERROR" in line or "error" in line), lines[-1] if lines else ""
                )
                raise BackupError(
                    f"Restoring with {what} failed, and nothing was changed: {shown or process.returncode}"
                )


# --- Both ---------------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def backup(path: Path) -> Note:
    """Back the live database up into `path` (and the note beside it)."""
    kind = database_kind()
    if path.is_dir():
        raise BackupError(f"{path} is a directory; name the backup file.")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent}: no such directory.")
    note = backup_sqlite(path) if kind == "sqlite" else backup_postgresql(path)
    _write_note(path, note)
    return note


def check(path: Path) -> Checked:
    """Everything a restore checks, without changing the database."""
    kind = database_kind()
    found = file_kind(path)
    if found != kind:
        raise BackupError(
            f"{path}: {A_KIND[found]} backup, and this Touchpoint runs on {KINDS[kind]}. Restore it into "
            f"a Touchpoint set up with {KINDS[found]}, or move the data with `touchpoint dumpdata`/`loaddata`."
        )
    note = read_note(path)
    if note is not None and note.get("kind") not in (None, kind):
        raise BackupError(
            f"{note_path(path)}: notes a {note.get('kind')} backup, but {path} is {A_KIND[kind]} one."
        )
    applied = check_sqlite(path) if kind == "sqlite" else _pg_applied(path)
    pending = check_migrations(applied)
    return Checked(kind=kind, migrations=applied, pending=pending, note=note)


def restore(
    path: Path, *, lock_timeout: float = 10.0, confirm: Callable[[Checked], bool] | None = None
) -> Checked:
    """Check the backup, then (if `confirm` agrees) replace the live database's content with it."""
    checked = check(path)
    if confirm is not None and not confirm(checked):
        raise BackupError("Nothing was restored.")
    if checked.kind == "sqlite":
        restore_sqlite(path, lock_timeout=lock_timeout)
    else:
        restore_postgresql(path)
    return checked
