"""`touchpoint serve`: migrate when needed, then serve with gunicorn (never the dev server)."""

from __future__ import annotations

import atexit
import gc
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _
from gunicorn.app.base import BaseApplication
from setproctitle import setproctitle

from touchpoint.web import warm
from touchpoint.wsgi import application as wsgi_application

RENDERER_START_SECONDS = 20.0
STOP_SECONDS = 20.0
# What `ps` shows for each process of a running server (gunicorn names its own from PROC_NAME).
PROC_NAME = "touchpoint"
WORKER_TITLE = "touchpoint: background worker"


def _post_worker_init(worker) -> None:
    warm.warm_web_process()
    gc.freeze()  # what the warm-up made lives as long as the process: the collector need not walk it


def _stop_at_exit(pid: int) -> None:
    """Stop a helper process (the chart renderer, the forked worker) when serve ends: SIGTERM, then
    SIGKILL after STOP_SECONDS."""

    def gone() -> bool:
        try:
            return os.waitpid(pid, os.WNOHANG)[0] == pid
        except ChildProcessError:  # already reaped (gunicorn's master reaps any child that ends)
            return True

    def stop() -> None:
        if gone():
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        while time.monotonic() < deadline:
            if gone():
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
        gone()

    atexit.register(stop)


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return wsgi_application


class Command(BaseCommand):
    help = _("Apply pending migrations, then serve Touchpoint over HTTP.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers",
            type=int,
            default=min(4, multiprocessing.cpu_count() + 1),
            help=_("Worker processes (default: cores + 1, at most 4)."),
        )
        parser.add_argument("--threads", type=int, default=4, help=_("Threads per worker."))
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help=_("Do not start a background worker (run `touchpoint worker` elsewhere)."),
        )

    def handle(
        self, *args, host: str, port: int, workers: int, threads: int, no_worker: bool, **options
    ) -> None:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            self.stdout.write(_("Applying database migrations…"))
            call_command("migrate", interactive=False, verbosity=1)
        # The chart renderer warms its engine while this process warms the pages.
        renderer = self._start_chart_renderer() if settings.TOUCHPOINT_WARM_CHARTS else None
        # What every web process needs before its first page, done once here and shared by the forks.
        warm.warm_pages()
        connection.close()  # never share a connection with the forked workers
        # Python's advice for a server that forks: the collector leaves frozen objects alone, so the web
        # processes neither walk everything loaded here on each full collection (CPU, every request
        # that triggers one) nor write to those pages as they walk (each write copies a shared page).
        gc.collect()
        gc.freeze()
        if renderer is not None:
            self._wait_for_chart_renderer(*renderer)
        if not no_worker:
            self._start_background_worker()
        self.stdout.write(
            _("Touchpoint is serving on http://%(host)s:%(port)s/") % {"host": host, "port": port}
        )
        _Gunicorn(
            {
                "bind": f"{host}:{port}",
                "workers": workers,
                "worker_class": "gthread",
                "threads": threads,
                "proc_name": PROC_NAME,
                "accesslog": "-",
                "errorlog": "-",
                "graceful_timeout": 20,
                "timeout": 60,
                "post_worker_init": _post_worker_init,
            }
        ).run()

    def _start_chart_renderer(self) -> tuple[subprocess.Popen, Path] | None:
        """One process that draws the charts of every web process (touchpoint.web.chart_renderer).

        Its socket goes in the data folder, or a private temporary folder when that path is too long
        for a Unix socket. None when another renderer was configured (TOUCHPOINT_CHART_SOCKET).
        """
        if settings.TOUCHPOINT_CHART_SOCKET:
            return None
        path = Path(settings.DATA_DIR) / "charts.sock"
        if len(str(path)) > 100:  # Linux allows 107 bytes
            folder = tempfile.mkdtemp(prefix="touchpoint-")
            atexit.register(shutil.rmtree, folder, ignore_errors=True)  # runs after the renderer stops
            path = Path(folder) / "charts.sock"
        path.unlink(missing_ok=True)
        renderer = subprocess.Popen([sys.executable, "-m", "touchpoint.web.chart_renderer", str(path)])
        _stop_at_exit(renderer.pid)
        return renderer, path

    def _wait_for_chart_renderer(self, renderer: subprocess.Popen, path: Path) -> None:
        """Hand the socket to the web processes once the renderer listens (they draw in-process until then)."""
        deadline = time.monotonic() + RENDERER_START_SECONDS
        while not path.exists() and renderer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if path.exists():
            # Set before gunicorn forks: every web process inherits it.
            settings.TOUCHPOINT_CHART_SOCKET = str(path)
        else:
            self.stderr.write(_("The chart renderer did not start; each web process draws its own charts."))

    def _start_background_worker(self) -> None:
        """One `touchpoint worker` beside the web server, so a laptop needs no second command.

        Forked from this process once Django is loaded, warmed and frozen, like the web processes: the
        worker shares those pages instead of loading a copy of its own (it inherits the chart
        renderer's socket too, so a report it draws does not load the JavaScript engine). Forked
        before gunicorn starts: no listening socket, no thread and no database connection to inherit.
        """
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            setproctitle(WORKER_TITLE)
            status = 0
            try:
                call_command("worker")
            except SystemExit as stopped:
                status = stopped.code if isinstance(stopped.code, int) else 1
            except BaseException:
                traceback.print_exc()
                status = 1
            finally:
                # Never return into serve: that would run gunicorn, and serve's exit handlers, twice.
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(status)
        _stop_at_exit(pid)
        self.stdout.write(_("Background worker started (process %(pid)s).") % {"pid": pid})
