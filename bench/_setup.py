"""What every benchmark needs first: Django on a throw-away database of the kind DATABASE_URL names."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path


def proc_stat(pid: int | str) -> list[str]:
    """The fields of /proc/PID/stat after the process name: [0] state, [1] parent pid, [11] user and
    [12] system CPU ticks. The name sits in parentheses and may hold spaces (a process title), so the
    fields are counted from its closing parenthesis. OSError when the process is gone."""
    return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()


def throwaway_database(prefix: str, *, reuse: bool = False) -> tuple[Path, Callable[[], None]]:
    """Set Django up on a fresh database and return (a work folder, a function that drops the database).

    With DATABASE_URL naming PostgreSQL, a test database beside it (created and dropped as the test
    runner does); else a temporary SQLite file. `reuse` migrates DATABASE_URL itself and keeps it
    (for profiling a build made once).
    """
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.setdefault("TOUCHPOINT_DATA_DIR", str(workdir))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "touchpoint.settings"
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import get_runner, setup_test_environment

    setup_test_environment()
    if connection.vendor == "postgresql" and not reuse:
        runner = get_runner(settings)(verbosity=0, interactive=False)
        old_config = runner.setup_databases()
        return workdir, lambda: runner.teardown_databases(old_config)
    call_command("migrate", verbosity=0)
    return workdir, lambda: None
