from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from touchpoint.playbooks.models import Playbook, PlaybookRule

_shipping = importlib.import_module("touchpoint.playbooks.migrations.0002_shipped_playbooks")


def ship_playbooks() -> None:
    """The shipped playbooks and rules, as the data migration makes them (a transactional test
    elsewhere may have emptied the tables)."""
    _shipping.ship(apps, SimpleNamespace(connection=connection))


@pytest.fixture
def shipped(db) -> dict[str, Playbook]:
    ship_playbooks()
    return {playbook.name: playbook for playbook in Playbook.objects.all()}


@pytest.fixture
def renewal_rule(shipped) -> PlaybookRule:
    return PlaybookRule.objects.get(kind="renewal_due")
