"""What must be in the log is: sign-ins, sign-outs and failed sign-ins (never a password), every add,
change and delete made in Django's admin (with the fields changed), event sources, imports."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import logged_in_client
from tests.factories import UserFactory
from touchpoint.users.models import AuditLogEntry, SiteSettings, User
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def test_sign_in_sign_out_and_a_failed_sign_in(db):
    person = UserFactory(role=Role.CSM, email="pat@example.com")
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.post("/login/", {"username": "pat@example.com", "password": "wrong password 123"})
    failed = AuditLogEntry.objects.get(action="auth.login_failed")
    assert failed.actor_id is None and failed.object_id == str(person.pk)
    assert failed.changes == {"username": "pat@example.com", "ip": "203.0.113.7"}
    assert "wrong password" not in str(failed.changes) + failed.object_repr
    response = client.post("/login/", {"username": "pat@example.com", "password": PASSWORD})
    assert response.status_code == 302
    signed_in = AuditLogEntry.objects.get(action="auth.login")
    assert signed_in.actor_id == person.pk and signed_in.changes == {"ip": "203.0.113.7"}
    client.post("/logout/")
    assert AuditLogEntry.objects.get(action="auth.logout").actor_id == person.pk


def test_a_failed_sign_in_for_no_such_user_keeps_the_name_tried(db):
    Client().post("/login/", {"username": "nobody@example.com", "password": "x"})
    failed = AuditLogEntry.objects.get(action="auth.login_failed")
    assert (failed.object_id, failed.object_repr) == ("", "nobody@example.com")


def test_admin_add_change_and_delete_are_recorded_with_the_fields(admin_user):
    client = logged_in_client(admin_user)
    added = client.post(
        "/admin/users/user/add/",
        {
            "email": "new.csm@example.com",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
            "usable_password": "true",
        },
    )
    assert added.status_code == 302
    user = User.objects.get(email="new.csm@example.com")
    entry = AuditLogEntry.objects.get(action="admin.add")
    assert (entry.actor_id, entry.object_type, entry.object_id) == (admin_user.pk, "users.user", str(user.pk))
    assert "passphrase" not in str(entry.changes)

    SiteSettings.objects.update_or_create(
        pk=1, defaults={"csms_read_all_books": False, "silent_days_high_touch": 30, "silent_days_hybrid": 60}
    )
    changed = client.post(
        "/admin/users/sitesettings/1/change/",
        {"csms_read_all_books": "on", "silent_days_high_touch": "45", "silent_days_hybrid": "60"},
    )
    assert changed.status_code == 302
    entry = AuditLogEntry.objects.get(action="admin.change", object_type="users.sitesettings")
    assert set(entry.changes["fields"]) == {"CSMs read every book", "Days without a touch (high touch)"}
    assert SiteSettings.current().silent_days_high_touch == 45

    deleted = client.post(f"/admin/users/user/{user.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    entry = AuditLogEntry.objects.get(action="admin.delete")
    assert (entry.object_id, entry.object_repr) == (str(user.pk), "new.csm@example.com")


def test_the_admins_delete_selected_records_each_object(admin_user):
    doomed = [UserFactory(role=Role.VIEWER) for _ in range(3)]
    client = logged_in_client(admin_user)
    response = client.post(
        "/admin/users/user/",
        {"action": "delete_selected", "_selected_action": [u.pk for u in doomed], "post": "yes"},
    )
    assert response.status_code == 302
    assert not User.objects.filter(pk__in=[u.pk for u in doomed]).exists()
    recorded = AuditLogEntry.objects.filter(action="admin.delete", object_type="users.user")
    assert sorted(recorded.values_list("object_id", flat=True)) == sorted(str(u.pk) for u in doomed)
    assert {entry.actor_id for entry in recorded} == {admin_user.pk}


def test_the_confirmation_page_of_delete_selected_records_nothing(admin_user):
    doomed = [UserFactory(role=Role.VIEWER) for _ in range(2)]
    client = logged_in_client(admin_user)
    response = client.post(
        "/admin/users/user/", {"action": "delete_selected", "_selected_action": [u.pk for u in doomed]}
    )
    assert response.status_code == 200
    assert not AuditLogEntry.objects.filter(action="admin.delete").exists()


def test_api_keys_created_and_revoked_are_recorded(admin_user):
    from touchpoint.users.services import create_api_key, revoke_api_key

    key, _raw = create_api_key(user=admin_user, name="CI")
    revoke_api_key(api_key=key, actor=admin_user)
    assert set(
        AuditLogEntry.objects.filter(object_type="users.apikey", object_id=str(key.pk)).values_list(
            "action", flat=True
        )
    ) == {"apikey.create", "apikey.revoke"}


def test_a_new_event_source_is_recorded(admin_user):
    from touchpoint.usage.services import create_source

    source = create_source(name="Web app", actor=admin_user)
    entry = AuditLogEntry.objects.get(action="usage.source_created")
    assert (entry.actor_id, entry.object_type, entry.object_id) == (
        admin_user.pk,
        "usage.source",
        str(source.pk),
    )
    assert source.write_key not in str(entry.changes)  # the secret itself is never in the log


def test_an_import_run_is_recorded_and_a_check_is_not(settings, tmp_path, admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from touchpoint.integrations.csv_import import jobs

    settings.DATA_DIR = tmp_path
    upload = SimpleUploadedFile("customers.csv", b"Account ID,Account Name\nA1,Acme\nA2,Beta\n")
    job = jobs.create_job(kind="accounts", actor=admin_user, upload=upload)
    jobs.run_job_task.call(job.pk, True)
    assert not AuditLogEntry.objects.filter(object_type="import").exists()
    jobs.run_job_task.call(job.pk, False)
    entry = AuditLogEntry.objects.get(object_type="import")
    assert (entry.action, entry.actor_id, entry.object_repr) == ("import.run", admin_user.pk, "customers.csv")
    assert entry.changes == {
        "kind": "accounts",
        "file": "customers.csv",
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "problem_count": 0,
        "outcome": "done",
    }


def test_the_import_command_is_recorded_failed_or_not(tmp_path, db):
    from io import StringIO

    from django.core.management import CommandError, call_command

    path = tmp_path / "bad.csv"
    path.write_text("Account ID,Account Name\nA1,\n")
    with pytest.raises(CommandError):
        call_command("import", "accounts", str(path), "--no-progress", stdout=StringIO(), stderr=StringIO())
    entry = AuditLogEntry.objects.get(object_type="import")
    assert (entry.actor_id, entry.object_repr, entry.changes["outcome"]) == (None, "bad.csv", "failed")
