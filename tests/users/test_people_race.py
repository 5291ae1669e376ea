"""Two admins demoting (or deactivating) each other at the same moment: one wins, one is refused,
and an active admin remains. PostgreSQL only: SQLite queues writers at BEGIN IMMEDIATE."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from tests.factories import UserFactory
from touchpoint.users import people
from touchpoint.users.models import User
from touchpoint.users.roles import Role


def remove(target: User, actor: User, action: str, barrier: threading.Barrier, outcomes: list[str]) -> None:
    try:
        barrier.wait(timeout=30)
        if action == "demote":
            people.change_role(user=target, role=Role.CSM, actor=actor)
        else:
            people.deactivate_user(user=target, actor=actor)
        outcomes.append("done")
    except ValidationError as error:
        outcomes.append("refused" if "last active admin" in str(error) else repr(error))
    except Exception as error:  # pragma: no cover - reported by the test
        outcomes.append(repr(error))
    finally:
        connections.close_all()


@pytest.mark.skipif(
    connections["default"].vendor != "postgresql",
    reason="SQLite queues writers at BEGIN IMMEDIATE; the race needs PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["demote", "deactivate", "one of each"])
def test_two_admins_cannot_remove_each_other_at_once(how):
    for round_ in range(4):
        User.objects.all().delete()
        first = UserFactory(role=Role.ADMIN, email=f"a{round_}@example.com")
        second = UserFactory(role=Role.ADMIN, email=f"b{round_}@example.com")
        outcomes: list[str] = []
        barrier = threading.Barrier(2)

        actions = {"demote": ("demote", "demote"), "deactivate": ("deactivate", "deactivate")}.get(
            how, ("demote", "deactivate")
        )
        threads = [
            threading.Thread(target=remove, args=(second, first, actions[0], barrier, outcomes)),
            threading.Thread(target=remove, args=(first, second, actions[1], barrier, outcomes)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["done", "refused"], outcomes
        admins = User.objects.filter(is_active=True, groups__name=Role.ADMIN)
        assert admins.count() == 1
