"""Surveys (NPS, CSAT, CES): sending, answers, scores and themes."""

from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "touchpoint.surveys"
    label = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        from touchpoint.surveys import plugins, rules  # noqa: F401  (each registers on import)

        plugins.register()

        from touchpoint.surveys import privacy

        privacy.register()  # its part of the privacy export and erasure (docs/privacy.md)
