"""What the accounts API accepts and answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from touchpoint.api_contract import Day, Email, Id, Moment, Strict

EngagementModelValue = Literal["high", "low", "hybrid"]
# A name must say something: the services strip spaces and refuse what is left empty.
NAME_PATTERN = r"\S"
ContactRoleValue = Literal["champion", "decision_maker", "kpi_owner", "user", "billing"]
EngagementKindValue = Literal["note", "meeting", "call", "email"]


class Ref(Schema):
    id: int
    name: str


class UserRef(Schema):
    id: int
    email: str
    name: str


class AccountOut(Schema):
    id: int
    name: str
    domain: str
    external_id: str | None
    parent: Ref | None
    owner: UserRef | None
    segment: Ref | None
    engagement_model: EngagementModelValue
    customer_since: date = Field(description="The day it became a customer (`created_at`'s day).")
    created_at: datetime
    updated_at: datetime


class AccountIn(Strict):
    name: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN)
    domain: str = Field("", max_length=253)
    external_id: str | None = Field(None, max_length=128)
    parent: Id | None = None
    owner: Id | None = None
    segment: Id | None = None
    engagement_model: EngagementModelValue = "hybrid"
    customer_since: Day | None = Field(
        None,
        description="The day it became a customer, if before today (not in the future); sets `created_at`.",
    )


class AccountPatch(Strict):
    # Omitted means unchanged; the default None is never a valid value (an explicit null is refused).
    name: str = Field(None, min_length=1, max_length=200, pattern=NAME_PATTERN)  # type: ignore[assignment]
    domain: str = Field(None, max_length=253)  # type: ignore[assignment]
    external_id: str | None = Field(None, max_length=128)
    parent: Id | None = None
    owner: Id | None = None
    segment: Id | None = None
    engagement_model: EngagementModelValue = None  # type: ignore[assignment]
    customer_since: Day = Field(None, description="The day it became a customer (not in the future).")  # type: ignore[assignment]


class ContactOut(Schema):
    id: int
    account: Ref
    name: str
    email: str
    title: str
    phone: str
    external_id: str | None
    roles: list[ContactRoleValue]
    language: str = Field(description="Language of automated messages; empty: the account's.")
    time_zone: str = Field(description="IANA time zone name (quiet hours); empty: the site's.")
    created_at: datetime
    updated_at: datetime


# The languages messages can be written in ("" follows the account).
MessageLanguage = Literal["", "en", "ja", "ru", "th"]


class ContactIn(Strict):
    name: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN)
    email: Email = ""
    title: str = Field("", max_length=200)
    phone: str = Field("", max_length=50)
    external_id: str | None = Field(None, max_length=128)
    roles: list[ContactRoleValue] = []
    language: MessageLanguage = ""
    time_zone: str = Field("", max_length=64, description="An IANA name such as Asia/Tokyo.")


class ContactPatch(Strict):
    # Omitted means unchanged; the default None is never a valid value (an explicit null is refused).
    name: str = Field(None, min_length=1, max_length=200, pattern=NAME_PATTERN)  # type: ignore[assignment]
    email: Email = None  # type: ignore[assignment]
    title: str = Field(None, max_length=200)  # type: ignore[assignment]
    phone: str = Field(None, max_length=50)  # type: ignore[assignment]
    external_id: str | None = Field(None, max_length=128)
    roles: list[ContactRoleValue] = None  # type: ignore[assignment]
    language: MessageLanguage = None  # type: ignore[assignment]
    time_zone: str = Field(None, max_length=64)  # type: ignore[assignment]


class TimelineEntryOut(Schema):
    id: int
    kind: str
    kind_label: str
    title: str
    body: str
    occurred_at: datetime
    actor: UserRef | None
    data: dict[str, Any]


class TimelinePage(Schema):
    items: list[TimelineEntryOut]
    count: int
    next: str | None = Field(description="Pass as `after` for the next, older page; null at the end.")


class NoteIn(Strict):
    body: str = Field(max_length=20000)
    subject: str = Field("", max_length=200)
    occurred_at: Moment | None = None


class EngagementIn(Strict):
    kind: EngagementKindValue
    subject: str = Field("", max_length=200)
    body: str = Field("", max_length=20000)
    occurred_at: Moment | None = None
    duration_minutes: int | None = Field(None, ge=1, le=24 * 60)
    contacts: list[Id] = Field([], max_length=100)


TeamRoleValue = Literal["csm", "executive_sponsor", "other"]


class TeamMemberIn(Strict):
    user: Id = Field(description="The id of the person to add.")
    role: TeamRoleValue = "csm"


class TeamMemberOut(Schema):
    user: UserRef
    role: TeamRoleValue
    added_at: datetime


class TeamPage(Schema):
    owner: UserRef | None
    items: list[TeamMemberOut]
    count: int
