"""What journeys add to readiness maps (registered from JourneysConfig.ready()): a journey as what
automates a touchpoint, linked by its key (the name YAML files use, so a map's links survive export
and apply). Live and paused journeys are offered; an archived one is over and serves nothing, so a
link to it reads as gone, like a deleted one; a paused or draft one resolves and says it sends nothing
now."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from touchpoint.journeys.models import Journey, JourneyStatus
from touchpoint.readiness.links import Serves, link_kinds


def journey_choices() -> list[tuple[str, str]]:
    """The live and paused journeys, as (key, name)."""
    journeys = Journey.objects.filter(status__in=(JourneyStatus.LIVE, JourneyStatus.PAUSED))
    return list(journeys.order_by("name", "id").values_list("key", "name"))


def resolve_journey(key: str) -> tuple[str, str] | None:
    """(name, the journey's page), None when it was deleted or archived; one that sends nothing now
    (paused, or a draft not launched yet) says so."""
    journey = Journey.objects.filter(key=key).exclude(status=JourneyStatus.ARCHIVED).first()
    if journey is None:
        return None
    # A paused or draft journey can still be started, so it stays linked, but it automates nothing yet.
    if journey.status == JourneyStatus.PAUSED:
        label = _("%(name)s (paused)") % {"name": journey.name}
    elif journey.status == JourneyStatus.DRAFT:
        label = _("%(name)s (draft)") % {"name": journey.name}
    else:
        label = journey.name
    return label, reverse("journey", kwargs={"key": journey.key})


def register() -> None:
    link_kinds.add(
        key="journey",
        label=_("Journey"),
        serves=Serves.AUTOMATED,
        choices=journey_choices,
        resolve=resolve_journey,
        order=10,
    )
