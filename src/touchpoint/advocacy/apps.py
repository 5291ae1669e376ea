from django.apps import AppConfig


class AdvocacyConfig(AppConfig):
    name = "touchpoint.advocacy"
    label = "advocacy"
    verbose_name = "Advocacy"

    def ready(self) -> None:
        from touchpoint.advocacy import domain_events, plugins, rules, timeline  # noqa: F401  (each registers on import)

        plugins.register()  # navigation, the account panel, the survey-answer consumer

        from touchpoint.advocacy import privacy

        privacy.register()  # its part of the privacy export and erasure (docs/privacy.md)
