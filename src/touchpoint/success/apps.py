from django.apps import AppConfig


class SuccessConfig(AppConfig):
    name = "touchpoint.success"
    label = "success"
    verbose_name = "Success"

    def ready(self) -> None:
        from touchpoint.success import (
            domain_events,  # noqa: F401  (registers phase.changed)
            framework_plugins,
            funnel_plugins,
            milestone_plugins,
            placement_plugins,
            plugins,
            readiness_plugins,
            rules,  # noqa: F401  (declares the success permissions)
            timeline,  # noqa: F401  (registers the timeline kinds)
        )

        plugins.register()
        placement_plugins.register()
        framework_plugins.register()
        milestone_plugins.register()
        funnel_plugins.register()
        readiness_plugins.register()  # time to first value and milestone links on readiness maps

        from touchpoint.success import privacy

        privacy.register()  # its part of the privacy export and erasure (docs/privacy.md)
