from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RevenueConfig(AppConfig):
    name = "touchpoint.revenue"
    label = "revenue"
    verbose_name = _("Revenue")

    def ready(self) -> None:
        from touchpoint.revenue import (
            domain_events,  # noqa: F401  (registers the revenue event kinds)
            timeline,  # noqa: F401  (registers the revenue timeline kinds)
        )
