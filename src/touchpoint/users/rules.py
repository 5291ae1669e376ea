"""Who may manage people, keys, the audit log and the site settings: admins only."""

from __future__ import annotations

import rules

from touchpoint.users.permissions import is_admin

for model in ("user", "apikey", "auditlogentry", "sitesettings"):
    for action in ("view", "add", "change", "delete"):
        rules.add_perm(f"users.{action}_{model}", is_admin)
