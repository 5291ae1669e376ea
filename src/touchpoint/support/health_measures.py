"""Support load as a health measure: the urgent and high-priority tickets open at the end of the day.

Registered from SupportConfig.ready(); health runs the SQL for every account at once. An account with
tickets (any, before the day's end) has a figure, zero included; one that never had a ticket has no
data, so it is not scored on support it never asked for.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from touchpoint.health.measures import AsOf, Measure, MeasureSource, register_measure, register_source
from touchpoint.support.models import Ticket


def _load_sql(at: AsOf) -> tuple[str, list]:
    table = Ticket._meta.db_table
    sql = f"""
        SELECT account_id,
               SUM(CASE WHEN priority IN ('urgent', 'high') AND (solved_at IS NULL OR solved_at >= %s)
                        THEN 1 ELSE 0 END) AS open_urgent_tickets
        FROM {table}
        WHERE opened_at < %s
        GROUP BY account_id
    """
    return sql, [at.end, at.end]


def register() -> None:
    register_source(MeasureSource("support_load", columns=("open_urgent_tickets",), query=_load_sql))
    register_measure(
        Measure(
            "open_urgent_tickets",
            label=_("Urgent support load"),
            source="support_load",
            column="open_urgent_tickets",
            unit=_("tickets"),
            help=_("Urgent and high-priority support tickets open at the end of the day."),
            weight=1,
            green=0,
            red=4,
            position=60,
        )
    )
