"""The journeys pages: the list, the builder (steps edited in place, the YAML, previews, the
simulation, launch and pause), version history with diffs, stats, the account panel, delivery
settings and webhook endpoints.

Every change to a definition is a new version saved through services.save_version after
documents has validated the YAML: the builder's forms only write YAML, as a person would.
"""

from __future__ import annotations

import re
from typing import Any

import pydantic
import yaml
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from touchpoint.accounts.models import Account
from touchpoint.journeys import (
    consent,
    documents,
    engine,
    labels,
    library,
    rendering,
    services,
    simulation_runs,
    stats,
)
from touchpoint.journeys import selectors as select
from touchpoint.journeys.definition import LANGUAGES, JourneyDefinition, parse, walk
from touchpoint.journeys.forms import (
    AddStepForm,
    AddToJourneyForm,
    ConsentForm,
    DeliverySettingsForm,
    NewJourneyForm,
    SourceForm,
    StepForm,
    TakeOutForm,
    WebhookEndpointForm,
    new_steps,
)
from touchpoint.journeys.models import (
    ConsentStatus,
    Enrollment,
    Journey,
    JourneyVersion,
    SimulationRun,
    SimulationStatus,
    WebhookEndpoint,
)
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.users.permissions import can, permission_required, require


def _templates() -> list[Any]:
    return list(library.templates())


def _journey(key: str) -> Journey:
    journey = select.journey_by_key(key)
    if journey is None:
        raise Http404(_("No journey has this key."))
    return journey


def _latest(journey: Journey) -> JourneyVersion:
    version = select.latest_version(journey)
    if version is None:
        raise Http404(_("This journey has no version yet."))
    return version


def _yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _problems_by_step(problems: list[Any], data: Any) -> tuple[dict[str, list[Any]], list[Any]]:
    """Problems beside the step they concern (by their path in the definition), the others apart."""
    by_step: dict[str, list[Any]] = {}
    others = []
    for problem in problems:
        step_id = getattr(problem, "step_id", "") or step_of_path(data, problem.path)
        if step_id:
            by_step.setdefault(step_id, []).append(problem)
        else:
            others.append(problem)
    return by_step, others


def _path_parts(path: Any) -> list[str | int]:
    if isinstance(path, str):
        raw: list[Any] = re.findall(r"[A-Za-z_][\w-]*|\d+", path)
    else:
        raw = list(path or [])
    return [int(part) if isinstance(part, str) and part.isdecimal() else part for part in raw]


_MISSING = object()


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, list):
        return node[part] if isinstance(part, int) and 0 <= part < len(node) else _MISSING
    if isinstance(node, dict):
        if part == "else_":
            part = "else"
        return node.get(part, _MISSING)
    return _MISSING


def step_of_path(data: Any, path: Any) -> str:
    """The id of the deepest step a problem's path (`steps.2.then.0.days`, or pydantic's loc tuple)
    goes through in the definition's data; "" when it concerns no step (the entry, the messages…).

    Parts that name no key here (pydantic puts the step's type in its loc) are skipped."""
    node, found = data, ""
    for part in _path_parts(path):
        child = _child(node, part)
        if child is _MISSING:
            continue
        node = child
        if isinstance(node, dict) and "id" in node and "type" in node:
            found = str(node["id"])
    return found


def _save(
    *, source: str, actor: Any, note: str, journey: Journey | None = None
) -> tuple[JourneyVersion | None, list[Any]]:
    """Validate the YAML and save it as a new version: (the version, []) or (None, the problems)."""
    try:
        version = services.save_version(source=source, actor=actor, note=note, journey=journey)
    except documents.DocumentError as error:
        return None, list(error.problems)
    except ValidationError as error:
        return None, [documents.Problem(0, 0, "", message) for message in error.messages]
    return version, []


def _save_data(
    data: dict[str, Any], *, journey: Journey, actor: Any, note: str
) -> tuple[JourneyVersion | None, list[Any]]:
    """Save a definition edited as data (by the builder's forms): written out as the YAML a person
    would write (documents.dump), so every check of a typed YAML applies to it too."""
    try:
        definition = parse(data)
    except pydantic.ValidationError:
        # Its shape is wrong: read it as text to get the problems with their paths and steps.
        problems = documents.problems_of(_yaml(data))
        return None, problems or [
            documents.Problem(0, 0, "", _("This change does not make a valid journey."))
        ]
    return _save(source=documents.dump(definition), actor=actor, note=note, journey=journey)


# --- The list ----------------------------------------------------------------------------------


@permission_required("journeys.view_journey")
@require_GET
def journeys_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every journey with its status, live version and counts; leaders start a new one here."""
    may_add = can(request.user, "journeys.add_journey")
    return render(
        request,
        "journeys/journeys.html",
        {
            "journeys": select.journeys(),
            "may_add": may_add,
            "new_form": NewJourneyForm(templates=_templates()) if may_add else None,
        },
    )


@permission_required("journeys.add_journey")
@require_POST
def new_journey(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A new journey from a shipped template (or blank): its first version, a draft."""
    form = NewJourneyForm(request.POST, templates=_templates())
    problems: list[Any] = []
    if form.is_valid():
        version, problems = _save(source=form.source(), actor=request.user, note=_("Created"))
        if version is not None:
            return redirect("journey", key=version.journey.key)
    return render(
        request,
        "journeys/journeys.html",
        {"journeys": select.journeys(), "may_add": True, "new_form": form, "new_problems": problems},
        status=422,
    )


# --- The builder -------------------------------------------------------------------------------


def _builder_context(
    request: AuthenticatedHttpRequest,
    journey: Journey,
    *,
    problems: list[Any] | None = None,
    data: Any = None,
) -> dict[str, Any]:
    version = _latest(journey)
    definition = select.definition_of(version)
    may_change = can(request.user, "journeys.change_journey")
    by_step, other_problems = _problems_by_step(
        problems or [], data if data is not None else version.definition
    )
    # A problem of a step the saved version does not have (one just added) has no card to sit by.
    shown = {step.id for step in walk(definition.steps)}
    for step_id in [step_id for step_id in by_step if step_id not in shown]:
        other_problems.extend(by_step.pop(step_id))
    return {
        "journey": journey,
        "version": version,
        "definition": definition,
        "flow": select.flow(definition.steps),
        "problems_by_step": by_step,
        "other_problems": other_problems,
        "may_change": may_change,
        "new_steps": [(key, label) for key, (label, _default) in new_steps().items()],
        "message_languages": LANGUAGES,
        "entry_yaml": _yaml(definition.entry.model_dump(mode="json", by_alias=True, exclude_defaults=True)),
        "audience_yaml": _yaml(
            definition.audience.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        )
        if definition.audience.roles or definition.audience.when
        else "",
        "goal_yaml": _yaml(definition.goal.model_dump(mode="json", by_alias=True, exclude_defaults=True))
        if definition.goal
        else "",
        "tab": "builder",
        "simulation": _run_context(journey, run)
        if may_change and (run := simulation_runs.latest_run(version))
        else None,
    }


@permission_required("journeys.view_journey")
@require_GET
def builder(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    """The journey's newest version as a flow of steps, each editable in place."""
    journey = _journey(key)
    return render(request, "journeys/builder.html", _builder_context(request, journey))


def _definition_data(version: JourneyVersion) -> dict[str, Any]:
    return select.definition_of(version).model_dump(mode="json", by_alias=True, exclude_defaults=True)


def _replace_step(steps: list[Any], step_id: str, replace: Any) -> bool:
    """Apply `replace(list, index)` where the step with that id sits in the nested data; True if found."""
    for index, step in enumerate(steps):
        if step.get("id") == step_id:
            replace(steps, index)
            return True
        for branch in _branches(step):
            if _replace_step(branch, step_id, replace):
                return True
    return False


def _branches(step: dict[str, Any]) -> list[list[Any]]:
    if step.get("type") == "split":
        return [step.setdefault("then", []), step.setdefault("else", [])]
    if step.get("type") == "random":
        return [arm.setdefault("steps", []) for arm in step.get("arms", [])]
    return []


def _step_or_404(definition: JourneyDefinition, step_id: str) -> Any:
    for step in walk(definition.steps):
        if step.id == step_id:
            return step
    raise Http404(_("This journey has no such step."))


@permission_required("journeys.view_journey")
@require_http_methods(["GET", "POST"])
def step(request: AuthenticatedHttpRequest, key: str, step_id: str) -> HttpResponse:
    """One step: GET its form (htmx, in place of the step), POST saves it as a new version."""
    journey = _journey(key)
    version = _latest(journey)
    definition = select.definition_of(version)
    current = _step_or_404(definition, step_id)
    message_keys = list(definition.messages)
    if request.method == "GET":
        if request.GET.get("view") == "card" or not can(request.user, "journeys.change_journey"):
            context = _builder_context(request, journey)
            return render(
                request, "journeys/_step.html", {**context, "node": _node(context["flow"], step_id)}
            )
        form = StepForm(step=current, messages=message_keys)
        return render(
            request, "journeys/_step_form.html", {"journey": journey, "step": current, "form": form}
        )
    require(request.user, "journeys.change_journey")
    form = StepForm(request.POST, step=current, messages=message_keys)
    failed = 200 if request.htmx else 422
    if not form.is_valid():
        return render(
            request,
            "journeys/_step_form.html",
            {"journey": journey, "step": current, "form": form},
            status=failed,
        )
    data = _definition_data(version)
    changed = form.changed_step()

    def put(steps: list[Any], index: int) -> None:
        steps[index] = changed

    _replace_step(data["steps"], step_id, put)
    saved, problems = _save_data(
        data, journey=journey, actor=request.user, note=_("Changed step %(step)s") % {"step": step_id}
    )
    if saved is None:
        by_step, others = _problems_by_step(problems, data)
        return render(
            request,
            "journeys/_step_form.html",
            {
                "journey": journey,
                "step": current,
                "form": form,
                "problems": by_step.get(step_id, []) + others,
            },
            status=failed,
        )
    # The whole page changes (the version, the launch button, maybe other steps' problems): load it
    # again, at the step. The query makes the address differ from the page's, so the browser does
    # load it (a new #fragment alone only scrolls).
    page = reverse("journey", kwargs={"key": journey.key}) + f"?saved={saved.number}#step-{step_id}"
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = page
        return response
    return redirect(page)


def _node(flow: list[select.FlowStep], step_id: str) -> select.FlowStep:
    for node in flow:
        if node.step.id == step_id:
            return node
        for _key, _label, branch in node.branches:
            try:
                return _node(branch, step_id)
            except LookupError:
                continue
    raise LookupError(step_id)


def _fresh_id(data: dict[str, Any], kind: str) -> str:
    taken = {step.get("id") for step in _walk_data(data["steps"])}
    number = 1
    while f"{kind.replace('_', '-')}-{number}" in taken:
        number += 1
    return f"{kind.replace('_', '-')}-{number}"


def _walk_data(steps: list[Any]) -> list[dict[str, Any]]:
    found = []
    for step in steps:
        found.append(step)
        for branch in _branches(step):
            found.extend(_walk_data(branch))
    return found


@permission_required("journeys.change_journey")
@require_POST
def steps(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    """Add a step (after one, or into an empty branch) or remove one; either is a new version."""
    journey = _journey(key)
    version = _latest(journey)
    data = _definition_data(version)
    action = request.POST.get("action", "")
    if action == "add":
        form = AddStepForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest(_("Choose a kind of step to add."))
        kind = form.cleaned_data["type"]
        new_step = {"id": _fresh_id(data, kind), **new_steps()[kind][1]}
        if new_step.get("type") in ("email", "in_app"):
            new_step["message"] = next(iter(data.get("messages") or {}), "")
        after, into = form.cleaned_data["after"], form.cleaned_data["into"]
        if into:
            split_id, _colon, branch = into.partition(":")
            placed = _place_into(data["steps"], split_id, branch, new_step)
        elif after:

            def insert(steps: list[Any], index: int) -> None:
                steps.insert(index + 1, new_step)

            placed = _replace_step(data["steps"], after, insert)
        else:
            data["steps"].insert(0, new_step)
            placed = True
        if not placed:
            return HttpResponseBadRequest(_("This journey has no such step."))
        note = _("Added step %(step)s") % {"step": new_step["id"]}
        focus = new_step["id"]
    elif action == "remove":
        step_id = request.POST.get("step", "")

        def remove(steps: list[Any], index: int) -> None:
            del steps[index]

        if not _replace_step(data["steps"], step_id, remove):
            return HttpResponseBadRequest(_("This journey has no such step."))
        note = _("Removed step %(step)s") % {"step": step_id}
        focus = ""
    else:
        return HttpResponseBadRequest(_("Unknown action."))
    saved, problems = _save_data(data, journey=journey, actor=request.user, note=note)
    if saved is None:
        context = _builder_context(request, journey, problems=problems, data=data)
        return render(request, "journeys/builder.html", context, status=422)
    return redirect(reverse("journey", kwargs={"key": journey.key}) + (f"#step-{focus}" if focus else ""))


def _place_into(steps: list[Any], split_id: str, branch: str, new_step: dict[str, Any]) -> bool:
    for step in _walk_data(steps):
        if step.get("id") != split_id:
            continue
        if step.get("type") == "split" and branch in ("then", "else"):
            step.setdefault(branch, []).insert(0, new_step)
            return True
        if step.get("type") == "random":
            for arm in step.get("arms", []):
                if arm.get("arm") == branch:
                    arm.setdefault("steps", []).insert(0, new_step)
                    return True
    return False


@permission_required("journeys.view_journey")
@require_http_methods(["GET", "POST"])
def source(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    """The YAML tab: the same definition as text; saving validates it and names line and column."""
    journey = _journey(key)
    version = _latest(journey)
    may_change = can(request.user, "journeys.change_journey")
    problems: list[Any] = []
    status = 200
    if request.method == "POST":
        require(request.user, "journeys.change_journey")
        form = SourceForm(request.POST)
        if form.is_valid():
            saved, problems = _save(
                source=form.cleaned_data["source"],
                actor=request.user,
                note=form.cleaned_data["note"] or _("Edited the YAML"),
                journey=journey,
            )
            if saved is not None:
                messages.success(request, _("Saved as version %(number)s.") % {"number": saved.number})
                return redirect("journey-yaml", key=journey.key)
        status = 422
    else:
        form = SourceForm(initial={"source": select.source_of(version)})
    return render(
        request,
        "journeys/source.html",
        {
            "journey": journey,
            "version": version,
            "form": form,
            "problems": problems,
            "may_change": may_change,
            "tab": "yaml",
        },
        status=status,
    )


@permission_required("journeys.view_journey")
@require_GET
def preview(request: AuthenticatedHttpRequest, key: str, message: str, language: str) -> HttpResponse:
    """One message rendered in one language, as a contact would get it (sample names)."""
    journey = _journey(key)
    definition = select.definition_of(_latest(journey))
    if message not in definition.messages or language not in LANGUAGES:
        raise Http404(_("This journey has no such message."))
    rendered = rendering.render(definition, message, language=language)
    return render(
        request,
        "journeys/_preview.html",
        {
            "journey": journey,
            "message": message,
            "language": language,
            "rendered": rendered,
            "fallback": rendered.language != language,
        },
    )


@permission_required("journeys.change_journey")
@require_POST
def simulate(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    """Start a simulation of the newest version on the last N days (90 by default) in the background;
    while one runs for that version, a second click gets the same one. Answers the run's panel, which
    polls until it is done."""
    journey = _journey(key)
    version = _latest(journey)
    raw = request.POST.get("days", "90").strip()
    if not raw.isdecimal():
        return HttpResponseBadRequest(_("The number of days must be a whole number."))
    try:
        run, _started = simulation_runs.start_run(version=version, days=int(raw[:4]), actor=request.user)
    except ValidationError as error:
        return HttpResponseBadRequest(" ".join(error.messages))
    if not request.htmx:
        return redirect(reverse("journey", kwargs={"key": journey.key}) + "#simulation")
    return _simulation_panel(request, journey, run)


@permission_required("journeys.change_journey")
@require_GET
def simulation_run(request: AuthenticatedHttpRequest, key: str, run_id: int) -> HttpResponse:
    """A simulation's panel (htmx): its progress while it runs, then its result or what went wrong."""
    journey = _journey(key)
    run = get_object_or_404(SimulationRun.objects.select_related("version"), pk=run_id, journey=journey)
    return _simulation_panel(request, journey, run)


def _simulation_panel(
    request: AuthenticatedHttpRequest, journey: Journey, run: SimulationRun
) -> HttpResponse:
    return render(request, "journeys/_simulation_run.html", _run_context(journey, run))


def _run_context(journey: Journey, run: SimulationRun) -> dict[str, Any]:
    definition = select.definition_of(run.version)
    return {
        "journey": journey,
        "run": run,
        "version": run.version,
        "days": run.days,
        "stale": simulation_runs.is_stale(run),
        "stage_label": labels.label(labels.SIMULATION_STAGES, run.stage),
        "result": simulation_summary(run.result, definition)
        if run.status == SimulationStatus.DONE and run.result
        else None,
    }


def simulation_summary(result: dict[str, Any], definition: JourneyDefinition | None = None) -> dict[str, Any]:
    """The simulation's JSON (see journeys/simulation.py) as the panel shows it: the totals, each
    step's count, the paths most taken and the first few messages, with the YAML's words (outcomes,
    step types, message kinds and statuses) in the reader's language."""
    types = {step.id: step.type for step in walk(definition.steps)} if definition is not None else {}
    paths = [
        {
            "steps": " → ".join(
                step["step"]
                + (
                    f" ({labels.outcome(types.get(step['step'], ''), step['outcome'])})"
                    if step.get("outcome")
                    else ""
                )
                for step in path["steps"]
            ),
            "ended": labels.label(labels.ENDED, path.get("ended", "")),
            "count": path.get("count", 0),
        }
        for path in result.get("paths", [])[:8]
    ]
    messages = [
        {
            **message,
            "kind_label": labels.label(labels.MESSAGE_KINDS, message.get("kind", "")),
            "status_label": labels.label(labels.MESSAGE_STATUSES, message.get("status", "")),
        }
        for message in result.get("messages", [])[:5]
    ]
    return {
        "entered": result.get("entered", 0),
        "converted": result.get("conversions", 0),
        "capped": result.get("capped", 0),
        "deferred": result.get("quiet_hours_deferred", 0),
        "outcomes": result.get("outcomes", {}),
        "steps": [
            (step_id, labels.label(labels.STEP_TYPES, types.get(step_id, "")), counts)
            for step_id, counts in result.get("steps", {}).items()
        ],
        "arms": result.get("arms", {}),
        "paths": paths,
        "messages": messages,
        "message_count": result.get("messages_total", 0),
        "notes": result.get("notes", []),
        "refused": result.get("refused", {}),
    }


@permission_required("journeys.change_journey")
@require_POST
def change_status(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    """Launch (the newest version), pause or resume: the buttons ask first, this does it."""
    journey = _journey(key)
    action = request.POST.get("action", "")
    try:
        if action == "launch":
            version = _latest(journey)
            services.launch(
                journey=journey,
                version=version,
                actor=request.user,
                move_enrollments=request.POST.get("move_enrollments") == "on",
            )
            messages.success(request, _("Version %(number)s is live.") % {"number": version.number})
        elif action == "pause":
            services.pause(journey=journey, actor=request.user)
            messages.success(request, _("Paused: nobody enters and nobody moves on until you resume it."))
        elif action == "resume":
            services.resume(journey=journey, actor=request.user)
            messages.success(request, _("Resumed."))
        else:
            return HttpResponseBadRequest(_("Unknown action."))
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    return redirect("journey", key=journey.key)


# --- Versions and stats ------------------------------------------------------------------------


@permission_required("journeys.view_journey")
@require_GET
def versions(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    """Every version, and the diff between any two (by default the newest and the one before)."""
    journey = _journey(key)
    all_versions = list(select.versions_of(journey))
    by_number = {version.number: version for version in all_versions}

    def chosen(name: str, default: JourneyVersion | None) -> JourneyVersion | None:
        raw = request.GET.get(name, "")
        if raw.isdecimal() and int(raw) in by_number:
            return by_number[int(raw)]
        return default

    newest = all_versions[0] if all_versions else None
    before = all_versions[1] if len(all_versions) > 1 else newest
    old, new = chosen("a", before), chosen("b", newest)
    lines = select.diff_lines(select.source_of(old), select.source_of(new)) if old and new else []
    return render(
        request,
        "journeys/versions.html",
        {
            "journey": journey,
            "versions": all_versions,
            "old": old,
            "new": new,
            "lines": lines,
            "tab": "versions",
        },
    )


@permission_required("journeys.view_journey")
@require_GET
def stats_page(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    """Per journey and per step: entered, waiting, converted, exited, messages; A/B arms with intervals."""
    journey = _journey(key)
    all_versions = list(journey.versions.order_by("-number"))
    raw = request.GET.get("version", "")
    version = next((v for v in all_versions if raw.isdecimal() and v.number == int(raw)), None)
    return render(
        request,
        "journeys/stats.html",
        {
            "journey": journey,
            "versions": all_versions,
            "chosen": version,
            "stats": stats.journey_stats(journey=journey, version=version),
            "tab": "stats",
        },
    )


# --- The account panel -------------------------------------------------------------------------


def _panel(
    request: AuthenticatedHttpRequest,
    account: Account,
    *,
    add_form: AddToJourneyForm | None = None,
    take_out: tuple[int, TakeOutForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    enrollments = select.account_enrollments(account=account)
    consents = select.consents_of(account=account)
    contacts = [
        (contact, select.is_unsubscribed(consents.get(contact.pk)))
        for contact in account.contacts.order_by("name")
    ]
    may_change = can(request.user, "journeys.change_enrollment", account)
    return render(
        request,
        "journeys/_account_journeys.html",
        {
            "account": account,
            "active": [e for e in enrollments if e.is_active],
            "ended": [e for e in enrollments if not e.is_active],
            "contacts": contacts,
            "may_add": can(request.user, "journeys.add_enrollment", account),
            "may_change": may_change,
            "add_form": add_form or AddToJourneyForm(account=account),
            "take_out_id": take_out[0] if take_out else None,
            "take_out_form": take_out[1] if take_out else TakeOutForm(),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_journeys(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """The account's journeys (htmx panel): add to a live journey, take out, a contact's consent."""
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, "journeys.view_enrollment", account)
    if request.method == "GET":
        return _panel(request, account)
    # Every change here is a change to the account's book (add, take out, consent): check it first.
    require(request.user, "journeys.change_enrollment", account)
    action = request.POST.get("action", "")
    failed = 200 if request.htmx else 422
    if action == "add":
        require(request.user, "journeys.add_enrollment", account)
        form = AddToJourneyForm(request.POST, account=account)
        if form.is_valid():
            journey = form.cleaned_data["journey"]
            contact = form.cleaned_data["contact"]
            if journey.live_version.definition.get("subject") == "contact" and contact is None:
                form.add_error("contact", _("This journey writes to people: choose a contact."))
            else:
                try:
                    enrollment = engine.enroll(
                        version=journey.live_version,
                        account=account,
                        contact=contact
                        if journey.live_version.definition.get("subject") == "contact"
                        else None,
                        actor=request.user,
                    )
                except ValidationError as error:
                    form.add_error(None, error.messages)
                else:
                    if enrollment is not None:
                        return _panel(request, account)
                    form.add_error(
                        None,
                        _("Not added: already in this journey, or outside its audience or re-entry rule."),
                    )
        return _panel(request, account, add_form=form, status=failed)
    if action == "exit":
        require(request.user, "journeys.change_enrollment", account)
        raw = request.POST.get("enrollment", "")
        if not raw.isdecimal():
            return HttpResponseBadRequest(_("Choose an enrollment of this account."))
        enrollment = get_object_or_404(Enrollment, pk=int(raw), account=account)
        take_out_form = TakeOutForm(request.POST)
        if take_out_form.is_valid():
            engine.exit_enrollment(
                enrollment=enrollment, reason=take_out_form.cleaned_data["reason"], actor=request.user
            )
            return _panel(request, account)
        return _panel(request, account, take_out=(enrollment.pk, take_out_form), status=failed)
    if action == "consent":
        require(request.user, "journeys.change_enrollment", account)
        consent_form = ConsentForm(request.POST)
        if not consent_form.is_valid():
            return HttpResponseBadRequest(_("Choose a contact of this account."))
        contact = get_object_or_404(account.contacts, pk=consent_form.cleaned_data["contact"])
        with transaction.atomic():  # set_consent locks the contact's row
            consent.set_consent(
                contact=contact,
                status=ConsentStatus.SUBSCRIBED
                if consent_form.cleaned_data["subscribed"]
                else ConsentStatus.UNSUBSCRIBED,
                source="csm",
                actor=request.user,
            )
        return _panel(request, account)
    return HttpResponseBadRequest(_("Unknown action."))


# --- Delivery settings and webhook endpoints ----------------------------------------------------


@permission_required("journeys.view_deliverysettings")
@require_http_methods(["GET", "POST"])
def delivery_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The site's rules for journey messages: the weekly cap, quiet hours, tracking, the sender."""
    current = select.delivery_settings()
    may_change = can(request.user, "journeys.change_deliverysettings")
    if request.method == "POST":
        require(request.user, "journeys.change_deliverysettings")
        form = DeliverySettingsForm(request.POST, instance=current)
        if form.is_valid():
            form.save()
            messages.success(request, _("Delivery settings saved."))
            return redirect("journeys-delivery")
        status = 422
    else:
        form, status = DeliverySettingsForm(instance=current), 200
    return render(
        request,
        "journeys/delivery.html",
        {"form": form, "may_change": may_change, "settings": current},
        status=status,
    )


@permission_required("journeys.view_webhookendpoint")
@require_http_methods(["GET", "POST"])
def webhooks(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Where webhook steps post: the list, and a form to add one (admins)."""
    may_change = can(request.user, "journeys.add_webhookendpoint")
    if request.method == "POST":
        require(request.user, "journeys.add_webhookendpoint")
        form = WebhookEndpointForm(request.POST)
        if form.is_valid():
            endpoint = form.save()
            messages.success(request, _("Webhook endpoint “%(name)s” added.") % {"name": endpoint.name})
            return redirect("journeys-webhooks")
        status = 422
    else:
        form, status = WebhookEndpointForm(), 200
    return render(
        request,
        "journeys/webhooks.html",
        {"endpoints": WebhookEndpoint.objects.order_by("name"), "form": form, "may_change": may_change},
        status=status,
    )
