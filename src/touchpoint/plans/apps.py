from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "touchpoint.plans"
    label = "plans"
    verbose_name = "Success plans"

    def ready(self) -> None:
        from touchpoint.plans import plugins, rules, timeline  # noqa: F401  (each registers on import)

        plugins.register()  # account panel, health measure

        from touchpoint.plans import privacy

        privacy.register()  # its part of the privacy export and erasure (docs/privacy.md)
