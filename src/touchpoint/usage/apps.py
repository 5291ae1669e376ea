from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UsageConfig(AppConfig):
    name = "touchpoint.usage"
    label = "usage"
    verbose_name = "Usage"

    def ready(self) -> None:
        from django.conf import settings

        from touchpoint.accounts.panels import account_panels
        from touchpoint.scheduler.registry import register_poller, register_schedule
        from touchpoint.usage import (
            health_measures,
            rollups,
            rules,  # noqa: F401  (declares the usage permissions)
        )
        from touchpoint.web.navigation import nav

        # Rollups catch up with ingested events within a few seconds, in every worker.
        register_poller(
            "usage.rollups", every=settings.USAGE_ROLLUP_REFRESH_SECONDS, run=rollups.refresh_pending
        )
        from touchpoint.usage.tasks import delete_old_raw_events_task

        register_schedule(
            "usage.retention",
            cron="30 3 * * *",
            task=delete_old_raw_events_task,
            description="Delete raw events older than RAW_EVENT_RETENTION_DAYS (rollups stay)",
        )
        nav.add(
            key="sources",
            label=_("Event sources"),
            url_name="sources",
            permission="usage.view_source",
            order=20,
            group="setup",
        )
        nav.add(key="key-features", label=_("Key features"), url_name="key-features", order=30, group="setup")
        account_panels.add(key="usage", title=_("Product usage"), url_name="account-usage", order=20)
        health_measures.register()  # usage trend, active users, breadth of adoption

        from touchpoint.usage import privacy

        privacy.register()  # the privacy export and erasure (docs/privacy.md)
