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
            consent,
            delivery,
            entries,
            fields_builtin,  # noqa: F401  (registers the built-in fields)
            readiness_plugins,
            rules,  # noqa: F401  (registers on import)
        )
        from touchpoint.journeys.engine import advance_all_due
        from touchpoint.journeys.tasks import recheck_task
        from touchpoint.journeys.ui import register_pages
        from touchpoint.scheduler.registry import register_poller, register_schedule

        entries.register()
        delivery.register()  # the "journeys.send" poller
        consent.register()  # the consent timeline kind
        register_poller("journeys.advance", every=5, run=advance_all_due)
        register_schedule(
            "journeys.recheck",
            cron="40 5 * * *",
            task=recheck_task,
            description="Look again at every waiting journey enrollment for goals and exit rules",
        )
        register_pages()
        readiness_plugins.register()  # journeys as what automates a readiness touchpoint

        from touchpoint.journeys import privacy

        privacy.register()  # its part of the privacy export and erasure (docs/privacy.md)
