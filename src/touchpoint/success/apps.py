from django.apps import AppConfig


class SuccessConfig(AppConfig):
    name = "touchpoint.success"
    label = "success"
    verbose_name = "Success"
