from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "touchpoint.support"
    label = "support"
    verbose_name = "Support"

    def ready(self) -> None:
        pass  # registers its plug-ins here (navigation, panels, measures, events) once it has them
