"""Who may import files (leaders and admins) and see what Stripe sent (admins)."""

from __future__ import annotations

import rules

from touchpoint.users.permissions import has_any_role, is_admin, is_leader

# Imports are leader/admin work: an import changes many accounts at once, across books.
rules.add_perm("integrations.view_importjob", has_any_role)
for action in ("add", "change", "delete"):
    rules.add_perm(f"integrations.{action}_importjob", is_admin | is_leader)

for action in ("view", "add", "change", "delete"):
    rules.add_perm(f"integrations.{action}_stripeevent", is_admin)
