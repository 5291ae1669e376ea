from django.apps import AppConfig


class SuccessConfig(AppConfig):
    name = "touchpoint.success"
    label = "success"
    verbose_name = "Success"

    def ready(self) -> None:
        from touchpoint.success import rules  # noqa: F401  (declares the success permissions)
