"""The rollup drain survives kill -9 mid-transaction: after a restart every event is rolled up exactly once."""

import os
import signal
import subprocess
import time

import pytest

from tests.live import TOUCHPOINT, migrated_database_url, query, touchpoint

EVENTS = 240

SETUP = f"""
from touchpoint.accounts.models import Account
from touchpoint.usage.services import create_source, ingest
source = create_source(name="Drain", actor=None)
Account.objects.create(name="Acme", external_id="acme")
for start in range(0, {EVENTS}, 60):
    ingest(source=source, payloads=[
        {{"type": "track", "messageId": f"m{{n}}", "userId": f"u{{n % 7}}", "event": "Report created",
          "context": {{"groupId": "acme"}}}}
        for n in range(start, start + 60)
    ])
"""

# A drainer that stops inside its transaction, after it wrote the rollups and people, before COMMIT.
STUCK_DRAINER = """
import sys, time
from touchpoint.usage import rollups
original = rollups._apply
def apply_then_hang(rows):
    original(rows)
    print("HOLDING", flush=True)
    time.sleep(120)
rollups._apply = apply_then_hang
rollups.refresh_pending()
"""


@pytest.fixture
def database_url(tmp_path, tmp_path_factory):
    with migrated_database_url(tmp_path, tmp_path_factory) as url:
        yield url


def _state(url):
    return query(
        url,
        "SELECT (SELECT COALESCE(SUM(events), 0) FROM usage_dailyaccountrollup), "
        "(SELECT COUNT(*) FROM usage_dailyaccountrollup), (SELECT COALESCE(SUM(events), 0) FROM usage_pendingrollup), "
        "(SELECT COALESCE(SUM(active_users), 0) FROM usage_dailyaccountrollup), (SELECT COUNT(*) FROM usage_rollupperson)",
    )[0]


def test_kill_9_of_the_drainer_mid_transaction_loses_and_doubles_nothing(tmp_path, database_url):
    env = {**os.environ, "DATABASE_URL": database_url, "TOUCHPOINT_DATA_DIR": str(tmp_path)}
    touchpoint(env, "shell", "-c", SETUP)
    assert _state(database_url) == (0, 0, EVENTS, 0, 0)

    drainer = subprocess.Popen(
        [str(TOUCHPOINT), "shell", "-c", STUCK_DRAINER],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        seen = ""
        while "HOLDING" not in seen:  # the shell may print a line of its own first
            line = drainer.stdout.readline().decode()
            assert line, f"the drainer ended before it held its transaction:\n{seen}"
            seen += line
        os.killpg(drainer.pid, signal.SIGKILL)
        drainer.wait(timeout=10)
    finally:
        if drainer.poll() is None:
            os.killpg(drainer.pid, signal.SIGKILL)
    time.sleep(0.2)
    # Nothing of the killed transaction stayed: no rollup rows, and the backlog is still all there.
    assert _state(database_url) == (0, 0, EVENTS, 0, 0)

    # A restarted drainer takes it all, once; another pass finds nothing and changes nothing.
    touchpoint(env, "shell", "-c", "from touchpoint.usage import rollups; rollups.refresh_pending()")
    assert _state(database_url) == (EVENTS, 1, 0, 7, 14)  # 7 people, counted for the day and the event
    touchpoint(env, "shell", "-c", "from touchpoint.usage import rollups; print(rollups.refresh_pending())")
    assert _state(database_url) == (EVENTS, 1, 0, 7, 14)  # 7 people, counted for the day and the event
