"""Every write to an account's place in a success framework.

Each public function is one transaction: it validates, writes, records the change on the account's
timeline and in the audit log.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.accounts.models import Account
from touchpoint.accounts.services import UNSET, record_on_timeline
from touchpoint.events.services import record_event
from touchpoint.success.models import AccountPlacement, LifecyclePhase, SuccessFramework
from touchpoint.users.models import User
from touchpoint.users.services import record_audit

if TYPE_CHECKING:
    from touchpoint.success.placement import Placed, PlacementStats


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
    by_hand = placement.framework_set_by_hand if framework is UNSET else new_framework is not None
    if not changes:
        if by_hand != placement.framework_set_by_hand and placement.pk is not None:
            placement.framework_set_by_hand = by_hand
            placement.save(update_fields=["framework_set_by_hand"])
        return placement
    placement.framework, placement.phase = new_framework, new_phase
    # A framework named by a person stays until a person changes it; the engine keeps it.
    placement.framework_set_by_hand = by_hand
    if placement.override_phase_id is not None and placement.override_phase != new_phase:
        _clear_override(placement)  # a phase set here replaces a leader's override
    if "phase" in changes:
        placement.entered_at = timezone.now()
    placement.save()
    _record_move(placement, old_framework, old_phase, changes, actor=actor)
    return placement


def _record_move(
    placement: AccountPlacement,
    old_framework: SuccessFramework | None,
    old_phase: LifecyclePhase | None,
    changes: dict[str, list[Any]],
    *,
    actor: User | None,
    extra: dict[str, Any] | None = None,
) -> None:
    """The timeline entry, audit entry and domain event of one account's move."""
    account = placement.account
    new_framework, new_phase = placement.framework, placement.phase
    record_on_timeline(
        account=account,
        kind="phase_changed",
        title=placement_title(new_framework, new_phase),
        actor=actor,
        subject=placement,
        data={"changes": changes, **(extra or {})},
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


def _name(value: SuccessFramework | LifecyclePhase | None) -> str | None:
    return None if value is None else value.name


def placement_title(framework: SuccessFramework | None, phase: LifecyclePhase | None) -> str:
    """The stored (English) title of a "phase_changed" timeline entry."""
    if phase is not None:
        return f"Moved to phase {phase.name} ({framework.name if framework else ''})"
    if framework is not None:
        return f"Moved to success framework {framework.name}"
    return "Removed from its success framework"


def _clear_override(placement: AccountPlacement) -> None:
    placement.override_phase = None
    placement.override_reason = ""
    placement.override_by = None
    placement.override_at = None


# --- Leaders' overrides ------------------------------------------------------------------------------

OVERRIDE_REASON_MAX = 2000


@transaction.atomic
def override_phase(
    *, account: Account, phase: LifecyclePhase, reason: str, actor: User | None
) -> AccountPlacement:
    """Keep the account in `phase` whatever the rules say, until they agree or the override is lifted.

    Leaders and admins only (the views check `success.change_accountplacement`). The phase must be
    one of the account's framework (or brings its framework when the account has none)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the rules are overridden.")})
    if len(reason) > OVERRIDE_REASON_MAX:
        raise ValidationError(
            {"reason": _("Keep the reason under %(count)s characters.") % {"count": OVERRIDE_REASON_MAX}}
        )
    placement = AccountPlacement.objects.select_for_update().filter(account=account).first()
    if placement is None:
        placement = AccountPlacement(account=account, started_on=timezone.localdate(account.created_at))
    old_framework, old_phase = placement.framework, placement.phase
    framework = check_phase(old_framework, phase)
    if placement.ruled_phase_id == phase.pk and old_framework == framework:
        # The rules already put it there: no override to keep, only the phase to set.
        _clear_override(placement)
    else:
        placement.override_phase = phase
        placement.override_reason = reason
        placement.override_by = actor if actor is not None and actor.pk else None
        placement.override_at = timezone.now()
    changes: dict[str, list[Any]] = {}
    if framework != old_framework:
        changes["framework"] = [_name(old_framework), _name(framework)]
    if phase != old_phase:
        changes["phase"] = [_name(old_phase), _name(phase)]
        placement.entered_at = timezone.now()
    placement.framework, placement.phase = framework, phase
    placement.save()
    if changes:
        _record_move(placement, old_framework, old_phase, changes, actor=actor, extra={"override": reason})
    else:
        record_audit(
            actor=actor,
            action="account.placement_override",
            instance=account,
            changes={"reason": [None, reason]},
        )
    return placement


@transaction.atomic
def lift_override(*, account: Account, actor: User | None) -> AccountPlacement | None:
    """Let the rules place the account again (moves it to the phase they give, recorded as a change)."""
    from touchpoint.success.placement import place_accounts

    placement = AccountPlacement.objects.select_for_update().filter(account=account).first()
    if placement is None or placement.override_phase_id is None:
        return placement
    reason = placement.override_reason
    _clear_override(placement)
    placement.save(update_fields=["override_phase", "override_reason", "override_by", "override_at"])
    record_audit(
        actor=actor,
        action="account.placement_override_lifted",
        instance=account,
        changes={"reason": [reason, None]},
    )
    place_accounts([account.pk])
    return AccountPlacement.objects.select_related("framework", "phase").get(pk=placement.pk)


# --- The placement engine's writer -------------------------------------------------------------------

IDS_PER_UPDATE = 500


def record_rule_placements(changed: list[Placed], *, now: Any) -> PlacementStats:
    """Write where the rules put these accounts, in bulk, in one transaction: new placements, moves
    (with their timeline entries and "phase.changed" events), dropped overrides, start days.

    Each update is conditional on the values the engine read (framework, phase, override), so a
    placement a person changed in the meantime is left as they set it (the next run sees it).
    """
    from touchpoint.accounts.models import TimelineEntry
    from touchpoint.events.models import DomainEvent
    from touchpoint.success.placement import PlacementStats

    stats = PlacementStats()
    if not changed:
        return stats
    cleared = {"override_phase_id": None, "override_reason": "", "override_by_id": None, "override_at": None}
    with transaction.atomic():
        new = [p for p in changed if not p.current.exists]
        moves: dict[tuple, list[int]] = defaultdict(list)
        quiet: dict[tuple, list[int]] = defaultdict(list)
        starts: dict[Any, list[int]] = defaultdict(list)
        for p in changed:
            c = p.current
            if not c.exists:
                continue
            if c.framework_id != p.framework_id or c.phase_id != p.phase_id:
                key = (
                    c.framework_id,
                    c.phase_id,
                    c.override_phase_id,
                    p.framework_id,
                    p.phase_id,
                    p.ruled_phase_id,
                    p.override_phase_id,
                )
                moves[key].append(c.account_id)
            elif c.ruled_phase_id != p.ruled_phase_id or c.override_phase_id != p.override_phase_id:
                quiet[(c.override_phase_id, p.ruled_phase_id, p.override_phase_id)].append(c.account_id)
            if c.started_on != p.started_on:
                starts[p.started_on].append(c.account_id)
            if c.override_phase_id is not None and p.override_phase_id is None:
                stats.overrides_dropped += 1

        if new:
            _write_rows(
                AccountPlacement,
                [
                    {
                        "account_id": p.current.account_id,
                        "framework_id": p.framework_id,
                        "phase_id": p.phase_id,
                        "ruled_phase_id": p.ruled_phase_id,
                        "override_phase_id": None,
                        "framework_set_by_hand": False,
                        "override_reason": "",
                        "started_on": p.started_on,
                        "entered_at": now,
                        # The marker of this run's moves (read back below); nothing to record without a place.
                        "placed_at": now if (p.framework_id or p.phase_id) else None,
                    }
                    for p in new
                ],
                ignore_conflicts=True,  # placed by a person meanwhile: theirs stands
            )
            stats.placed = len(new)
        rows = AccountPlacement.objects
        for (old_fw, old_phase, old_override, fw, phase, ruled, override), ids in moves.items():
            values: dict[str, Any] = {
                "framework_id": fw,
                "phase_id": phase,
                "ruled_phase_id": ruled,
                "placed_at": now,
            }
            if phase != old_phase:
                values["entered_at"] = now
            values.update(cleared if override is None else {"override_phase_id": override})
            for start in range(0, len(ids), IDS_PER_UPDATE):
                rows.filter(
                    account_id__in=ids[start : start + IDS_PER_UPDATE],
                    framework_id=old_fw,
                    phase_id=old_phase,
                    override_phase_id=old_override,
                ).update(**values)
        for (old_override, ruled, override), ids in quiet.items():
            values = {"ruled_phase_id": ruled}
            values.update(cleared if override is None else {"override_phase_id": override})
            for start in range(0, len(ids), IDS_PER_UPDATE):
                rows.filter(
                    account_id__in=ids[start : start + IDS_PER_UPDATE], override_phase_id=old_override
                ).update(**values)
        for started_on, ids in starts.items():
            for start in range(0, len(ids), IDS_PER_UPDATE):
                rows.filter(account_id__in=ids[start : start + IDS_PER_UPDATE]).update(started_on=started_on)

        # What this run moved: the rows it stamped (a row a person changed meantime was not).
        moved = list(rows.filter(placed_at=now).values_list("pk", "account_id", "framework_id", "phase_id"))
        if not moved:
            return stats
        before = {p.current.account_id: p.current for p in changed}
        frameworks: dict[int | None, str] = dict(SuccessFramework.objects.values_list("pk", "name"))
        phases: dict[int | None, str] = dict(LifecyclePhase.objects.values_list("pk", "name"))
        content_type = ContentType.objects.get_for_model(AccountPlacement)
        entries, events = [], []
        for pk, account_id, fw, phase in moved:
            old = before.get(account_id)
            if old is None:
                continue  # stamped by an earlier run given the same `now`
            old_fw, old_phase = old.framework_id, old.phase_id
            changes: dict[str, list[Any]] = {}
            if fw != old_fw:
                changes["framework"] = [frameworks.get(old_fw), frameworks.get(fw)]
            if phase != old_phase:
                changes["phase"] = [phases.get(old_phase), phases.get(phase)]
            if not changes:
                continue
            fw_name, phase_name = frameworks.get(fw), phases.get(phase)
            if phase_name is not None:
                title = f"Moved to phase {phase_name} ({fw_name or ''})"
            elif fw_name is not None:
                title = f"Moved to success framework {fw_name}"
            else:
                title = "Removed from its success framework"
            entries.append(
                {
                    "account_id": account_id,
                    "kind": "phase_changed",
                    "occurred_at": now,
                    "title": title[:255],
                    "subject_type_id": content_type.pk,
                    "subject_id": pk,
                    "body": "",
                    "actor_id": None,
                    "data": {"changes": changes, "by_rules": True},
                    "created_at": now,
                }
            )
            events.append(
                {
                    "kind": "phase.changed",
                    "account_id": account_id,
                    "subject_type": "success.accountplacement",
                    "subject_id": pk,
                    "payload": {
                        "framework_id": fw,
                        "phase_id": phase,
                        "previous_framework_id": old_fw,
                        "previous_phase_id": old_phase,
                        "changes": changes,
                    },
                    "actor_id": None,
                    "occurred_at": now,
                    "created_at": now,
                }
            )
        _write_rows(TimelineEntry, entries)
        _write_rows(DomainEvent, events)
        stats.moved = len(entries)
    return stats


def _write_rows(model: Any, rows: list[dict[str, Any]], *, ignore_conflicts: bool = False) -> None:
    """INSERT many rows of one model (every row naming the same columns, all NOT NULL ones included):
    by COPY on PostgreSQL, where a multi-row INSERT of 100,000 rows costs ten times more; by
    touchpoint.bulk.insert_rows elsewhere. `ignore_conflicts` skips rows that break a unique key."""
    import json

    from django.db import connection

    from touchpoint.bulk import insert_rows

    if not rows:
        return
    if connection.vendor != "postgresql":
        insert_rows(model, rows, ignore_conflicts=ignore_conflicts)
        return
    meta = model._meta
    quote = connection.ops.quote_name
    names = list(rows[0])
    columns = ", ".join(quote(meta.get_field(name).column) for name in names)
    json_at = [i for i, name in enumerate(names) if isinstance(meta.get_field(name), models.JSONField)]
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        target = table
        if ignore_conflicts:
            target = quote(f"tmp_{meta.db_table}")
            # The columns' types only (no keys, no NOT NULL), for this transaction.
            cursor.execute(
                f"CREATE TEMPORARY TABLE {target} ON COMMIT DROP AS SELECT {columns} FROM {table} WITH NO DATA"
            )
        with cursor.cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
            for row in rows:
                values = list(row.values())
                for i in json_at:
                    values[i] = json.dumps(values[i])
                copy.write_row(values)
        if ignore_conflicts:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {target} ON CONFLICT DO NOTHING"
            )
            cursor.execute(f"DROP TABLE {target}")
