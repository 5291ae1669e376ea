"""Reads of surveys: the list, a survey's results, an account's answers. Each a bounded number of
queries; scores are computed by surveys/metrics.py from the answers' (score, group) rows, over the
accounts the reader may read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from touchpoint.accounts.models import Account
from touchpoint.accounts.rules import readable_accounts_q
from touchpoint.surveys import metrics, themes
from touchpoint.surveys.models import Answer, Survey, SurveyKind

RECENT = 20
TREND_MONTHS = 18


def answers_for(reader: Any) -> QuerySet[Answer]:
    """The answers this person may read (their accounts' answers)."""
    return Answer.objects.filter(readable_accounts_q(reader, "account__"))


@dataclass
class SurveyRow:
    survey: Survey
    count: int
    last_at: datetime | None
    figure: metrics.Nps | metrics.Mean


def survey_list(reader: Any, *, today: date | None = None) -> list[SurveyRow]:
    """Every survey with its answers' count and its figure over the last 12 months: three queries."""
    today = today or timezone.localdate()
    since = timezone.now() - timedelta(days=365)
    surveys = list(
        Survey.objects.annotate(
            answer_count=Count("answers", filter=Q(answers__in=answers_for(reader))),
            last_at=Max("answers__answered_at"),
        ).order_by("-is_active", "name", "id")
    )
    scores: dict[int, list[int]] = {}
    for survey_id, score in (
        answers_for(reader).filter(answered_at__gte=since).values_list("survey_id", "score").iterator()
    ):
        scores.setdefault(survey_id, []).append(score)
    return [
        SurveyRow(
            survey=survey,
            count=survey.answer_count,
            last_at=survey.last_at,
            figure=metrics.summary(survey.kind, scores.get(survey.pk, [])),
        )
        for survey in surveys
    ]


@dataclass
class Breakdown:
    label: str
    figure: metrics.Nps | metrics.Mean

    @property
    def bar(self) -> dict[str, float] | None:
        """Where the figure and its interval sit on the scale, in % of its width (for the page's bars)."""
        figure = self.figure
        if isinstance(figure, metrics.Nps):
            value, low, high, lowest, span = figure.score, figure.low, figure.high, -100.0, 200.0
        else:
            value, low, high = figure.average, figure.low, figure.high
            lowest, span = (1.0, 4.0) if figure.satisfied_share is not None else (1.0, 6.0)
        if value is None or low is None or high is None:
            return None
        return {
            "left": round(100 * (low - lowest) / span, 1),
            "width": round(100 * (high - low) / span, 1),
            "mark": round(100 * (value - lowest) / span, 1),
        }


@dataclass
class Results:
    survey: Survey
    figure: metrics.Nps | metrics.Mean
    distribution: list[tuple[int, int]]
    months: list[Breakdown]
    by_segment: list[Breakdown]
    by_owner: list[Breakdown]
    by_phase: list[Breakdown]
    recent: list[Answer] = field(default_factory=list)
    start: date | None = None
    end: date | None = None


def _breakdown(rows: list[dict[str, Any]], key: str, kind: str, *, empty: str) -> list[Breakdown]:
    groups = metrics.grouped(rows, key=lambda row: row[key] or "", score=lambda row: row["score"], kind=kind)
    items = [Breakdown(label=label or empty, figure=figure) for label, figure in groups.items()]
    items.sort(key=lambda item: (-item.figure.count, item.label))
    return items


def results(
    survey: Survey, reader: Any, *, start: date | None = None, end: date | None = None, empty: str = "—"
) -> Results:
    """The survey's figure, distribution, trend by month and breakdowns, over the reader's accounts
    between `start` and `end` (inclusive; default: everything). Two queries."""
    answers = answers_for(reader).filter(survey=survey)
    if start is not None:
        answers = answers.filter(answered_at__date__gte=start)
    if end is not None:
        answers = answers.filter(answered_at__date__lte=end)
    zone = timezone.get_current_timezone()
    rows: list[dict[str, Any]] = [
        {
            "score": score,
            "segment": segment,
            "owner": owner_name or owner_email,
            "phase": phase,
            "month": answered_at.astimezone(zone).strftime("%Y-%m"),
        }
        for score, answered_at, segment, owner_name, owner_email, phase in answers.values_list(
            "score",
            "answered_at",
            "account__segment__name",
            "account__owner__full_name",
            "account__owner__email",
            "account__placement__phase__name",
        ).order_by("answered_at", "id")
    ]
    kind = survey.kind
    scores = [row["score"] for row in rows]
    months = [
        Breakdown(label=month, figure=figure)
        for month, figure in metrics.grouped(
            rows, key=lambda r: r["month"], score=lambda r: r["score"], kind=kind
        ).items()
    ][-TREND_MONTHS:]
    recent = list(
        answers.select_related("account", "contact", "task").order_by("-answered_at", "-id")[:RECENT]
    )
    return Results(
        survey=survey,
        figure=metrics.summary(kind, scores),
        distribution=metrics.distribution(kind, scores),
        months=months,
        by_segment=_breakdown(rows, "segment", kind, empty=empty),
        by_owner=_breakdown(rows, "owner", kind, empty=empty),
        by_phase=_breakdown(rows, "phase", kind, empty=empty),
        recent=recent,
        start=start,
        end=end,
    )


def survey_themes(survey: Survey, reader: Any, *, since: datetime | None = None) -> list[themes.Theme]:
    """The survey's comments grouped by topic (the most recent themes.MAX_COMMENTS)."""
    answers = answers_for(reader).filter(survey=survey).exclude(comment="")
    if since is not None:
        answers = answers.filter(answered_at__gte=since)
    rows = answers.order_by("-answered_at", "-id").values_list("id", "comment", "score", "language")[
        : themes.MAX_COMMENTS
    ]
    return themes.themes([themes.Verbatim(id=i, text=c, score=s, language=lang) for i, c, s, lang in rows])


@dataclass
class AccountSurveys:
    figures: list[tuple[str, metrics.Nps | metrics.Mean]]
    answers: list[Answer]


def account_answers(account: Account, *, limit: int = 10) -> AccountSurveys:
    """The account's latest answers and its figure per kind over the last 12 months: two queries."""
    since = timezone.now() - timedelta(days=365)
    by_kind: dict[str, list[int]] = {}
    for kind, score in Answer.objects.filter(account=account, answered_at__gte=since).values_list(
        "survey__kind", "score"
    ):
        by_kind.setdefault(kind, []).append(score)
    figures = [(kind, metrics.summary(kind, by_kind[kind])) for kind in SurveyKind.values if kind in by_kind]
    answers = list(
        Answer.objects.filter(account=account)
        .select_related("survey", "contact", "task")
        .order_by("-answered_at", "-id")[:limit]
    )
    return AccountSurveys(figures=figures, answers=answers)
