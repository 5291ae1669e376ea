"""Marking event names as key features: the writes behind the key-features page, the YAML file
(`touchpoint keyfeature apply`) and the API.

    mark_key_feature(event=..., label=..., actor=...)            one event, as the page's toggle
    unmark_key_feature(event=..., actor=...)
    apply_key_features(features=[...], prune=True, actor=...)    a whole set, in one transaction
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from touchpoint.usage.models import KeyFeature
from touchpoint.users.models import User
from touchpoint.users.services import record_audit

_EVENT_LIMIT = cast(int, KeyFeature._meta.get_field("event").max_length)  # CharFields: always set
_LABEL_LIMIT = cast(int, KeyFeature._meta.get_field("label").max_length)


def _checked(event: str, label: str) -> tuple[str, str]:
    """The event name and label as stored (spaces around them dropped); ValidationError naming the field."""
    event, label = (event or "").strip(), (label or "").strip()
    if not event:
        raise ValidationError({"event": _("Name the event.")})
    if len(event) > _EVENT_LIMIT:
        raise ValidationError(
            {"event": _("An event name has at most %(limit)d characters.") % {"limit": _EVENT_LIMIT}}
        )
    if len(label) > _LABEL_LIMIT:
        raise ValidationError(
            {"label": _("A label has at most %(limit)d characters.") % {"limit": _LABEL_LIMIT}}
        )
    for name, value in (("event", event), ("label", label)):
        if "\x00" in value:
            raise ValidationError({name: _("Null characters are not allowed.")})
    return event, label


@transaction.atomic
def mark_key_feature(*, event: str, label: str = "", actor: User | None) -> KeyFeature:
    """Count `event` towards breadth of adoption (or relabel it if it already does)."""
    event, label = _checked(event, label)
    feature, created = KeyFeature.objects.get_or_create(event=event, defaults={"label": label})
    if created:
        record_audit(actor=actor, action="create", instance=feature, changes={"event": event, "label": label})
    elif feature.label != label:
        record_audit(
            actor=actor, action="change", instance=feature, changes={"label": [feature.label, label]}
        )
        feature.label = label
        feature.save(update_fields=["label"])
    return feature


@transaction.atomic
def unmark_key_feature(*, event: str, actor: User | None) -> None:
    """Stop counting `event` as a key feature (nothing happens if it was not one)."""
    feature = KeyFeature.objects.filter(event=(event or "").strip()).first()
    if feature is not None:
        record_audit(actor=actor, action="delete", instance=feature, changes={"event": feature.event})
        feature.delete()


@dataclass(frozen=True)
class Wanted:
    """One key feature as a file or an API call lists it."""

    event: str
    label: str = ""


@dataclass
class KeyFeatureChanges:
    """What applying a set did (or, on a dry run, would do): event names, in the order given."""

    created: list[str] = field(default_factory=list)
    relabelled: list[tuple[str, str, str]] = field(default_factory=list)  # (event, old label, new label)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    kept: list[str] = field(default_factory=list)  # not in the set, left as they are (no prune)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.relabelled or self.removed)

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "relabelled": [{"event": e, "old_label": old, "label": new} for e, old, new in self.relabelled],
            "removed": self.removed,
            "unchanged": self.unchanged,
            "kept": self.kept,
        }


def plan_key_features(*, features: Sequence[Wanted], prune: bool) -> KeyFeatureChanges:
    """What `apply_key_features` would change, without writing; ValidationError naming the item
    ("key_features[2].event") when one is not valid or an event is listed twice."""
    errors: dict[str, list[str]] = {}
    wanted: dict[str, str] = {}
    first_at: dict[str, int] = {}
    for index, feature in enumerate(features):
        try:
            event, label = _checked(feature.event, feature.label)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                errors.setdefault(f"key_features[{index}].{name}", []).extend(messages)
            continue
        if event in wanted:
            errors.setdefault(f"key_features[{index}].event", []).append(
                _("“%(event)s” is listed twice (first as item %(first)d).")
                % {"event": event, "first": first_at[event] + 1}
            )
            continue
        wanted[event], first_at[event] = label, index
    if errors:
        raise ValidationError(errors)
    existing = dict(KeyFeature.objects.values_list("event", "label"))
    changes = KeyFeatureChanges()
    for event, label in wanted.items():
        if event not in existing:
            changes.created.append(event)
        elif existing[event] != label:
            changes.relabelled.append((event, existing[event], label))
        else:
            changes.unchanged += 1
    left_out = sorted(event for event in existing if event not in wanted)
    if prune:
        changes.removed = left_out
    else:
        changes.kept = left_out
    return changes


@transaction.atomic
def apply_key_features(
    *, features: Sequence[Wanted], prune: bool, actor: User | None, dry_run: bool = False
) -> KeyFeatureChanges:
    """Make the key features those listed: create the new ones, relabel the changed ones and, with
    `prune`, remove those not listed (without it they stay). All or nothing, audited as the page's
    toggles are; applying the same set twice changes nothing the second time."""
    changes = plan_key_features(features=features, prune=prune)
    if dry_run:
        return changes
    labels = {feature.event.strip(): feature.label.strip() for feature in features}
    for event in changes.created:
        mark_key_feature(event=event, label=labels[event], actor=actor)
    for event, _old, label in changes.relabelled:
        mark_key_feature(event=event, label=label, actor=actor)
    for event in changes.removed:
        unmark_key_feature(event=event, actor=actor)
    return changes
