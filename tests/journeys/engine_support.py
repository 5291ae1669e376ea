"""Live journeys for the engine's tests, made straight from definitions (no YAML, no services)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from touchpoint.journeys.definition import parse
from touchpoint.journeys.models import Journey, JourneyStatus, JourneyVersion


def definition(steps: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": extra.pop("key", "test-journey"),
        "name": extra.pop("name", "Test journey"),
        "entry": extra.pop("entry", {"trigger": "manual"}),
        "steps": steps,
    }
    data.update(extra)
    return parse(data).model_dump(mode="json", by_alias=True)


def live_version(steps: list[dict[str, Any]], **extra: Any) -> JourneyVersion:
    """A live journey whose live version runs these steps."""
    data = definition(steps, **extra)
    journey = Journey.objects.create(key=data["key"], name=data["name"], status=JourneyStatus.LIVE)
    version = JourneyVersion.objects.create(
        journey=journey, number=1, definition=data, launched_at=timezone.now()
    )
    journey.live_version = version
    journey.save(update_fields=["live_version"])
    return version


WELCOME = {"en": {"subject": "Welcome aboard", "body": "Hello {{ contact.name }}"}}
