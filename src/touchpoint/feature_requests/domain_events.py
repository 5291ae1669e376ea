"""The feature-request event kinds (registered from FeatureRequestsConfig.ready()).

- feature_request.asked: an account asked for a request (payload `request_id`, `title`, `contact_id`).
- feature_request.shipped: a request an account asked for has shipped, one event per requesting
  account (payload `request_id`, `title`, `contact_ids`: the contacts who asked).
- feature_request.shipped_for_contact: the same, once per contact who asked, with the contact as the
  event's subject (payload `request_id`, `title`): a journey started on it (`subject: contact`)
  emails exactly the people who asked, through the journeys outbox (consent and once-only included).
"""

from django.utils.translation import gettext_lazy as _

from touchpoint.events.registry import register_kind

register_kind("feature_request.asked", _("Feature requested"))
register_kind("feature_request.shipped", _("Requested feature shipped"))
register_kind("feature_request.shipped_for_contact", _("Requested feature shipped (per contact who asked)"))
