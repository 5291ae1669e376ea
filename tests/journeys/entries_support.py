"""What the entry tests share: live journeys made from definitions (as launched), and their enrollments."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from touchpoint.journeys.definition import parse
from touchpoint.journeys.models import (
    Enrollment,
    Journey,
    JourneyStatus,
    JourneyVersion,
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
