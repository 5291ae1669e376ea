"""Success plans follow their account: whoever reads the account reads its plan; its book writes it."""

from __future__ import annotations

import rules

from touchpoint.accounts.rules import can_change_in_book, can_delete, can_read_account

rules.add_perm("plans.view_successplan", can_read_account)
rules.add_perm("plans.add_successplan", can_change_in_book)
rules.add_perm("plans.change_successplan", can_change_in_book)
rules.add_perm("plans.delete_successplan", can_delete)
