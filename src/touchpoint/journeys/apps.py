from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JourneysConfig(AppConfig):
    name = "touchpoint.journeys"
    label = "journeys"
    verbose_name = _("Journeys")

    def ready(self) -> None:
        # Each part registers its nav entry, panels, schedules, pollers and domain events here.
        import touchpoint.journeys.domain_events  # noqa: F401  (journey.launched, .paused, .resumed, .archived)
        from touchpoint.journeys import (
            entries,
            rules,  # noqa: F401  (registers on import)
        )

        entries.register()
