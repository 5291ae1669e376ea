"""Ingestion throughput: the tracking API over HTTP against the fastest plain insert, same database, same run.

For SQLite (a fresh file) and PostgreSQL (a fresh database, when the local cluster can be prepared by
scripts/postgres-for-tests.sh):
  1. start `touchpoint serve` (gunicorn, real processes) on 127.0.0.1;
  2. send N events (default 50,000) as 100-event /v1/batch calls from a few client threads;
  3. insert the same rows straight into usage_rawevent: executemany in one transaction on SQLite,
     COPY on PostgreSQL;
and print acknowledged events/s (until the last 200) and end-to-end events/s (until every event is in
the raw store and counted in the stored rollups, nothing pending), each with its ratio to the
baseline; the CPU one event cost end to end (server processes by role, the clients, and the rest of
the machine: on PostgreSQL mostly the database server) and the most the machine's cores could take at
that cost; and the server's peak memory (all its processes summed, and each process's own peak).

    .venv/bin/python bench/ingest.py [--events 50000] [--clients 4]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import proc_stat

ROOT = Path(__file__).resolve().parents[1]
TOUCHPOINT = ROOT / ".venv" / "bin" / "touchpoint"
BATCH = 100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def touchpoint(env: dict, *args: str) -> str:
    return subprocess.run(
        [str(TOUCHPOINT), *args], env=env, check=True, capture_output=True, text=True
    ).stdout


def tree_rss_kb(root_pid: int) -> dict[int, int]:
    """Resident memory (KiB) of a process and each of its children (from /proc), by process id."""
    sizes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int(proc_stat(entry.name)[1])
            if int(entry.name) == root_pid or parent == root_pid:
                for line in (entry / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes[int(entry.name)] = int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return sizes


def tree_pss_kb(pids) -> int:
    """Summed proportional memory (KiB) of these processes: pages shared after gunicorn's fork count
    once, split between the processes that share them (RSS counts them in every process)."""
    total = 0
    for pid in pids:
        try:
            for line in (Path("/proc") / str(pid) / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0 when it is gone)."""
    try:
        fields = proc_stat(pid)
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> float:
    """CPU seconds the whole machine has been busy (every core, everything but idle and I/O wait)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle, iowait = ticks[3], ticks[4]
    return (sum(ticks[:8]) - idle - iowait) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(root_pid: int) -> dict[str, float]:
    """CPU seconds so far: each process of the server's tree (by pid), this process, the machine."""
    snapshot = {str(pid): process_cpu_seconds(pid) for pid in tree_rss_kb(root_pid)}
    times = os.times()
    snapshot["client"] = times.user + times.system
    snapshot["machine"] = machine_cpu_seconds()
    return snapshot


def process_role(pid: int, root_pid: int) -> str:
    if pid == root_pid:
        return "gunicorn master"
    try:
        command = (Path("/proc") / str(pid) / "cmdline").read_text().replace("\0", " ")
    except OSError:
        return "gone"
    if "chart_renderer" in command:
        return "chart renderer"
    return "background worker" if command.startswith("touchpoint: background worker") else "web process"


def make_batches(count: int, accounts: int) -> list[list[dict]]:
    now = datetime.now(UTC).isoformat()
    events = [
        {
            "type": "track",
            "messageId": f"bench-{i}",
            "userId": f"user-{i % 2000}",
            "event": ("Report created", "Dashboard viewed", "Export downloaded")[i % 3],
            "properties": {"n": i},
            "context": {"groupId": f"acct-{i % accounts}"},
            "timestamp": now,
        }
        for i in range(count)
    ]
    return [events[i : i + BATCH] for i in range(0, count, BATCH)]


SERVER_WORKERS = "2"


def run_api(
    env: dict,
    write_key: str,
    warm_up: list[list[dict]],
    warmed_up,
    batches: list[list[dict]],
    clients: int,
    caught_up,
) -> tuple[float, float, dict[str, int], dict[str, float]]:
    """Send the batches; (seconds until the last answer, seconds until `caught_up()` is true, peak RSS,
    CPU seconds by role).

    The clock starts once the server answers /healthz (a bare TCP connect succeeds as soon as
    gunicorn's master listens, seconds before a web process can answer) and the `warm_up` batches
    have been taken in and drained (`warmed_up()`), so the background worker is running too.
    Peak RSS: the peak of the summed tree, and each process's own peak (KiB), by role.
    """
    port = free_port()
    log = open(Path(env["TOUCHPOINT_DATA_DIR"]) / "server.log", "a")
    server = subprocess.Popen(
        [str(TOUCHPOINT), "serve", "--port", str(port), "--workers", SERVER_WORKERS],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                probe.request("GET", "/healthz")
                if probe.getresponse().status == 200:
                    probe.close()
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
        bodies = [json.dumps({"batch": batch}).encode() for batch in batches]
        peak_total = [0]
        peak_pss = [0]
        peaks: dict[int, int] = {}
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                sizes = tree_rss_kb(server.pid)
                peak_total[0] = max(peak_total[0], sum(sizes.values()))
                peak_pss[0] = max(peak_pss[0], tree_pss_kb(sizes))
                for pid, size in sizes.items():
                    peaks[pid] = max(peaks.get(pid, 0), size)
                time.sleep(0.2)

        failures = []

        def send(part: list[bytes]) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for body in part:
                connection.request(
                    "POST", "/v1/batch", body, {"Authorization": auth, "Content-Type": "application/json"}
                )
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failures.append(response.status)
            connection.close()

        send([json.dumps({"batch": batch}).encode() for batch in warm_up])
        give_up = time.monotonic() + 120
        while not warmed_up():
            if time.monotonic() > give_up:
                raise RuntimeError("the warm-up batches were not drained within 2 minutes")
            time.sleep(0.1)
        sampler = threading.Thread(target=sample)
        sampler.start()
        threads = [threading.Thread(target=send, args=(bodies[n::clients],)) for n in range(clients)]
        cpu_before = cpu_snapshot(server.pid)
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        acknowledged = time.perf_counter() - started
        give_up = time.monotonic() + 300
        while not caught_up():
            if time.monotonic() > give_up:
                raise RuntimeError("the rollups did not catch up within 5 minutes")
            time.sleep(0.05)
        end_to_end = time.perf_counter() - started
        cpu_after = cpu_snapshot(server.pid)
        done.set()
        sampler.join()
        if failures:
            raise RuntimeError(f"{len(failures)} batches failed: {sorted(set(failures))}")
        roles: dict[str, int] = {"total": peak_total[0], "pss": peak_pss[0]}
        for pid, size in peaks.items():
            role = process_role(pid, server.pid)
            roles[role] = max(roles.get(role, 0), size)
            roles[f"{role} count"] = roles.get(f"{role} count", 0) + 1
        # Where the machine's cores went during the run (CPU seconds): each server role, this process
        # (the clients), and the rest of the machine (on PostgreSQL, mostly the database server).
        cpu: dict[str, float] = {}
        for key, seconds in cpu_after.items():
            if key in ("client", "machine"):
                continue
            role = process_role(int(key), server.pid)
            cpu[role] = cpu.get(role, 0.0) + seconds - cpu_before.get(key, 0.0)
        cpu["client"] = cpu_after["client"] - cpu_before["client"]
        cpu["everything else"] = cpu_after["machine"] - cpu_before["machine"] - sum(cpu.values())
        return acknowledged, end_to_end, roles, cpu
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def baseline_rows(batches: list[list[dict]], source_id: int) -> list[tuple]:
    now = datetime.now(UTC)
    return [
        (
            source_id,
            e["messageId"] + "-base",
            "track",
            e["event"],
            e["userId"],
            "",
            e["context"]["groupId"],
            None,
            None,
            now,
            now.date(),
            now,
            json.dumps(e["properties"]),
            json.dumps(e["context"]),
        )
        for batch in batches
        for e in batch
    ]


COLUMNS = (
    "source_id, message_id, type, event, user_id, anonymous_id, group_id, account_id, contact_id, "
    "timestamp, day, received_at, properties, context"
)


def sqlite_rows(rows: list[tuple]) -> list[tuple]:
    """Baseline rows with their times and day as Django's SQLite backend stores them (text)."""
    return [
        (*r[:9], r[9].isoformat(sep=" "), r[10].isoformat(), r[11].isoformat(sep=" "), r[12], r[13])
        for r in rows
    ]


def baseline_sqlite(path: str, rows: list[tuple]) -> float:
    rows = sqlite_rows(rows)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        started = time.perf_counter()
        with db:
            db.executemany(f"INSERT INTO usage_rawevent ({COLUMNS}) VALUES ({', '.join('?' * 14)})", rows)
        return time.perf_counter() - started


def baseline_postgres(url: str, rows: list[tuple]) -> float:
    import psycopg

    with psycopg.connect(url) as db:
        started = time.perf_counter()
        with db.cursor() as cursor, cursor.copy(f"COPY usage_rawevent ({COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        db.commit()
        return time.perf_counter() - started


# End to end: every event of the run is in the raw store and counted in the stored rollups, and no
# (account, day) waits for a refresh. The rollups of the run's accounts are all the run's events.
CAUGHT_UP_SQL = (
    "SELECT (SELECT COUNT(*) FROM usage_rawevent WHERE source_id = %s), "
    "(SELECT COALESCE(SUM(events), 0) FROM usage_dailyaccountrollup), "
    "(SELECT COUNT(*) FROM usage_pendingrollup)"
)


def measure(label: str, env: dict, events: int, clients: int, baseline, query) -> None:
    touchpoint(env, "migrate", "-v", "0")
    write_key = touchpoint(env, "source", "create", "Bench").strip().splitlines()[-1]
    source_id = int(
        touchpoint(
            env,
            "shell",
            "-c",
            "from touchpoint.usage.models import Source; print(Source.objects.get(name='Bench').pk)",
        )
        .strip()
        .splitlines()[-1]
    )
    accounts = 50
    # The accounts exist first (group calls), as they would in a running product, each with one event
    # so the warm-up waits for the background worker to drain them.
    warm_up = [
        [
            {
                "type": "group",
                "messageId": f"g-{n}",
                "userId": f"owner-{n}",
                "groupId": f"acct-{n}",
                "traits": {"name": f"Account {n}"},
            }
            for n in range(accounts)
        ]
        + [
            {"type": "track", "messageId": f"w-{n}", "userId": f"owner-{n}", "event": "Signed in"}
            for n in range(accounts)
        ]
    ]
    batches = make_batches(events, accounts)
    warm_stored = 2 * accounts

    def warmed_up() -> bool:
        stored, rolled_up, pending = query(CAUGHT_UP_SQL, (source_id,))[0]
        return stored >= warm_stored and rolled_up >= accounts and pending == 0

    def caught_up() -> bool:
        stored, rolled_up, pending = query(CAUGHT_UP_SQL, (source_id,))[0]
        return stored >= warm_stored + events and rolled_up >= accounts + events and pending == 0

    api_seconds, e2e_seconds, rss, cpu = run_api(
        env, write_key, warm_up, warmed_up, batches, clients, caught_up
    )
    base_seconds = baseline(baseline_rows(batches, source_id))
    api_rate, e2e_rate, base_rate = events / api_seconds, events / e2e_seconds, events / base_seconds
    print(
        f"{label:10} acknowledged {api_rate:8,.0f} events/s (ratio {api_rate / base_rate:5.3f})   "
        f"end to end {e2e_rate:8,.0f} events/s (ratio {e2e_rate / base_rate:5.3f}, goal ≥ 0.30)   "
        f"baseline {base_rate:9,.0f} events/s"
    )
    parts = ", ".join(
        f"{role} {size / 1024:.0f} MiB"
        + (f" (×{rss[role + ' count']})" if rss.get(role + " count", 1) > 1 else "")
        for role, size in rss.items()
        if role not in ("total", "pss") and not role.endswith(" count")
    )
    # CPU per event end to end: what it costs, and the most these cores could take at that cost.
    spent = {role: 1e6 * seconds / events for role, seconds in cpu.items() if seconds > 0}
    total = sum(spent.values())
    cores = os.cpu_count() or 1
    print(
        f"{'':10} CPU per event {total:.0f} µs ("
        + ", ".join(f"{role} {micros:.0f}" for role, micros in sorted(spent.items(), key=lambda kv: -kv[1]))
        + f"); {cores} cores at that cost: at most {cores * 1e6 / total:,.0f} events/s "
        f"(ratio {cores * 1e6 / total / base_rate:.3f})"
    )
    print(
        f"{'':10} server peak RSS {rss['total'] / 1024:.0f} MiB (goal < 400; shared pages counted once: "
        f"PSS {rss['pss'] / 1024:.0f} MiB); per process: {parts}"
    )


def sqlite_query(path: str):
    def run(sql: str, params: tuple) -> list[tuple]:
        with sqlite3.connect(path) as db:
            return list(db.execute(sql.replace("%s", "?"), params))

    return run


def postgres_query(url: str):
    import psycopg

    def run(sql: str, params: tuple) -> list[tuple]:
        with psycopg.connect(url) as db:
            return list(db.execute(sql, params))

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="measure one database")
    parser.add_argument(
        "--server-workers", default="2", help="gunicorn worker processes (default: 2, one per core)"
    )
    args = parser.parse_args()
    global SERVER_WORKERS
    SERVER_WORKERS = args.server_workers
    work = Path(tempfile.mkdtemp(prefix="tp-ingest-"))
    base_env = {**os.environ, "TOUCHPOINT_DATA_DIR": str(work)}

    sqlite_path = work / "ingest.sqlite3"
    if args.only != "postgresql":
        measure(
            "SQLite",
            {**base_env, "DATABASE_URL": f"sqlite:///{sqlite_path}"},
            args.events,
            args.clients,
            lambda rows: baseline_sqlite(str(sqlite_path), rows),
            sqlite_query(str(sqlite_path)),
        )
    if args.only == "sqlite":
        return

    prepared = subprocess.run(
        [str(ROOT / "scripts" / "postgres-for-tests.sh")], capture_output=True, text=True
    )
    if prepared.returncode != 0:
        print("PostgreSQL: skipped,", prepared.stderr.strip() or "the local cluster could not be prepared")
        return
    import psycopg

    admin_url = prepared.stdout.strip()
    name = f"touchpoint_bench_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        measure(
            "PostgreSQL",
            {**base_env, "DATABASE_URL": url},
            args.events,
            args.clients,
            lambda rows: baseline_postgres(url, rows),
            postgres_query(url),
        )
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
