"""The four roles people have in Touchpoint, kept as Django groups with model permissions.

A role is a group of the same name; `sync_role_groups` (run after every migrate) gives each group
exactly the permissions listed here, so a deployment never drifts from the code.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    CS_LEADER = "cs_leader", _("CS leader")
    CSM = "csm", _("Customer success manager")
    VIEWER = "viewer", _("Viewer")


# (app_label, model) pairs whose rows people read and write in the product. Later apps add theirs.
PRODUCT_MODELS: list[tuple[str, str]] = [
    ("accounts", "account"),
    ("accounts", "contact"),
    ("accounts", "engagement"),
    ("accounts", "timelineentry"),
    ("accounts", "segment"),
    ("success", "successframework"),
    ("success", "lifecyclephase"),
    ("revenue", "subscription"),
    ("revenue", "mrrmovement"),
]

# Which actions each role may take on the product models. Admin has every permission (superuser-like
# but still a group, so it shows in the UI and can be audited).
ROLE_ACTIONS: dict[str, set[str]] = {
    Role.ADMIN: {"view", "add", "change", "delete"},
    Role.CS_LEADER: {"view", "add", "change", "delete"},
    Role.CSM: {"view", "add", "change"},
    Role.VIEWER: {"view"},
}

# Models only admins manage (the rest of the roles may at most view them).
ADMIN_ONLY_MODELS: list[tuple[str, str]] = [
    ("usage", "source"),
    ("usage", "keyfeature"),
    ("revenue", "churnreason"),
    ("revenue", "exchangerate"),
    ("integrations", "stripeevent"),
    ("users", "user"),
    ("users", "apikey"),
    ("users", "auditlogentry"),
]

# Models admins and CS leaders manage; the other roles only view them.
LEADER_MODELS: list[tuple[str, str]] = [
    ("health", "scorecard"),
    ("health", "scorecardversion"),
    ("integrations", "importjob"),
]

# Models every role only views: the system writes them (e.g. the daily health recompute).
READ_ONLY_MODELS: list[tuple[str, str]] = [
    ("health", "healthscore"),
]
