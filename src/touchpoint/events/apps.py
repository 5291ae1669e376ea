from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "touchpoint.events"
    label = "events"
    verbose_name = _("Domain events")

    def ready(self) -> None:
        from touchpoint.events.tasks import delete_old_events_task
        from touchpoint.scheduler.registry import register_schedule

        register_schedule(
            "events.retention",
            cron="45 3 * * *",
            task=delete_old_events_task,
            description="Delete domain events older than DOMAIN_EVENT_RETENTION_DAYS",
        )
