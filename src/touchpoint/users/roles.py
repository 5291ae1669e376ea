"""The four roles people have in Touchpoint. A role is a Django group of the same name.

What each role may do is not listed here: each app declares its permissions with django-rules in
its own rules.py, from the role predicates in `touchpoint.users.permissions`. After every migrate,
`users.services.sync_role_groups` gives each group the Django model permissions those declarations
grant the role, so the Django admin agrees with the product.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    CS_LEADER = "cs_leader", _("CS leader")
    CSM = "csm", _("Customer success manager")
    VIEWER = "viewer", _("Viewer")
