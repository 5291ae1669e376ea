"""Who may do what with journeys.

Journeys talk to customers on the company's behalf: everyone signed in reads them and their stats,
CS leaders and admins write, launch and pause them. An enrollment follows its account's book: whoever
reads the account sees it, whoever changes the account may add it to a journey or take it out.
"""

from __future__ import annotations

import rules

from touchpoint.accounts.rules import can_change_in_book, can_delete, can_read_account
from touchpoint.users.permissions import has_any_role, is_admin, is_leader

leaders = is_admin | is_leader

for model in ("journey", "journeyversion"):
    rules.add_perm(f"journeys.view_{model}", has_any_role)
    rules.add_perm(f"journeys.add_{model}", leaders)
    rules.add_perm(f"journeys.change_{model}", leaders)
    rules.add_perm(f"journeys.delete_{model}", is_admin)

# A simulation is run by those who may change the journey; its result names contacts, so only they read it.
rules.add_perm("journeys.view_simulationrun", leaders)
rules.add_perm("journeys.add_simulationrun", leaders)
rules.add_perm("journeys.change_simulationrun", leaders)
rules.add_perm("journeys.delete_simulationrun", is_admin)

for model in ("enrollment", "stepvisit", "outboxrow"):
    rules.add_perm(f"journeys.view_{model}", can_read_account)
    rules.add_perm(f"journeys.add_{model}", can_change_in_book)
    rules.add_perm(f"journeys.change_{model}", can_change_in_book)
    rules.add_perm(f"journeys.delete_{model}", can_delete)

for model in ("webhookendpoint", "deliverysettings", "messagingconsent"):
    rules.add_perm(f"journeys.view_{model}", leaders)
    rules.add_perm(f"journeys.add_{model}", is_admin)
    rules.add_perm(f"journeys.change_{model}", is_admin)
    rules.add_perm(f"journeys.delete_{model}", is_admin)
