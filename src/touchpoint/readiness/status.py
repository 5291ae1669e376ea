"""A touchpoint's status from its checklist (docs/readiness.md, "Status").

- gap: a question answered "no"; or nothing answered yet (nobody has said how); or past its due
  date with anything short of "yes";
- ready: every question answered "yes" or "not applicable" (a touchpoint without questions is not
  ready: nothing shows that it is);
- at risk: the rest: some answers in, others open or "partly", the due date not passed.

"Not applicable" is only ever set by hand, with a reason, like any status set by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from touchpoint.readiness.models import Answer, Status

DONE = {Answer.YES.value, Answer.NOT_APPLICABLE.value}


def derived_status(answers: Iterable[str], *, due_on: date | None, today: date) -> Status:
    given = list(answers)
    if not given or Answer.NO.value in given:
        return Status.GAP
    if all(answer in DONE for answer in given):
        return Status.READY
    if all(answer == Answer.OPEN.value for answer in given):
        return Status.GAP
    if due_on is not None and due_on < today:
        return Status.GAP
    return Status.AT_RISK


def is_overdue(*, status: str, due_on: date | None, today: date) -> bool:
    """Past its due date and not settled (ready, or not applicable)."""
    return due_on is not None and due_on < today and status not in (Status.READY, Status.NOT_APPLICABLE)
