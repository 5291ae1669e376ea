"""Success frameworks, their phases and milestones: shared reference data, like segments. Everyone
signed in reads them; leaders and admins shape them (the editor, `PUT /success/frameworks/{key}`)."""

from __future__ import annotations

import rules

from touchpoint.users.permissions import has_any_role, is_admin, is_leader

for model in ("successframework", "lifecyclephase", "milestonedefinition"):
    rules.add_perm(f"success.view_{model}", has_any_role)
    rules.add_perm(f"success.add_{model}", is_admin | is_leader)
    rules.add_perm(f"success.change_{model}", is_admin | is_leader)
    rules.add_perm(f"success.delete_{model}", is_admin | is_leader)
