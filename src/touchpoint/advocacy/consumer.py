"""Promoters become advocacy candidates: the consumer of the surveys app's `survey.answered` events.

The surveys app records `survey.answered` with the payload
{"survey_id", "answer_id", "contact_id" (or None), "kind": "nps"|"csat"|"ces", "score", "category":
"promoter"|"passive"|"detractor"|""}. An NPS answer from a contact updates that contact's candidate
row (services.apply_nps_answer): a promoter becomes a candidate, a later passive or detractor answer
takes the status away. Other kinds and answers without a contact are passed over.

`follow_survey_answers` runs as a poller of every worker (plugins.py), through
`touchpoint.events.services.consume("advocacy", ...)`: the candidate rows and the consumer's position
commit together, so an answer is applied exactly once. When the surveys app is not installed the kind
is not registered and the poller does nothing.
"""

from __future__ import annotations

from typing import Any

from touchpoint.events.models import DomainEvent

CONSUMER = "advocacy"
KIND = "survey.answered"
POLL_SECONDS = 60.0


def category_of(score: int) -> str:
    """The NPS category of a 0–10 score: 9–10 promoter, 7–8 passive, 0–6 detractor."""
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def handle(event: DomainEvent) -> None:
    from touchpoint.accounts.models import Contact
    from touchpoint.advocacy.services import apply_nps_answer

    payload = event.payload if isinstance(event.payload, dict) else {}
    if payload.get("kind") != "nps":
        return
    contact_id = _as_int(payload.get("contact_id"))
    score = _as_int(payload.get("score"))
    if contact_id is None or score is None or not 0 <= score <= 10:
        return
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None:
        return  # removed since it answered
    category = payload.get("category") or category_of(score)
    if category not in ("promoter", "passive", "detractor"):
        category = category_of(score)
    apply_nps_answer(
        contact=contact,
        score=score,
        category=category,
        answer_id=_as_int(payload.get("answer_id")) or 0,
        answered_at=event.occurred_at,
    )


def follow_survey_answers(*, batch_size: int = 200, max_batches: int = 50) -> int:
    """Apply the NPS answers recorded since the last run; returns how many events were read."""
    from touchpoint.events.registry import is_registered
    from touchpoint.events.services import consume

    if not is_registered(KIND):
        return 0
    total = 0
    for _batch in range(max_batches):
        read = consume(CONSUMER, handle, batch_size=batch_size, kinds=[KIND])
        total += read
        if read < batch_size:
            break
    return total
