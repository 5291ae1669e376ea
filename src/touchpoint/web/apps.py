from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "touchpoint.web"
    label = "web"
    verbose_name = "Web"
