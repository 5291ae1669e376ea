from django.apps import AppConfig


class ReadinessConfig(AppConfig):
    name = "touchpoint.readiness"
    label = "readiness"
    verbose_name = "Readiness"

    def ready(self) -> None:
        from touchpoint.readiness import plugins, rules  # noqa: F401  (each registers on import)

        plugins.register()  # navigation, the daily status refresh
