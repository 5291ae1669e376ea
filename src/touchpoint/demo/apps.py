from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "touchpoint.demo"
    label = "demo"
    verbose_name = "Demo company"
