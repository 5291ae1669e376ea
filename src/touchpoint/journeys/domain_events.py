"""The domain event kinds journeys write (registered from JourneysConfig.ready)."""

from django.utils.translation import gettext_lazy as _

from touchpoint.events.registry import register_kind

register_kind("journey.launched", _("Journey launched"))
register_kind("journey.paused", _("Journey paused"))
register_kind("journey.resumed", _("Journey resumed"))
register_kind("journey.archived", _("Journey archived"))
