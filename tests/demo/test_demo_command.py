"""`touchpoint demo`: the same company for the same seed, realistic, and only into an empty database."""

from __future__ import annotations

import re
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.factories import AccountFactory
from touchpoint.accounts.models import (
    Account,
    Contact,
    ContactRoleAssignment,
    TimelineEntry,
)
from touchpoint.demo import builders
from touchpoint.users.models import AuditLogEntry, User

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)
DAYS = 120
SMALL = ["--accounts=40", f"--days={DAYS}", f"--today={TODAY.isoformat()}"]

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
THAI = re.compile(r"[\u0e00-\u0e7f]")


def demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list]:
    """Everything a person would see of the company, without database ids."""
    return {
        "accounts": list(
            Account.objects.order_by("external_id").values_list(
                "external_id",
                "name",
                "domain",
                "parent__external_id",
                "segment__name",
                "owner__email",
                "engagement_model",
                "placement__framework__name",
                "placement__phase__name",
                "created_at",
            )
        ),
        "contacts": list(
            Contact.objects.order_by("account__external_id", "email").values_list(
                "account__external_id", "name", "email", "title", "phone", "external_id", "created_at"
            )
        ),
        "roles": sorted(ContactRoleAssignment.objects.values_list("contact__email", "role")),
        "timeline": [
            (*row[:5], _without_ids(row[5]), row[6])
            # A total order: two asks for the same feature at the same moment differ only in body.
            for row in TimelineEntry.objects.order_by(
                "account__external_id", "occurred_at", "kind", "title", "body", "actor__email"
            ).values_list(
                "account__external_id", "occurred_at", "kind", "title", "body", "data", "actor__email"
            )
        ],
    }


def _without_ids(data: dict) -> dict:
    # Ids in an entry's data (a milestone's, a contact's) are not reused after --reset on SQLite.
    return {key: value for key, value in data.items() if not key.endswith("_id")}


def test_the_same_seed_and_day_give_the_same_company_and_another_seed_another():
    demo(*SMALL, "--seed=7")
    first = snapshot()
    demo(*SMALL, "--seed=7", "--reset")
    assert snapshot() == first
    demo(*SMALL, "--seed=8", "--reset")
    other = snapshot()
    assert [row[1] for row in other["accounts"]] != [row[1] for row in first["accounts"]]
    assert [row[3] for row in other["timeline"]] != [row[3] for row in first["timeline"]]


def test_a_new_step_changes_nothing_the_other_steps_make(monkeypatch):
    demo(*SMALL)
    before = snapshot()
    builders.load_steps()

    def noise(ctx: builders.DemoContext) -> None:
        for _ in range(1000):
            ctx.rng.random()
            ctx.faker("en_US").name()

    # Registered before "timeline", so it runs between "accounts" and "timeline".
    steps = {name: step for name, step in builders._STEPS.items() if name != "timeline"}
    steps["noise"] = builders.Step(name="noise", run=noise, after=("accounts",))
    steps["timeline"] = builders._STEPS["timeline"]
    monkeypatch.setattr(builders, "_STEPS", steps)
    order = [step.name for step in builders.ordered_steps()]
    # Each step runs after the ones it names; steps of other apps (usage, …) after the timeline.
    assert order[:3] == ["people", "accounts", "success"]
    assert order.index("accounts") < order.index("noise") < order.index("timeline") < order.index("usage")
    demo(*SMALL, "--reset")
    assert snapshot() == before


def test_steps_run_after_the_steps_they_name(monkeypatch):
    def nothing(ctx: builders.DemoContext) -> None:
        pass

    monkeypatch.setattr(builders, "_STEPS", {})
    builders.step("tickets", after=("accounts",))(nothing)
    builders.step("accounts", after=("people",))(nothing)
    builders.step("people")(nothing)
    assert [step.name for step in builders.ordered_steps()] == ["people", "accounts", "tickets"]
    builders.step("usage", after=("nowhere",))(nothing)
    with pytest.raises(LookupError):
        builders.ordered_steps()


def test_a_database_with_accounts_is_refused_and_left_as_it_was():
    AccountFactory(name="Real customer")
    with pytest.raises(CommandError, match="already holds data"):
        demo(*SMALL)
    assert list(Account.objects.values_list("name", flat=True)) == ["Real customer"]
    assert not User.objects.filter(email__endswith="@demo.touchpoint.local").exists()


def test_if_empty_skips_a_database_with_data_without_failing():
    AccountFactory(name="Real customer")
    out = demo(*SMALL, "--if-empty")
    assert "was not loaded" in out
    assert Account.objects.count() == 1


def test_a_second_run_reminds_how_to_log_in():
    demo(*SMALL)
    out = demo(*SMALL, "--if-empty")
    assert "was not loaded" in out and "admin@demo.touchpoint.local" in out and "touchpoint-demo" in out


def test_a_database_with_data_but_no_user_says_how_to_create_one():
    AccountFactory(name="Imported", owner=None)
    assert not User.objects.exists()
    assert "createuser" in demo(*SMALL, "--if-empty")


def test_reset_replaces_what_was_there_and_the_audit_log_says_so():
    AccountFactory(name="Real customer")
    demo(*SMALL, "--reset")
    assert not Account.objects.filter(name="Real customer").exists()
    assert Account.objects.count() == 40
    assert AuditLogEntry.objects.get(action="demo.reset").changes["deleted"]["accounts"] == 1
    loaded = AuditLogEntry.objects.get(action="demo.load").changes
    assert (loaded["seed"], loaded["days"], loaded["anchor"]) == (42, DAYS, TODAY.isoformat())
    assert loaded["rows"]["accounts.account"] == 40


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="planner statistics are PostgreSQL's (SQLite plans without them)",
)
@pytest.mark.django_db(transaction=True)
def test_the_planner_sees_the_demo_rows_even_where_autovacuum_last_saw_an_empty_table():
    """A table vacuumed after its rows were deleted says "0 rows on N pages": the planner then expects one
    row, and the health step's scoring query over the whole demo takes minutes instead of seconds."""
    AccountFactory.create_batch(300)
    Account.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM accounts_account")  # autocommit here: VACUUM cannot run in a transaction
        cursor.execute("SELECT reltuples, relpages FROM pg_class WHERE relname = 'accounts_account'")
        assert cursor.fetchone()[0] == 0
    call_command("demo", *SMALL, "--reset", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'accounts_account'")
        assert cursor.fetchone()[0] == Account.objects.count()
