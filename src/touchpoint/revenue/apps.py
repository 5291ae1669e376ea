from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RevenueConfig(AppConfig):
    name = "touchpoint.revenue"
    label = "revenue"
    verbose_name = _("Revenue")

    def ready(self) -> None:
        from touchpoint.revenue import (
            health_measures,
            timeline,  # noqa: F401  (registers the revenue timeline kinds)
        )

        health_measures.register()  # live subscriptions, billing and renewal measures, churn outcomes
