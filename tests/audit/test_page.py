"""The Audit page, its CSV and `GET /api/v1/audit`: admins and CS leaders read the log, filtered,
newest first, a keyset page at a time."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import Api, assert_api_error, logged_in_client
from tests.factories import UserFactory
from touchpoint.users import audit_log
from touchpoint.users.audit import append
from touchpoint.users.models import AuditLogEntry
from touchpoint.users.roles import Role
from touchpoint.users.services import create_api_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def log(admin_user, leader):
    csm = UserFactory(role=Role.CSM, full_name="Casey Csm")
    entries = [
        append(
            actor=csm,
            action="auth.login",
            object_type="users.user",
            object_id=str(csm.pk),
            object_repr="Casey",
        ),
        append(
            actor=admin_user,
            action="admin.change",
            object_type="users.sitesettings",
            object_id="1",
            object_repr="Site settings",
            changes={"fields": ["CSMs read every book"]},
        ),
        append(
            actor=None,
            action="auth.login_failed",
            object_type="users.user",
            object_repr="mallory@example.com",
            changes={"username": "mallory@example.com", "ip": "10.0.0.9"},
        ),
        append(
            actor=csm,
            action="export",
            object_type="export",
            object_id="accounts.csv",
            object_repr='=HYPERLINK("http://evil")',
            changes={"rows": 12},
        ),
    ]
    return {"csm": csm, "entries": entries}


def test_newest_first_in_words_for_a_leader(log, leader):
    page = logged_in_client(leader).get("/audit/")
    assert page.status_code == 200
    text = page.content.decode()
    assert (
        text.index("exported")
        < text.index("A sign-in as “mallory@example.com” failed")
        < text.index("Casey Csm signed in")
    )
    assert "CSMs read every book" in text


@pytest.mark.parametrize("who", ["csm", "viewer"])
def test_csms_and_viewers_may_not_read_it(log, who, viewer):
    user = log["csm"] if who == "csm" else viewer
    assert logged_in_client(user).get("/audit/").status_code == 403
    assert logged_in_client(user).get("/audit/export.csv").status_code == 403


def test_the_filters(log, admin_user):
    client = logged_in_client(admin_user)
    csm = log["csm"]

    ids = [e.pk for e in log["entries"]]

    def shown(**query) -> set[int]:
        # Of the fixture's entries (signing the client in wrote one more).
        response = client.get("/audit/", query)
        assert response.status_code == 200, response.content
        return {row["entry"].pk for row in response.context["entries"]} & set(ids)

    assert shown(actor=csm.pk) == {ids[0], ids[3]}
    assert shown(action="auth.") == {ids[0], ids[2]}
    assert shown(action="auth.login_failed") == {ids[2]}
    assert shown(object_type="users.sitesettings") == {ids[1]}
    assert shown(object="mallory") == {ids[2]}
    assert shown(object="1", object_type="users.sitesettings") == {ids[1]}
    today = timezone.localdate()
    assert shown(since=today.isoformat(), until=today.isoformat()) >= set(ids)
    assert shown(until=(today - timedelta(days=1)).isoformat()) == set()
    bad = client.get("/audit/", {"since": "0001-01-01"})
    assert bad.status_code == 400 and "since" in bad.context["form"].errors


def test_keyset_pages_cover_everything_once(admin_user):
    start = timezone.now()
    made = []
    for index in range(7):
        entry = append(actor=None, action="test.made", object_type="test", object_id=str(index))
        made.append(entry.pk)
    # Two entries share a moment: the id breaks the tie.
    AuditLogEntry.objects.bulk_create(
        [AuditLogEntry(action="test.made", object_type="test", created_at=start) for _ in range(2)]
    )
    seen: list[int] = []
    cursor = ""
    filters = audit_log.AuditFilters(action="test.made")
    while True:
        rows, cursor = audit_log.page(filters, after=cursor, size=3)
        seen.extend(row.pk for row in rows)
        if not cursor:
            break
    expected = list(
        AuditLogEntry.objects.filter(action="test.made")
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
    )
    assert seen == expected and len(seen) == 9


@given(st.text(max_size=40))
def test_any_cursor_text_is_the_first_page_or_a_position(value):
    parsed = audit_log.parse_cursor(value)
    assert parsed is None or (isinstance(parsed[1], int) and parsed[1] >= 0)


def test_the_csv_is_formula_safe_filtered_and_audited(log, leader):
    client = logged_in_client(leader)
    response = client.get("/audit/export.csv", {"action": "export"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == list(audit_log.CSV_HEADER)
    # The fixture's export and this download itself (recorded before the rows are read).
    assert [row[6] for row in rows[1:]] == ["audit.csv", '\'=HYPERLINK("http://evil")']
    recorded = AuditLogEntry.objects.filter(action="export", actor=leader).get()
    assert recorded.object_id == "audit.csv" and recorded.changes["filters"] == {"action": ["export"]}


def test_the_api_lists_filters_and_refuses_csms(log, admin_user, leader, csm):
    leader_api = Api(create_api_key(user=leader)[1])
    body = leader_api.get("/audit", action="auth.").json()
    assert body["count"] == 2 and [item["action"] for item in body["items"]] == [
        "auth.login_failed",
        "auth.login",
    ]
    assert body["items"][0]["summary"] == "A sign-in as “mallory@example.com” failed"
    assert body["items"][1]["actor"]["email"] == log["csm"].email
    assert_api_error(Api(create_api_key(user=csm)[1]).get("/audit"), 403)
    admin_api = Api(create_api_key(user=admin_user)[1])
    assert_api_error(admin_api.get("/audit", actor=2**63), 422, "actor")
    assert_api_error(admin_api.get("/audit", since="0001-01-01"), 422, "since")
    assert_api_error(admin_api.get("/audit", object="x" * 100_000), 422, "object")
    assert_api_error(admin_api.get("/audit", limit=10**12), 422, "limit")
