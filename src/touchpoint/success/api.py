"""REST API for where an account stands in its success framework.

The accounts list filters by phase through the portfolio filter registry (`GET /accounts?phase=<id>`,
registered in success/plugins.py); this router reads and sets one account's placement.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router

from touchpoint.accounts.models import Account
from touchpoint.accounts.schemas import Ref
from touchpoint.api_contract import READ, WRITE, Id, answers, caller, require_perm
from touchpoint.success import services
from touchpoint.success.models import AccountPlacement, LifecyclePhase, SuccessFramework
from touchpoint.success.schemas import PlacementIn, PlacementOut
from touchpoint.success.selectors import placement_for

router = Router(tags=["success"])


def _placement_out(account: Account, placement: AccountPlacement | None) -> PlacementOut:
    def ref(row: SuccessFramework | LifecyclePhase | None) -> Ref | None:
        return None if row is None else Ref(id=row.pk, name=row.name)

    return PlacementOut(
        account=account.pk,
        framework=ref(placement.framework) if placement else None,
        phase=ref(placement.phase) if placement else None,
        entered_at=placement.entered_at if placement else None,
    )


def _resolve(model, pk: int | None, field: str):
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: _("No such record: %(id)s.") % {"id": pk}})
    return found


@router.get(
    "/accounts/{account_id}/placement",
    response=answers({200: PlacementOut}, *READ, 404),
    summary="Get an account's success framework and phase",
)
def get_placement(request: HttpRequest, account_id: Id):
    """The account's framework and lifecycle phase (null when it has none)."""
    account = get_object_or_404(Account, pk=account_id)
    require_perm(request, "accounts.view_account", account)
    return _placement_out(account, placement_for(account.pk))


@router.put(
    "/accounts/{account_id}/placement",
    response=answers({200: PlacementOut}, *WRITE, 404),
    summary="Set an account's success framework and phase",
)
def put_placement(request: HttpRequest, account_id: Id, body: PlacementIn):
    """Set both: a phase alone brings its framework; a framework alone leaves the phase empty;
    both null takes the account out of any framework. The phase must belong to the framework."""
    account = get_object_or_404(Account, pk=account_id)
    require_perm(request, "accounts.change_account", account)
    framework = _resolve(SuccessFramework, body.framework, "framework")
    phase = _resolve(LifecyclePhase, body.phase, "phase")
    services.place_account(account=account, actor=caller(request), framework=framework, phase=phase)
    return _placement_out(account, placement_for(account.pk))


# Each part of success keeps its operations in its own module.
from touchpoint.success import api_frameworks, api_funnel, api_milestones  # noqa: E402

router.add_router("", api_frameworks.router)
router.add_router("", api_milestones.router)
router.add_router("", api_funnel.router)
