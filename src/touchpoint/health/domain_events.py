"""The domain events health writes (see touchpoint.events.registry); registered from HealthConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from touchpoint.events.registry import register_kind

register_kind("health.grade_changed", _("Health grade changed"))
