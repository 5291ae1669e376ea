"""The "survey answers" CSV import kind (`touchpoint import survey_answers FILE`, the import page):
a company brings the answers of its old tool (Delighted, Wootric, a spreadsheet).

Each row is one answer: the survey (its key), the account (external ID or name), the person (email,
optional), the score, the comment, the day it was given and the old tool's id. It writes through
`surveys.services.record_answer` with `react=False` (last year's detractors open no task today) and
the old id as the answer's external id, so importing the same file again adds nothing.
"""

from __future__ import annotations

from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from touchpoint.accounts.models import Account, Contact
from touchpoint.integrations.csv_import.importers import (
    Field,
    Importer,
    Lookups,
    RowProblem,
    date_value,
    register,
    require_row,
    required,
    service_problem,
    text,
)
from touchpoint.surveys import services
from touchpoint.surveys.models import SCALES, Answer, Channel, Survey
from touchpoint.users.models import User

KIND = "survey_answers"


def _clean(row: dict[str, str], lookups: Lookups, context: dict) -> dict:
    key = required(row, "survey", 60)
    survey = Survey.objects.filter(key=key).first()
    if survey is None:
        raise RowProblem("survey", _("No survey has the key “%(value)s”.") % {"value": key})
    account_ref = required(row, "account")
    account_id = lookups.account(account_ref)
    if account_id is None:
        raise RowProblem(
            "account", _("No account with external ID (or name) “%(value)s”.") % {"value": account_ref}
        )
    raw_score = required(row, "score", 10)
    lowest, highest = SCALES[survey.kind]
    try:
        score = int(float(raw_score.replace(",", ".")))
        if float(raw_score.replace(",", ".")) != score:
            raise ValueError
    except ValueError:
        raise RowProblem("score", _("“%(value)s” is not a whole number.") % {"value": raw_score}) from None
    if not lowest <= score <= highest:
        raise RowProblem(
            "score", _("Give a score from %(low)d to %(high)d.") % {"low": lowest, "high": highest}
        )
    day = date_value(row, "answered_on", context)
    if day is None:
        raise RowProblem("answered_on", _("Required, but empty."))
    if day.year < 2000 or day > timezone.localdate():
        raise RowProblem("answered_on", _("Give a day between 2000 and today."))
    email = text(row, "email", 254).lower()
    contact_id = None
    if email:
        contact_id = (
            Contact.objects.filter(account_id=account_id, email__iexact=email)
            .values_list("pk", flat=True)
            .first()
        )
        if contact_id is None:
            raise RowProblem(
                "email", _("Nobody at this account has the email “%(value)s”.") % {"value": email}
            )
    return {
        "survey_id": survey.pk,
        "account_id": account_id,
        "contact_id": contact_id,
        "score": score,
        "comment": text(row, "comment", services.MAX_COMMENT),
        "answered_at": timezone.make_aware(datetime.combine(day, time(12, 0))),
        "external_id": text(row, "external_id", 128),
        "language": text(row, "language", 8).lower()[:8],
    }


def _apply(values: dict, lookups: Lookups, actor: User | None) -> str:
    account = lookups.instance(Account, values["account_id"])
    require_row(actor, "surveys.add_answer", account, "account")
    survey = lookups.instance(Survey, values["survey_id"])
    if (
        values["external_id"]
        and Answer.objects.filter(survey=survey, external_id=values["external_id"]).exists()
    ):
        return "unchanged"
    contact = lookups.instance(Contact, values["contact_id"]) if values["contact_id"] else None
    try:
        services.record_answer(
            survey=survey,
            account=account,
            contact=contact,
            score=values["score"],
            comment=values["comment"],
            channel=Channel.IMPORT,
            language=values["language"],
            external_id=values["external_id"],
            answered_at=values["answered_at"],
            actor=actor,
            react=False,
        )
    except ValidationError as error:
        raise service_problem(error, "score") from None
    return "created"


def register_kind() -> None:
    register(
        Importer(
            kind=KIND,
            label=gettext_lazy("Survey answers"),
            clean=_clean,
            apply=_apply,
            date_fields=("answered_on",),
            fields=[
                Field("survey", gettext_lazy("Survey key"), ("Survey", "Survey Key"), True),
                Field(
                    "account",
                    gettext_lazy("Account external ID (or name)"),
                    ("Account ID", "Account External ID", "Company", "Company name", "Account Name"),
                    True,
                ),
                Field(
                    "email", gettext_lazy("Person's email"), ("Email", "End User Email", "Respondent Email")
                ),
                Field("score", gettext_lazy("Score"), ("Score", "Rating", "NPS"), True),
                Field("comment", gettext_lazy("Comment"), ("Comment", "Text", "Feedback", "Verbatim")),
                Field(
                    "answered_on",
                    gettext_lazy("Answered on"),
                    ("Created", "Created At", "Date", "Response Date", "Answered At"),
                    True,
                ),
                Field("external_id", gettext_lazy("Answer ID (from the old tool)"), ("Response ID", "ID")),
                Field("language", gettext_lazy("Language"), ("Locale",)),
            ],
        )
    )
