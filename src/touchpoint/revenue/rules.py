"""Who may read and change revenue: subscriptions follow their account's book of business."""

from __future__ import annotations

import rules

from touchpoint.accounts.rules import can_change_in_book, can_delete, can_read_account
from touchpoint.users.permissions import is_admin

# Subscriptions and their MRR movements: checked on the row, or on the account to add one.
for model in ("subscription", "mrrmovement"):
    rules.add_perm(f"revenue.view_{model}", can_read_account)
    rules.add_perm(f"revenue.add_{model}", can_change_in_book)
    rules.add_perm(f"revenue.change_{model}", can_change_in_book)
    rules.add_perm(f"revenue.delete_{model}", can_delete)

# The churn reason list and exchange rates are the admins' to keep (and to see).
for model in ("churnreason", "exchangerate"):
    for action in ("view", "add", "change", "delete"):
        rules.add_perm(f"revenue.{action}_{model}", is_admin)

# Renewal opportunities follow their account's book, as subscriptions do.
rules.add_perm("revenue.view_renewalopportunity", can_read_account)
rules.add_perm("revenue.change_renewalopportunity", can_change_in_book)
