"""Who may manage event sources and key features (admins), and read an account's usage."""

from __future__ import annotations

import rules

from touchpoint.users.permissions import is_admin

for model in ("source", "keyfeature"):
    for action in ("view", "add", "change", "delete"):
        rules.add_perm(f"usage.{action}_{model}", is_admin)
