"""`touchpoint serve` as a person runs it: a real gunicorn process on 127.0.0.1."""

import os
import signal
import subprocess
import urllib.request
from pathlib import Path

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
        # The charts' JavaScript engine is loaded once, in the renderer, not in the web process.
        # `ps` names each process; the background worker is forked from the warmed master, as the
        # web process is, so it shares the pages the master loaded.
        processes = _server_processes(server.pid)
        assert sorted(processes.values()) == ["chart renderer", "gunicorn", "web", "worker"]
        assert _command(server.pid).startswith("gunicorn: master [touchpoint]")
        loaded = {role: _maps_vl_convert(pid) for pid, role in processes.items()}
        assert loaded == {"gunicorn": False, "web": False, "chart renderer": True, "worker": False}
        assert (tmp_path / "charts.sock").exists()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    output = server.stdout.read().decode()
    assert "Applying database migrations" in output
    assert "gunicorn" in output.lower()
    assert "Background worker started" in output
    assert not (tmp_path / "charts.sock").exists()  # the renderer stopped with the server


def _server_processes(root: int) -> dict[int, str]:
    """serve's process tree (pid → role), from /proc."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The name in parentheses may hold spaces (a process title): the fields after it are fixed.
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_text().replace("\0", " ")
        except (OSError, IndexError, ValueError):
            continue
        if int(entry.name) == root:
            found[root] = "gunicorn"
        elif parent == root:
            found[int(entry.name)] = (
                "chart renderer"
                if "chart_renderer" in command
                else "worker"
                if command.startswith("touchpoint: background worker")
                else "web"
                if command.startswith("gunicorn: worker [touchpoint]")
                else command
            )
    return found


def _command(pid: int) -> str:
    return (Path("/proc") / str(pid) / "cmdline").read_text().replace("\0", " ")


def _maps_vl_convert(pid: int) -> bool:
    return "vl_convert" in (Path("/proc") / str(pid) / "maps").read_text()
