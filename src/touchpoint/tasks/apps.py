from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "touchpoint.tasks"
    label = "tasks"
    verbose_name = "Tasks"

    def ready(self) -> None:
        from touchpoint.tasks import (  # noqa: F401  (each registers on import)
            domain_events,
            home_sections,
            plugins,
            rules,
            timeline,
        )

        plugins.register()  # menu, account panel and header fact, portfolio column and CSV column
        home_sections.register()  # "Overdue and due" on the home page

        from touchpoint.tasks import privacy

        privacy.register()  # its part of the privacy export and erasure (docs/privacy.md)
