"""The audit log cannot be rewritten: not by SQL, not through the ORM, not in the admin; a redaction
through `redact_entries` is the one change, and it leaves its record."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from tests.conftest import logged_in_client
from tests.factories import UserFactory
from touchpoint.users.audit import redact_entries
from touchpoint.users.models import AuditLogEntry, AuditLogIsAppendOnly, AuditRedaction
from touchpoint.users.roles import Role
from touchpoint.users.services import record_audit

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(admin_user):
    person = UserFactory(role=Role.CSM, full_name="Jane Roe", email="jane@example.com")
    return record_audit(
        actor=admin_user, action="user.create", instance=person, changes={"email": "jane@example.com"}
    )


def _refused(sql: str, params: list) -> str:
    with pytest.raises(IntegrityError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(caught.value)


def test_sql_update_and_delete_are_refused(entry):
    for sql in (
        "UPDATE users_auditlogentry SET object_repr = %s WHERE id = %s",
        "UPDATE users_auditlogentry SET action = %s WHERE id = %s",
    ):
        assert "append-only" in _refused(sql, ["tampered", entry.pk])
    assert "append-only" in _refused("DELETE FROM users_auditlogentry WHERE id = %s", [entry.pk])
    assert "append-only" in _refused("DELETE FROM users_auditlogentry WHERE id > %s", [0])
    entry.refresh_from_db()
    assert entry.object_repr == "Jane Roe" and entry.action == "user.create"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_truncate_is_refused_on_postgresql(entry):
    assert "append-only" in _refused("TRUNCATE users_auditlogentry CASCADE", [])
    assert "append-only" in _refused("TRUNCATE users_auditredaction", [])
    assert AuditLogEntry.objects.filter(pk=entry.pk).exists()


def test_the_orm_refuses(entry):
    entry.object_repr = "tampered"
    with pytest.raises(AuditLogIsAppendOnly):
        entry.save()
    with pytest.raises(AuditLogIsAppendOnly):
        entry.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditLogEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditLogEntry.objects.filter(pk=entry.pk).update(object_repr="tampered")
    assert AuditLogEntry.objects.get(pk=entry.pk).object_repr == "Jane Roe"


def test_the_admin_refuses_even_a_superuser(entry, admin_user):
    assert admin_user.is_superuser
    client = logged_in_client(admin_user)
    assert client.get("/admin/users/auditlogentry/").status_code == 200
    page = client.get(f"/admin/users/auditlogentry/{entry.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content  # shown, not editable
    assert client.get("/admin/users/auditlogentry/add/").status_code == 403
    assert client.post(f"/admin/users/auditlogentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    response = client.post(
        "/admin/users/auditlogentry/",
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert client.post(f"/admin/users/auditlogentry/{entry.pk}/change/", {"action": "x"}).status_code == 403
    assert AuditLogEntry.objects.filter(pk=entry.pk, object_repr="Jane Roe").exists()


def _pseudonymise(entry: AuditLogEntry) -> tuple[str, dict]:
    changes = {
        key: ("[erased]" if value == "jane@example.com" else value) for key, value in entry.changes.items()
    }
    return "Person 7f3a", changes


def test_a_redaction_through_the_service_keeps_the_fact_and_its_record(entry, admin_user):
    before = AuditLogEntry.objects.get(pk=entry.pk)
    changed = redact_entries(
        entries=AuditLogEntry.objects.filter(pk=entry.pk),
        replace=_pseudonymise,
        reason="Erasure request 12",
        actor=admin_user,
    )
    assert changed == 1
    after = AuditLogEntry.objects.get(pk=entry.pk)
    assert (after.object_repr, after.changes) == ("Person 7f3a", {"email": "[erased]"})
    assert (after.action, after.object_type, after.object_id, after.created_at, after.actor_id) == (
        before.action,
        before.object_type,
        before.object_id,
        before.created_at,
        before.actor_id,
    )
    redaction = AuditRedaction.objects.get(entry=entry)
    assert (redaction.reason, redaction.actor_id, redaction.object_repr) == (
        "Erasure request 12",
        admin_user.pk,
        "Person 7f3a",
    )
    # Again: nothing left to change, no second record.
    assert (
        redact_entries(
            entries=AuditLogEntry.objects.filter(pk=entry.pk),
            replace=_pseudonymise,
            reason="again",
            actor=None,
        )
        == 0
    )
    assert AuditRedaction.objects.filter(entry=entry).count() == 1


def test_a_redaction_may_clear_the_actor_but_never_the_action_object_or_time(entry, admin_user):
    def clear_actor(e: AuditLogEntry) -> tuple[str, dict]:
        e.actor = None
        return "Person 1", {}

    assert (
        redact_entries(
            entries=AuditLogEntry.objects.filter(pk=entry.pk),
            replace=clear_actor,
            reason="erasure",
            actor=None,
        )
        == 1
    )
    assert AuditLogEntry.objects.get(pk=entry.pk).actor_id is None
    # A redaction row exists now, yet it does not open the entry to any other change.
    for column, value in (
        ("action", "user.delete"),
        ("object_id", "999"),
        ("object_type", "x.y"),
        ("object_repr", "Someone else"),
    ):
        assert "append-only" in _refused(
            f"UPDATE users_auditlogentry SET {column} = %s WHERE id = %s", [value, entry.pk]
        )
    other = UserFactory(role=Role.CSM)
    assert "append-only" in _refused(
        "UPDATE users_auditlogentry SET actor_id = %s WHERE id = %s", [other.pk, entry.pk]
    )


def test_an_update_without_its_redaction_row_is_refused_even_with_the_right_text(entry):
    assert "append-only" in _refused(
        "UPDATE users_auditlogentry SET object_repr = %s WHERE id = %s", ["Person 7f3a", entry.pk]
    )


def test_a_redaction_row_cannot_be_changed_or_deleted(entry, admin_user):
    redact_entries(
        entries=AuditLogEntry.objects.filter(pk=entry.pk), replace=_pseudonymise, reason="r", actor=admin_user
    )
    redaction = AuditRedaction.objects.get(entry=entry)
    assert "append-only" in _refused("DELETE FROM users_auditredaction WHERE id = %s", [redaction.pk])
    assert "append-only" in _refused(
        "UPDATE users_auditredaction SET reason = %s WHERE id = %s", ["nothing", redaction.pk]
    )
    with pytest.raises(AuditLogIsAppendOnly):
        redaction.delete()
    assert AuditRedaction.objects.filter(pk=redaction.pk, reason="r").exists()


def test_a_redaction_needs_a_reason(entry):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        redact_entries(entries=AuditLogEntry.objects.all(), replace=_pseudonymise, reason=" ", actor=None)
    assert "reason" in caught.value.message_dict


def test_deleting_a_user_keeps_their_entries_untouched(admin_user):
    person = UserFactory(role=Role.CSM)
    own = record_audit(
        actor=person, action="user.settings", instance=person, changes={"language": ["", "ja"]}
    )
    person.delete()  # users are deactivated in the app; a deletion (the Django admin, a shell) still works
    kept = AuditLogEntry.objects.get(pk=own.pk)
    assert kept.actor_id == own.actor_id and kept.changes == {"language": ["", "ja"]}
    assert AuditLogEntry.objects.select_related("actor").get(pk=own.pk).actor is None
