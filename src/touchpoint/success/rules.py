"""Success frameworks and lifecycle phases: shared reference data, like segments."""

from __future__ import annotations

import rules

from touchpoint.users.permissions import has_any_role, is_admin, is_csm, is_leader

for model in ("successframework", "lifecyclephase"):
    rules.add_perm(f"success.view_{model}", has_any_role)
    rules.add_perm(f"success.add_{model}", is_admin | is_leader | is_csm)
    rules.add_perm(f"success.change_{model}", is_admin | is_leader | is_csm)
    rules.add_perm(f"success.delete_{model}", is_admin | is_leader)
