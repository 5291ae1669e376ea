"""The domain events accounts write (see touchpoint.events.registry); registered from AccountsConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from touchpoint.events.registry import register_kind

register_kind("account.created", _("Account created"))
register_kind("account.changed", _("Account changed"))
register_kind("account.deleted", _("Account deleted"))
register_kind("account.owner_changed", _("Account owner changed"))
register_kind("contact.added", _("Contact added"))
register_kind("contact.changed", _("Contact changed"))
register_kind("contact.removed", _("Contact removed"))
register_kind("engagement.logged", _("Note, meeting, call or email logged"))
register_kind("team.member_added", _("Someone joined the account team"))
register_kind("team.member_removed", _("Someone left the account team"))
register_kind("account.tagged", _("Account tagged"))
register_kind("account.untagged", _("Tag removed from an account"))
