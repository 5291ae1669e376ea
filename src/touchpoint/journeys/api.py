"""REST API for journeys: the journeys, their enrollments, and entering or leaving one by hand or from a script.

`POST /journeys/{key}/enrollments` enrolls an account (or a contact of it, for a contact journey) in
the journey's live version, whatever its usual trigger, as the engine enrolls any subject: the
audience and the re-entry policy apply. It answers 201 with the new enrollment, 200 with the
enrollment already active for the same subject and entry key (so a retried call enrolls nobody twice),
409 when the journey is not live or the audience or re-entry policy refuses the subject (under
"after exit" that includes an enrollment still active with another entry key).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from touchpoint.accounts.models import Account, Contact
from touchpoint.accounts.rules import readable_accounts_q
from touchpoint.api_contract import (
    READ,
    WRITE,
    Id,
    Page,
    Paging,
    Strict,
    Text,
    answers,
    caller,
    page_of,
    require_perm,
)
from touchpoint.journeys.models import (
    Enrollment,
    EnrollmentStatus,
    Journey,
    JourneyStatus,
    subject_key_of,
)
from touchpoint.journeys.triggers import definition_of, entry_key_for

router = Router(tags=["journeys"])

JourneyKey = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$", description="The journey's key.")]
MAX_DATA_BYTES = 10_000


class VersionOut(Schema):
    number: int
    note: str
    created_at: datetime
    launched_at: datetime | None


class JourneyOut(Schema):
    key: str
    name: str
    description: str
    status: str
    live_version: int | None = Field(
        description="The version number new enrollments enter; null before launch."
    )
    subject: str | None
    trigger: str | None
    active: int = Field(description="Active enrollments, all versions.")
    updated_at: datetime


class JourneyDetailOut(JourneyOut):
    versions: list[VersionOut]
    enrollments: dict[str, int] = Field(description="Enrollments by status, all versions.")
    definition: dict[str, Any] | None = Field(description="The live version's definition (else the newest).")


class EnrollmentOut(Schema):
    id: int
    journey: str
    version: int
    account: int
    contact: int | None
    entry_key: str
    status: str
    step: str
    step_entered_at: datetime
    wake_at: datetime | None
    waiting_for: str
    entered_at: datetime
    ended_at: datetime | None
    exit_reason: str
    entry_data: dict[str, Any]


class EnrollIn(Strict):
    account_id: Id
    contact_id: Id | None = Field(None, description="For a contact journey: the person (of that account).")
    entry_key: str = Field(
        "",
        max_length=180,
        description="What this entry is about; the same key again finds the active enrollment. "
        "Ignored under re-entry “never” (once per subject).",
    )
    data: dict[str, Any] = Field(default_factory=dict, description="Readable by conditions as entry.data.*")


class ExitIn(Strict):
    reason: str = Field(min_length=1, max_length=300)


def _journeys() -> QuerySet[Journey]:
    return (
        Journey.objects.select_related("live_version")
        .annotate(active=Count("enrollments", filter=Q(enrollments__status=EnrollmentStatus.ACTIVE)))
        .order_by("name", "pk")
    )


def _summary(journey: Journey) -> dict[str, Any]:
    version = journey.live_version
    definition = version.definition if version is not None else {}
    return {
        "key": journey.key,
        "name": journey.name,
        "description": journey.description,
        "status": journey.status,
        "live_version": version.number if version is not None else None,
        "subject": definition.get("subject"),
        "trigger": (definition.get("entry") or {}).get("trigger"),
        "active": getattr(journey, "active", 0),
        "updated_at": journey.updated_at,
    }


def _enrollment_out(enrollment: Enrollment) -> EnrollmentOut:
    return EnrollmentOut(
        id=enrollment.pk,
        journey=enrollment.journey.key,
        version=enrollment.version.number,
        account=enrollment.account_id,
        contact=enrollment.contact_id,
        entry_key=enrollment.entry_key,
        status=enrollment.status,
        step=enrollment.step_id,
        step_entered_at=enrollment.step_entered_at,
        wake_at=enrollment.wake_at,
        waiting_for=enrollment.waiting_for,
        entered_at=enrollment.entered_at,
        ended_at=enrollment.ended_at,
        exit_reason=enrollment.exit_reason,
        entry_data=enrollment.entry_data,
    )


def _enrollments() -> QuerySet[Enrollment]:
    return Enrollment.objects.select_related("journey", "version")


@router.get("/journeys", response=answers({200: Page[JourneyOut]}, *READ), summary="List journeys")
def list_journeys(request: HttpRequest, paging: Query[Paging], status: JourneyStatus | None = None):
    """Every journey by name, with its status, live version and active enrollments."""
    require_perm(request, "journeys.view_journey")
    journeys = _journeys()
    if status:
        journeys = journeys.filter(status=status)
    return page_of(journeys, paging, _summary)


@router.get("/journeys/{key}", response=answers({200: JourneyDetailOut}, *READ, 404), summary="Get a journey")
def get_journey(request: HttpRequest, key: JourneyKey):
    """The journey, its versions (newest first), its enrollments by status and its live definition."""
    require_perm(request, "journeys.view_journey")
    journey = get_object_or_404(_journeys(), key=key)
    versions = list(journey.versions.order_by("-number"))
    counts = dict(
        journey.enrollments.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    shown = journey.live_version or (versions[0] if versions else None)
    return {
        **_summary(journey),
        "versions": [
            {"number": v.number, "note": v.note, "created_at": v.created_at, "launched_at": v.launched_at}
            for v in versions
        ],
        "enrollments": {status: counts.get(status, 0) for status in EnrollmentStatus.values},
        "definition": shown.definition if shown is not None else None,
    }


@router.post(
    "/journeys/{key}/enrollments",
    response=answers({200: EnrollmentOut, 201: EnrollmentOut}, *WRITE, 404, 409),
    summary="Enroll an account or contact",
)
def enroll_subject(request: HttpRequest, key: JourneyKey, body: EnrollIn):
    """Enter the subject into the journey's live version now (201), or find it already there (200)."""
    journey = get_object_or_404(Journey.objects.select_related("live_version"), key=key)
    account = Account.objects.filter(pk=body.account_id).first()
    if account is None:
        raise ValidationError({"account_id": _("No such record: %(id)s.") % {"id": body.account_id}})
    require_perm(request, "journeys.add_enrollment", account)
    version = journey.live_version
    if journey.status != JourneyStatus.LIVE or version is None:
        raise HttpError(409, _("This journey is not live: only a live journey takes enrollments."))
    definition = definition_of(version)
    contact = None
    if body.contact_id is not None:
        contact = Contact.objects.filter(pk=body.contact_id, account=account).first()
        if contact is None:
            raise ValidationError(
                {"contact_id": _("No such contact at this account: %(id)s.") % {"id": body.contact_id}}
            )
    if definition.subject == "contact" and contact is None:
        raise ValidationError({"contact_id": _("This journey is for contacts: give the contact to enroll.")})
    if definition.subject == "account" and contact is not None:
        raise ValidationError({"contact_id": _("This journey is for accounts: enroll the account alone.")})
    if len(orjson.dumps(body.data)) > MAX_DATA_BYTES:
        raise ValidationError({"data": _("Send at most %(n)d bytes of data.") % {"n": MAX_DATA_BYTES}})

    from touchpoint.journeys.engine import enroll

    entry_key = entry_key_for(definition, body.entry_key)
    entry_data = {"trigger": "api", "data": body.data}
    enrollment = enroll(
        version=version,
        account=account,
        contact=contact,
        entry_key=entry_key,
        entry_data=entry_data,
        actor=caller(request),
    )
    if enrollment is not None:
        return Status(201, _enrollment_out(_enrollments().get(pk=enrollment.pk)))
    existing = (
        _enrollments()
        .filter(
            journey=journey,
            subject_key=subject_key_of(account.pk, contact.pk if contact else None),
            entry_key=entry_key,
            status=EnrollmentStatus.ACTIVE,
        )
        .first()
    )
    if existing is not None:
        return Status(200, _enrollment_out(existing))
    raise HttpError(409, _("The journey's audience or re-entry policy does not let this subject in now."))


@router.get(
    "/journeys/{key}/enrollments",
    response=answers({200: Page[EnrollmentOut]}, *READ, 404),
    summary="List a journey's enrollments",
)
def list_enrollments(
    request: HttpRequest,
    key: JourneyKey,
    paging: Query[Paging],
    status: EnrollmentStatus | None = None,
    step: Annotated[Text | None, Field(max_length=64, description="Only those on this step.")] = None,
):
    """The enrollments of the accounts you may read, newest first."""
    require_perm(request, "journeys.view_journey")
    journey = get_object_or_404(Journey, key=key)
    enrollments = (
        _enrollments()
        .filter(journey=journey)
        .filter(readable_accounts_q(request.user, "account__"))
        .order_by("-entered_at", "-pk")
    )
    if status:
        enrollments = enrollments.filter(status=status)
    if step:
        enrollments = enrollments.filter(step_id=step)
    return page_of(enrollments, paging, _enrollment_out)


@router.post(
    "/enrollments/{enrollment_id}/exit",
    response=answers({200: EnrollmentOut}, *WRITE, 404, 409),
    summary="Take a subject out of a journey",
)
def exit_enrollment(request: HttpRequest, enrollment_id: Id, body: ExitIn):
    """The enrollment ends as exited, with the reason (409 when it has already ended)."""
    enrollment = get_object_or_404(_enrollments(), pk=enrollment_id)
    require_perm(request, "journeys.change_enrollment", enrollment)
    if not enrollment.is_active:
        raise HttpError(409, _("This enrollment has already ended."))
    from touchpoint.journeys.engine import exit_enrollment as end

    with transaction.atomic():  # the engine locks the row
        end(enrollment=enrollment, reason=body.reason, actor=caller(request))
    return _enrollment_out(_enrollments().get(pk=enrollment.pk))
