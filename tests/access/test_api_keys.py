"""API keys with scopes and an expiry: read-only keys cannot write, expired keys are refused, revocation is at once."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import Api, assert_api_error
from tests.factories import AccountFactory, UserFactory
from touchpoint.users.models import ApiKey, AuditLogEntry
from touchpoint.users.roles import Role
from touchpoint.users.services import create_api_key, revoke_api_key

pytestmark = pytest.mark.django_db


def key(user, **kwargs) -> tuple[ApiKey, Api]:
    api_key, raw = create_api_key(user=user, **kwargs)
    return api_key, Api(raw)


def test_a_read_key_reads_but_every_write_is_403_naming_the_scope(admin_user):
    account = AccountFactory(owner=admin_user)
    _key, api = key(admin_user, scopes=["read"])
    assert api.get("/accounts").status_code == 200
    for method, path, body in [
        ("post", "/accounts", {"name": "New"}),
        ("patch", f"/accounts/{account.pk}", {"name": "Renamed"}),
        ("delete", f"/accounts/{account.pk}", None),
        ("put", "/key-features", {"features": []}),
    ]:
        body_out = assert_api_error(api.send(method, path, body), 403)
        assert "“write”" in body_out["detail"], (method, path)
    account.refresh_from_db()
    assert account.name != "Renamed"


def test_a_write_only_key_cannot_read(admin_user):
    _key, api = key(admin_user, scopes=["write"])
    assert "“read”" in assert_api_error(api.get("/accounts"), 403)["detail"]


def test_an_ingest_key_records_touches_but_changes_nothing_else(admin_user):
    account = AccountFactory(owner=admin_user)
    _key, api = key(admin_user, scopes=["ingest"])
    response = api.send(
        "post",
        f"/accounts/{account.pk}/engagements",
        {"kind": "call", "subject": "Weekly call", "occurred_at": timezone.now().isoformat()},
    )
    assert response.status_code in (201, 422), response.content  # past the scope check, to the body's rules
    assert response.status_code != 403
    assert "“write”" in assert_api_error(api.send("post", "/accounts", {"name": "New"}), 403)["detail"]
    assert "“read”" in assert_api_error(api.get("/accounts"), 403)["detail"]


def test_admin_only_operations_need_the_admin_scope(admin_user):
    _key, plain = key(admin_user, scopes=["read", "write"])
    _key2, admin = key(admin_user, scopes=["read", "write", "admin"])
    # Choosing key features is for admins only (usage.add_keyfeature).
    body = {"event": "Report Built", "label": "Reports"}
    assert "“admin”" in assert_api_error(plain.send("post", "/key-features", body), 403)["detail"]
    assert admin.send("post", "/key-features", body).status_code == 201


def test_the_key_is_bounded_by_its_users_role(db):
    viewer = UserFactory(role=Role.VIEWER)
    _key, api = key(viewer)  # every scope…
    assert_api_error(api.send("post", "/accounts", {"name": "New"}), 403)  # …but a viewer cannot write


def test_an_expired_key_is_401_naming_the_expiry(admin_user):
    api_key, api = key(admin_user, expires_at=timezone.now() + timedelta(hours=1))
    assert api.get("/accounts").status_code == 200
    ApiKey.objects.filter(pk=api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "expired" in assert_api_error(api.get("/accounts"), 401)["detail"]


def test_revocation_takes_effect_at_once(admin_user):
    api_key, api = key(admin_user)
    assert api.get("/accounts").status_code == 200
    revoke_api_key(api_key=api_key, actor=admin_user)
    assert_api_error(api.get("/accounts"), 401)


def test_last_used_is_stamped_at_most_once_a_minute(admin_user):
    api_key, api = key(admin_user)
    api.get("/accounts")
    api_key.refresh_from_db()
    first = api_key.last_used_at
    assert first is not None
    api.get("/accounts")
    api_key.refresh_from_db()
    assert api_key.last_used_at == first


def test_keys_need_a_known_scope_and_a_future_expiry(admin_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        create_api_key(user=admin_user, scopes=["everything"])
    assert "scopes" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        create_api_key(user=admin_user, expires_at=timezone.now() - timedelta(days=1))
    assert "expires_at" in error.value.message_dict


def test_my_settings_creates_shows_once_and_revokes_keys(csm):
    client = Client()
    client.force_login(csm)
    page = client.get(reverse("my-settings"))
    assert page.status_code == 200 and "api-key-form" in page.content.decode()
    response = client.post(
        reverse("my-api-key-create"),
        {"name": "CRM sync", "scopes": ["read", "ingest"], "expires": "2999-01-31"},
    )
    assert response.status_code == 200
    api_key = ApiKey.objects.get(user=csm, name="CRM sync")
    assert api_key.scopes == ["read", "ingest"] and api_key.expires_at.year == 2999
    raw = response.context["raw_key"]
    assert raw in response.content.decode()
    assert raw not in client.get(reverse("my-settings")).content.decode()
    assert AuditLogEntry.objects.filter(action="apikey.create", object_id=str(api_key.pk), actor=csm).exists()
    assert client.post(reverse("my-api-key-revoke", args=[api_key.pk])).status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert AuditLogEntry.objects.filter(action="apikey.revoke", object_id=str(api_key.pk)).exists()


def test_my_settings_refuses_a_key_without_scopes_naming_the_field(csm):
    client = Client()
    client.force_login(csm)
    response = client.post(reverse("my-api-key-create"), {"name": "x"})
    assert response.status_code == 400 and response.context["api_key_form"].errors["scopes"]


def test_one_cannot_revoke_someone_elses_key(csm, admin_user):
    api_key, _api = key(admin_user)
    client = Client()
    client.force_login(csm)
    assert client.post(reverse("my-api-key-revoke", args=[api_key.pk])).status_code == 404


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_command_takes_scopes_and_an_expiry(csm):
    raw = run("apikey", "create", "--user", csm.email, "--scope", "read", "--expires", "30d").splitlines()[-1]
    api_key = ApiKey.objects.get(lookup=raw.split("_")[1])
    assert api_key.scopes == ["read"]
    assert timedelta(days=29) < api_key.expires_at - timezone.now() <= timedelta(days=30)
    run("apikey", "create", "--user", csm.email, "--scope", "read,ingest", "--expires", "2999-12-31")
    assert "read,ingest" in run("apikey", "list", "--user", csm.email)
    with pytest.raises(CommandError, match="--scope"):
        run("apikey", "create", "--user", csm.email, "--scope", "root")
    with pytest.raises(CommandError, match="--expires"):
        run("apikey", "create", "--user", csm.email, "--expires", "next week")


def test_existing_keys_keep_every_scope_after_the_migration():
    from importlib import import_module

    migration = import_module("touchpoint.users.migrations.0006_access_key_scopes_rate_limits")
    assert migration.ALL_SCOPES == ["read", "write", "ingest", "admin"]
