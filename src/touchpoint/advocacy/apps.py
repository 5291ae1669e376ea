from django.apps import AppConfig


class AdvocacyConfig(AppConfig):
    name = "touchpoint.advocacy"
    label = "advocacy"
    verbose_name = "Advocacy"

    def ready(self) -> None:
        pass  # registers its plug-ins here (navigation, panels, measures, events) once it has them
