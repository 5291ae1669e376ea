"""When the database stays locked past DB_LOCK_TIMEOUT, the tracking API answers 503 and stores nothing."""

import base64
import os
import sqlite3
import subprocess
import urllib.error
import urllib.request

import orjson

from tests.live import TOUCHPOINT, free_port, touchpoint, wait_until_serving
from tests.usage.test_durability import _stored_message_ids
from tests.usage.test_durability import server_database_url as server_database_url  # a fixture


def _post(url: str, auth: str, ids: list[str]) -> tuple[int, dict, dict]:
    body = orjson.dumps(
        {"batch": [{"type": "track", "messageId": m, "userId": "u1", "event": "Busy tested"} for m in ids]}
    )
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Authorization": auth, "Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), orjson.loads(error.read())


class _Lock:
    """Holds the lock every ingesting transaction needs: SQLite's write lock, or PostgreSQL's table lock."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def __enter__(self):
        if self.database_url.startswith("postgres"):
            import psycopg

            self.db = psycopg.connect(self.database_url)
            self.db.execute("LOCK TABLE usage_receivedmessage IN EXCLUSIVE MODE")
        else:
            self.db = sqlite3.connect(self.database_url.removeprefix("sqlite:///"), isolation_level=None)
            self.db.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc):
        if self.database_url.startswith("postgres"):
            self.db.rollback()
        else:
            self.db.execute("ROLLBACK")
        self.db.close()


def test_a_locked_database_gets_503_with_retry_after_and_the_retry_lands_once(tmp_path, server_database_url):
    env = {
        **os.environ,
        "DATABASE_URL": server_database_url,
        "TOUCHPOINT_DATA_DIR": str(tmp_path),
        "DB_LOCK_TIMEOUT": "0.5",
    }
    write_key = touchpoint(env, "source", "create", "Busy").strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen(
        [str(TOUCHPOINT), "serve", "--port", str(port), "--workers", "1", "--no-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until_serving(server, port)
        url = f"http://127.0.0.1:{port}/v1/batch"
        auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
        ids = [f"busy-{n}" for n in range(5)]
        with _Lock(server_database_url):
            status, headers, body = _post(url, auth, ids)
        assert status == 503, body
        assert headers.get("Retry-After") == "2"
        assert "busy" in body["detail"].lower()
        assert _stored_message_ids(server_database_url, write_key) == set()
        # The client retries the same batch once the lock is gone: stored once, and a second retry adds nothing.
        assert _post(url, auth, ids)[0] == 200
        assert _post(url, auth, ids)[0] == 200
        assert _stored_message_ids(server_database_url, write_key) == set(ids)
    finally:
        server.terminate()
        server.wait(timeout=30)
