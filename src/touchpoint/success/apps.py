from django.apps import AppConfig


class SuccessConfig(AppConfig):
    name = "touchpoint.success"
    label = "success"
    verbose_name = "Success"

    def ready(self) -> None:
        from touchpoint.success import plugins, timeline  # noqa: F401  (timeline registers its kinds)

        plugins.register()
