"""success 0002/0003 and accounts 0004: each account's framework and phase move into its placement.

Run on a scratch database beside the suite's (a SQLite file, or a new PostgreSQL database): migrating it
from empty to the targets runs only the migrations they need, and moving the suite's own database back
and forth (which once took most of a minute) would leave it to be migrated forward again."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("accounts", "0003_account_name_lower"), ("success", "0001_initial")]
AFTER = [
    ("accounts", "0004_framework_and_phase_moved_to_success"),
    ("success", "0003_copy_account_placements"),
]
SCRATCH = "migrations_scratch"


@pytest.fixture
def scratch(tmp_path, django_db_blocker) -> Iterator[BaseDatabaseWrapper]:
    """Not the suite's test database (no django_db mark): the connection settings of the server it
    runs on, another database name."""
    settings_dict = dict(connection.settings_dict)
    postgres = connection.vendor == "postgresql"
    if postgres:
        import psycopg

        settings_dict["NAME"] = f"touchpoint_migrations_{os.getpid()}"
        admin = psycopg.connect(
            dbname=connection.settings_dict["NAME"],
            user=settings_dict["USER"],
            password=settings_dict["PASSWORD"],
            host=settings_dict["HOST"] or None,
            port=settings_dict["PORT"] or None,
            autocommit=True,
        )
        admin.execute(f'DROP DATABASE IF EXISTS "{settings_dict["NAME"]}"')
        admin.execute(f'CREATE DATABASE "{settings_dict["NAME"]}"')
    else:
        settings_dict["NAME"] = str(tmp_path / "migrations.sqlite3")
    connections.settings[SCRATCH] = settings_dict
    try:
        with django_db_blocker.unblock():
            yield connections[SCRATCH]
    finally:
        connections[SCRATCH].close()
        del connections[SCRATCH]
        del connections.settings[SCRATCH]
        if postgres:
            admin.execute(f'DROP DATABASE IF EXISTS "{settings_dict["NAME"]}" WITH (FORCE)')
            admin.close()


def _migrate(scratch: BaseDatabaseWrapper, targets):
    executor = MigrationExecutor(scratch)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_the_placements_are_copied_forward_and_back(scratch):
    old = _migrate(scratch, BEFORE)
    framework = old.get_model("success", "SuccessFramework").objects.using(SCRATCH).create(name="Standard")
    phase = (
        old.get_model("success", "LifecyclePhase")
        .objects.using(SCRATCH)
        .create(framework=framework, name="Adoption")
    )
    accounts = old.get_model("accounts", "Account").objects.using(SCRATCH)
    placed = accounts.create(name="Placed", framework=framework, phase=phase)
    framework_only = accounts.create(name="Framework only", framework=framework)
    accounts.create(name="Nowhere")

    new = _migrate(scratch, AFTER)
    placements = {
        p.account_id: (p.framework_id, p.phase_id)
        for p in new.get_model("success", "AccountPlacement").objects.using(SCRATCH).all()
    }
    assert placements == {placed.pk: (framework.pk, phase.pk), framework_only.pk: (framework.pk, None)}
    assert not hasattr(new.get_model("accounts", "Account")(), "phase_id")

    back = _migrate(scratch, BEFORE)
    rows = back.get_model("accounts", "Account").objects.using(SCRATCH).order_by("name")
    assert [(a.name, a.framework_id, a.phase_id) for a in rows] == [
        ("Framework only", framework.pk, None),
        ("Nowhere", None, None),
        ("Placed", framework.pk, phase.pk),
    ]
