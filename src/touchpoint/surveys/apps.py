from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "touchpoint.surveys"
    label = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        pass  # registers its plug-ins here (navigation, panels, measures, events) once it has them
