"""`touchpoint usage rebuild`: recompute the daily rollups from the raw events still kept."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from touchpoint.usage import rollups


class Command(BaseCommand):
    help = _("Usage data tools.")

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("rebuild", help=_("Recompute the daily rollups from the raw events."))
        actions.add_parser("refresh", help=_("Bring the rollups of recently ingested events up to date."))

    def handle(self, *args, action: str, **options) -> None:
        started = time.perf_counter()
        if action == "refresh":
            pairs = rollups.refresh_pending()
            self.stdout.write(
                _("Refreshed %(pairs)d account-days in %(seconds).1f s.")
                % {"pairs": pairs, "seconds": time.perf_counter() - started}
            )
            return
        event_rows, day_rows = rollups.rebuild()
        self.stdout.write(
            _("Rebuilt %(events)d event rows and %(days)d account-day rows in %(seconds).1f s.")
            % {"events": event_rows, "days": day_rows, "seconds": time.perf_counter() - started}
        )
