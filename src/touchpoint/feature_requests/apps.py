"""Feature requests: asked by accounts, ranked by the revenue at stake."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeatureRequestsConfig(AppConfig):
    name = "touchpoint.feature_requests"
    label = "feature_requests"
    verbose_name = _("Feature requests")

    def ready(self) -> None:
        from touchpoint.feature_requests import (  # noqa: F401  (each registers on import)
            domain_events,
            plugins,
            rules,
            timeline,
        )

        plugins.register()  # navigation, the account panel, the CSV import kind

        from touchpoint.feature_requests import privacy

        privacy.register()  # its part of the privacy export and erasure (docs/privacy.md)
