"""Who may read and change advocacy.

Advocates, asks, activities, rewards and candidates hang off an account (each has an `account_id`):
whoever reads the account reads them; its book (its owner and team), leaders and admins change them.
The site's advocacy settings (the quarter limit, the pool's quiet days) are admins'.
"""

from __future__ import annotations

import rules

from touchpoint.accounts.rules import can_change_in_book, can_read_account
from touchpoint.users.permissions import is_admin

rules.add_perm("advocacy.view_advocate", can_read_account)
rules.add_perm("advocacy.change_advocate", can_change_in_book)
rules.add_perm("advocacy.add_ask", can_change_in_book)
rules.add_perm("advocacy.change_ask", can_change_in_book)
rules.add_perm("advocacy.change_advocacysettings", is_admin)
