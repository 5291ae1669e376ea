"""Tasks follow their account: whoever reads the account reads its tasks; its book changes them."""

from __future__ import annotations

import rules

from touchpoint.accounts.rules import can_change_in_book, can_delete, can_read_account

rules.add_perm("tasks.view_task", can_read_account)
rules.add_perm("tasks.add_task", can_change_in_book)
rules.add_perm("tasks.change_task", can_change_in_book)
rules.add_perm("tasks.delete_task", can_delete)
