"""A 200 means committed: kill -9 the server under load and every acknowledged event is still there."""

import base64
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

import orjson
import pytest

from tests.live import TOUCHPOINT, free_port, migrated_database_url, query, touchpoint, wait_until_serving


def _stored_message_ids(database_url: str, source_write_key: str) -> set[str]:
    return {
        row[0]
        for row in query(
            database_url,
            "SELECT e.message_id FROM usage_rawevent e JOIN usage_source s ON s.id = e.source_id WHERE s.write_key = %s",
            (source_write_key,),
        )
    }


@pytest.fixture
def server_database_url(tmp_path, tmp_path_factory):
    with migrated_database_url(tmp_path, tmp_path_factory) as url:
        yield url


def test_kill_9_under_load_loses_no_acknowledged_event(tmp_path, server_database_url):
    database_url = server_database_url
    env = {**os.environ, "DATABASE_URL": database_url, "TOUCHPOINT_DATA_DIR": str(tmp_path)}
    write_key = touchpoint(env, "source", "create", f"Load {time.time_ns()}").strip().splitlines()[-1]
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [str(TOUCHPOINT), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/v1/batch"
    auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    wait_until_serving(server, port)

    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def sender(worker: int) -> None:
        batch_number = 0
        while not stop.is_set() and batch_number < 2000:  # bounded: never an endless loop
            ids = [f"w{worker}-b{batch_number}-m{i}" for i in range(20)]
            body = orjson.dumps(
                {
                    "batch": [
                        {"type": "track", "messageId": m, "userId": f"u{worker}", "event": "Load tested"}
                        for m in ids
                    ]
                }
            )
            request = urllib.request.Request(
                url,
                data=body,
                method="POST",
                headers={"Authorization": auth, "Content-Type": "application/json"},
            )
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
