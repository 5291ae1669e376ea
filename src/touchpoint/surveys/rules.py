"""Who may do what with surveys.

Everyone signed in reads surveys and their scores (the scores on a survey's page count only the
accounts the reader may read). CS leaders and admins make and change surveys; they and CSMs send
them (to people of accounts they may change). Admins edit the throttling settings. An answer
follows its account's book: whoever reads the account reads its answers; answers are imported by
leaders and admins.
"""

from __future__ import annotations

import rules

from touchpoint.accounts.rules import can_change_in_book, can_read_account
from touchpoint.users.permissions import has_any_role, is_admin, is_csm, is_leader

leaders = is_admin | is_leader

rules.add_perm("surveys.view_survey", has_any_role)
rules.add_perm("surveys.add_survey", leaders)
rules.add_perm("surveys.change_survey", leaders)
rules.add_perm("surveys.delete_survey", is_admin)
rules.add_perm("surveys.send_survey", leaders | (is_csm & can_change_in_book))

rules.add_perm("surveys.view_answer", can_read_account)
rules.add_perm("surveys.add_answer", leaders)
rules.add_perm("surveys.change_answer", is_admin)
rules.add_perm("surveys.delete_answer", is_admin)

rules.add_perm("surveys.view_decline", can_read_account)
rules.add_perm("surveys.add_decline", is_admin)
rules.add_perm("surveys.change_decline", is_admin)
rules.add_perm("surveys.delete_decline", is_admin)

rules.add_perm("surveys.view_surveysettings", leaders)
rules.add_perm("surveys.add_surveysettings", is_admin)
rules.add_perm("surveys.change_surveysettings", is_admin)
rules.add_perm("surveys.delete_surveysettings", is_admin)
