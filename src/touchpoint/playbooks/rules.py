"""Who may do what with playbooks.

Playbooks and their rules are the team's shared practice: everyone signed in reads them, CS leaders
and admins edit them. A run follows its account's book: whoever reads the account sees its runs,
whoever changes the account starts and stops them.
"""

from __future__ import annotations

import rules

from touchpoint.accounts.rules import can_change_in_book, can_delete, can_read_account
from touchpoint.users.permissions import has_any_role, is_admin, is_leader

leaders = is_admin | is_leader

for model in ("playbook", "playbookstep", "playbookrule"):
    rules.add_perm(f"playbooks.view_{model}", has_any_role)
    rules.add_perm(f"playbooks.add_{model}", leaders)
    rules.add_perm(f"playbooks.change_{model}", leaders)
    rules.add_perm(f"playbooks.delete_{model}", leaders)

for model in ("playbookrun", "playbookrunstep"):
    rules.add_perm(f"playbooks.view_{model}", can_read_account)
    rules.add_perm(f"playbooks.add_{model}", can_change_in_book)
    rules.add_perm(f"playbooks.change_{model}", can_change_in_book)
    rules.add_perm(f"playbooks.delete_{model}", can_delete)
