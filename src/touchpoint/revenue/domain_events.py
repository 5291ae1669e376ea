"""The domain events revenue writes (see touchpoint.events.registry); registered from RevenueConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from touchpoint.events.registry import register_kind

register_kind("subscription.created", _("Subscription created"))
register_kind("subscription.changed", _("Subscription changed"))
register_kind("subscription.canceled", _("Subscription canceled"))
register_kind("subscription.reactivated", _("Subscription reactivated"))
register_kind("mrr.movement", _("MRR movement"))
register_kind("renewal.opened", _("Renewal opportunity opened"))
register_kind("renewal.stage_changed", _("Renewal stage changed"))
register_kind("renewal.outcome_recorded", _("Renewal outcome recorded"))
register_kind("mrr.voided", _("MRR movement voided"))
