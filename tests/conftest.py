from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import AccountFactory, UserFactory
from touchpoint.users.roles import Role
from touchpoint.users.services import create_api_key

# The `touchpoint` console script run by end-to-end tests inherits DJANGO_SETTINGS_MODULE=tests.settings
# (with the test-only plugin app); let it import that module from the project root.
_ROOT = str(Path(__file__).resolve().parents[1])
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH", "")) if p)


@pytest.fixture
def admin_user(db):
    return UserFactory(role=Role.ADMIN, email="admin@example.com")


@pytest.fixture
def leader(db):
    return UserFactory(role=Role.CS_LEADER, email="leader@example.com")


@pytest.fixture
def csm(db):
    return UserFactory(role=Role.CSM, email="csm@example.com")


@pytest.fixture
def viewer(db):
    return UserFactory(role=Role.VIEWER, email="viewer@example.com")


@pytest.fixture
def account(db, csm):
    return AccountFactory(owner=csm)


def logged_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def csm_client(csm) -> Client:
    return logged_in_client(csm)


@pytest.fixture
def viewer_client(viewer) -> Client:
    return logged_in_client(viewer)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    # Live-server threads must not keep database connections open past their request, or the
    # PostgreSQL test database cannot be dropped at the end of the run.
    from django.conf import settings

    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


class Api:
    """A client that sends a Bearer key, as scripts do."""

    def __init__(self, raw_key: str | None):
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"} if raw_key else {}

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, **self.headers)

    def send(self, method, path, body=None, raw=None):
        data = raw if raw is not None else body
        call = getattr(self.client, method)
        return call(f"/api/v1{path}", data, content_type="application/json", **self.headers)


@pytest.fixture
def api(csm):
    return Api(create_api_key(user=csm)[1])


@pytest.fixture
def viewer_api(viewer):
    return Api(create_api_key(user=viewer)[1])
