from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HealthConfig(AppConfig):
    name = "touchpoint.health"
    label = "health"
    verbose_name = _("Health")

    def ready(self) -> None:
        from touchpoint.health import measures  # noqa: F401  (registers the built-in measures)
