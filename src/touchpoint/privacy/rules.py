"""Who may export and erase a person's data: admins only."""

from __future__ import annotations

import rules

from touchpoint.users.permissions import is_admin

for action in ("view", "add", "change", "delete"):
    rules.add_perm(f"privacy.{action}_erasure", is_admin)
