"""`touchpoint serve` as a person runs it: a real gunicorn process on 127.0.0.1."""

import os
import signal
import subprocess
import urllib.request

from tests.live import TOUCHPOINT, free_port, wait_until_serving


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def test_serve_migrates_a_new_database_then_answers(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        "TOUCHPOINT_DATA_DIR": str(tmp_path),
    }
    server = subprocess.Popen(
        [str(TOUCHPOINT), "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until_serving(server, port)
        status, body = _get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and b'"ok"' in body
        status, body = _get(f"http://127.0.0.1:{port}/login/")
        assert status == 200 and b"Touchpoint" in body
        status, css = _get(f"http://127.0.0.1:{port}/static/touchpoint/app.css")
        assert status == 200 and b".topbar" in css
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    output = server.stdout.read().decode()
    assert "Applying database migrations" in output
    assert "gunicorn" in output.lower()
    assert "Background worker started" in output
