"""`touchpoint serve`: migrate when needed, then serve with gunicorn (never the dev server)."""

from __future__ import annotations

import atexit
import multiprocessing
import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _
from gunicorn.app.base import BaseApplication

from touchpoint.web import warm
from touchpoint.wsgi import application as wsgi_application


def _post_worker_init(worker) -> None:
    warm.warm_web_process()


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
        # What every web process needs before its first page, done once here and shared by the forks.
        warm.warm_pages()
        connection.close()  # never share a connection with the forked workers
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
                "accesslog": "-",
                "errorlog": "-",
                "graceful_timeout": 20,
                "timeout": 60,
                "post_worker_init": _post_worker_init,
            }
        ).run()

    def _start_background_worker(self) -> None:
        """One `touchpoint worker` beside the web server, so a laptop needs no second command."""
        worker = subprocess.Popen([sys.executable, "-m", "touchpoint.cli", "worker"])

        def stop_worker() -> None:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()

        atexit.register(stop_worker)
        self.stdout.write(_("Background worker started (process %(pid)s).") % {"pid": worker.pid})
