"""REST API for where an account stands in its success framework.

The accounts list filters by phase through the portfolio filter registry (`GET /accounts?phase=<id>`,
registered in success/plugins.py); this router reads and sets one account's placement.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router

from touchpoint.accounts.models import Account
from touchpoint.accounts.schemas import ErrorOut, Ref
from touchpoint.success import services
from touchpoint.success.models import AccountPlacement, LifecyclePhase, SuccessFramework
from touchpoint.success.schemas import PlacementIn, PlacementOut
from touchpoint.success.selectors import placement_for
from touchpoint.users.models import User

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
    response={200: PlacementOut, 401: ErrorOut, 404: ErrorOut},
    summary="Get an account's success framework and phase",
)
def get_placement(request: HttpRequest, account_id: int):
    """The account's framework and lifecycle phase (null when it has none)."""
    account = get_object_or_404(Account, pk=account_id)
    return _placement_out(account, placement_for(account.pk))


@router.put(
    "/accounts/{account_id}/placement",
    response={200: PlacementOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Set an account's success framework and phase",
)
def put_placement(request: HttpRequest, account_id: int, body: PlacementIn):
    """Set both: a phase alone brings its framework; a framework alone leaves the phase empty;
    both null takes the account out of any framework. The phase must belong to the framework."""
    if not request.user.has_perm("accounts.change_account"):
        raise PermissionDenied(_("Your role does not allow this."))
    account = get_object_or_404(Account, pk=account_id)
    framework = _resolve(SuccessFramework, body.framework, "framework")
    phase = _resolve(LifecyclePhase, body.phase, "phase")
    actor = request.user if isinstance(request.user, User) else None
    services.place_account(account=account, actor=actor, framework=framework, phase=phase)
    return _placement_out(account, placement_for(account.pk))
