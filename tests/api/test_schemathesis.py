"""Schemathesis, the real tool, against the OpenAPI a real `touchpoint serve` publishes.

It generates requests from the schema (valid and invalid ones), sends them with an API key and runs all
its checks: no 5xx, every status and body as the schema declares, invalid input refused, a request
without the key refused. The database is fresh (SQLite file or a new PostgreSQL database, whichever the
suite runs on) and seeded through the API, so ids exist to be found.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.live import TOUCHPOINT, free_port, migrated_database_url, touchpoint, wait_until_serving

SCHEMATHESIS = Path(TOUCHPOINT).with_name("schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")
# Cases per operation and phase; bounded so each database takes a minute or two.
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15")


def _call(base: str, key: str, method: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{base}/api/v1{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _seed(base: str, key: str) -> None:
    parent = _call(base, key, "POST", "/accounts", {"name": "Globex", "domain": "globex.example"})
    for n in range(7):  # ids 1-7 of contacts, subscriptions and tasks, 1-8 of accounts (schemathesis.toml)
        account = _call(
            base,
            key,
            "POST",
            "/accounts",
            {"name": f"Initech {n}", "parent": parent["id"], "external_id": f"i{n}"},
        )
        _call(
            base,
            key,
            "POST",
            f"/accounts/{account['id']}/contacts",
            {"name": f"Ann {n}", "roles": ["champion"]},
        )
        _call(
            base,
            key,
            "POST",
            "/subscriptions",
            {
                "account": account["id"],
                "product": "Touchpoint",
                "mrr": "100.00",
                "started_on": "2026-01-01",
                "confirm": True,  # history from before the account was created today
            },
        )
        _call(base, key, "POST", f"/accounts/{account['id']}/notes", {"body": "Kick-off went well."})
        _call(
            base, key, "POST", "/tasks", {"account": account["id"], "title": "Call", "due_on": "2026-12-01"}
        )


@pytest.fixture
def server(tmp_path, tmp_path_factory):
    with migrated_database_url(tmp_path, tmp_path_factory) as database_url:
        # Schemathesis sends thousands of requests a minute: the rate limit (tested in tests/access) is off.
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "TOUCHPOINT_DATA_DIR": str(tmp_path),
            "TOUCHPOINT_API_RATE_LIMIT": "0",
        }
        touchpoint(
            env, "createuser", "admin@example.com", "--role", "admin", "--password", "s3cret-Horse-battery"
        )
        key = touchpoint(env, "apikey", "create", "--user", "admin@example.com").strip().splitlines()[-1]
        port = free_port()
        log = (tmp_path / "server.log").open("wb")  # a file, not a pipe nobody reads: a full pipe stalls it
        process = subprocess.Popen(
            [str(TOUCHPOINT), "serve", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until_serving(process, port)
            base = f"http://127.0.0.1:{port}"
            _seed(base, key)
            yield base, key, env
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
            log.close()


def run_schemathesis(base: str, key: str, env: dict, report: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(CONFIG),
            "run",
            f"{base}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {key}",
            "--checks",
            "all",
            "--max-examples",
            MAX_EXAMPLES,
            "--workers",
            "1",
            "--seed",
            "1",
            "--generation-database",
            "none",
            # The generator's own check that it wastes few drafts: a body whose ids come from the
            # seeded dictionary (schemathesis.toml) filters many out; that says nothing of the API.
            "--suppress-health-check",
            "filter_too_much",
            "--no-color",
            "--report",
            "junit",
            "--report-junit-path",
            str(report),
        ],
        env={**env, "SCHEMATHESIS_HOOKS": ""},
        cwd=report.parent,  # its cache of past crashes stays with this run, not in the checkout
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_schemathesis_finds_no_server_error_and_no_schema_mismatch(server, tmp_path):
    base, key, env = server
    started = time.monotonic()
    done = run_schemathesis(base, key, env, tmp_path / "junit.xml")
    took = time.monotonic() - started
    summary = "\n".join(done.stdout.splitlines()[-40:])
    print(f"schemathesis took {took:.0f} s on {env['DATABASE_URL'].split(':')[0]}:\n{summary}")
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
