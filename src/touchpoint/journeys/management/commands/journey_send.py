"""`touchpoint journey_send`: send the journey emails and webhooks that are due, once or in a loop.

Workers already do this every two seconds (the "journeys.send" poller of `touchpoint worker`); this
command is for a dedicated sender process, or to flush the outbox by hand.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections
from django.utils.translation import gettext as _

from touchpoint.journeys.delivery import close_guardian, send_due


class Command(BaseCommand):
    help = _("Send the journey emails and webhooks that are due.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help=_("Keep sending until stopped."))
        parser.add_argument("--limit", type=int, default=100, help=_("Rows per pass (default 100)."))
        parser.add_argument(
            "--idle", type=float, default=1.0, help=_("Seconds to wait when nothing is due (with --loop).")
        )
        parser.add_argument(
            "--lease",
            type=float,
            default=None,
            help=_("Seconds a claimed row stays this process's before another may retry it (default 120)."),
        )

    def handle(self, *args, loop: bool, limit: int, idle: float, lease: float | None, **options) -> None:
        if limit < 1:
            raise CommandError(_("--limit must be at least 1."))
        if lease is not None and lease <= 0:
            raise CommandError(_("--lease must be more than 0 seconds."))
        lease_delta = timedelta(seconds=lease) if lease is not None else None
        total = 0
        try:
            while True:
                sent = send_due(limit=limit, lease=lease_delta, guard=True)
                total += sent
                if not loop:
                    break
                close_old_connections()
                if not sent:
                    time.sleep(idle)
        finally:
            close_guardian()
        self.stdout.write(_("Sent %(count)d.") % {"count": total})
