"""The world as the live engine sees it: interpreter.Context over the database, as of the moment asked.

The interpreter asks three things: does a condition hold (journeys/conditions.py), what is the
subject's engagement model (decides `by_engagement` steps), and when is its next renewal or its
subscription's start (a wait `until:`). The simulation passes its own moments to the same reads.
Inside the engine's batches, the subjects' accounts, contacts and tags come from the batch's
`fields_builtin.Facts` (one query per kind for the batch).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from touchpoint.journeys import conditions
from touchpoint.journeys.fields_builtin import ENGAGEMENT_MODELS, local_day
from touchpoint.journeys.interpreter import Subject


class LiveContext:
    def holds(self, condition: Any, subject: Subject, at: datetime, entry_data: dict[str, Any]) -> bool:
        return conditions.holds(condition, subject, at, entry_data)

    def engagement_model(self, subject: Subject, at: datetime) -> str:
        from touchpoint.journeys.fields_builtin import account_of

        account = account_of(subject.account_id)
        if account is None:
            return "hybrid"
        return ENGAGEMENT_MODELS.get(account.engagement_model, "hybrid")

    def anchor_date(self, subject: Subject, anchor: str, at: datetime) -> date | None:
        from touchpoint.revenue.selectors import first_start_on, next_renewal_on

        if anchor == "renewal":
            return next_renewal_on(subject.account_id, local_day(at))
        if anchor == "subscription_start":
            return first_start_on(subject.account_id, local_day(at))
        return None
