"""What the entry tests share: live journeys made from definitions, and the engine they enroll through.

The engine (touchpoint.journeys.engine) and the conditions (touchpoint.journeys.conditions) come from
another branch. Until they are merged these tests run against the small stand-ins below, installed
only when the real module is missing; once it exists the real one is used and the stand-in is unused.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from touchpoint.journeys.definition import parse
from touchpoint.journeys.models import (
    Enrollment,
    EnrollmentStatus,
    Journey,
    JourneyStatus,
    JourneyVersion,
    subject_key_of,
)

WAIT_THEN_TAG = [{"id": "w", "type": "wait", "days": 3}, {"id": "t", "type": "tag", "tag": "entered"}]


def definition(key: str, entry: dict, **more: Any) -> dict:
    return {"key": key, "name": key.replace("-", " ").title(), "entry": entry, "steps": WAIT_THEN_TAG, **more}


def live_journey(
    data: dict, *, launched_at: datetime | None = None, status: str = JourneyStatus.LIVE
) -> JourneyVersion:
    parsed = parse(data)
    journey = Journey.objects.create(key=parsed.key, name=parsed.name, status=status)
    version = JourneyVersion.objects.create(
        journey=journey,
        number=1,
        definition=parsed.model_dump(mode="json", by_alias=True),
        source="",
        launched_at=launched_at or timezone.now() - timedelta(minutes=5),
    )
    journey.live_version = version
    journey.save()
    return version


def enrollments(version: JourneyVersion) -> list[Enrollment]:
    return list(Enrollment.objects.filter(version=version).order_by("pk"))


# --- Stand-ins, only while the engine's branch is not merged ----------------------------------------


def _stand_in_engine() -> types.ModuleType:
    module = types.ModuleType("touchpoint.journeys.engine")

    def enroll(*, version, account, contact=None, entry_key="", entry_data=None, at=None, actor=None):
        first = parse(version.definition).steps[0].id
        try:
            with transaction.atomic():
                return Enrollment.objects.create(
                    journey=version.journey,
                    version=version,
                    account=account,
                    contact=contact,
                    subject_key=subject_key_of(account.pk, contact.pk if contact else None),
                    entry_key=entry_key,
                    entry_data=entry_data or {},
                    step_id=first,
                    waiting_for="",
                )
        except IntegrityError:
            return None

    def notify_event(*, account_id, contact_id=None, name, at, data=None):
        waiting = Enrollment.objects.filter(
            status=EnrollmentStatus.ACTIVE, waiting_for=name, account_id=account_id
        )
        if contact_id is not None:
            waiting = waiting.filter(Q(contact_id=contact_id) | Q(contact__isnull=True))
        return waiting.update(event_seen_at=at)

    def exit_enrollment(*, enrollment, reason, actor=None):
        enrollment.status = EnrollmentStatus.EXITED
        enrollment.exit_reason = reason
        enrollment.ended_at = timezone.now()
        enrollment.step_id = ""
        enrollment.save()
        return enrollment

    module.enroll = enroll  # type: ignore[attr-defined]
    module.notify_event = notify_event  # type: ignore[attr-defined]
    module.exit_enrollment = exit_enrollment  # type: ignore[attr-defined]
    return module


def _stand_in_conditions() -> types.ModuleType:
    module = types.ModuleType("touchpoint.journeys.conditions")

    def holds(condition, subject, at, entry_data):
        value: Any = {"entry": entry_data}
        for part in condition.field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if condition.op == "eq":
            return value == condition.value
        if condition.op == "in":
            return value in condition.value
        raise NotImplementedError(condition.op)

    module.holds = holds  # type: ignore[attr-defined]
    return module


@pytest.fixture
def engine(monkeypatch):
    """The engine enroll() goes through: the real one when merged, else the stand-in above."""
    for name, build in (
        ("touchpoint.journeys.engine", _stand_in_engine),
        ("touchpoint.journeys.conditions", _stand_in_conditions),
    ):
        if importlib.util.find_spec(name) is None:
            monkeypatch.setitem(sys.modules, name, build())
    return sys.modules.get("touchpoint.journeys.engine") or importlib.import_module(
        "touchpoint.journeys.engine"
    )
