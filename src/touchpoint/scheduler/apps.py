from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulerConfig(AppConfig):
    """Periodic background work: apps register schedules; the worker's tick enqueues what is due."""

    name = "touchpoint.scheduler"
    label = "scheduler"
    verbose_name = _("Scheduler")
