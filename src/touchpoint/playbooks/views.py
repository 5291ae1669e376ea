"""The Playbooks panel of the account page (htmx) and the Playbooks page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from touchpoint.accounts.models import Account
from touchpoint.playbooks import documents, selectors, services
from touchpoint.playbooks.forms import RuleForm, StartPlaybookForm, StopPlaybookForm
from touchpoint.playbooks.models import Playbook, PlaybookRule, PlaybookRun
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.users.audit import record_export
from touchpoint.users.permissions import can, permission_required, require


def _show_errors(form, error: ValidationError) -> None:
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


def _panel(
    request: AuthenticatedHttpRequest,
    account: Account,
    *,
    start_form: StartPlaybookForm | None = None,
    stop_form: tuple[int, StopPlaybookForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    running, ended = selectors.account_runs(account=account)
    return render(
        request,
        "playbooks/_account_playbooks.html",
        {
            "account": account,
            "running": running,
            "ended": ended,
            "start_form": start_form or StartPlaybookForm(),
            "stop_run_id": stop_form[0] if stop_form else None,
            "stop_form": stop_form[1] if stop_form else StopPlaybookForm(),
            "may_change": can(request.user, "playbooks.add_playbookrun", account),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_playbooks(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """The account's playbooks (loaded by htmx); its forms start one (action=start) or stop one (action=stop)."""
    account = get_object_or_404(Account.objects.select_related("owner"), pk=account_id)
    require(request.user, "playbooks.view_playbookrun", account)
    if request.method == "GET":
        return _panel(request, account)
    require(request.user, "playbooks.add_playbookrun", account)
    action = request.POST.get("action", "")
    # htmx swaps only successful answers: the panel with its errors is a 200 to htmx, a 422 to anyone else.
    failed = 200 if request.htmx else 422
    if action == "start":
        start_form = StartPlaybookForm(request.POST)
        if start_form.is_valid():
            playbook = start_form.cleaned_data["playbook"]
            anchor = start_form.cleaned_data["anchor_date"] or selectors.default_anchor(
                account=account, playbook=playbook
            )
            try:
                services.start_playbook(
                    account=account, playbook=playbook, actor=request.user, anchor_date=anchor
                )
            except ValidationError as error:
                _show_errors(start_form, error)
            else:
                return _panel(request, account)
        return _panel(request, account, start_form=start_form, status=failed)
    if action == "stop":
        run_id = request.POST.get("run", "")
        if not run_id.isdecimal():
            return HttpResponseBadRequest(_("Choose a running playbook of this account."))
        run = get_object_or_404(PlaybookRun, pk=int(run_id), account=account)
        require(request.user, "playbooks.change_playbookrun", run)
        stop_form = StopPlaybookForm(request.POST)
        if stop_form.is_valid():
            try:
                services.stop_playbook(run=run, reason=stop_form.cleaned_data["reason"], actor=request.user)
            except ValidationError as error:
                _show_errors(stop_form, error)
            else:
                return _panel(request, account)
        return _panel(request, account, stop_form=(run.pk, stop_form), status=failed)
    return HttpResponseBadRequest(_("Unknown action."))


@permission_required("playbooks.view_playbook")
@require_GET
def playbooks_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every playbook with its steps, and the rules that start them."""
    counts = selectors.running_counts()
    playbooks = list(selectors.playbooks())
    for playbook in playbooks:
        playbook.running = counts.get(playbook.pk, 0)  # type: ignore[attr-defined]
    return render(
        request,
        "playbooks/playbooks.html",
        {
            "playbooks": playbooks,
            "rules": selectors.rules(),
            "may_edit": can(request.user, "playbooks.change_playbookrule"),
        },
    )


@permission_required("playbooks.change_playbookrule")
@require_POST
def change_rule(request: AuthenticatedHttpRequest, rule_id: int) -> HttpResponse:
    """Switch a rule on or off and choose its playbook (leaders and admins)."""
    rule = get_object_or_404(PlaybookRule.objects.select_related("playbook"), pk=rule_id)
    form = RuleForm(request.POST, instance=PlaybookRule.objects.get(pk=rule.pk), prefix=f"rule-{rule.pk}")
    if not form.is_valid():
        return HttpResponseBadRequest(" ".join(str(m) for messages in form.errors.values() for m in messages))
    services.change_rule(
        rule=rule,
        actor=request.user,
        playbook=form.cleaned_data["playbook"],
        is_active=form.cleaned_data["is_active"],
    )
    return redirect("playbooks")


@permission_required("playbooks.view_playbook")
@require_GET
def export_playbook(request: AuthenticatedHttpRequest, playbook_id: int) -> HttpResponse:
    """The playbook as YAML, to keep in version control and `touchpoint playbook apply`."""
    playbook = get_object_or_404(Playbook, pk=playbook_id)
    record_export(request, what=f"playbook-{playbook.pk}.yaml", rows=None)
    response = HttpResponse(documents.export(playbook), content_type="application/yaml; charset=utf-8")
    filename = slugify(playbook.name) or f"playbook-{playbook.pk}"
    response["Content-Disposition"] = f'attachment; filename="{filename}.yaml"'
    return response
