"""Survey steps: what a plug-in app that owns surveys provides to journeys.

A journey's `survey` step (`{id: ask, type: survey, survey: nps-quarterly, channel: email}`) is a
message like an email or in-app step: the interpreter turns it into an `email` or `in_app` effect
whose payload names the survey (`{"survey": "nps-quarterly", "to": [...]}`), so the outbox row is an
ordinary message row and everything journeys promise for messages holds for it (consent, quiet
hours, the weekly cap, exactly-once SMTP delivery, `GET /v1/messages`). Journeys knows nothing of
surveys; the app that has them registers a provider:

    register_survey_provider(SurveyProvider(survey_keys=..., message=...))

- `survey_keys()`: the survey keys a step may name (the validator refuses others; with no provider at all
  it refuses every survey step, as before);
- `message(row=, account=, contact=, now=)`: the message for one outbox row (the invitation), in the
  person's language, as a `SurveyMessage` (subject, text, HTML, language and the answer link). It is
  called when an email row is claimed (inside the claim's transaction) and when the product fetches
  its in-app messages. It raises `SurveySkipped(reason)` when the person must not be asked now (a
  throttle): an email row is then suppressed with that reason, an in-app one is left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class SurveySkipped(Exception):
    """This invitation is not to be sent (the reason is stored as the row's suppressed_reason)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:32]


@dataclass(frozen=True)
class SurveyMessage:
    subject: str
    text: str
    html: str
    language: str
    url: str  # where the person answers
    cta_label: str  # the in-app button


@dataclass(frozen=True)
class SurveyProvider:
    survey_keys: Callable[[], list[str]]
    message: Callable[..., SurveyMessage]


_PROVIDER: list[SurveyProvider] = []


def register_survey_provider(provider: SurveyProvider) -> None:
    """Register the app that owns surveys (one at a time: a second replaces the first)."""
    _PROVIDER[:] = [provider]


def survey_provider() -> SurveyProvider | None:
    return _PROVIDER[0] if _PROVIDER else None


def survey_key(payload: Any) -> str:
    """The survey an outbox row's payload names ("" for an ordinary message)."""
    if isinstance(payload, dict):
        return str(payload.get("survey") or "")
    return ""
