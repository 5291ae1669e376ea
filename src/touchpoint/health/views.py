"""Health pages: the account panel, the portfolio distribution, scorecards and the back-test."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from touchpoint.accounts.forms import PortfolioFilterForm
from touchpoint.accounts.models import Account
from touchpoint.accounts.selectors import portfolio
from touchpoint.health import backtest, charts, fit, learned, selectors, services
from touchpoint.health.forms import ApplyYamlForm, BacktestForm, ScorecardForm
from touchpoint.health.measures import registered_measures
from touchpoint.health.models import Grade, Scorecard, ScorecardVersion
from touchpoint.health.scoring import DEFAULT_GREEN_AT, DEFAULT_RED_BELOW, Definition, describe_changes
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.users.audit import record_export
from touchpoint.users.permissions import can, permission_required, require


@login_required
@require_GET
def account_health_panel(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, "health.view_healthscore", account)
    explained = selectors.explain(account)
    context = {"account": account, "health": explained, "chart_svg": ""}
    if explained.score is not None:
        version = selectors.version_of(explained.score)
        definition = Definition.from_dict(version.definition) if version is not None else None
        context["version"] = version
        context["chart_svg"] = charts.history_svg(
            explained.history,
            green_at=definition.green_at if definition else DEFAULT_GREEN_AT,
            red_below=definition.red_below if definition else DEFAULT_RED_BELOW,
        )
        context["movers"] = [d for d in explained.drivers if d.change][:2]
        context["learned"] = selectors.learned_risk(explained.score, version)
    return render(request, "health/_account_health.html", context)


@login_required
@require_GET
def distribution(request: HttpRequest) -> HttpResponse:
    """Grades across the portfolio as filtered (the portfolio page loads this with htmx)."""
    accounts = portfolio(PortfolioFilterForm(request.GET).to_filter(), reader=request.user)
    counts = selectors.grade_distribution(accounts)
    labels = {value: str(label) for value, label in Grade.choices}
    return render(
        request,
        "health/_distribution.html",
        {
            "chart_svg": charts.distribution_svg(counts, labels) if sum(counts.values()) else "",
            "counts": [
                (value, labels[value], counts.get(value, 0))
                for value in ("green", "yellow", "red", "unknown")
            ],
        },
    )


@permission_required("health.view_scorecard")
@require_http_methods(["GET", "POST"])
def scorecards(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every scorecard with its current version; YAML in and out."""
    form = ApplyYamlForm(request.POST or None)
    if request.method == "POST":
        require(request.user, "health.change_scorecard")
        if form.is_valid():
            try:
                services.apply_scorecards_yaml(text=form.cleaned_data["yaml"], actor=request.user)
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    form.add_error("yaml", [f"{field}: {message}" for message in messages])
            else:
                return redirect("health-scorecards")
    return render(
        request,
        "health/scorecards.html",
        {
            "scorecards": selectors.scorecards(),
            "form": form,
            "yaml": selectors.scorecards_yaml(),
            "can_change": can(request.user, "health.change_scorecard"),
        },
        status=400 if form.errors else 200,
    )


@permission_required("health.view_scorecard")
@require_GET
def scorecards_export(request: HttpRequest) -> HttpResponse:
    record_export(request, what="scorecards.yaml", rows=None)
    response = HttpResponse(selectors.scorecards_yaml(), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="scorecards.yaml"'
    return response


@permission_required("health.view_scorecard")
@require_http_methods(["GET", "POST"])
def scorecard_edit(request: AuthenticatedHttpRequest, scorecard_id: int | None = None) -> HttpResponse:
    """Edit a scorecard (a new version on save) or create one for a segment; its version history."""
    scorecard = get_object_or_404(selectors.scorecards(), pk=scorecard_id) if scorecard_id else None
    definition = (
        Definition.from_dict(scorecard.current_version.definition)
        if scorecard and scorecard.current_version
        else None
    )
    initial = {"name": scorecard.name} if scorecard else {}
    form = ScorecardForm(request.POST or None, definition=definition, new=scorecard is None, initial=initial)
    can_change = can(request.user, "health.change_scorecard" if scorecard else "health.add_scorecard")
    if request.method == "POST":
        require(request.user, "health.change_scorecard" if scorecard else "health.add_scorecard")
        if form.is_valid():
            try:
                version = services.save_scorecard(
                    definition=form.cleaned_data["definition"],
                    actor=request.user,
                    scorecard=scorecard,
                    name=form.cleaned_data["name"],
                    segment=form.cleaned_data.get("segment"),
                    note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                _say_what_changed(request, definition, version)
                return redirect("health-scorecard", scorecard_id=version.scorecard_id)
    versions = scorecard.versions.select_related("created_by").order_by("-number") if scorecard else []
    return render(
        request,
        "health/scorecard_edit.html",
        {
            "scorecard": scorecard,
            "form": form,
            "versions": versions,
            "can_change": can_change,
        },
        status=400 if form.errors else 200,
    )


def _say_what_changed(request: HttpRequest, before: Definition | None, version: ScorecardVersion) -> None:
    """A message after saving: the new version and each change ("Weight of Logins 20 → 30")."""
    if before is None:
        messages.success(request, _("Scorecard saved."))
        return
    labels = {measure.key: str(measure.label) for measure in registered_measures()}
    changes = describe_changes(before, Definition.from_dict(version.definition), labels)
    if not changes:
        messages.info(request, _("Nothing changed: the scorecard is as it was."))
        return
    messages.success(
        request,
        _("Saved as version %(number)s: %(changes)s. Scores change at the next daily run, or rescore now.")
        % {"number": version.number, "changes": "; ".join(changes)},
    )


@permission_required("health.change_scorecard")
@require_POST
def rescore(request: AuthenticatedHttpRequest, scorecard_id: int) -> HttpResponse:
    """ "Rescore now": today's scores of every account, with the scorecards as they are, in the background."""
    scorecard = get_object_or_404(selectors.scorecards(), pk=scorecard_id)
    services.request_rescore(actor=request.user, scorecard=scorecard)
    messages.info(
        request,
        _("Rescoring every account for today: the new scores show in a minute or two (the worker runs it)."),
    )
    return redirect("health-scorecard", scorecard_id=scorecard.pk)


def _backtest_inputs(
    request: HttpRequest, data, *, writing: bool = False
) -> tuple[BacktestForm, Scorecard, backtest.Period | None]:
    form = BacktestForm(data)
    if writing:
        services.ensure_default_scorecard()  # a POST may write; a GET reads what the migration made
    cleaned = form.cleaned_data if form.is_valid() else {}
    scorecard = None
    if cleaned.get("scorecard"):
        scorecard = selectors.scorecards().filter(pk=cleaned["scorecard"]).first()
    scorecard = scorecard or selectors.scorecards().filter(segment__isnull=True).first()
    if scorecard is None or scorecard.current_version is None:
        raise Http404(_("There is no default scorecard: run “touchpoint migrate”."))
    period = None
    if form.is_valid():
        try:
            period = backtest.Period.around_today(
                start=cleaned.get("start"),
                end=cleaned.get("end"),
                every=cleaned.get("every") or 7,
                horizon=cleaned.get("horizon") or backtest.DEFAULT_HORIZON,
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                form.add_error(field, messages)
    return form, scorecard, period


@permission_required("health.view_scorecard")
@require_GET
def backtest_page(request: HttpRequest) -> HttpResponse:
    """How well the scorecard's past scores foresaw churn and contraction, beside a fitted proposal."""
    form, scorecard, period = _backtest_inputs(request, request.GET or None)
    context: dict[str, Any] = {
        "form": form,
        "scorecard": scorecard,
        "scorecards": selectors.scorecards(),
        "can_accept": can(request.user, "health.change_scorecard"),
    }
    if period is not None:
        assert (
            scorecard.current_version is not None
        )  # save_scorecard makes a scorecard with its first version
        definition = Definition.from_dict(scorecard.current_version.definition)
        samples = backtest.collect(
            period, segment=scorecard.segment, measures=[rule.measure for rule in definition.rules]
        )
        result = backtest.evaluate(samples, definition)
        context.update(period=period, result=result, definition=definition)
        try:
            context["learned"] = learned.propose_learned(definition, period, samples=samples)
        except ValidationError as error:
            context["learned_error"] = " ".join(
                m for messages in error.message_dict.values() for m in messages
            )
        context["learned_in_use"] = selectors.learned_model_in_use(scorecard.pk)
        try:
            proposal = fit.propose(definition, period, samples=samples)
        except ValidationError as error:
            context["fit_error"] = " ".join(m for messages in error.message_dict.values() for m in messages)
        else:
            context["proposal"] = proposal
            context["rules"] = list(zip(definition.rules, proposal.definition.rules, strict=True))
            current_label = f"{scorecard.name} v{scorecard.current_version.number}"
            proposed_label = _("Proposal")
            deciles = {current_label: proposal.current.deciles, proposed_label: proposal.proposed.deciles}
            calibration = {
                current_label: proposal.current.calibration,
                proposed_label: proposal.proposed.calibration,
            }
            if "learned" in context:
                deciles[_("Learned model")] = context["learned"].proposed.deciles
                calibration[_("Learned model")] = context["learned"].proposed.calibration
            context["lift_svg"] = charts.lift_svg(deciles)
            context["calibration_svg"] = charts.calibration_svg(calibration)
        if "lift_svg" not in context:
            context["lift_svg"] = charts.lift_svg({scorecard.name: result.deciles})
            context["calibration_svg"] = charts.calibration_svg({scorecard.name: result.calibration})
    return render(request, "health/backtest.html", context, status=400 if form.errors else 200)


@permission_required("health.change_scorecard")
@require_POST
def accept_proposal(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Fit again on the same period (deterministic) and keep the proposal as the scorecard's new version."""
    form, scorecard, period = _backtest_inputs(request, request.POST, writing=True)
    if period is None:
        return _refit_page(request, form, scorecard)
    assert scorecard.current_version is not None  # save_scorecard makes a scorecard with its first version
    definition = Definition.from_dict(scorecard.current_version.definition)
    try:
        proposal = fit.propose(definition, period, segment=scorecard.segment)
    except ValidationError as error:
        form.add_error(None, [m for messages in error.message_dict.values() for m in messages])
        return _refit_page(request, form, scorecard)
    try:
        services.apply_proposal(
            scorecard=scorecard,
            proposal=proposal,
            period=period,
            actor=request.user,
            override=request.POST.get("override") == "1",
        )
    except ValidationError:
        form.add_error(
            None,
            _(
                "The proposal is no improvement on the current scorecard on the test days; "
                "tick “Apply it anyway” to apply it all the same."
            ),
        )
        return _refit_page(request, form, scorecard)
    return redirect("health-scorecard", scorecard_id=scorecard.pk)


def _refit_page(request: HttpRequest, form: BacktestForm, scorecard: Scorecard) -> HttpResponse:
    return render(
        request,
        "health/backtest.html",
        {"form": form, "scorecard": scorecard, "scorecards": selectors.scorecards()},
        status=400,
    )


@permission_required("health.change_scorecard")
@require_POST
def apply_learned(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Fit the learned model again on the same period (deterministic) and put it in use beside the
    scorecard; one that is no improvement needs the override ticked."""
    form, scorecard, period = _backtest_inputs(request, request.POST, writing=True)
    if period is None:
        return _refit_page(request, form, scorecard)
    assert scorecard.current_version is not None  # save_scorecard makes a scorecard with its first version
    definition = Definition.from_dict(scorecard.current_version.definition)
    try:
        proposal = learned.propose_learned(definition, period, segment=scorecard.segment)
        services.apply_learned_model(
            scorecard=scorecard,
            proposal=proposal,
            actor=request.user,
            override=request.POST.get("override") == "1",
            note=learned.fit_note(proposal, period),
        )
    except ValidationError as error:
        form.add_error(None, [m for messages in error.message_dict.values() for m in messages])
        return _refit_page(request, form, scorecard)
    messages.success(request, _("The learned model is in use: account pages show its risk and reasons."))
    return redirect(f"{reverse('health-backtest')}?scorecard={scorecard.pk}")


@permission_required("health.change_scorecard")
@require_POST
def withdraw_learned(request: AuthenticatedHttpRequest, scorecard_id: int) -> HttpResponse:
    scorecard = get_object_or_404(Scorecard, pk=scorecard_id)
    if services.withdraw_learned_model(scorecard=scorecard, actor=request.user):
        messages.success(request, _("The learned model is no longer used."))
    return redirect(f"{reverse('health-backtest')}?scorecard={scorecard.pk}")
