"""Success frameworks' pages: the list, one framework (phases, rules in words, milestones, accounts per
phase), and the YAML editor leaders and admins shape them with."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.success import documents
from touchpoint.success.definition_text import milestone_rule_in_words, rules_in_words
from touchpoint.success.models import LifecyclePhase, MilestoneDefinition, SuccessFramework
from touchpoint.users.permissions import can, permission_required
from touchpoint.yaml_text import Problem

# What "New framework" starts from: a small framework that reads as it is, to be changed.
STARTER = """\
# A success framework: the phases a customer walks, in order, and the milestones on the way to value.
# Each phase is entered when all its rules hold; an account is in the furthest phase that holds.
key: my-framework
name: My framework
description: ""
phases:
  - key: onboarding
    name: Onboarding
    customer_does: Sets up the product with us.
    customer_expects: A clear plan and one named contact.
  - key: adoption
    name: Adoption
    customer_does: Uses the product every week.
    customer_expects: Good practice and regular reviews.
    enter_when:
      - days_since_start: {at_least: 30}
      - milestone: first-value
milestones:
  - key: first-value
    name: First value
    first_value: true
    rule: {event: Report created}
"""


class FrameworkTextForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Framework as YAML"),
        widget=forms.Textarea(attrs={"rows": 30, "class": "code", "spellcheck": "false"}),
        # Twice the text's own limit, so an oversized text gets the sentence at line 1 rather than this.
        max_length=2 * documents.MAX_BYTES,
        strip=False,
    )


def _frameworks() -> Any:
    return SuccessFramework.objects.prefetch_related("segments").annotate(
        phase_count=Count("phases", distinct=True),
        milestone_count=Count("milestones", distinct=True),
        account_count=Count("placements", distinct=True),
    )


@permission_required("success.view_successframework")
@require_GET
def frameworks_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every success framework with its phases, milestones and accounts; leaders start a new one here."""
    return render(
        request,
        "success/frameworks.html",
        {
            "frameworks": _frameworks().order_by("-is_default", "name"),
            "may_edit": can(request.user, "success.change_successframework"),
        },
    )


@permission_required("success.view_successframework")
@require_GET
def framework_page(request: AuthenticatedHttpRequest, framework_id: int) -> HttpResponse:
    """One framework: each phase with what the customer does and expects, who and what helps, its
    rules in words and how many accounts are in it; then its milestones in funnel order."""
    framework = get_object_or_404(
        _frameworks().prefetch_related(
            Prefetch(
                "phases",
                queryset=LifecyclePhase.objects.annotate(account_count=Count("placements")).order_by(
                    "position", "id"
                ),
            ),
            Prefetch("milestones", queryset=MilestoneDefinition.objects.order_by("position", "id")),
        ),
        pk=framework_id,
    )
    milestones = list(framework.milestones.all())
    names = {milestone.key: milestone.name for milestone in milestones}
    phases = [(phase, _rules_in_words(phase.entry_rules, names)) for phase in framework.phases.all()]
    return render(
        request,
        "success/framework.html",
        {
            "framework": framework,
            "phases": phases,
            "milestones": [(milestone, _rule_in_words(milestone.rule)) for milestone in milestones],
            "may_edit": can(request.user, "success.change_successframework"),
        },
    )


def _rules_in_words(rules: Any, names: dict[str, str]) -> list[str]:
    try:
        return rules_in_words(rules or [], milestones=names)
    except ValueError:  # rules stored elsewhere (the admin) in a shape the text cannot say
        return [_("These rules cannot be read; apply the framework's text again.")]


def _rule_in_words(rule: Any) -> str:
    try:
        return milestone_rule_in_words(rule or None)
    except ValueError:
        return _("This rule cannot be read; apply the framework's text again.")


def _editor(
    request: AuthenticatedHttpRequest, *, framework: SuccessFramework | None, initial: str
) -> HttpResponse:
    """The editor's GET and POST: "Check" shows the problems (or says there are none); "Save" applies
    the text when it has none and goes to the framework's page."""
    problems: list[Problem] = []
    checked = False
    status = 200
    if request.method == "POST":
        form = FrameworkTextForm(request.POST)
        if form.is_valid():
            text = form.cleaned_data["text"]
            key = framework.key if framework is not None else None
            problems = documents.problems_of(text, key=key)
            if not problems and request.POST.get("action") == "save":
                try:
                    saved = documents.apply_text(text, actor=request.user, key=key)
                except documents.DocumentError as error:
                    problems = error.problems
                else:
                    messages.success(request, _("Saved the framework “%(name)s”.") % {"name": saved.name})
                    return redirect("success-framework", framework_id=saved.pk)
            checked = True
        if problems or not form.is_valid():
            status = 422
    else:
        form = FrameworkTextForm(initial={"text": initial})
    return render(
        request,
        "success/framework_edit.html",
        {"framework": framework, "form": form, "problems": problems, "checked": checked},
        status=status,
    )


@permission_required("success.add_successframework")
@require_http_methods(["GET", "POST"])
def new_framework(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A new framework written as YAML (starting from a small example)."""
    return _editor(request, framework=None, initial=STARTER)


@permission_required("success.change_successframework")
@require_http_methods(["GET", "POST"])
def edit_framework(request: AuthenticatedHttpRequest, framework_id: int) -> HttpResponse:
    """The framework's YAML (as last applied, comments and all) to change and save."""
    framework = get_object_or_404(SuccessFramework, pk=framework_id)
    return _editor(
        request,
        framework=framework,
        initial=documents.export_text(framework) if request.method == "GET" else "",
    )
