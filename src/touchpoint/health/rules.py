"""Who may keep scorecards (leaders and admins; everyone reads them) and read health scores."""

from __future__ import annotations

import rules

from touchpoint.accounts.rules import can_read_account
from touchpoint.users.permissions import has_any_role, is_admin, is_leader

for model in ("scorecard", "scorecardversion"):
    rules.add_perm(f"health.view_{model}", has_any_role)
    for action in ("add", "change", "delete"):
        rules.add_perm(f"health.{action}_{model}", is_admin | is_leader)

# Scores are written by the daily recompute only; whoever reads the account reads its score.
rules.add_perm("health.view_healthscore", can_read_account)
