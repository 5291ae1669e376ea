"""A 200 means committed: kill -9 the server under load and every acknowledged event is still there."""

import base64
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import orjson
import pytest

TOUCHPOINT = Path(sys.executable).with_name("touchpoint")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _touchpoint(env, *args) -> str:
    done = subprocess.run([str(TOUCHPOINT), *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _stored_message_ids(database_url: str, source_write_key: str) -> set[str]:
    query = ("SELECT e.message_id FROM usage_rawevent e JOIN usage_source s ON s.id = e.source_id "
             "WHERE s.write_key = %s")
    if database_url.startswith("postgres"):
        import psycopg

        with psycopg.connect(database_url) as db:
            return {row[0] for row in db.execute(query, (source_write_key,))}
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
        return {row[0] for row in db.execute(query.replace("%s", "?"), (source_write_key,))}


@pytest.fixture
def server_database_url(tmp_path):
    """A fresh, empty database for the server: a SQLite file, or a new PostgreSQL database."""
    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'durable.sqlite3'}"
        return
    import psycopg

    name = f"touchpoint_durability_{os.getpid()}"
    with psycopg.connect(base_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield base_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(base_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_kill_9_under_load_loses_no_acknowledged_event(tmp_path, server_database_url):
    database_url = server_database_url
    env = {**os.environ, "DATABASE_URL": database_url, "TOUCHPOINT_DATA_DIR": str(tmp_path)}
    _touchpoint(env, "migrate", "-v", "0")
    write_key = _touchpoint(env, "source", "create", f"Load {time.time_ns()}").strip().splitlines()[-1]
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([str(TOUCHPOINT), "serve", "--port", str(port), "--workers", "2"], env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1/batch"
    auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            break
        except OSError:
            assert time.monotonic() < deadline and server.poll() is None, "server did not start"
            time.sleep(0.2)

    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def sender(worker: int) -> None:
        batch_number = 0
        while not stop.is_set() and batch_number < 2000:  # bounded: never an endless loop
            ids = [f"w{worker}-b{batch_number}-m{i}" for i in range(20)]
            body = orjson.dumps({"batch": [{"type": "track", "messageId": m, "userId": f"u{worker}",
                                            "event": "Load tested"} for m in ids]})
            request = urllib.request.Request(url, data=body, method="POST",
                                             headers={"Authorization": auth, "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    if response.status == 200:
                        with lock:
                            acknowledged.extend(ids)
            except (urllib.error.URLError, OSError, ConnectionError):
                pass  # the server died mid-request: that batch was never acknowledged
            batch_number += 1

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(3)  # let load build up
    os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=10)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    log.close()
    server_output = (tmp_path / "server.log").read_text()[-3000:]
    assert len(acknowledged) > 100, f"too little load reached the server to prove anything:\n{server_output}"
    stored = _stored_message_ids(database_url, write_key)
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged events were lost"
