"""The domain events the playbooks app records (see touchpoint/events)."""

from django.utils.translation import gettext_lazy as _

from touchpoint.events.registry import register_kind

register_kind("playbook.started", _("Playbook started"))
register_kind("playbook.stopped", _("Playbook stopped"))
register_kind("playbook.completed", _("Playbook completed"))
