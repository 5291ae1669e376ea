"""The first page with charts after a start: how long a person waits when a server has just (re)started.

In a fresh SQLite data folder with a small demo company:
  1. start `touchpoint serve` (gunicorn, real processes, --no-worker), wait until /healthz answers, then
     send GET /revenue/ (the revenue dashboard: charts drawn on the server) with a signed-in session;
  2. print the seconds from the process start to ready and to that answer, the answer's own latency,
     and the same page once every web process has answered it (the baseline: what the page costs
     warm), with the ratio first / warm;
  3. the server's resident memory once it is idle after the first answers (all its processes, summed
     RSS, and PSS, which counts a page shared by forked processes once).
Goal (issue 18): the first answer within 1 s of its request.

    .venv/bin/python bench/first_page.py [--accounts 60] [--workers 2] [--path /revenue/]
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import proc_stat

ROOT = Path(__file__).resolve().parents[1]
TOUCHPOINT = ROOT / ".venv" / "bin" / "touchpoint"

SESSION_SCRIPT = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from touchpoint.users.models import User
user = User.objects.filter(is_active=True, groups__name="admin").order_by("id").first()
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(session.session_key)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def memory_kb(root_pid: int) -> tuple[int, int]:
    """(summed RSS, summed PSS) of a process and its children, from /proc."""
    rss = pss = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int(proc_stat(entry.name)[1])
            if int(entry.name) != root_pid and parent != root_pid:
                continue
            for line in (entry / "smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return rss, pss


def get(port: int, path: str, session_key: str) -> tuple[int, float]:
    """GET path; (status, seconds from the accepted connection to the whole answer)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.connect()
    started = time.perf_counter()
    connection.request("GET", path, headers={"Cookie": f"sessionid={session_key}", "Host": "127.0.0.1"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--path", default="/revenue/")
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="tp-first-page-"))
    env = os.environ | {
        "TOUCHPOINT_DATA_DIR": str(data),
        "DATABASE_URL": f"sqlite:///{data / 'db.sqlite3'}",
    }
    started = time.perf_counter()
    subprocess.run([str(TOUCHPOINT), "migrate", "-v", "0"], env=env, check=True)
    subprocess.run(
        [str(TOUCHPOINT), "demo", "--accounts", str(args.accounts), "--days", "200", "-v", "0"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    session_key = subprocess.run(
        [str(TOUCHPOINT), "shell", "-c", SESSION_SCRIPT], env=env, check=True, capture_output=True, text=True
    ).stdout.split()[-1]
    print(f"demo company of {args.accounts} accounts made in {time.perf_counter() - started:.0f}s")

    port = free_port()
    log = open(data / "server.log", "a")
    process_started = time.perf_counter()
    server = subprocess.Popen(
        [str(TOUCHPOINT), "serve", "--port", str(port), "--workers", str(args.workers), "--no-worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # Ready: /healthz answers (a web process has started; `touchpoint serve` warms each one before
        # it takes a connection, so whichever answers next is warm too).
        while True:
            try:
                health, _seconds = get(port, "/healthz", session_key)
                if health == 200:
                    break
            except OSError:
                pass
            if time.perf_counter() - process_started > 120:
                raise SystemExit("the server did not start")
            time.sleep(0.05)
        ready = time.perf_counter() - process_started
        status, first = get(port, args.path, session_key)
        answered = time.perf_counter() - process_started
        if status != 200:
            raise SystemExit(f"{args.path} answered {status}")
        # Every web process answers it at least once (gunicorn hands connections to whichever is free),
        # then the warm figure is the median of the next ones.
        first_per_process = [get(port, args.path, session_key)[1] for _ in range(args.workers * 2)]
        warm = statistics.median(get(port, args.path, session_key)[1] for _ in range(9))
        time.sleep(2)
        rss, pss = memory_kb(server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    print(f"GET {args.path} with {args.workers} web processes:")
    print(
        f"  process start → ready (/healthz answers): {ready:.2f}s; → first {args.path} answered: {answered:.2f}s"
    )
    print(f"  the first {args.path} answer's own latency: {first:.2f}s (goal < 1 s)")
    print(
        f"  the next {len(first_per_process)} answers: " + ", ".join(f"{s:.2f}s" for s in first_per_process)
    )
    print(f"  warm (median of 9): {warm:.3f}s; ratio first / warm: {first / warm:.1f}")
    print(f"  server memory when idle: {rss / 1024:.0f} MiB summed RSS, {pss / 1024:.0f} MiB PSS")


if __name__ == "__main__":
    main()
