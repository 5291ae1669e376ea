"""Every write of surveys: one transaction each, validated first, audited, on the timeline.

    survey = create_survey(key="nps", name="Quarterly NPS", kind="nps", texts={...}, actor=user)
    answer = record_answer(survey=survey, account=a, contact=c, score=9, comment="…", channel="email")
    answer_invitation(row=outbox_row, score=3, comment="Too slow")   # the public answer page
    decline_invitation(row=outbox_row)                               # "not now"

Each answer records the domain event `survey.answered` with the payload
{"survey_id", "answer_id", "contact_id", "kind", "score", "category"} (category only for NPS: other
apps, advocacy among them, read promoters from it), a `survey_answer` timeline entry and an audit
entry. A detractor's answer does what its survey says: a high-priority risk task for the account
owner (default), a playbook run, or an enrollment in a journey.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from touchpoint.accounts.models import Account, Contact
from touchpoint.accounts.services import record_on_timeline
from touchpoint.events.services import record_event
from touchpoint.plain_text import clean_text as _text
from touchpoint.surveys import metrics
from touchpoint.surveys.models import (
    SCALES,
    Answer,
    Channel,
    Decline,
    OnDetractor,
    Survey,
    SurveyKind,
    SurveySettings,
)
from touchpoint.surveys.texts import clean_texts
from touchpoint.users.services import record_audit

TIMELINE_KIND = "survey_answer"
EVENT_KIND = "survey.answered"
MAX_COMMENT = 5000
DETRACTOR_TASK_DUE_IN_DAYS = 2
MAX_KEY = 60  # the sending journeys' keys add "survey-" and "-in-app" to it
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")


def _user(actor: Any) -> Any:
    return actor if actor is not None and getattr(actor, "pk", None) else None


# --- Surveys ---------------------------------------------------------------------------------------


def _clean_survey(
    *,
    name: str,
    kind: str,
    texts: Any,
    on_detractor: str,
    detractor_target: str,
) -> dict[str, Any]:
    name = _text(name, "name", limit=200, required=True)
    if kind not in SurveyKind.values:
        raise ValidationError({"kind": _("Choose NPS, CSAT or CES.")})
    try:
        cleaned_texts = clean_texts(texts or {})
    except ValueError as error:
        raise ValidationError({"texts": str(error)}) from None
    if on_detractor not in OnDetractor.values:
        raise ValidationError({"on_detractor": _("Choose what a detractor's answer does.")})
    target = _text(detractor_target, "detractor_target", limit=120)
    if on_detractor == OnDetractor.PLAYBOOK:
        from touchpoint.playbooks.models import Playbook

        if not Playbook.objects.filter(name=target).exists():
            raise ValidationError({"detractor_target": _("No playbook has this name.")})
    elif on_detractor == OnDetractor.JOURNEY:
        from touchpoint.journeys.models import Journey

        if not Journey.objects.filter(key=target).exists():
            raise ValidationError({"detractor_target": _("No journey has this key.")})
    else:
        target = ""
    return {
        "name": name,
        "kind": kind,
        "texts": cleaned_texts,
        "on_detractor": on_detractor,
        "detractor_target": target,
    }


@transaction.atomic
def create_survey(
    *,
    name: str,
    kind: str = SurveyKind.NPS,
    key: str = "",
    texts: Any = None,
    on_detractor: str = OnDetractor.TASK,
    detractor_target: str = "",
    actor: Any = None,
) -> Survey:
    values = _clean_survey(
        name=name, kind=kind, texts=texts, on_detractor=on_detractor, detractor_target=detractor_target
    )
    key = _text(key, "key", limit=MAX_KEY) or slugify(values["name"]).replace("_", "-")[:MAX_KEY].strip("-")
    if not KEY_PATTERN.match(key):
        raise ValidationError({"key": _("Use lower-case letters, digits and dashes (at most 60).")})
    if Survey.objects.filter(key=key).exists():
        raise ValidationError({"key": _("Another survey has this key.")})
    survey = Survey.objects.create(key=key, created_by=_user(actor), **values)
    record_audit(
        actor=_user(actor), action="survey.create", instance=survey, changes={"key": key, "kind": kind}
    )
    return survey


@transaction.atomic
def update_survey(
    *,
    survey: Survey,
    actor: Any = None,
    name: str | None = None,
    texts: Any = None,
    on_detractor: str | None = None,
    detractor_target: str | None = None,
    is_active: bool | None = None,
) -> Survey:
    """Change a survey's words, what a detractor's answer does, or whether it is active. The kind
    stays: answers already given are on its scale."""
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    values = _clean_survey(
        name=survey.name if name is None else name,
        kind=survey.kind,
        texts=survey.texts if texts is None else texts,
        on_detractor=survey.on_detractor if on_detractor is None else on_detractor,
        detractor_target=survey.detractor_target if detractor_target is None else detractor_target,
    )
    if is_active is not None:
        values["is_active"] = bool(is_active)
    changes = {field: value for field, value in values.items() if getattr(survey, field) != value}
    if not changes:
        return survey
    for field, value in changes.items():
        setattr(survey, field, value)
    survey.save()
    record_audit(
        actor=_user(actor), action="survey.update", instance=survey, changes={"fields": sorted(changes)}
    )
    return survey


@transaction.atomic
def update_settings(
    *, resurvey_days: int, decline_days: int, monthly_account_cap: int, actor: Any = None
) -> SurveySettings:
    for field, value, limit in (
        ("resurvey_days", resurvey_days, 3650),
        ("decline_days", decline_days, 3650),
        ("monthly_account_cap", monthly_account_cap, 10_000),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= limit:
            raise ValidationError({field: _("Give a whole number from 0 to %(max)d.") % {"max": limit}})
    row, _created = SurveySettings.objects.select_for_update().get_or_create(pk=1)
    before = (row.resurvey_days, row.decline_days, row.monthly_account_cap)
    row.resurvey_days, row.decline_days, row.monthly_account_cap = (
        resurvey_days,
        decline_days,
        monthly_account_cap,
    )
    row.save()
    record_audit(
        actor=_user(actor),
        action="survey.settings",
        instance=row,
        changes={"before": list(before), "after": [resurvey_days, decline_days, monthly_account_cap]},
    )
    return row


# --- Answers ---------------------------------------------------------------------------------------


def clean_score(kind: str, score: Any) -> int:
    lowest, highest = SCALES[kind]
    if isinstance(score, bool) or not isinstance(score, int):
        try:
            score = int(str(score).strip())
        except (TypeError, ValueError):
            raise ValidationError(
                {"score": _("Give a score from %(low)d to %(high)d.") % {"low": lowest, "high": highest}}
            ) from None
    if not lowest <= score <= highest:
        raise ValidationError(
            {"score": _("Give a score from %(low)d to %(high)d.") % {"low": lowest, "high": highest}}
        )
    return score


def category_of(kind: str, score: int) -> str:
    return metrics.nps_category(score) if kind == SurveyKind.NPS else ""


def _detractor_task(answer: Answer, *, today: date | None = None) -> None:
    from touchpoint.tasks.models import TaskPriority, TaskSource, TaskType
    from touchpoint.tasks.services import create_task

    survey, account = answer.survey, answer.account
    who = answer.contact.name if answer.contact is not None else account.name
    notes = f"{who} answered {answer.score}/10 to “{survey.name}” (a detractor)."
    if answer.comment:
        notes += f"\n\n“{answer.comment[:1000]}”"
    task = create_task(
        account=account,
        title=f"Detractor: {who} gave {answer.score}/10"[:200],
        due_on=(today or timezone.localdate()) + timedelta(days=DETRACTOR_TASK_DUE_IN_DAYS),
        actor=None,
        priority=TaskPriority.HIGH,
        type=TaskType.RISK,
        source=TaskSource.RULE,
        notes=notes,
        about_label=f"Survey answer #{answer.pk}",
        about_url=reverse("survey", args=[survey.key]) + f"?answer={answer.pk}",
    )
    answer.task = task
    answer.save(update_fields=["task"])


def _on_detractor(answer: Answer) -> None:
    """What the survey says a detractor's answer does. A playbook or journey that cannot start (gone,
    switched off, no steps, paused) falls back to the owner's task: a detractor is never left alone."""
    survey, account = answer.survey, answer.account
    if survey.on_detractor == OnDetractor.PLAYBOOK:
        from touchpoint.playbooks.models import Playbook, RunTrigger
        from touchpoint.playbooks.services import AlreadyRunning, AlreadyStarted, start_playbook

        playbook = Playbook.objects.filter(name=survey.detractor_target).first()
        if playbook is not None:
            try:
                with transaction.atomic():
                    start_playbook(
                        account=account,
                        playbook=playbook,
                        actor=None,
                        trigger=RunTrigger.RULE,
                        occurrence_key=f"survey-answer:{answer.pk}",
                    )
                return
            except (AlreadyRunning, AlreadyStarted):
                return  # the account is already in it: the playbook's own tasks cover it
            except ValidationError:
                pass
    elif survey.on_detractor == OnDetractor.JOURNEY:
        from touchpoint.journeys import engine
        from touchpoint.journeys.models import Journey

        journey = Journey.objects.filter(key=survey.detractor_target).select_related("live_version").first()
        if journey is not None and journey.live_version is not None:
            enrollment = engine.enroll(
                version=journey.live_version,
                account=account,
                contact=answer.contact,
                entry_key=f"survey-answer:{answer.pk}",
                entry_data={"survey_id": survey.pk, "answer_id": answer.pk, "score": answer.score},
            )
            if enrollment is not None:
                return
    elif survey.on_detractor == OnDetractor.NOTHING:
        return
    _detractor_task(answer)


@transaction.atomic
def record_answer(
    *,
    survey: Survey,
    account: Account,
    contact: Contact | None,
    score: Any,
    comment: str = "",
    channel: str = Channel.EMAIL,
    language: str = "",
    outbox_row: Any = None,
    external_id: str = "",
    answered_at: datetime | None = None,
    actor: Any = None,
    react: bool = True,
) -> Answer:
    """Record one answer (validated first): the answer, its timeline and audit entries, the
    `survey.answered` event and, for a detractor, what the survey says (`react=False` skips that:
    an import of last year's answers opens no task today)."""
    score = clean_score(survey.kind, score)
    comment = _text(comment, "comment", limit=MAX_COMMENT)
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    if contact is not None and contact.account_id != account.pk:
        raise ValidationError({"contact": _("This person is not at this account.")})
    external_id = _text(external_id, "external_id", limit=128)
    now = timezone.now()
    answered_at = answered_at or now
    if answered_at > now + timedelta(minutes=5) or answered_at.year < 2000:
        raise ValidationError({"answered_at": _("Give a moment between 2000 and now.")})
    if external_id and Answer.objects.filter(survey=survey, external_id=external_id).exists():
        raise ValidationError({"external_id": _("This survey already has an answer with this ID.")})
    category = category_of(survey.kind, score)
    try:
        with transaction.atomic():
            answer = Answer.objects.create(
                survey=survey,
                account=account,
                contact=contact,
                score=score,
                comment=comment,
                category=category,
                language=(language or "")[:8],
                channel=channel,
                outbox_row=outbox_row,
                external_id=external_id,
                answered_at=answered_at,
            )
    except IntegrityError:
        raise ValidationError({"score": _("This invitation has been answered already.")}) from None
    record_on_timeline(
        account=account,
        kind=TIMELINE_KIND,
        title=f"{survey.name}: {score}",
        occurred_at=answered_at,
        body=comment,
        actor=_user(actor),
        subject=answer,
        data={
            "survey_id": survey.pk,
            "survey": survey.name,
            "survey_key": survey.key,
            "kind": survey.kind,
            "score": score,
            "category": category,
            "contact": contact.name if contact is not None else "",
        },
    )
    record_audit(
        actor=_user(actor),
        action="survey.answer",
        instance=answer,
        changes={"survey": survey.pk, "score": score, "channel": channel},
    )
    record_event(
        kind=EVENT_KIND,
        account=account,
        subject=answer,
        actor=_user(actor),
        occurred_at=answered_at,
        payload={
            "survey_id": survey.pk,
            "answer_id": answer.pk,
            "contact_id": contact.pk if contact is not None else None,
            "kind": survey.kind,
            "score": score,
            "category": category,
        },
    )
    if react and category == "detractor":
        _on_detractor(answer)
    return answer


def survey_of_row(row: Any) -> Survey | None:
    from touchpoint.journeys.survey_steps import survey_key

    key = survey_key(row.payload)
    return Survey.objects.filter(key=key).first() if key else None


@transaction.atomic
def answer_invitation(*, row: Any, score: Any, comment: str = "", language: str = "") -> Answer:
    """The answer page's POST: one answer per invitation (a second is refused, naming `score`)."""
    from touchpoint.journeys.models import OutboxRow

    # Only the row is locked (its contact is optional: PostgreSQL locks no outer join's nullable side).
    row = OutboxRow.objects.select_for_update().get(pk=row.pk)
    survey = survey_of_row(row)
    if survey is None:
        raise ValidationError({"score": _("This survey no longer exists.")})
    if Answer.objects.filter(outbox_row=row).exists():
        raise ValidationError({"score": _("This invitation has been answered already.")})
    channel = Channel.IN_APP if row.kind == "in_app" else Channel.EMAIL
    return record_answer(
        survey=survey,
        account=row.account,
        contact=row.contact,
        score=score,
        comment=comment,
        channel=channel,
        language=language or row.language,
        outbox_row=row,
    )


@transaction.atomic
def decline_invitation(*, row: Any) -> Decline | None:
    """ "Not now": the person is asked again after the decline wait. Once per invitation; None
    when it was answered or declined already."""
    from touchpoint.journeys.models import OutboxRow

    row = OutboxRow.objects.select_for_update().get(pk=row.pk)
    survey = survey_of_row(row)
    if survey is None or Answer.objects.filter(outbox_row=row).exists():
        return None
    if Decline.objects.filter(outbox_row=row).exists():
        return None
    decline = Decline.objects.create(
        survey=survey, account_id=row.account_id, contact_id=row.contact_id, outbox_row=row
    )
    record_audit(actor=None, action="survey.decline", instance=decline, changes={"survey": survey.pk})
    return decline
