"""Who may do what with accounts and what hangs off them: books of business.

An account is in a CSM's book when they own it or are on its team. CS leaders and admins change
everything; a CSM changes the accounts of their book (and their contacts, engagements, timeline);
viewers read. Whether a CSM reads accounts outside their book is the admin setting
`SiteSettings.csms_read_all_books`. Other apps build their account-scoped rules from `in_book`
and `can_read_account` (any object with an `account_id` counts as hanging off that account).

Lists cannot ask a predicate row by row: `readable_accounts_q` is the same read rule as a filter,
and a test holds the two together.
"""

from __future__ import annotations

from typing import Any

import rules
from django.db.models import Q

from touchpoint.accounts.models import Account, AccountTeamMember
from touchpoint.users.permissions import (
    csms_read_all_books,
    has_any_role,
    is_admin,
    is_csm,
    is_leader,
    is_viewer,
)


def account_id_of(obj: Any) -> int | None:
    """The id of the account an object is (an Account) or hangs off (anything with `account_id`)."""
    if isinstance(obj, Account):
        return obj.pk
    return getattr(obj, "account_id", None)


@rules.predicate
def in_book(user: Any, obj: Any) -> bool:
    """The object's account is owned by the user or has them on its team.

    Without an object the question is "may they, on accounts of their book?", so it holds.
    """
    if obj is None:
        return True
    if isinstance(obj, Account) and obj.owner_id is not None and obj.owner_id == user.pk:
        return True
    account_id = account_id_of(obj)
    if account_id is None or user.pk is None:
        return False
    return Account.objects.filter(Q(pk=account_id), Q(owner_id=user.pk) | Q(team__user_id=user.pk)).exists()


@rules.predicate
def is_account_owner(user: Any, obj: Any) -> bool:
    """The user owns the object's account (without an object: "their own accounts", so it holds)."""
    if obj is None:
        return True
    if isinstance(obj, Account):
        return obj.owner_id is not None and obj.owner_id == user.pk
    account_id = account_id_of(obj)
    return account_id is not None and Account.objects.filter(pk=account_id, owner_id=user.pk).exists()


can_read_account = is_admin | is_leader | is_viewer | (is_csm & (in_book | csms_read_all_books))
can_change_in_book = is_admin | is_leader | (is_csm & in_book)
can_create = is_admin | is_leader | is_csm
can_delete = is_admin | is_leader


def readable_accounts_q(user: Any, path: str = "") -> Q:
    """`can_read_account` as a filter on accounts (`path` leads to the account, e.g. "account__")."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if user.is_superuser or is_admin(user) or is_leader(user) or is_viewer(user):
        return Q()
    if is_csm(user):
        if csms_read_all_books():
            return Q()
        return Q(**{f"{path}owner_id": user.pk}) | Q(
            **{f"{path}pk__in": AccountTeamMember.objects.filter(user_id=user.pk).values("account_id")}
        )
    return Q(pk__in=[])


# Accounts: a CSM adds accounts and changes those of their book; only leaders and admins delete them,
# hand them to another owner, and see every account whatever the setting says.
rules.add_perm("accounts.view_account", can_read_account)
rules.add_perm("accounts.add_account", can_create)
rules.add_perm("accounts.change_account", can_change_in_book)
rules.add_perm("accounts.delete_account", can_delete)
rules.add_perm("accounts.change_account_owner", is_admin | is_leader)

# The account team: leaders, admins and the account's owner manage it; whoever reads the account sees it.
rules.add_perm("accounts.view_accountteammember", can_read_account)
rules.add_perm("accounts.add_accountteammember", is_admin | is_leader | (is_csm & is_account_owner))
rules.add_perm("accounts.change_accountteammember", is_admin | is_leader | (is_csm & is_account_owner))
rules.add_perm("accounts.delete_accountteammember", is_admin | is_leader | (is_csm & is_account_owner))

# What hangs off an account follows the account (checked on the row, or on the account to add one).
for model in ("contact", "engagement", "timelineentry"):
    rules.add_perm(f"accounts.view_{model}", can_read_account)
    rules.add_perm(f"accounts.add_{model}", can_change_in_book)
    rules.add_perm(f"accounts.change_{model}", can_change_in_book)
    rules.add_perm(f"accounts.delete_{model}", can_delete)

# Segments are shared reference data: everyone reads them; people who manage accounts keep them.
rules.add_perm("accounts.view_segment", has_any_role)
rules.add_perm("accounts.add_segment", can_create)
rules.add_perm("accounts.change_segment", can_create)
rules.add_perm("accounts.delete_segment", can_delete)


@rules.predicate
def saved_it(user: Any, view: Any) -> bool:
    """The saved view is the user's own (without a view: "their own views", so it holds)."""
    return view is None or view.user_id == user.pk


# Saved portfolio views: everyone with a role saves and deletes their own; leaders and admins share
# theirs with everyone (the portfolio lists one's own and the shared ones).
rules.add_perm("accounts.view_savedview", has_any_role)
rules.add_perm("accounts.add_savedview", has_any_role)
rules.add_perm("accounts.change_savedview", has_any_role & saved_it)
rules.add_perm("accounts.delete_savedview", has_any_role & saved_it)
rules.add_perm("accounts.share_savedview", is_admin | is_leader)
