"""The domain events advocacy records (see touchpoint/events)."""

from django.utils.translation import gettext_lazy as _

from touchpoint.events.registry import register_kind

register_kind("advocacy.advocate_added", _("Advocate added"))
register_kind("advocacy.asked", _("Advocacy ask made"))
register_kind("advocacy.ask_changed", _("Advocacy ask changed"))
register_kind("advocacy.activity_recorded", _("Advocacy activity recorded"))
register_kind("advocacy.reward_given", _("Advocacy reward given"))
register_kind("advocacy.candidate_changed", _("Advocacy candidate changed"))
