"""What the accounts API accepts and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

EngagementModelValue = Literal["high", "low", "hybrid"]
ContactRoleValue = Literal["champion", "decision_maker", "kpi_owner", "user", "billing"]
EngagementKindValue = Literal["note", "meeting", "call", "email"]


class Strict(Schema):
    # An unknown field is a mistake worth telling the caller about, not something to drop silently.
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def no_nul_characters(cls, value: Any) -> Any:
        # PostgreSQL cannot store NUL in text (SQLite can): refuse it the same way on both, as the forms do.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError(_("Null characters are not allowed."))
        return value


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
    created_at: datetime
    updated_at: datetime


class AccountIn(Strict):
    name: str = Field(max_length=200)
    domain: str = Field("", max_length=253)
    external_id: str | None = Field(None, max_length=128)
    parent: int | None = None
    owner: int | None = None
    segment: int | None = None
    engagement_model: EngagementModelValue = "hybrid"


class AccountPatch(Strict):
    name: str = Field(None, max_length=200)
    domain: str = Field(None, max_length=253)
    external_id: str | None = Field(None, max_length=128)
    parent: int | None = None
    owner: int | None = None
    segment: int | None = None
    engagement_model: EngagementModelValue = None


class ContactOut(Schema):
    id: int
    account: Ref
    name: str
    email: str
    title: str
    phone: str
    external_id: str | None
    roles: list[ContactRoleValue]
    created_at: datetime
    updated_at: datetime


class ContactIn(Strict):
    name: str = Field(max_length=200)
    email: str = Field("", max_length=254)
    title: str = Field("", max_length=200)
    phone: str = Field("", max_length=50)
    external_id: str | None = Field(None, max_length=128)
    roles: list[ContactRoleValue] = []


class ContactPatch(Strict):
    name: str = Field(None, max_length=200)
    email: str = Field(None, max_length=254)
    title: str = Field(None, max_length=200)
    phone: str = Field(None, max_length=50)
    external_id: str | None = Field(None, max_length=128)
    roles: list[ContactRoleValue] = None


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
    occurred_at: datetime | None = None


class EngagementIn(Strict):
    kind: EngagementKindValue
    subject: str = Field("", max_length=200)
    body: str = Field("", max_length=20000)
    occurred_at: datetime | None = None
    duration_minutes: int | None = Field(None, ge=1, le=24 * 60)
    contacts: list[int] = []


class ErrorItem(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[ErrorItem] = []
