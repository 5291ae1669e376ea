from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "touchpoint.usage"
    label = "usage"
    verbose_name = "Usage"

    def ready(self) -> None:
        from django.conf import settings

        from touchpoint.scheduler.registry import register_poller
        from touchpoint.usage import health_measures, rollups

        # Rollups catch up with ingested events within a few seconds, in every worker.
        register_poller(
            "usage.rollups", every=settings.USAGE_ROLLUP_REFRESH_SECONDS, run=rollups.refresh_pending
        )
        health_measures.register()  # usage trend, active users, breadth of adoption
