"""Who may manage event sources and key features (admins), and read an account's usage.

Everyone signed in reads the list of key features (it explains the breadth figure on every account
page); only admins change it, on the page, with `touchpoint keyfeature apply` or through the API.
"""

from __future__ import annotations

import rules

from touchpoint.users.permissions import has_any_role, is_admin

for model in ("source", "keyfeature"):
    for action in ("view", "add", "change", "delete"):
        rules.add_perm(f"usage.{action}_{model}", is_admin)
rules.set_perm("usage.view_keyfeature", has_any_role)
