"""Feature requests' part of the privacy export and erasure: asks stay (demand counts them), their
verbatims without the person's name, email or phone."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from touchpoint.feature_requests.models import Ask, FeatureRequest, RequestChange, RequestLink
from touchpoint.privacy.registry import Part, contact_of, holders, parts_holder


def register() -> None:
    holders.add(
        parts_holder(
            "feature_requests",
            _("Feature requests"),
            [
                Part(RequestLink, about=contact_of(), text=("verbatim",)),
                Part(Ask, about=contact_of(), text=("verbatim",)),
                Part(FeatureRequest, text=("title", "description")),
                Part(RequestChange, text=("note", "data")),
            ],
            order=43,
        )
    )
