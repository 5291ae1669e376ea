"""Writes for health: scorecard versions (from the UI, YAML or a fitted proposal) and the daily recompute."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.accounts.models import Segment
from touchpoint.events.effects import enqueue_after_commit
from touchpoint.health import recompute
from touchpoint.health.models import LearnedModel, Scorecard, ScorecardVersion
from touchpoint.health.scoring import Definition, default_definition
from touchpoint.users.models import User
from touchpoint.users.services import record_audit

if TYPE_CHECKING:
    from touchpoint.health.backtest import Period
    from touchpoint.health.fit import Proposal

DEFAULT_SCORECARD_NAME = "Default"


@transaction.atomic
def save_scorecard(
    *,
    definition: Definition,
    actor: User | None,
    scorecard: Scorecard | None = None,
    name: str = "",
    segment: Segment | None = None,
    note: str = "",
) -> ScorecardVersion:
    """Keep a new version of a scorecard (creating the scorecard for a segment, or the default, if new).

    The old versions stay as they were; an unchanged definition makes no new version.
    """
    if scorecard is None:
        name = name.strip() or (segment.name if segment is not None else DEFAULT_SCORECARD_NAME)
        if Scorecard.objects.filter(segment=segment).exists():
            raise ValidationError({"segment": _("This segment already has a scorecard.")})
        if Scorecard.objects.filter(name=name).exists():
            raise ValidationError({"name": _("A scorecard with this name already exists.")})
        scorecard = Scorecard.objects.create(name=name, segment=segment)
        record_audit(actor=actor, action="create", instance=scorecard, changes={"name": name})
    else:
        scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    current = scorecard.current_version
    if current is not None and Definition.from_dict(current.definition) == definition:
        return current
    number = (current.number if current is not None else 0) + 1
    version = ScorecardVersion.objects.create(
        scorecard=scorecard,
        number=number,
        definition=definition.as_dict(),
        note=note[:300],
        created_by=actor if actor is not None and actor.pk else None,
    )
    scorecard.current_version = version
    scorecard.save(update_fields=["current_version"])
    record_audit(
        actor=actor,
        action="new_version",
        instance=scorecard,
        changes={"version": number, "definition": definition.as_dict(), "note": note},
    )
    return version


@transaction.atomic
def apply_learned_model(
    *, scorecard: Scorecard, proposal, actor: User | None, override: bool = False, note: str = ""
) -> LearnedModel:
    """Put a learned model (learned.LearnedProposal) in use beside the scorecard, withdrawing the one
    before. One that did not foresee churn better than the scorecard on the test is refused unless
    `override` says to apply it all the same."""
    if not proposal.improves and not override:
        raise ValidationError(
            {
                "override": ValidationError(
                    _(
                        "The learned model did not foresee churn better than the scorecard on the test; "
                        "apply it anyway only on purpose."
                    ),
                    code="no_improvement",
                )
            }
        )
    scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    now = timezone.now()
    LearnedModel.objects.filter(scorecard=scorecard, withdrawn_at__isnull=True).update(withdrawn_at=now)
    model = LearnedModel.objects.create(
        scorecard=scorecard,
        parameters=proposal.model.as_dict(),
        horizon=proposal.model.horizon,
        test_auc=proposal.proposed.auc,
        scorecard_auc=proposal.current.auc,
        note=note[:300],
        created_by=actor if actor is not None and actor.pk else None,
        created_at=now,
    )
    record_audit(
        actor=actor,
        action="apply_learned_model",
        instance=scorecard,
        changes={
            "learned_model": model.pk,
            "test_auc": proposal.proposed.auc,
            "scorecard_auc": proposal.current.auc,
            "override": bool(override and not proposal.improves),
        },
    )
    return model


@transaction.atomic
def withdraw_learned_model(*, scorecard: Scorecard, actor: User | None) -> int:
    """Stop using the scorecard's learned model (it is kept, marked withdrawn); returns how many."""
    withdrawn = LearnedModel.objects.filter(scorecard=scorecard, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now()
    )
    if withdrawn:
        record_audit(actor=actor, action="withdraw_learned_model", instance=scorecard)
    return withdrawn


def apply_proposal(
    *, scorecard: Scorecard, proposal: Proposal, period: Period, actor: User | None, override: bool = False
) -> ScorecardVersion:
    """Keep a fitted proposal as the scorecard's new version (audited, its note saying where it was
    fitted and how it did). One that did not beat the current scorecard on the test days is refused
    (ValidationError on "override", code "no_improvement") unless `override` says to apply it anyway."""
    from touchpoint.health.fit import fit_note

    if not proposal.improves and not override:
        raise ValidationError(
            {
                "override": ValidationError(
                    _(
                        "The proposal is no improvement on the current scorecard on the test days; "
                        "apply it with an override to apply it all the same."
                    ),
                    code="no_improvement",
                )
            }
        )
    return save_scorecard(
        definition=proposal.definition, actor=actor, scorecard=scorecard, note=fit_note(proposal, period)
    )


def ensure_default_scorecard(*, actor: User | None = None) -> Scorecard:
    """The default scorecard, made from the measures' own defaults the first time it is needed."""
    scorecard = Scorecard.objects.filter(segment__isnull=True).select_related("current_version").first()
    if scorecard is None or scorecard.current_version is None:
        save_scorecard(
            definition=default_definition(),
            actor=actor,
            scorecard=scorecard,
            note=_("Default scorecard from the measures' defaults"),
        )
        scorecard = Scorecard.objects.select_related("current_version").get(segment__isnull=True)
    return scorecard


def current_cards() -> tuple[dict[int, Definition], dict[int, int], int]:
    """(definition per version id, version per segment id, the default's version id) of every scorecard."""
    default = ensure_default_scorecard()
    cards: dict[int, Definition] = {}
    segments: dict[int, int] = {}
    for scorecard in Scorecard.objects.select_related("current_version").exclude(current_version=None):
        version = scorecard.current_version
        assert version is not None  # excluded above
        cards[version.pk] = Definition.from_dict(version.definition)
        if scorecard.segment_id is not None:
            segments[scorecard.segment_id] = version.pk
    assert default.current_version_id is not None  # ensure_default_scorecard gives it a version
    return cards, segments, default.current_version_id


@transaction.atomic
def recompute_health(*, day: date | None = None) -> int:
    """Score every account for the day (today by default) with its segment's scorecard; returns rows written."""
    day = day or timezone.localdate()
    cards, segments, default_version = current_cards()
    return recompute.insert_scores(day, cards, segments, default_version)


@transaction.atomic
def request_rescore(*, actor: User | None, scorecard: Scorecard) -> None:
    """Score every account again for today, in the background (the daily task, now): after a scorecard
    changed, so people need not wait for the 01:30 run. One set-based pass scores all accounts with
    their own scorecards, which costs what scoring only this scorecard's accounts would."""
    from touchpoint.health.tasks import recompute_health_task

    record_audit(actor=actor, action="rescore", instance=scorecard)
    enqueue_after_commit(recompute_health_task)


@transaction.atomic
def apply_scorecards_yaml(*, text: str, actor: User | None, note: str = "") -> list[ScorecardVersion]:
    """Create or update the scorecards a YAML document describes (see docs/health.md for the format)."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValidationError({"file": _("Not valid YAML: %(error)s") % {"error": error}}) from error
    if not isinstance(document, dict) or not isinstance(document.get("scorecards"), list):
        raise ValidationError({"scorecards": _("Expected a top-level “scorecards:” list.")})
    versions = []
    for index, entry in enumerate(document["scorecards"]):
        where = f"scorecards.{index}"
        if not isinstance(entry, dict):
            raise ValidationError({where: _("Expected a mapping.")})
        segment = None
        if entry.get("segment"):
            segment = Segment.objects.filter(name=str(entry["segment"])).first()
            if segment is None:
                raise ValidationError(
                    {f"{where}.segment": _("No segment named “%(name)s”.") % {"name": entry["segment"]}}
                )
        measures = entry.get("measures")
        if isinstance(measures, dict):  # the export's form: {measure: {weight, green, red, missing}}
            measures = [{"measure": key, **(value or {})} for key, value in measures.items()]
        try:
            definition = Definition.from_dict({"measures": measures, "grades": entry.get("grades") or {}})
        except ValidationError as error:
            raise ValidationError(
                {f"{where}.{field}": messages for field, messages in error.message_dict.items()}
            ) from error
        scorecard = Scorecard.objects.filter(segment=segment).first()
        versions.append(
            save_scorecard(
                definition=definition,
                actor=actor,
                scorecard=scorecard,
                name=str(entry.get("name") or ""),
                segment=segment,
                note=note or _("Applied from YAML"),
            )
        )
    return versions
