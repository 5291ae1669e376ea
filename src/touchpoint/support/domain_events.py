"""The domain events support writes (see touchpoint.events.registry); registered from SupportConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from touchpoint.events.registry import register_kind

register_kind("ticket.opened", _("Ticket opened"))
register_kind("ticket.changed", _("Ticket changed"))
register_kind("ticket.solved", _("Ticket solved"))
register_kind("ticket.sla_breached", _("Ticket SLA breached"))
