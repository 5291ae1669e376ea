"""bench/journeys.py still runs: its small size, end to end, on a throw-away SQLite database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(600)
def test_the_journeys_bench_runs_at_small_size(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "TOUCHPOINT_DATA_DIR", "DJANGO_SETTINGS_MODULE")
    }
    env["TOUCHPOINT_DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "journeys.py"), "--small"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "on sqlite" in out
    assert re.search(r"ratio engine / per-row UPDATE: [\d.]+", out), out
    assert re.search(r"engine.advance_due, 1 worker: [\d,]+ enrollments/s \([\d.]+s; 200 completed", out), out
    assert re.search(r"the server received 20\b", out), out
    assert re.search(r"ratio simulate / scan: [\d.]+×", out), out
