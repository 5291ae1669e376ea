from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "touchpoint.support"
    label = "support"
    verbose_name = _("Support")

    def ready(self) -> None:
        from touchpoint.support import domain_events, plugins, rules  # noqa: F401  (each registers on import)

        plugins.register()

        from touchpoint.support import privacy

        privacy.register()  # its part of the privacy export and erasure (docs/privacy.md)
