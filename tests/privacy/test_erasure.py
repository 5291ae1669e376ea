"""THE test of issue 17's personal data: a person seeded in every app, exported, erased, and then
nothing in any table names them; counts and revenue unchanged; their new events are not stored."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db.models import Sum

from tests.factories import AccountFactory, UserFactory
from tests.privacy.seeding import (
    THE_EMAIL,
    THE_IP,
    THE_NAME,
    THE_USER_ID,
    World,
    post_events,
    scan,
    seed,
)
from touchpoint.privacy.hashing import digest
from touchpoint.privacy.models import BlockedIdentifier, Erasure
from touchpoint.privacy.services import erase_person, export_person
from touchpoint.users.models import AuditLogEntry, AuditRedaction
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    admin = UserFactory(role=Role.ADMIN, email="admin@example.com")
    return seed(World(admin=admin, account=AccountFactory(external_id="acme-zq", name="Acme")))


def totals():
    from touchpoint.accounts.models import Account
    from touchpoint.health.models import HealthScore
    from touchpoint.revenue.models import MrrMovement, Subscription
    from touchpoint.revenue.services import account_mrr
    from touchpoint.usage.models import DailyAccountRollup, DailyEventRollup

    return {
        "mrr": sum((account_mrr(a) for a in Account.objects.all()), start=0),
        "movements": list(MrrMovement.objects.order_by("pk").values_list("kind", "delta", "mrr_after")),
        "subscriptions": list(Subscription.objects.order_by("pk").values_list("mrr", "status")),
        "account_rollups": list(
            DailyAccountRollup.objects.order_by("account", "day").values_list(
                "account", "day", "events", "active_users"
            )
        ),
        "event_rollups": DailyEventRollup.objects.aggregate(events=Sum("events"), users=Sum("users")),
        "health": list(
            HealthScore.objects.order_by("account", "day").values_list("account", "day", "score", "grade")
        ),
    }


def recompute_health() -> None:
    call_command("health", "recompute", stdout=io.StringIO())


def test_the_export_before_erasure_holds_the_person_from_every_app(world, tmp_path):
    out = tmp_path / "person.zip"
    call_command("privacy", "export", THE_EMAIL.upper(), "--out", str(out), stdout=io.StringIO())
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        readme = json.loads(archive.read("README.json"))
        parts = {name[:-5]: archive.read(name).decode() for name in names if name != "README.json"}
    assert readme["email"] == THE_EMAIL and set(readme["files"]) == names - {"README.json"}
    for key in world.expected_parts:
        assert key in parts, key
        assert any(n in parts[key] for n in (THE_NAME, THE_EMAIL, THE_USER_ID, str(world.contact.pk))), key
    assert THE_IP in parts["usage"]
    # Audited without the email in clear.
    entry = AuditLogEntry.objects.get(action="privacy.export")
    assert entry.object_id == digest(THE_EMAIL)[:64] and THE_EMAIL not in json.dumps(entry.changes)


def test_after_erasure_nothing_names_the_person(world):
    assert scan(), "the seeding put the person nowhere"
    recompute_health()
    before = totals()
    assert before["health"] and before["mrr"] and before["account_rollups"]
    erasure = erase_person(email=THE_EMAIL, actor=world.admin)

    assert scan() == []
    assert totals() == before
    recompute_health()  # scored again from what is left: the same
    assert totals() == before
    # Rollups recomputed from the raw events come out the same (the events were rewritten, not dropped).
    from touchpoint.usage import rollups

    rollups.rebuild()
    assert totals() == before

    counts = erasure.counts
    for key in world.expected_parts:
        assert counts.get(key), (key, counts)
    # Every row that named the person belongs to a holder: the final sweep found nothing left over.
    assert "other" not in counts, counts["other"]
    assert erasure.email_digest == digest(THE_EMAIL) and THE_EMAIL not in json.dumps(counts)
    assert BlockedIdentifier.objects.filter(digest=digest(THE_USER_ID), erasure=erasure).exists()
    # The audit keeps the facts, pseudonymised; each rewrite went through a redaction row.
    assert AuditRedaction.objects.count() >= 1
    assert AuditLogEntry.objects.filter(action="privacy.erase", object_repr=erasure.pseudonym).exists()
    # The contact row stays (counts keep it), named by the pseudonym only; the other contact is untouched.
    world.contact.refresh_from_db()
    world.other_contact.refresh_from_db()
    assert (world.contact.name, world.contact.email, world.contact.phone) == (erasure.pseudonym, "", "")
    assert world.other_contact.name == "Ordinary Person"


def test_events_for_an_erased_user_id_are_dropped_and_counted(world):
    from touchpoint.usage.models import RawEvent

    erase_person(email=THE_EMAIL, actor=world.admin)
    stored = RawEvent.objects.count()
    response = post_events(
        world.source,
        [
            {"type": "track", "messageId": "after-1", "userId": THE_USER_ID, "event": "Back again"},
            {"type": "track", "messageId": "after-2", "anonymousId": "anon-zq-5521", "event": "Back again"},
            {"type": "track", "messageId": "after-3", "userId": "someone-else", "event": "Still here"},
        ],
    )
    assert response.status_code == 200 and response.json()["success"] is True
    assert RawEvent.objects.count() == stored + 1
    assert scan() == []
    assert sum(BlockedIdentifier.objects.values_list("dropped_events", flat=True)) == 2


def test_erase_command_asks_unless_yes_and_refuses_unknown_people(world, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "someone@else.org")
    with pytest.raises(CommandError, match="does not match"):
        call_command("privacy", "erase", THE_EMAIL, stdout=io.StringIO())
    assert not Erasure.objects.exists()
    with pytest.raises(CommandError, match="valid email"):
        call_command("privacy", "erase", "not-an-email", "--yes", stdout=io.StringIO())
    with pytest.raises(CommandError, match="nothing"):
        call_command("privacy", "erase", "nobody@example.net", "--yes", stdout=io.StringIO())
    out = io.StringIO()
    call_command("privacy", "erase", THE_EMAIL, "--yes", stdout=out)
    assert "Erased person" in out.getvalue() and THE_EMAIL not in out.getvalue()
    assert Erasure.objects.count() == 1


def test_staff_accounts_are_exported_not_erased(world):
    staff = UserFactory(role=Role.CSM, email=THE_EMAIL, full_name=THE_NAME)
    export = export_person(email=THE_EMAIL, actor=None)
    assert [row["id"] for row in export.parts["users"]["touchpoint_users"]] == [staff.pk]
    assert "password" not in export.parts["users"]["touchpoint_users"][0]
    erase_person(email=THE_EMAIL, actor=world.admin)
    staff.refresh_from_db()
    assert staff.email == THE_EMAIL and staff.is_active


def test_a_bad_email_is_refused_naming_the_field(db):
    with pytest.raises(ValidationError) as error:
        export_person(email="nope", actor=None)
    assert "email" in error.value.message_dict
    assert date.today()  # keeps the import used
