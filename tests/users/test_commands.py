import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from touchpoint.users.models import ApiKey, User
from touchpoint.users.roles import Role
from touchpoint.users.selectors import user_for_api_key

pytestmark = pytest.mark.django_db
TOUCHPOINT = Path(sys.executable).with_name("touchpoint")


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_createuser_with_password(client):
    output = run(
        "createuser", "Lead@Example.com", "--role", "cs_leader", "--password", "a long enough passphrase"
    )
    user = User.objects.get(email="lead@example.com")
    assert user.role == Role.CS_LEADER and "Password" not in output
    assert client.login(username="lead@example.com", password="a long enough passphrase")


def test_createuser_without_password_prints_a_generated_one(client):
    output = run("createuser", "new@example.com", "--role", "viewer")
    password = output.strip().splitlines()[-1].split(": ", 1)[1]
    assert len(password) >= 12
    assert client.login(username="new@example.com", password=password)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not-an-email", "--role", "csm"], "email"),
        (["weak@example.com", "--role", "csm", "--password", "123"], "password"),
    ],
)
def test_createuser_refuses_bad_input(args, message):
    with pytest.raises(CommandError, match=message):
        run("createuser", *args)
    assert not User.objects.exists()


def test_createuser_refuses_a_duplicate(csm):
    with pytest.raises(CommandError, match="already exists"):
        run("createuser", csm.email.upper(), "--role", "csm")


def test_createuser_refuses_an_unknown_role():
    with pytest.raises(CommandError):
        run("createuser", "x@example.com", "--role", "boss")


def test_apikey_create_prints_a_working_key_last(csm):
    raw = run("apikey", "create", "--user", csm.email, "--name", "CRM sync").strip().splitlines()[-1]
    assert user_for_api_key(raw) == csm
    stored = ApiKey.objects.get()
    assert raw not in (stored.key_hash, stored.lookup) and stored.name == "CRM sync"


def test_apikey_list_and_revoke(csm):
    raw = run("apikey", "create", "--user", csm.email).strip().splitlines()[-1]
    lookup = ApiKey.objects.get().lookup
    assert lookup in run("apikey", "list") and "active" in run("apikey", "list", "--user", csm.email)
    run("apikey", "revoke", lookup)
    assert user_for_api_key(raw) is None
    assert "revoked" in run("apikey", "list")


def test_apikey_for_an_unknown_user_fails():
    with pytest.raises(CommandError, match="nobody@example.com"):
        run("apikey", "create", "--user", "nobody@example.com")


def test_the_console_script_end_to_end(tmp_path):
    """As a script would: migrate, createuser with no terminal, apikey create; the last line is the key."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "TOUCHPOINT_DATA_DIR": str(tmp_path),
    }

    def touchpoint(*args: str) -> str:
        done = subprocess.run(
            [str(TOUCHPOINT), *args],
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    touchpoint("migrate", "-v", "0")
    created = touchpoint("createuser", "ops@example.com", "--role", "admin")
    assert "Password (shown once)" in created
    key = touchpoint("apikey", "create", "--user", "ops@example.com").strip().splitlines()[-1]
    assert key.startswith("tp_")
    check = subprocess.run(
        [
            str(TOUCHPOINT),
            "shell",
            "-c",
            f"from touchpoint.users.selectors import user_for_api_key; print(user_for_api_key('{key}').email)",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.stdout.strip().splitlines()[-1] == "ops@example.com"
    failed = subprocess.run(
        [str(TOUCHPOINT), "apikey", "create", "--user", "ghost@example.com"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert failed.returncode != 0 and "ghost@example.com" in failed.stderr
