"""The domain events the tasks app records (see touchpoint/events)."""

from django.utils.translation import gettext_lazy as _

from touchpoint.events.registry import register_kind

register_kind("task.created", _("Task created"))
register_kind("task.completed", _("Task completed"))
register_kind("task.cancelled", _("Task cancelled"))
