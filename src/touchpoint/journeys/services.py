"""Every write to a journey's life: save a version, launch, pause, resume, archive. Each public
function is one transaction: it validates, writes, and records the change (audit log, and a domain
event for launch, pause, resume and archive).

Versions never change once saved: saving makes version N+1 with the YAML as written and the
validated definition (JSON). The YAML's `key` names the journey; a new key makes a new journey.

The status says what the engine may do:

- draft: never launched; nothing enters, nothing advances.
- live: `live_version` takes new enrollments; every enrollment advances, each on its own version.
- paused: nothing enters and nothing advances (the engine checks `journey.status == live` before it
  moves an enrollment on); resume picks up where it stopped.
- archived: over. Its active enrollments were exited when it was archived.

Launching a newer version leaves the enrollments already walking an older one where they are,
unless the editor moves them: then every active enrollment whose current step id also exists in the
new version moves to it (same step id, same waits); the others finish on their own version.

Locks: each function locks the journey's row first (select_for_update), so two launches, or a
launch and a save, of the same journey run one after the other and version numbers never collide
(the unique (journey, number) constraint is the backstop).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.events.services import record_event
from touchpoint.journeys import documents
from touchpoint.journeys.definition import JourneyDefinition, parse, walk
from touchpoint.journeys.models import (
    Enrollment,
    EnrollmentStatus,
    Journey,
    JourneyStatus,
    JourneyVersion,
)
from touchpoint.users.services import record_audit

NOTE_MAX = 300


@dataclass(frozen=True)
class Launched:
    """What a launch did: the journey, the version now live, and the enrollments it moved or left."""

    journey: Journey
    version: JourneyVersion
    moved: int
    stayed: int


def _user(actor: Any) -> Any:
    return actor if actor is not None and getattr(actor, "pk", None) else None


def _locked(journey: Journey) -> Journey:
    return Journey.objects.select_for_update().get(pk=journey.pk)


def latest_version(journey: Journey) -> JourneyVersion | None:
    return journey.versions.order_by("-number").first()


def definition_of(version: JourneyVersion) -> JourneyDefinition:
    """The definition a saved version runs (its stored JSON, as validated when it was saved)."""
    return parse(version.definition)


@transaction.atomic
def save_version(
    *, source: str, actor: Any = None, note: str = "", journey: Journey | None = None
) -> JourneyVersion:
    """Save a journey's YAML as its next version (creating the journey on a new key).

    The text is read and checked in full (documents.read: DocumentError with every problem and its
    line). Saving the same text as the latest version changes nothing and returns that version. Pass
    `journey` when editing one: the YAML's key must then be that journey's key.
    """
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("A note has at most %(max)d characters.") % {"max": NOTE_MAX}})
    definition = documents.read(source)
    if journey is not None and definition.key != journey.key:
        raise ValidationError(
            {
                "source": _(
                    "The key must stay “%(key)s”: a journey's key names it, so a different key "
                    "would make another journey."
                )
                % {"key": journey.key}
            }
        )
    journey, created = Journey.objects.select_for_update().get_or_create(
        key=definition.key,
        defaults={
            "name": definition.name,
            "description": definition.description,
            "created_by": _user(actor),
        },
    )
    if journey.status == JourneyStatus.ARCHIVED:
        raise ValidationError(
            {
                "source": _("The journey “%(key)s” is archived: it takes no new versions.")
                % {"key": journey.key}
            }
        )
    latest = None if created else latest_version(journey)
    if latest is not None and latest.source == source:
        return latest
    version = JourneyVersion.objects.create(
        journey=journey,
        number=latest.number + 1 if latest is not None else 1,
        definition=documents.as_data(definition),
        source=source,
        note=note,
        created_by=_user(actor),
    )
    if (journey.name, journey.description) != (definition.name, definition.description):
        journey.name = definition.name
        journey.description = definition.description
        journey.save(update_fields=["name", "description", "updated_at"])
    record_audit(
        actor=_user(actor),
        action="journey.create" if created else "journey.save_version",
        instance=journey,
        changes={"version": version.number, "note": note},
    )
    return version


def _recheck(version: JourneyVersion) -> None:
    """A version is checked again at launch: a playbook, phase or endpoint it names may be gone."""
    source = version.source or documents.dump(definition_of(version))
    problems = documents.problems_of(source)
    if problems:
        raise ValidationError(
            {
                "version": [
                    _("Version %(number)d cannot be launched: line %(line)d, column %(column)d: %(message)s")
                    % {
                        "number": version.number,
                        "line": problem.line,
                        "column": problem.column,
                        "message": problem.message,
                    }
                    for problem in problems
                ]
            }
        )


@transaction.atomic
def launch_version(
    *,
    journey: Journey,
    version: JourneyVersion | None = None,
    actor: Any = None,
    move_enrollments: bool = False,
) -> Launched:
    """Make a version live (the latest when none is given); see `launch`. Returns the counts too."""
    journey = _locked(journey)
    if journey.status == JourneyStatus.ARCHIVED:
        raise ValidationError({"status": _("An archived journey cannot be launched.")})
    if version is None:
        version = latest_version(journey)
        if version is None:
            raise ValidationError({"version": _("This journey has no version to launch yet.")})
    elif version.journey_id != journey.pk:
        raise ValidationError({"version": _("This version belongs to another journey.")})
    _recheck(version)
    now = timezone.now()
    previous_id = journey.live_version_id
    active_elsewhere = Enrollment.objects.filter(journey=journey, status=EnrollmentStatus.ACTIVE).exclude(
        version=version
    )
    moved = 0
    if move_enrollments:
        step_ids = [step.id for step in walk(definition_of(version).steps)]
        taken = Enrollment.objects.filter(
            version=version, subject_key=OuterRef("subject_key"), entry_key=OuterRef("entry_key")
        )
        # An UPDATE takes each row's lock: an engine worker advancing one of them finishes first,
        # and PostgreSQL re-checks `step_id` against the row as that worker left it.
        moved = active_elsewhere.filter(step_id__in=step_ids).exclude(Exists(taken)).update(version=version)
    stayed = active_elsewhere.count()
    if journey.status == JourneyStatus.LIVE and previous_id == version.pk and not moved:
        return Launched(journey=journey, version=version, moved=0, stayed=stayed)
    if version.launched_at is None:
        version.launched_at = now
        version.save(update_fields=["launched_at"])
    journey.live_version = version
    journey.status = JourneyStatus.LIVE
    journey.save(update_fields=["live_version", "status", "updated_at"])
    changes = {
        "version": version.number,
        "previous_version_id": previous_id,
        "moved_enrollments": moved,
        "stayed_enrollments": stayed,
    }
    record_audit(actor=_user(actor), action="journey.launch", instance=journey, changes=changes)
    record_event(
        kind="journey.launched",
        subject=journey,
        actor=_user(actor),
        payload={"journey_id": journey.pk, "key": journey.key, "version_id": version.pk, **changes},
    )
    return Launched(journey=journey, version=version, moved=moved, stayed=stayed)


def launch(
    *,
    journey: Journey,
    version: JourneyVersion | None = None,
    actor: Any = None,
    move_enrollments: bool = False,
) -> Journey:
    """Make a version live (the latest when none is given): new enrollments enter it.

    Enrollments on older versions stay there, unless `move_enrollments`: then those whose current
    step id exists in the new version move to it. Refused for an archived journey, and for a version
    whose references no longer hold (a playbook deleted since it was saved…).
    """
    return launch_version(
        journey=journey, version=version, actor=actor, move_enrollments=move_enrollments
    ).journey


def _change_status(
    *, journey: Journey, to: str, kind: str, actor: Any, changes: dict[str, Any] | None = None
) -> None:
    before = journey.status
    journey.status = to
    journey.save(update_fields=["status", "updated_at"])
    record_audit(
        actor=_user(actor),
        action=kind,
        instance=journey,
        changes={"status": [before, to], **(changes or {})},
    )
    record_event(
        kind=kind,
        subject=journey,
        actor=_user(actor),
        payload={"journey_id": journey.pk, "key": journey.key, "from": before, **(changes or {})},
    )


@transaction.atomic
def pause(*, journey: Journey, actor: Any = None) -> Journey:
    """Stop a live journey: nobody enters, nobody advances, until it is resumed."""
    journey = _locked(journey)
    if journey.status != JourneyStatus.LIVE:
        raise ValidationError({"status": _("Only a live journey can be paused.")})
    _change_status(journey=journey, to=JourneyStatus.PAUSED, kind="journey.paused", actor=actor)
    return journey


@transaction.atomic
def resume(*, journey: Journey, actor: Any = None) -> Journey:
    """Run a paused journey again, on the version that was live when it was paused."""
    journey = _locked(journey)
    if journey.status != JourneyStatus.PAUSED or journey.live_version_id is None:
        raise ValidationError({"status": _("Only a paused journey can be resumed.")})
    _change_status(journey=journey, to=JourneyStatus.LIVE, kind="journey.resumed", actor=actor)
    return journey


EXIT_CHUNK = 200  # enrollments taken out per transaction when a journey is archived
ARCHIVED_REASON = "journey archived"


def archive(*, journey: Journey, actor: Any = None, chunk_size: int = EXIT_CHUNK) -> Journey:
    """Retire a draft or paused journey for good; its active enrollments are exited.

    The journey is archived first (one transaction, the journey's row locked): from then on nothing
    enters it and the engine moves none of its enrollments (it only moves those of a live journey).
    Then each active enrollment leaves through the engine's own exit path (`engine.exit_enrollment`:
    its open step visit closed as "exit", the reason "journey archived", the audit entry), `chunk_size`
    of them per transaction, so a journey with many enrollments never holds the database (SQLite's one
    writer) for the whole run. Were it stopped half-way, archiving it again exits the rest.
    """
    with transaction.atomic():
        journey = _locked(journey)
        active = Enrollment.objects.filter(journey=journey, status=EnrollmentStatus.ACTIVE)
        if journey.status == JourneyStatus.LIVE:
            raise ValidationError({"status": _("Pause the journey before archiving it.")})
        if journey.status == JourneyStatus.ARCHIVED and not active.exists():
            raise ValidationError({"status": _("This journey is already archived.")})
        # An archived journey with active enrollments was stopped half-way: only finish the exits.
        if journey.status != JourneyStatus.ARCHIVED:
            _change_status(
                journey=journey,
                to=JourneyStatus.ARCHIVED,
                kind="journey.archived",
                actor=actor,
                changes={"exited": active.count()},
            )
    exit_active(journey=journey, reason=ARCHIVED_REASON, actor=actor, chunk_size=chunk_size)
    return journey


def exit_active(*, journey: Journey, reason: str, actor: Any = None, chunk_size: int = EXIT_CHUNK) -> int:
    """Exit every active enrollment of the journey through `engine.exit_enrollment`, a chunk of
    `chunk_size` per transaction; returns how many it exited.

    exit_enrollment locks each row (select_for_update) and leaves one that is no longer active as it
    is, so an enrollment exited by hand or by the API meanwhile is neither exited twice nor counted.
    """
    from touchpoint.journeys import engine

    chunk_size = max(1, int(chunk_size))
    exited, after = 0, 0
    while True:
        ids = list(
            Enrollment.objects.filter(journey=journey, status=EnrollmentStatus.ACTIVE, pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:chunk_size]
        )
        if not ids:
            return exited
        with transaction.atomic():
            # Locked and re-read here, so only the ones still active are counted (exit_enrollment
            # locks each again inside this transaction, which it already holds).
            still_active = (
                Enrollment.objects.select_for_update()
                .filter(pk__in=ids, status=EnrollmentStatus.ACTIVE)
                .order_by("pk")
            )
            for enrollment in still_active:
                engine.exit_enrollment(enrollment=enrollment, reason=reason, actor=_user(actor))
                exited += 1
        after = ids[-1]
