"""The account page's "Success phase" panel: where the rules put the account, what they read, the
rules of the next phase met or not, and a leader's override (set with a reason, or lifted)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from touchpoint.accounts.models import Account
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.success import placement, services
from touchpoint.success.models import AccountPlacement, LifecyclePhase
from touchpoint.users.permissions import can, require

OVERRIDE_PERMISSION = "success.change_accountplacement"


class OverrideForm(forms.Form):
    phase = forms.ModelChoiceField(label=gettext_lazy("Phase"), queryset=LifecyclePhase.objects.none())
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=services.OVERRIDE_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Kept until the rules agree with this phase or the override is lifted."),
    )

    def __init__(self, *args, placement: AccountPlacement | None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        phases = LifecyclePhase.objects.select_related("framework").order_by(
            "framework__name", "position", "id"
        )
        if placement is not None and placement.framework_id is not None:
            phases = phases.filter(framework_id=placement.framework_id)
        self.fields["phase"].queryset = phases  # type: ignore[attr-defined]


def _panel(
    request: AuthenticatedHttpRequest,
    account: Account,
    *,
    form: OverrideForm | None = None,
    status: int = 200,
) -> HttpResponse:
    row = (
        AccountPlacement.objects.select_related(
            "framework", "phase", "ruled_phase", "override_phase", "override_by"
        )
        .filter(account=account)
        .first()
    )
    following, rules = placement.next_phase_rules(account, row)
    return render(
        request,
        "success/_placement_panel.html",
        {
            "account": account,
            "placed": row,
            "facts": placement.account_facts(account, row),
            "next_phase": following,
            "next_rules": [(placement.condition_in_words(r.condition), r.holds) for r in rules],
            "override_form": form or OverrideForm(placement=row),
            "may_override": can(request.user, OVERRIDE_PERMISSION, account),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_success_phase(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """The panel (GET); POST action=override (phase, reason) or action=lift, leaders and admins only."""
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, "accounts.view_account", account)
    if request.method == "GET":
        return _panel(request, account)
    require(request.user, OVERRIDE_PERMISSION, account)
    action = request.POST.get("action", "")
    failed = 200 if request.htmx else 422  # htmx swaps only 2xx: errors come back in the panel
    if action == "lift":
        services.lift_override(account=account, actor=request.user)
        return _panel(request, account)
    if action != "override":
        return HttpResponseBadRequest(_("Unknown action."))
    row = AccountPlacement.objects.filter(account=account).first()
    form = OverrideForm(request.POST, placement=row)
    if form.is_valid():
        try:
            services.override_phase(
                account=account,
                phase=form.cleaned_data["phase"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            return _panel(request, account)
    return _panel(request, account, form=form, status=failed)
