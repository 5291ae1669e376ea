"""Journey condition fields from survey answers, read as of the moment asked (the simulation reads
the past): `contact.last_nps` (the person's latest NPS score, none before their first answer),
`account.last_nps` (the latest NPS score anyone at the account gave) and `account.nps` (the
account's NPS over the 365 days before the moment)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

from touchpoint.surveys import metrics
from touchpoint.surveys.models import Answer, SurveyKind


def _nps_answers(at: datetime) -> Any:
    return Answer.objects.filter(survey__kind=SurveyKind.NPS, answered_at__lte=at)


def contact_last_nps(subject: Any, at: datetime, _entry: dict[str, Any]) -> int | None:
    if subject.contact_id is None:
        return None
    return (
        _nps_answers(at)
        .filter(contact_id=subject.contact_id)
        .order_by("-answered_at", "-id")
        .values_list("score", flat=True)
        .first()
    )


def account_last_nps(subject: Any, at: datetime, _entry: dict[str, Any]) -> int | None:
    return (
        _nps_answers(at)
        .filter(account_id=subject.account_id)
        .order_by("-answered_at", "-id")
        .values_list("score", flat=True)
        .first()
    )


def account_nps(subject: Any, at: datetime, _entry: dict[str, Any]) -> float | None:
    scores = (
        _nps_answers(at)
        .filter(account_id=subject.account_id, answered_at__gt=at - timedelta(days=365))
        .values_list("score", flat=True)
    )
    return metrics.nps(list(scores)).score


def register() -> None:
    from touchpoint.journeys.fields import register_field

    register_field(
        "contact.last_nps", _("Latest NPS score (person)"), kind="number", resolve=contact_last_nps
    )
    register_field(
        "account.last_nps", _("Latest NPS score (account)"), kind="number", resolve=account_last_nps
    )
    register_field("account.nps", _("NPS over the last 12 months"), kind="number", resolve=account_nps)
