"""REST API of the audit log (kept by the users app), read-only for admins and CS leaders. It lives here
because the API contract itself depends on the users app."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from touchpoint.api_contract import READ, Day, Id, Page, Paging, Text, answers, page_of, require_perm
from touchpoint.users import audit_log
from touchpoint.users.models import AuditLogEntry

router = Router(tags=["audit"])


class AuditActorOut(Schema):
    id: int
    email: str
    name: str


class AuditEntryOut(Schema):
    id: int
    created_at: datetime
    actor_id: int | None = Field(description="Kept when the user was deleted since.")
    actor: AuditActorOut | None
    action: str
    object_type: str
    object_id: str
    object_repr: str
    changes: Any
    summary: str = Field(description="The entry in words, in the caller's language.")


def _out(entry: AuditLogEntry) -> AuditEntryOut:
    actor = entry.actor
    return AuditEntryOut(
        id=entry.pk,
        created_at=entry.created_at,
        actor_id=entry.actor_id,
        actor=AuditActorOut(id=actor.pk, email=actor.email, name=actor.get_full_name()) if actor else None,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        object_repr=entry.object_repr,
        changes=entry.changes,
        summary=audit_log.in_words(entry),
    )


@router.get("/audit", response=answers({200: Page[AuditEntryOut]}, *READ), summary="List audit log entries")
def list_audit_entries(
    request: HttpRequest,
    paging: Query[Paging],
    actor: Id | None = None,
    action: Annotated[Text, Field(max_length=64)] | None = None,
    object_type: Annotated[Text, Field(max_length=64)] | None = None,
    object: Annotated[Text, Field(max_length=255)] | None = None,
    since: Day | None = None,
    until: Day | None = None,
):
    """The audit log, newest first, as `{"items": [...], "count": N}` (admins and CS leaders).
    `action` is exact, or a family when it ends in a dot (`auth.`); `object` is an object id or text
    the entry's object reads; `since` and `until` are days, both included."""
    require_perm(request, "users.view_auditlogentry")
    filters = audit_log.AuditFilters(
        actor=actor,
        action=(action or "").strip(),
        object_type=object_type or "",
        object=(object or "").strip(),
        since=since,
        until=until,
    )
    return page_of(audit_log.entries(filters), paging, _out)
