from django.apps import AppConfig


class SuccessConfig(AppConfig):
    name = "touchpoint.success"
    label = "success"
    verbose_name = "Success"

    def ready(self) -> None:
        from touchpoint.success import (
            domain_events,  # noqa: F401  (registers phase.changed)
            plugins,
            rules,  # noqa: F401  (declares the success permissions)
            timeline,  # noqa: F401  (registers the timeline kinds)
        )

        plugins.register()
