"""Who may manage people, keys, the audit log and the site settings: admins only."""

from __future__ import annotations

import rules

from touchpoint.users.permissions import is_admin, is_leader

for model in ("user", "apikey", "auditlogentry", "sitesettings"):
    for action in ("view", "add", "change", "delete"):
        rules.add_perm(f"users.{action}_{model}", is_admin)

# The Audit page, its CSV and `GET /api/v1/audit`: admins and CS leaders read the log; nobody changes it.
rules.set_perm("users.view_auditlogentry", is_admin | is_leader)
