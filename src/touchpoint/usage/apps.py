from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "touchpoint.usage"
    label = "usage"
    verbose_name = "Usage"
