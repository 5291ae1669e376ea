from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "touchpoint.plans"
    label = "plans"
    verbose_name = "Success plans"
