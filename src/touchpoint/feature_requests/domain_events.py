"""The feature-request event kinds (registered from FeatureRequestsConfig.ready()).

- feature_request.asked: an account asked for a request (payload `request_id`, `title`, `contact_id`).
- feature_request.shipped: a request an account asked for has shipped, one event per requesting
  account (payload `request_id`, `title`, `contact_ids`: the contacts who asked).
"""

from django.utils.translation import gettext_lazy as _

from touchpoint.events.registry import register_kind

register_kind("feature_request.asked", _("Feature requested"))
register_kind("feature_request.shipped", _("Requested feature shipped"))
