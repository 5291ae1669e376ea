"""Surveys pages: the list (and a new survey), a survey (results, themes, texts, sending), the
settings, the account panel, and the public answer page.

Forms post back to their page; errors show beside the field with a 422; a write that succeeds
redirects. The answer page is public (no login): the signed token in its URL names the invitation.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from touchpoint.accounts.models import Account, Contact
from touchpoint.accounts.rules import readable_accounts_q
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.surveys import selectors, sending, services
from touchpoint.surveys import texts as survey_texts
from touchpoint.surveys.forms import ResultsFilterForm, SendForm, SettingsForm, SurveyForm
from touchpoint.surveys.models import SCALES, Answer, Decline, Survey, SurveySettings
from touchpoint.users.permissions import can, permission_required, require
from touchpoint.web.form_errors import show_beside_fields

# --- The list ----------------------------------------------------------------------------------------


@permission_required("surveys.view_survey")
@require_http_methods(["GET", "POST"])
def surveys_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    may_create = can(request.user, "surveys.add_survey")
    form = SurveyForm()
    status = 200
    if request.method == "POST":
        require(request.user, "surveys.add_survey")
        form = SurveyForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                survey = services.create_survey(
                    name=data["name"],
                    key=data["key"],
                    kind=data["kind"],
                    texts=form.texts_data(),
                    on_detractor=data["on_detractor"],
                    detractor_target=data["detractor_target"],
                    actor=request.user,
                )
            except ValidationError as error:
                show_beside_fields(form, error)
            else:
                return redirect(reverse("survey", args=[survey.key]))
        status = 422
    return render(
        request,
        "surveys/surveys.html",
        {
            "rows": selectors.survey_list(request.user),
            "may_create": may_create,
            "form": form,
            "may_settings": can(request.user, "surveys.change_surveysettings"),
        },
        status=status,
    )


# --- One survey --------------------------------------------------------------------------------------


def _audience(request: AuthenticatedHttpRequest, data: dict[str, Any]) -> list[Contact]:
    """The people a send reaches: of the accounts the sender may change, in the segment, with the role."""
    contacts = Contact.objects.select_related("account")
    account_id = data.get("account")
    if account_id:
        account = get_object_or_404(Account, pk=account_id)
        require(request.user, "surveys.send_survey", account)
        contacts = contacts.filter(account=account)
    else:
        user = request.user
        if not can(user, "surveys.change_survey"):  # a CSM: the accounts of their book
            contacts = contacts.filter(Q(account__owner=user) | Q(account__team__user=user))
        contacts = contacts.filter(readable_accounts_q(user, "account__"))
    if data.get("segment") is not None:
        contacts = contacts.filter(account__segment=data["segment"])
    if data.get("role"):
        contacts = contacts.filter(roles__role=data["role"])
    return list(contacts.distinct().order_by("account_id", "id")[: sending.MAX_SEND + 1])


def _survey_page(
    request: AuthenticatedHttpRequest,
    survey: Survey,
    *,
    edit_form: SurveyForm | None = None,
    send_form: SendForm | None = None,
    status: int = 200,
) -> HttpResponse:
    filters = ResultsFilterForm(request.GET or None)
    start = end = None
    if filters.is_bound and filters.is_valid():
        start, end = filters.cleaned_data.get("start"), filters.cleaned_data.get("end")
    results = selectors.results(survey, request.user, start=start, end=end, empty=_("None"))
    may_change = can(request.user, "surveys.change_survey")
    may_send = can(request.user, "surveys.send_survey")
    highlighted = request.GET.get("answer", "")
    figure = results.figure
    distribution_max = max((count for _score, count in results.distribution), default=0)
    return render(
        request,
        "surveys/survey.html",
        {
            "survey": survey,
            "results": results,
            "figure": figure,
            "distribution_max": distribution_max or 1,
            "themes": selectors.survey_themes(survey, request.user),
            "filters": filters,
            "may_change": may_change,
            "may_send": may_send,
            "edit_form": edit_form
            or (SurveyForm(initial=SurveyForm.initial_for(survey), editing=True) if may_change else None),
            "send_form": send_form or (SendForm() if may_send else None),
            "highlighted": highlighted if highlighted.isdecimal() else "",
            "survey_languages": [
                (code, survey_texts.words(survey.kind, survey.texts, code)) for code in survey_texts.LANGUAGES
            ],
            "scale": SCALES[survey.kind],
        },
        status=status,
    )


@permission_required("surveys.view_survey")
@require_http_methods(["GET", "POST"])
def survey_page(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    survey = get_object_or_404(Survey, key=key)
    if request.method == "GET":
        return _survey_page(request, survey)
    action = request.POST.get("action", "")
    if action == "edit":
        require(request.user, "surveys.change_survey", survey)
        form = SurveyForm(request.POST, editing=True)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.update_survey(
                    survey=survey,
                    actor=request.user,
                    name=data["name"],
                    texts=form.texts_data(),
                    on_detractor=data["on_detractor"],
                    detractor_target=data["detractor_target"],
                )
            except ValidationError as error:
                show_beside_fields(form, error)
            else:
                messages.success(request, _("Survey saved."))
                return redirect(reverse("survey", args=[survey.key]))
        return _survey_page(request, survey, edit_form=form, status=422)
    if action in ("activate", "deactivate"):
        require(request.user, "surveys.change_survey", survey)
        services.update_survey(survey=survey, actor=request.user, is_active=action == "activate")
        return redirect(reverse("survey", args=[survey.key]))
    if action == "send":
        require(request.user, "surveys.send_survey")
        send = SendForm(request.POST)
        if send.is_valid():
            contacts = _audience(request, send.cleaned_data)
            try:
                result = sending.send_survey(
                    survey=survey, contacts=contacts, channel=send.cleaned_data["channel"], actor=request.user
                )
            except ValidationError as error:
                show_beside_fields(send, error)
            else:
                skipped = sum(result.skipped.values())
                messages.success(
                    request,
                    _(
                        "Invited %(sent)d people; %(skipped)d were left out (asked recently, no address or already invited)."
                    )
                    % {"sent": result.enrolled, "skipped": skipped},
                )
                return redirect(reverse("survey", args=[survey.key]))
        return _survey_page(request, survey, send_form=send, status=422)
    return HttpResponse(status=400)


@permission_required("surveys.view_surveysettings")
@require_http_methods(["GET", "POST"])
def settings_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    current = SurveySettings.current()
    may_change = can(request.user, "surveys.change_surveysettings")
    form = SettingsForm(
        initial={
            "resurvey_days": current.resurvey_days,
            "decline_days": current.decline_days,
            "monthly_account_cap": current.monthly_account_cap,
        }
    )
    status = 200
    if request.method == "POST":
        require(request.user, "surveys.change_surveysettings")
        form = SettingsForm(request.POST)
        if form.is_valid():
            try:
                services.update_settings(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                show_beside_fields(form, error)
            else:
                messages.success(request, _("Survey settings saved."))
                return redirect(reverse("surveys-settings"))
        status = 422
    return render(request, "surveys/settings.html", {"form": form, "may_change": may_change}, status=status)


# --- The account panel -------------------------------------------------------------------------------


@permission_required("surveys.view_survey")
@require_GET
def account_surveys(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, "surveys.view_answer", account)
    found = selectors.account_answers(account)
    return render(
        request,
        "surveys/_account_surveys.html",
        {"account": account, "figures": found.figures, "answers": found.answers},
    )


# --- The public answer page --------------------------------------------------------------------------


def _answer_context(row: Any, survey: Survey, language: str) -> dict[str, Any]:
    words = survey_texts.words(survey.kind, survey.texts, language)
    lowest, highest = SCALES[survey.kind]
    with translation.override(language):
        low_label, high_label = sending._scale_ends(survey.kind)
    return {
        "survey": survey,
        "words": words,
        "scores": list(range(lowest, highest + 1)),
        "low_label": low_label,
        "high_label": high_label,
        "language": language,
        "contact_name": row.contact.name if row.contact is not None else "",
        "account_name": row.account.name,
    }


@require_http_methods(["GET", "POST"])
def answer_page(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the question (never answers: a scanner following the link must not answer for
    the person); POST records the answer, or a decline ("not now")."""
    row = sending.row_for_token(token)
    if row is None:
        raise Http404("unknown survey link")
    survey = services.survey_of_row(row)
    if survey is None:
        raise Http404("the survey is gone")
    language = survey_texts.language_for(survey.texts, contact=row.contact, account=row.account)
    context = _answer_context(row, survey, language)
    answered = Answer.objects.filter(outbox_row=row).first()
    declined = Decline.objects.filter(outbox_row=row).exists()
    chosen = request.GET.get("score", "")
    context |= {"answered": answered, "declined": declined, "chosen": chosen, "error": "", "comment": ""}
    status = 200
    if request.method == "POST" and answered is None:
        status = _post_answer(request, row, language, context)
    with translation.override(language):
        response = render(request, "surveys/public/answer.html", context, status=status)
    response["X-Robots-Tag"] = "noindex"
    # Not "no-referrer": the browser would then send "Origin: null" with the form and CSRF would refuse it.
    response["Referrer-Policy"] = "same-origin"  # the token never leaks to another site
    return response


def _post_answer(request: HttpRequest, row: Any, language: str, context: dict[str, Any]) -> int:
    with translation.override(language):  # the service's messages in the person's language
        if request.POST.get("action") == "decline":
            services.decline_invitation(row=row)
            context["declined"] = True
            return 200
        try:
            context["answered"] = services.answer_invitation(
                row=row,
                score=request.POST.get("score", ""),
                comment=request.POST.get("comment", ""),
                language=language,
            )
        except ValidationError as error:
            found = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
            context["error"] = " ".join(str(m) for ms in found.values() for m in ms)
            context["chosen"] = request.POST.get("score", "")[:4]
            context["comment"] = request.POST.get("comment", "")[:5000]
            return 422
    return 200
