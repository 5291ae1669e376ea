"""The domain events the success app records (see touchpoint/events)."""

from django.utils.translation import gettext_lazy as _

from touchpoint.events.registry import register_kind

register_kind("phase.changed", _("Lifecycle phase changed"))
register_kind("milestone.reached", _("Milestone reached"))
