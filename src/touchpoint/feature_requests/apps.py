from django.apps import AppConfig


class FeatureRequestsConfig(AppConfig):
    name = "touchpoint.feature_requests"
    label = "feature_requests"
    verbose_name = "Feature requests"

    def ready(self) -> None:
        pass  # registers its plug-ins here (navigation, panels, measures, events) once it has them
