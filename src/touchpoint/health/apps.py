from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HealthConfig(AppConfig):
    name = "touchpoint.health"
    label = "health"
    verbose_name = _("Health")

    def ready(self) -> None:
        from touchpoint.health import (
            domain_events,  # noqa: F401  (registers the health event kinds)
            header_facts,
            home_sections,
            measures,  # noqa: F401  (registers the built-in measures)
            portfolio,
            rules,  # noqa: F401  (declares the health permissions)
        )
        from touchpoint.health.tasks import recompute_health_task
        from touchpoint.scheduler.registry import register_schedule
        from touchpoint.web.navigation import nav

        # After midnight, once yesterday's events are in the rollups; scores are for the new day.
        register_schedule(
            "health.recompute",
            cron="30 1 * * *",
            task=recompute_health_task,
            description="Health scores for every account",
        )
        portfolio.register()
        home_sections.register()  # grades that fell this week, on the home page
        home_sections.register_alerts()  # a fall of grade alerts the account's people
        header_facts.register()  # risk and its 30-day trend in the account header
        nav.add(
            key="health-scorecards",
            label=_("Health scorecards"),
            url_name="health-scorecards",
            permission="health.view_scorecard",
            order=60,
            group="setup",
        )
