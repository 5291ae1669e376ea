from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import assert_api_error
from touchpoint.support.models import Ticket

pytestmark = pytest.mark.django_db


def body(**changes):
    opened = datetime.now(UTC) - timedelta(minutes=20)
    return {
        "account_external_id": "acme-1",
        "subject": "Sync broken",
        "priority": "urgent",
        "status": "open",
        "source": "zendesk",
        "external_id": "9",
        "opened_at": opened.isoformat(),
        "updated_at": opened.isoformat(),
    } | changes


def test_post_get_patch_and_list(api, big_account, policy):
    sent = body()
    created = api.send("post", "/support/tickets", sent)
    assert created.status_code == 201, created.content
    data = created.json()
    assert (
        data["outcome"] == "created" and data["policy"]["name"] == "Enterprise" and data["first_reply_due_at"]
    )
    again = api.send("post", "/support/tickets", sent)
    assert again.status_code == 200 and again.json()["outcome"] == "unchanged"
    ticket_id = data["id"]
    assert api.get(f"/support/tickets/{ticket_id}").json()["subject"] == "Sync broken"
    patched = api.send("patch", f"/support/tickets/{ticket_id}", {"status": "solved"})
    assert patched.status_code == 200, patched.content
    assert patched.json()["status"] == "solved" and patched.json()["resolution_business_minutes"] is not None
    listed = api.get("/support/tickets", open="true")
    assert listed.json()["count"] == 0
    assert api.get("/support/tickets").json()["count"] == 1


def test_bad_input_names_the_field(api, big_account, policy):
    assert_api_error(api.send("post", "/support/tickets", body(priority="p1")), 422, "priority")
    assert_api_error(
        api.send("post", "/support/tickets", body(opened_at="0001-01-01T00:00:00Z")), 422, "opened_at"
    )
    assert_api_error(api.send("post", "/support/tickets", body(subject="x" * 100_000)), 422, "subject")
    assert_api_error(api.send("post", "/support/tickets", body(account=2**63)), 422, "account")
    assert_api_error(api.send("post", "/support/tickets", body(source="Not A Key")), 422, "source")
    late = (datetime.now(UTC) - timedelta(hours=5)).isoformat()
    assert_api_error(api.send("post", "/support/tickets", body(solved_at=late)), 422, "solved_at")
    assert not Ticket.objects.exists()


def test_outside_the_book_is_refused(api, db, policy, own_books_only):
    from tests.factories import AccountFactory

    AccountFactory(external_id="theirs")
    assert_api_error(api.send("post", "/support/tickets", body(account_external_id="theirs")), 403)


def test_metrics_breaches_and_policies(api, admin_api, big_account, policy):
    api.send("post", "/support/tickets", body(opened_at=(datetime.now(UTC) - timedelta(hours=3)).isoformat()))
    metrics = api.get("/support/metrics", months=3).json()
    assert metrics["total"]["opened"] == 1 and metrics["total"]["compliance"] == 0.0
    assert [row["key"] for row in metrics["by_priority"]] == ["urgent"]
    assert len(metrics["by_month"]) == 3
    assert_api_error(api.get("/support/metrics", months=99), 422, "months")
    breaches = api.get("/support/breaches").json()
    assert breaches["count"] == 1 and breaches["items"][0]["target"] == "first_reply"
    policies = admin_api.get("/support/policies").json()
    assert {p["name"] for p in policies} == {"Default", "Enterprise"}


def test_a_ticket_needs_an_account(api, big_account, policy):
    values = body()
    del values["account_external_id"]
    assert_api_error(api.send("post", "/support/tickets", values), 422, "account")
    assert_api_error(api.send("post", "/support/tickets", body(account_external_id="nobody")), 404)
