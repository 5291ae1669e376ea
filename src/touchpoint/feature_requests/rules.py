"""Feature requests are the company's shared list: everyone signed in reads it. CSMs, leaders and
admins write requests down and link the accounts of their book that ask; leaders and admins (the
people who speak for the product) edit them, change their status, merge duplicates and import them.

The accounts that asked stay behind the account read rule: a request's page lists only the
requesting accounts the reader may read (the totals count them all)."""

from __future__ import annotations

import rules

from touchpoint.accounts.rules import can_change_in_book
from touchpoint.users.permissions import has_any_role, is_admin, is_csm, is_leader

rules.add_perm("feature_requests.view_featurerequest", has_any_role)
rules.add_perm("feature_requests.add_featurerequest", is_admin | is_leader | is_csm)
rules.add_perm("feature_requests.change_featurerequest", is_admin | is_leader)
rules.add_perm("feature_requests.delete_featurerequest", is_admin | is_leader)
# Linking an account (an ask) is checked on the account: the CSM's own book, leaders, admins.
rules.add_perm("feature_requests.add_requestlink", can_change_in_book)
