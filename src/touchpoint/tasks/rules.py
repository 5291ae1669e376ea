"""Who may read and change tasks.

A task about an account follows its account: whoever reads the account reads its tasks; its book
changes them (checked on the account, or on the task, which is judged by its account). A task about
something else (no account) is its owner's and its creator's, and leaders' and admins'.

Lists ask the same rules as filters: `selectors.readable_tasks_q` and `selectors.changeable_tasks_q`.
"""

from __future__ import annotations

from typing import Any

import rules

from touchpoint.accounts.rules import can_change_in_book, can_delete, can_read_account
from touchpoint.tasks.models import Task
from touchpoint.users.permissions import has_any_role, is_admin, is_leader


def _judged_on(obj: Any) -> Any:
    """What an account's rule is asked about: a task's account (loaded already by the pages), else `obj`."""
    if isinstance(obj, Task) and obj.account_id is not None:
        return obj.account
    return obj


@rules.predicate
def about_no_account(user: Any, obj: Any) -> bool:
    """The object is a task about something other than an account."""
    return isinstance(obj, Task) and obj.account_id is None


@rules.predicate
def owns_or_made_it(user: Any, task: Any) -> bool:
    """The user owns the task or made it (without a task: "their own tasks", so it holds)."""
    return task is None or (user.pk is not None and user.pk in (task.owner_id, task.created_by_id))


def _on_its_account(predicate: rules.Predicate, name: str) -> rules.Predicate:
    @rules.predicate(name=name)
    def check(user: Any, obj: Any) -> bool:
        return bool(predicate.test(user, _judged_on(obj)))

    return check


reads_its_account = _on_its_account(can_read_account, "reads_its_account")
changes_its_account = _on_its_account(can_change_in_book, "changes_its_account")
its_people = is_admin | is_leader | (has_any_role & owns_or_made_it)

rules.add_perm("tasks.view_task", (~about_no_account & reads_its_account) | (about_no_account & its_people))
rules.add_perm("tasks.add_task", can_change_in_book)
rules.add_perm(
    "tasks.change_task", (~about_no_account & changes_its_account) | (about_no_account & its_people)
)
rules.add_perm("tasks.delete_task", can_delete)
