"""success 0002/0003 and accounts 0004: each account's framework and phase move into its placement."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("accounts", "0003_account_name_lower"), ("success", "0001_initial")]
AFTER = [
    ("accounts", "0004_framework_and_phase_moved_to_success"),
    ("success", "0003_copy_account_placements"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_the_placements_are_copied_forward_and_back():
    old = _migrate(BEFORE)
    framework = old.get_model("success", "SuccessFramework").objects.create(name="Standard")
    phase = old.get_model("success", "LifecyclePhase").objects.create(framework=framework, name="Adoption")
    account_model = old.get_model("accounts", "Account")
    placed = account_model.objects.create(name="Placed", framework=framework, phase=phase)
    framework_only = account_model.objects.create(name="Framework only", framework=framework)
    account_model.objects.create(name="Nowhere")

    new = _migrate(AFTER)
    placements = {
        p.account_id: (p.framework_id, p.phase_id)
        for p in new.get_model("success", "AccountPlacement").objects.all()
    }
    assert placements == {placed.pk: (framework.pk, phase.pk), framework_only.pk: (framework.pk, None)}
    assert not hasattr(new.get_model("accounts", "Account")(), "phase_id")

    back = _migrate(BEFORE)
    rows = back.get_model("accounts", "Account").objects.order_by("name")
    assert [(a.name, a.framework_id, a.phase_id) for a in rows] == [
        ("Framework only", framework.pk, None),
        ("Nowhere", None, None),
        ("Placed", framework.pk, phase.pk),
    ]


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    yield
    # Forward to every app's newest migration, not just AFTER: later migrations (new account
    # columns) must exist again for the tests that run next on this database.
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
