"""What surveys add to the shared registries (from SurveysConfig.ready()): the navigation entry,
the `survey.answered` event kind, the `survey_answer` timeline kind, the account panel, the survey
provider journeys' survey steps call, and journeys' `contact.last_nps` / `account.nps` fields."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from touchpoint.accounts.models import TimelineEntry


def _describe(entry: TimelineEntry) -> str:
    data = entry.data
    category = {
        "promoter": gettext("promoter"),
        "passive": gettext("passive"),
        "detractor": gettext("detractor"),
    }.get(data.get("category") or "", "")
    values = {
        "survey": data["survey"],
        "score": data["score"],
        "who": data.get("contact") or gettext("someone"),
        "category": category,
    }
    if category:
        return gettext("%(who)s answered %(score)s to “%(survey)s” (%(category)s)") % values
    return gettext("%(who)s answered %(score)s to “%(survey)s”") % values


def _link(entry: TimelineEntry) -> str | None:
    key = entry.data.get("survey_key")
    return reverse("survey", args=[key]) if key else None


def register() -> None:
    from touchpoint.accounts.panels import account_panels
    from touchpoint.accounts.timeline import register_kind
    from touchpoint.events.registry import register_kind as register_event_kind
    from touchpoint.surveys import fields, imports, measures, sending
    from touchpoint.surveys.services import EVENT_KIND, TIMELINE_KIND
    from touchpoint.web.navigation import nav

    nav.add(
        key="surveys",
        label=_("Surveys"),
        url_name="surveys",
        permission="surveys.view_survey",
        order=39,
        prefix="/surveys/",
        group="voice",
    )
    register_event_kind(EVENT_KIND, _("Survey answered"))
    register_kind(TIMELINE_KIND, label=_("Survey answer"), icon="message", describe=_describe, link=_link)
    account_panels.add(
        key="surveys",
        title=_("Surveys"),
        url_name="account-surveys",
        order=29,
        permission="surveys.view_survey",
    )
    sending.register()
    fields.register()
    imports.register_kind()
    measures.register()
