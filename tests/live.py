"""Real `touchpoint` processes for tests that need a server or a command as people run them."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
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
def fresh_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database for a server process: a SQLite file, or a new PostgreSQL database."""
    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'server.sqlite3'}"
        return
    import psycopg

    name = f"touchpoint_live_{os.getpid()}"
    with psycopg.connect(base_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(base_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(database_url: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Read a server's database directly (sql uses %s placeholders)."""
    if database_url.startswith("postgres"):
        import psycopg

        with psycopg.connect(database_url) as db:
            return list(db.execute(sql, params))
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
        return list(db.execute(sql.replace("%s", "?"), params))
