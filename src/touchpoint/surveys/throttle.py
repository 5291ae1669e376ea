"""Who may be surveyed now: the re-survey wait, the decline wait and the account's monthly cap.

A person is asked at most once every `resurvey_days` (90 by default) across all surveys, counted
from their latest invitation (a survey row of the journeys outbox being sent or sent) or answer;
when they declined ("not now") after that, the wait is `decline_days` (30) from the decline instead.
An account's people get at most `monthly_account_cap` invitations in a calendar month (0: no cap).

The checks run twice: when "Send survey" picks the people (surveys/sending.py), and again when the
email is claimed for sending (a survey step of any journey, perhaps days later), with the row being
sent left out of the count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from touchpoint.journeys.models import OutboxRow, OutboxStatus
from touchpoint.surveys.models import Answer, Decline, SurveySettings

THROTTLED = "throttled"
DECLINED = "declined_recently"
ACCOUNT_CAP = "account_cap"


def invitations(*, pending: bool = False) -> QuerySet[OutboxRow]:
    """The journeys outbox rows that invite someone to a survey and went out (or are going; with
    `pending`, also those waiting for the sender)."""
    statuses = [OutboxStatus.SENT, OutboxStatus.SENDING]
    if pending:
        statuses.append(OutboxStatus.PENDING)
    return OutboxRow.objects.filter(payload__has_key="survey", status__in=statuses)


def month_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def reason_not_to_survey(
    *,
    contact_id: int,
    account_id: int,
    now: datetime | None = None,
    excluding_row: int | None = None,
    rules: SurveySettings | None = None,
) -> str:
    """ "" when the person may be asked now, else the reason (throttled, declined_recently, account_cap)."""
    now = now or timezone.now()
    rules = rules or SurveySettings.current()
    rows = invitations()
    if excluding_row is not None:
        rows = rows.exclude(pk=excluding_row)
    last_invited = rows.filter(contact_id=contact_id).aggregate(
        at=Max("sent_at"), sending=Max("next_attempt_at", filter=Q(status=OutboxStatus.SENDING))
    )
    moments = [m for m in (last_invited["at"], last_invited["sending"] and now) if m is not None]
    last_answer = Answer.objects.filter(contact_id=contact_id).aggregate(at=Max("answered_at"))["at"]
    if last_answer is not None:
        moments.append(last_answer)
    last_touch = max(moments) if moments else None
    declined = Decline.objects.filter(contact_id=contact_id).aggregate(at=Max("declined_at"))["at"]
    if declined is not None and (last_touch is None or declined >= last_touch):
        if now - declined < timedelta(days=rules.decline_days):
            return DECLINED
    elif last_touch is not None and now - last_touch < timedelta(days=rules.resurvey_days):
        return THROTTLED
    if rules.monthly_account_cap:
        this_month = rows.filter(account_id=account_id).filter(
            Q(sent_at__gte=month_start(now)) | Q(status=OutboxStatus.SENDING)
        )
        if this_month.count() >= rules.monthly_account_cap:
            return ACCOUNT_CAP
    return ""


def throttled_contacts(contact_ids: list[int], *, now: datetime | None = None) -> set[int]:
    """Of these people, those within a wait (one query per kind, for a send to many). An invitation
    still waiting for the sender counts from when it was written, so sending twice asks once."""
    now = now or timezone.now()
    rules = SurveySettings.current()
    touched: dict[int, datetime] = {}
    for contact_id, at in (
        invitations(pending=True)
        .filter(contact_id__in=contact_ids)
        .values("contact_id")
        .annotate(at=Max("created_at"))
        .values_list("contact_id", "at")
    ):
        touched[contact_id] = at
    for contact_id, at in (
        Answer.objects.filter(contact_id__in=contact_ids)
        .values("contact_id")
        .annotate(at=Max("answered_at"))
        .values_list("contact_id", "at")
    ):
        touched[contact_id] = max(at, touched.get(contact_id, at))
    declined = dict(
        Decline.objects.filter(contact_id__in=contact_ids)
        .values("contact_id")
        .annotate(at=Max("declined_at"))
        .values_list("contact_id", "at")
    )
    waiting: set[int] = set()
    for contact_id in contact_ids:
        last = touched.get(contact_id)
        gave_up = declined.get(contact_id)
        if gave_up is not None and (last is None or gave_up >= last):
            if now - gave_up < timedelta(days=rules.decline_days):
                waiting.add(contact_id)
        elif last is not None and now - last < timedelta(days=rules.resurvey_days):
            waiting.add(contact_id)
    return waiting
