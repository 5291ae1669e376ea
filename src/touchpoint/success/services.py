"""Every write to an account's place in a success framework.

Each public function is one transaction: it validates, writes, records the change on the account's
timeline and in the audit log.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.accounts.models import Account
from touchpoint.accounts.services import UNSET, record_on_timeline
from touchpoint.events.services import record_event
from touchpoint.success.models import AccountPlacement, LifecyclePhase, SuccessFramework
from touchpoint.users.models import User
from touchpoint.users.services import record_audit


def check_phase(framework: SuccessFramework | None, phase: LifecyclePhase | None) -> SuccessFramework | None:
    """The framework an account in `phase` walks; the phase must belong to the framework given."""
    if phase is None:
        return framework
    if framework is None:
        return phase.framework
    if phase.framework_id != framework.pk:
        raise ValidationError({"phase": _("This phase belongs to another success framework.")})
    return framework


def placement_of(account: Account) -> AccountPlacement | None:
    """The account's placement, or None (uses a select_related or cached placement when there is one)."""
    try:
        return account.placement
    except AccountPlacement.DoesNotExist:
        return None


@transaction.atomic
def place_account(
    *,
    account: Account,
    actor: User | None,
    framework: SuccessFramework | None = UNSET,
    phase: LifecyclePhase | None = UNSET,
) -> AccountPlacement:
    """Put the account in a framework and/or phase; only the arguments given change.

    A phase brings its framework along; moving to another framework without naming a phase leaves
    the old framework's phase behind; `None` clears. Records the change when there is one.
    """
    placement = AccountPlacement.objects.select_for_update().filter(account=account).first()
    if placement is None:
        placement = AccountPlacement(account=account)
    old_framework, old_phase = placement.framework, placement.phase
    new_framework = old_framework if framework is UNSET else framework
    new_phase = old_phase if phase is UNSET else phase
    if (
        phase is UNSET
        and new_phase is not None
        and new_framework is not None
        and new_phase.framework_id != new_framework.pk
    ):
        new_phase = None  # moving to another framework leaves the old framework's phase behind
    new_framework = check_phase(new_framework, new_phase)

    changes: dict[str, list[Any]] = {}
    if new_framework != old_framework:
        changes["framework"] = [_name(old_framework), _name(new_framework)]
    if new_phase != old_phase:
        changes["phase"] = [_name(old_phase), _name(new_phase)]
    if not changes:
        return placement
    placement.framework, placement.phase = new_framework, new_phase
    if "phase" in changes:
        placement.entered_at = timezone.now()
    placement.save()
    record_on_timeline(
        account=account,
        kind="phase_changed",
        title=placement_title(new_framework, new_phase),
        actor=actor,
        subject=placement,
        data={"changes": changes},
    )
    record_audit(actor=actor, action="account.placement", instance=account, changes=changes)
    record_event(
        kind="phase.changed",
        account=account,
        subject=placement,
        actor=actor,
        payload={
            "framework_id": new_framework.pk if new_framework else None,
            "phase_id": new_phase.pk if new_phase else None,
            "previous_framework_id": old_framework.pk if old_framework else None,
            "previous_phase_id": old_phase.pk if old_phase else None,
            "changes": changes,
        },
    )
    return placement


def _name(value: SuccessFramework | LifecyclePhase | None) -> str | None:
    return None if value is None else value.name


def placement_title(framework: SuccessFramework | None, phase: LifecyclePhase | None) -> str:
    """The stored (English) title of a "phase_changed" timeline entry."""
    if phase is not None:
        return f"Moved to phase {phase.name} ({framework.name if framework else ''})"
    if framework is not None:
        return f"Moved to success framework {framework.name}"
    return "Removed from its success framework"
