from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "touchpoint.tasks"
    label = "tasks"
    verbose_name = "Tasks"

    def ready(self) -> None:
        from touchpoint.tasks import (  # noqa: F401  (each registers on import)
            domain_events,
            rules,
            timeline,
        )
