"""Marking event names as key features: the writes behind the key-features page."""

from __future__ import annotations

from typing import cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from touchpoint.usage.models import KeyFeature
from touchpoint.users.models import User
from touchpoint.users.services import record_audit

_EVENT_LIMIT = cast(int, KeyFeature._meta.get_field("event").max_length)  # CharFields: always set
_LABEL_LIMIT = cast(int, KeyFeature._meta.get_field("label").max_length)


@transaction.atomic
def mark_key_feature(*, event: str, label: str = "", actor: User | None) -> KeyFeature:
    """Count `event` towards breadth of adoption (or relabel it if it already does)."""
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
