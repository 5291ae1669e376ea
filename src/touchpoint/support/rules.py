"""Who may read and change support: tickets and their breaches follow their account's book of business;
policies and calendars are read by everyone signed in and shaped by leaders and admins; the webhook
sources (with their secrets) are the admins'."""

from __future__ import annotations

import rules

from touchpoint.accounts.rules import can_change_in_book, can_delete, can_read_account
from touchpoint.users.permissions import has_any_role, is_admin, is_leader

for model in ("ticket", "slabreach"):
    rules.add_perm(f"support.view_{model}", can_read_account)
rules.add_perm("support.add_ticket", can_change_in_book)
rules.add_perm("support.change_ticket", can_change_in_book)
rules.add_perm("support.delete_ticket", can_delete)

for model in ("slapolicy", "businesscalendar"):
    rules.add_perm(f"support.view_{model}", has_any_role)
    for action in ("add", "change", "delete"):
        rules.add_perm(f"support.{action}_{model}", is_admin | is_leader)

for action in ("view", "add", "change", "delete"):
    rules.add_perm(f"support.{action}_webhooksource", is_admin)
