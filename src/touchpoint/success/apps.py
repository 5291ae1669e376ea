from django.apps import AppConfig


class SuccessConfig(AppConfig):
    name = "touchpoint.success"
    label = "success"
    verbose_name = "Success"

    def ready(self) -> None:
        from touchpoint.success import (  # noqa: F401  (timeline registers its kinds)
            plugins,
            rules,
            timeline,
        )

        plugins.register()
