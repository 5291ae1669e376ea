"""Journeys and versions for the UI tests, written straight to the models (as services would)."""

from __future__ import annotations

from typing import Any

import yaml

from touchpoint.journeys.definition import parse
from touchpoint.journeys.models import Journey, JourneyStatus, JourneyVersion

WELCOME = """\
key: welcome
name: Welcome series
subject: contact
audience:
  roles: [champion]
entry:
  trigger: manual
goal: {field: account.health_grade, op: eq, value: green}
messages:
  hello:
    en: {subject: "Welcome, {{ contact.first_name }}", body: "Hello {{ contact.first_name }}, welcome aboard."}
    ja: {subject: "ようこそ", body: "{{ contact.first_name }}様、ようこそ。"}
steps:
  - {id: say-hello, type: email, message: hello}
  - {id: wait-a-week, type: wait, days: 7}
  - id: healthy
    type: split
    when: {field: account.health_grade, op: in, value: [green]}
    then: [{id: thank, type: tag, tag: happy}]
    else: [{id: call, type: task, title: Call the champion, due_in_days: 2}]
  - id: ab
    type: random
    arms:
      - {arm: A, percent: 50, steps: [{id: nudge-a, type: tag, tag: nudged-a}]}
      - {arm: B, percent: 50, steps: []}
"""


def make_journey(
    source: str = WELCOME, *, status: str = JourneyStatus.DRAFT, versions: int = 1, live: bool = False
) -> Journey:
    data: dict[str, Any] = yaml.safe_load(source)
    definition = parse(data)
    journey = Journey.objects.create(key=definition.key, name=definition.name, status=status)
    version = None
    for number in range(1, versions + 1):
        text = source if number == 1 else source.replace("days: 7", f"days: {7 + number}")
        version = JourneyVersion.objects.create(
            journey=journey,
            number=number,
            definition=parse(yaml.safe_load(text)).model_dump(mode="json", by_alias=True),
            source=text,
            note=f"version {number}",
        )
    if live:
        journey.live_version = version
        journey.status = JourneyStatus.LIVE
        journey.save()
    return journey
