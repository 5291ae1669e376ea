"""Shared set-up for the advocacy tests: health grades and survey answers as the other apps write them."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone

from touchpoint.events.registry import is_registered, register_kind
from touchpoint.events.services import record_event
from touchpoint.health.models import HealthScore
from touchpoint.health.services import ensure_default_scorecard


def grade(account, value: str, *, day: date | None = None) -> HealthScore:
    """The account's health grade on `day` (today by default), as the health app stores it."""
    version = ensure_default_scorecard().current_version
    score = {"green": 85.0, "yellow": 55.0, "red": 20.0}.get(value)
    return HealthScore.objects.create(
        account=account, day=day or timezone.localdate(), version=version, score=score, grade=value
    )


def ensure_survey_kind() -> None:
    """The surveys app registers `survey.answered`; on a branch without it, the tests do."""
    if not is_registered("survey.answered"):
        register_kind("survey.answered", "Survey answered")


def answered(
    contact,
    score: int,
    *,
    category: str | None = None,
    answer_id: int = 1,
    kind: str = "nps",
    at: datetime | None = None,
):
    """Record a `survey.answered` event as the surveys app does."""
    ensure_survey_kind()
    if category is None:
        category = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
    return record_event(
        kind="survey.answered",
        account=contact.account_id if contact is not None else None,
        payload={
            "survey_id": 1,
            "answer_id": answer_id,
            "contact_id": contact.pk if contact is not None else None,
            "kind": kind,
            "score": score,
            "category": category,
        },
        occurred_at=at,
    )


def promoted(contact, score: int = 10, *, at: datetime | None = None, answer_id: int = 1):
    """The candidate row an NPS answer leaves (what the consumer does with a `survey.answered`
    event), written directly: on PostgreSQL a consumer reads only events every running transaction
    is past, which a test's own transaction never is."""
    from touchpoint.advocacy.consumer import category_of
    from touchpoint.advocacy.services import apply_nps_answer

    return apply_nps_answer(
        contact=contact,
        score=score,
        category=category_of(score),
        answer_id=answer_id,
        answered_at=at or timezone.now(),
    )
