"""Real `touchpoint` processes for tests that need a server or a command as people run them."""

from __future__ import annotations

import fcntl
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

TOUCHPOINT = Path(sys.executable).with_name("touchpoint")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def touchpoint(env: dict, *args: str) -> str:
    """Run a `touchpoint` command; its stdout (the test fails with its stderr if it fails)."""
    done = subprocess.run([str(TOUCHPOINT), *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def wait_until_serving(server: subprocess.Popen, port: int, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                output = server.stdout.read().decode() if server.stdout else ""
                pytest.fail(f"the server did not come up:\n{output}")
            time.sleep(0.2)


@contextmanager
def migrated_database_url(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database with the schema `touchpoint migrate` makes, for a server process: a copy of one
    template migrated once per run (migrating takes ~20 s, copying a fraction of one). The run's xdist
    workers share the template, taking turns with a lock file in the run's shared folder."""
    base_url = os.environ.get("DATABASE_URL", "")
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # each worker's folder sits in the run's one
    if not base_url.startswith("postgres"):
        template = shared / "live-template.sqlite3"
        with _turn(shared):
            _migrate_once(shared, f"sqlite:///{template}")
        path = tmp_path / "server.sqlite3"
        source, target = sqlite3.connect(template), sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        yield f"sqlite:///{path}"
        return
    import psycopg

    server, base_name = base_url.rsplit("/", 1)
    template_name = f"{base_name}_live_template"  # named after the suite's database: one per suite
    name = f"touchpoint_live_{os.getpid()}"
    with _turn(shared), psycopg.connect(base_url, autocommit=True) as admin:

        def create_template() -> None:  # a template left by an earlier run is dropped
            admin.execute(f'DROP DATABASE IF EXISTS "{template_name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{template_name}"')

        _migrate_once(shared, f"{server}/{template_name}", create=create_template)
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        # CREATE DATABASE … TEMPLATE wants the template to itself: one copy at a time (the lock).
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(base_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _turn(shared: Path) -> Iterator[None]:
    with (shared / "live-template.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _migrate_once(shared: Path, database_url: str, *, create: Callable[[], None] | None = None) -> None:
    """`touchpoint migrate` into the run's template (made first by `create`, if given), unless a worker
    did it already (the caller holds the lock)."""
    ready = shared / "live-template.ready"
    if ready.exists():
        return
    if create is not None:
        create()
    data = shared / "live-template-data"
    data.mkdir(exist_ok=True)
    env = {**os.environ, "DATABASE_URL": database_url, "TOUCHPOINT_DATA_DIR": str(data)}
    touchpoint(env, "migrate", "-v", "0")
    ready.touch()


def query(database_url: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Read a server's database directly (sql uses %s placeholders)."""
    if database_url.startswith("postgres"):
        import psycopg

        with psycopg.connect(database_url) as db:
            return list(db.execute(sql, params))
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
        return list(db.execute(sql.replace("%s", "?"), params))
