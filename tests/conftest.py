from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db.backends.base.operations import BaseDatabaseOperations
from django.test import Client
from django.test.testcases import LiveServerThread
from django.utils import translation

from tests.factories import AccountFactory, UserFactory
from touchpoint.accounts.models import Account, AccountTeamMember
from touchpoint.users.models import SiteSettings, User
from touchpoint.users.roles import Role
from touchpoint.users.services import create_api_key

# The `touchpoint` console script run by end-to-end tests inherits DJANGO_SETTINGS_MODULE=tests.settings
# (with the test-only plugin app); let it import that module from the project root.
_ROOT = str(Path(__file__).resolve().parents[1])
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH", "")) if p)


def _flush_past_the_audit_triggers(self, sql_list):
    # The audit log refuses DELETE and TRUNCATE (users migration 0005); emptying the test database
    # after a transactional test is the one place that must get past that.
    from touchpoint.users.audit import triggers_suspended

    with triggers_suspended(using=self.connection.alias):
        _execute_sql_flush(self, sql_list)


_execute_sql_flush = BaseDatabaseOperations.execute_sql_flush
BaseDatabaseOperations.execute_sql_flush = _flush_past_the_audit_triggers  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _english_until_a_test_says_otherwise():
    # LocaleMiddleware activates the request's language on the test thread and nothing switches it
    # back, so a test after a Japanese page would otherwise read Japanese.
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


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


@pytest.fixture
def teammate(db, account):
    """A second CSM on the account's team: the account is in their book too."""
    user = UserFactory(role=Role.CSM, email="teammate@example.com")
    AccountTeamMember.objects.create(account=account, user=user)
    return user


@pytest.fixture
def outsider(db):
    """A CSM whose book does not hold the account."""
    return UserFactory(role=Role.CSM, email="outsider@example.com")


@dataclass
class Book:
    """An account with everyone who may (or may not) touch it: the people of the permission tests."""

    account: Account
    owner: User
    teammate: User
    outsider: User
    leader: User
    viewer: User
    admin: User


@pytest.fixture
def book(account, csm, teammate, outsider, leader, viewer, admin_user) -> Book:
    return Book(account, csm, teammate, outsider, leader, viewer, admin_user)


@pytest.fixture
def own_books_only(db):
    """The admin setting off: CSMs read only the accounts of their book."""
    SiteSettings(csms_read_all_books=False).save()


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


def _live_server(*args, connections_override=None, **kwargs):
    """Where the live server's threads share the test's connection (SQLite's in-memory test database:
    pytest-django passes the connection over), they take turns with it.

    Concurrent requests on one sqlite3 connection can deadlock: a thread inside one of Django's SQL
    functions holds SQLite's mutex and waits for the GIL while another holds the GIL and waits for the
    mutex. An account page loads its panels at once, and a CI run hung there. A server that answered
    one connection at a time was no better: Chromium opens spare connections and sends nothing on
    them for seconds, and every later request waited behind the one being read. So each connection
    has its thread and waits for its request on its own; only the answering is one at a time."""
    from django.core.servers.basehttp import ThreadedWSGIServer

    if connections_override:
        address, handler_class, *rest = args
        args = (address, _taking_turns(handler_class), *rest)
    return ThreadedWSGIServer(*args, connections_override=connections_override, **kwargs)


_one_answer_at_a_time = threading.Lock()


def _taking_turns(handler_class):
    class TakingTurns(handler_class):
        def handle_one_request(self) -> None:
            try:
                self.rfile.peek(1)  # wait for the request (or the connection's end) outside the turn
            except OSError:
                self.close_connection = True
                return
            with _one_answer_at_a_time:
                super().handle_one_request()

        def parse_request(self) -> bool:
            if not super().parse_request():
                return False
            # A page the browser has left still has requests in the queue (an account page's
            # panels, a chart); a GET whose client has hung up is not worth its turn.
            if self.command in ("GET", "HEAD") and _client_hung_up(self.connection):
                self.close_connection = True
                return False
            return True

    return TakingTurns


def _client_hung_up(connection: socket.socket) -> bool:
    try:
        # Nothing left to read and the peer's end closed: recv answers b"" at once.
        return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False  # still open, waiting for the answer
    except OSError:
        return True  # reset


LiveServerThread.server_class = staticmethod(_live_server)  # type: ignore[assignment]


def _flush_by_deleting_what_has_rows() -> None:
    """PostgreSQL: a transactional test's teardown empties only the tables that have rows, by DELETE.

    Django's flush TRUNCATEs every table (213 here), which makes new files for each table and index:
    1–1.9 s after every transactional test, against about 0.05 s for deleting the few rows a test
    wrote. Every foreign key Django makes is DEFERRABLE INITIALLY DEFERRED, so the DELETEs may run in
    any order inside the flush's transaction; the post_migrate rows come back as after a TRUNCATE.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate_all = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade or not tables:
            return truncate_all(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        names = [self.quote_name(table) for table in tables]
        probe = " UNION ALL ".join(
            f"SELECT {index} WHERE EXISTS (SELECT 1 FROM {name})" for index, name in enumerate(names)
        )
        with self.connection.cursor() as cursor:
            cursor.execute(probe)
            with_rows = [names[row[0]] for row in cursor.fetchall()]
        # Checked at once at the end, so no check is left pending: a pending one would stop the audit
        # log's triggers being put back (ALTER TABLE refuses a table with pending trigger events).
        return [
            "SET CONSTRAINTS ALL DEFERRED;",
            *(f"DELETE FROM {name};" for name in with_rows),
            "SET CONSTRAINTS ALL IMMEDIATE;",
        ]

    DatabaseOperations.sql_flush = sql_flush


_flush_by_deleting_what_has_rows()


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
def admin_api(admin_user):
    return Api(create_api_key(user=admin_user)[1])


def assert_api_error(response, status: int, field: str | None = None) -> dict:
    """The one error shape of the API (detail and errors), with `status`, naming `field` if given."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["detail"], body
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body
    return body


@pytest.fixture
def viewer_api(viewer):
    return Api(create_api_key(user=viewer)[1])


def demo_once_per_module(*args: str):
    """A module-scoped fixture: the demo company built once (with `touchpoint demo *args`) for every
    test of the module that reads it, its output the value. It is built inside a transaction held
    open for the module: each test runs in a savepoint of it (rolled back, so a test may change the
    company), and the module's end rolls the whole company back, leaving the database as it was
    (rows the migrations wrote included, which a flush would lose)."""

    @pytest.fixture(scope="module")
    def fixture(django_db_setup, django_db_blocker):
        from io import StringIO

        from django.core.management import call_command
        from django.db import transaction

        out = StringIO()
        held = transaction.atomic()
        with django_db_blocker.unblock():
            held.__enter__()
        try:
            with django_db_blocker.unblock():
                call_command("demo", *args, stdout=out)
            yield out.getvalue()
        finally:
            with django_db_blocker.unblock():
                transaction.set_rollback(True)
                held.__exit__(None, None, None)

    return fixture
