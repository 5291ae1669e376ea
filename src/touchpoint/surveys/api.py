"""REST API for surveys: list, create and read surveys, send one, list its answers, its scores (NPS
with its interval, by month, segment, owner and phase), and record an answer from another tool."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from pydantic import Field

from touchpoint.accounts.models import Account, Contact
from touchpoint.api_contract import (
    READ,
    WRITE,
    Day,
    Id,
    Moment,
    Page,
    Paging,
    Strict,
    Text,
    answers,
    caller,
    page_of,
    require_perm,
)
from touchpoint.surveys import metrics, selectors, sending, services
from touchpoint.surveys.models import Answer, Channel, Survey

router = Router(tags=["surveys"])

Key = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]{0,59}$")]
Kind = Literal["nps", "csat", "ces"]
OnDetractor = Literal["task", "playbook", "journey", "nothing"]
Language = Literal["en", "ja", "ru", "th"]


class TextsIn(Strict):
    question: Text = Field("", max_length=500)
    follow_up: Text = Field("", max_length=500)
    subject: Text = Field("", max_length=200)
    intro: Text = Field("", max_length=2000)


class SurveyIn(Strict):
    name: Text = Field(min_length=1, max_length=200)
    key: Key | Literal[""] = Field("", description="Made from the name when empty")
    kind: Kind = "nps"
    texts: dict[Language, TextsIn] = Field(default_factory=dict, description="Per language: en, ja, ru, th")
    on_detractor: OnDetractor = "task"
    detractor_target: Text = Field("", max_length=120, description="A playbook's name or a journey's key")


class SurveyOut(Schema):
    id: int
    key: str
    name: str
    kind: Kind
    texts: dict[str, dict[str, str]]
    on_detractor: OnDetractor
    detractor_target: str
    is_active: bool


class FigureOut(Schema):
    count: int
    score: float | None = Field(
        description="NPS (−100 to 100), or the average for CSAT/CES; null without answers"
    )
    low: float | None = Field(description="95% confidence interval, low end")
    high: float | None
    promoters: int | None = None
    passives: int | None = None
    detractors: int | None = None
    satisfied_share: float | None = Field(None, description="CSAT: % of answers 4 or 5")


class GroupOut(Schema):
    label: str
    figure: FigureOut


class ScoresOut(Schema):
    survey: str
    kind: Kind
    figure: FigureOut
    distribution: list[list[int]] = Field(description="[score, answers] for each score of the scale")
    months: list[GroupOut]
    by_segment: list[GroupOut]
    by_owner: list[GroupOut]
    by_phase: list[GroupOut]


class AnswerOut(Schema):
    id: int
    survey: str
    account_id: int
    contact_id: int | None
    score: int
    category: Literal["promoter", "passive", "detractor", ""]
    comment: str
    language: str
    channel: Literal["email", "in_app", "import"]
    answered_at: datetime
    task_id: int | None


class AnswerIn(Strict):
    account_id: Id
    contact_id: Id | None = None
    score: int = Field(ge=0, le=10)
    comment: Text = Field("", max_length=5000)
    answered_at: Moment | None = None
    external_id: Text = Field("", max_length=128, description="The other tool's id: a second post is a 409")


class SendIn(Strict):
    channel: Literal["email", "in_app"] = "email"
    contact_ids: list[Id] = Field(min_length=1, max_length=sending.MAX_SEND)


class SentOut(Schema):
    invited: int
    skipped: dict[str, int]


def _survey_out(survey: Survey) -> dict:
    return {
        "id": survey.pk,
        "key": survey.key,
        "name": survey.name,
        "kind": survey.kind,
        "texts": survey.texts,
        "on_detractor": survey.on_detractor,
        "detractor_target": survey.detractor_target,
        "is_active": survey.is_active,
    }


def _figure(figure: metrics.Nps | metrics.Mean) -> dict:
    if isinstance(figure, metrics.Nps):
        return {
            "count": figure.count,
            "score": figure.score,
            "low": figure.low,
            "high": figure.high,
            "promoters": figure.promoters,
            "passives": figure.passives,
            "detractors": figure.detractors,
        }
    return {
        "count": figure.count,
        "score": figure.average,
        "low": figure.low,
        "high": figure.high,
        "satisfied_share": figure.satisfied_share,
    }


def _answer_out(answer: Answer) -> dict:
    return {
        "id": answer.pk,
        "survey": answer.survey.key,
        "account_id": answer.account_id,
        "contact_id": answer.contact_id,
        "score": answer.score,
        "category": answer.category,
        "comment": answer.comment,
        "language": answer.language,
        "channel": answer.channel,
        "answered_at": answer.answered_at,
        "task_id": answer.task_id,
    }


@router.get("/surveys", response=answers({200: Page[SurveyOut]}, *READ), summary="List surveys")
def list_surveys(request: HttpRequest, paging: Query[Paging]):
    require_perm(request, "surveys.view_survey")
    return page_of(Survey.objects.order_by("name", "id"), paging, _survey_out)


@router.post("/surveys", response=answers({201: SurveyOut}, *WRITE), summary="Create a survey")
def create_survey(request: HttpRequest, body: SurveyIn):
    require_perm(request, "surveys.add_survey")
    survey = services.create_survey(
        name=body.name,
        key=body.key,
        kind=body.kind,
        texts={lang: parts.model_dump() for lang, parts in body.texts.items()},
        on_detractor=body.on_detractor,
        detractor_target=body.detractor_target,
        actor=caller(request),
    )
    return Status(201, _survey_out(survey))


@router.get("/surveys/{key}", response=answers({200: SurveyOut}, *READ, 404), summary="Get a survey")
def get_survey(request: HttpRequest, key: Key):
    require_perm(request, "surveys.view_survey")
    return _survey_out(get_object_or_404(Survey, key=key))


@router.get(
    "/surveys/{key}/scores",
    response=answers({200: ScoresOut}, *READ, 404),
    summary="A survey's scores: NPS (or average) with its interval, by month, segment, owner and phase",
)
def survey_scores(request: HttpRequest, key: Key, start: Day | None = None, end: Day | None = None):
    """Over the accounts the caller may read, between `start` and `end` (inclusive) when given. The
    interval is the adjusted-Wald 95% interval for NPS, a normal interval of the mean for CSAT/CES."""
    require_perm(request, "surveys.view_survey")
    survey = get_object_or_404(Survey, key=key)
    found = selectors.results(survey, caller(request), start=start, end=end, empty="")

    def groups(items: list[selectors.Breakdown]) -> list[dict]:
        return [{"label": item.label, "figure": _figure(item.figure)} for item in items]

    return {
        "survey": survey.key,
        "kind": survey.kind,
        "figure": _figure(found.figure),
        "distribution": [[score, count] for score, count in found.distribution],
        "months": groups(found.months),
        "by_segment": groups(found.by_segment),
        "by_owner": groups(found.by_owner),
        "by_phase": groups(found.by_phase),
    }


@router.get(
    "/surveys/{key}/answers",
    response=answers({200: Page[AnswerOut]}, *READ, 404),
    summary="A survey's answers, newest first",
)
def list_answers(
    request: HttpRequest,
    key: Key,
    paging: Query[Paging],
    account_id: Id | None = None,
    category: Literal["promoter", "passive", "detractor"] | None = None,
    since: Day | None = None,
):
    require_perm(request, "surveys.view_survey")
    survey = get_object_or_404(Survey, key=key)
    found = selectors.answers_for(caller(request)).filter(survey=survey).select_related("survey")
    if account_id is not None:
        found = found.filter(account_id=account_id)
    if category is not None:
        found = found.filter(category=category)
    if since is not None:
        found = found.filter(answered_at__date__gte=since)
    return page_of(found.order_by("-answered_at", "-id"), paging, _answer_out)


@router.post(
    "/surveys/{key}/answers",
    response=answers({201: AnswerOut}, *WRITE, 404, 409),
    summary="Record an answer given elsewhere (another tool, a call)",
)
def post_answer(request: HttpRequest, key: Key, body: AnswerIn):
    """Recorded as an answer of the survey's kind (a score outside its scale is a 422 naming `score`):
    on the timeline, with the `survey.answered` event and, for a detractor, what the survey says."""
    survey = get_object_or_404(Survey, key=key)
    account = get_object_or_404(Account, pk=body.account_id)
    require_perm(request, "surveys.add_answer", account)
    contact = None
    if body.contact_id is not None:
        contact = get_object_or_404(Contact, pk=body.contact_id)
    if body.external_id and Answer.objects.filter(survey=survey, external_id=body.external_id).exists():
        from ninja.errors import HttpError

        raise HttpError(409, "This survey already has an answer with this external_id.")
    answer = services.record_answer(
        survey=survey,
        account=account,
        contact=contact,
        score=body.score,
        comment=body.comment,
        channel=Channel.IMPORT,
        external_id=body.external_id,
        answered_at=body.answered_at,
        actor=caller(request),
    )
    answer.survey = survey
    return Status(201, _answer_out(answer))


@router.post(
    "/surveys/{key}/send",
    response=answers({200: SentOut}, *WRITE, 404),
    summary="Send a survey to people (through the survey's journey)",
)
def send(request: HttpRequest, key: Key, body: SendIn):
    """Each person is enrolled in the survey's sending journey (email or in-app), so consent, quiet
    hours, caps and exactly-once delivery apply; people asked recently are skipped (`skipped`)."""
    require_perm(request, "surveys.send_survey")
    survey = get_object_or_404(Survey, key=key)
    contacts = list(Contact.objects.filter(pk__in=body.contact_ids).select_related("account"))
    if len(contacts) != len(set(body.contact_ids)):
        from django.core.exceptions import ValidationError

        raise ValidationError({"contact_ids": "Some of these people do not exist."})
    for contact in contacts:
        require_perm(request, "surveys.send_survey", contact.account)
    result = sending.send_survey(
        survey=survey, contacts=contacts, channel=body.channel, actor=caller(request)
    )
    return {"invited": result.enrolled, "skipped": dict(result.skipped)}
