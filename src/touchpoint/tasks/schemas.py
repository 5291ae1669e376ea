"""What the tasks API accepts and answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

from touchpoint.accounts.schemas import NAME_PATTERN, Ref, UserRef
from touchpoint.api_contract import Day, Id, Strict

TypeValue = Literal["call", "meeting", "review", "risk", "renewal", "onboarding", "other"]
StatusValue = Literal["open", "done", "cancelled"]
SourceValue = Literal["manual", "playbook", "rule", "journey"]
PriorityValue = Literal[1, 2, 3]


class TaskOut(Schema):
    id: int
    account: Ref | None = Field(
        description="The account the task is about; null for a task about something else."
    )
    about_label: str = Field(description="What the task is about besides an account (another app's row).")
    about_url: str = Field(description="A path on this site leading back to what the task is about.")
    title: str
    owner: UserRef | None
    due_on: date
    priority: int = Field(description="1 high, 2 normal, 3 low")
    type: TypeValue
    status: StatusValue
    source: SourceValue
    notes: str
    cancel_reason: str
    overdue: bool
    created_by: UserRef | None
    created_at: datetime
    closed_at: datetime | None
    closed_by: UserRef | None


class TaskIn(Strict):
    account: Id | None = Field(
        None, description="Null for a task about something else: name it in `about_label`."
    )
    title: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN)
    due_on: Day
    owner: Id | None = Field(
        None, description="Defaults to the account's owner; required without an account."
    )
    priority: PriorityValue = 2
    type: TypeValue = "other"
    notes: str = Field("", max_length=20000)
    about_label: str = Field("", max_length=200)
    about_url: str = Field("", max_length=500, description='A path on this site, starting with one "/".')


class TaskPatch(Strict):
    # Omitted means unchanged; only `owner` takes null (nobody).
    title: str = Field(None, min_length=1, max_length=200, pattern=NAME_PATTERN)  # type: ignore[assignment]
    due_on: Day = None  # type: ignore[assignment]
    owner: Id | None = None
    priority: PriorityValue = None  # type: ignore[assignment]
    type: TypeValue = None  # type: ignore[assignment]
    notes: str = Field(None, max_length=20000)  # type: ignore[assignment]


class TaskCancelIn(Strict):
    reason: str = Field(min_length=1, max_length=500, pattern=NAME_PATTERN)
