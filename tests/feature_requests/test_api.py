from __future__ import annotations

import json

import pytest

from tests.conftest import Api, assert_api_error
from tests.factories import AccountFactory, ContactFactory
from tests.feature_requests.conftest import arr_account
from touchpoint.feature_requests import services
from touchpoint.feature_requests.models import FeatureRequest, RequestLink
from touchpoint.tasks.models import Task

pytestmark = pytest.mark.django_db


def test_a_request_is_created_asked_for_shipped_and_listed_ranked(admin_api, csm):
    created = admin_api.send(
        "post", "/feature-requests", {"title": "Audit log export", "product_area": "Admin"}
    )
    assert created.status_code == 201, created.content
    request_id = created.json()["id"]
    account = arr_account(arr=60_000, renewal_in=30, grade="red", owner=csm)
    contact = ContactFactory(account=account)
    asked = admin_api.send(
        "post",
        f"/feature-requests/{request_id}/asks",
        {
            "account_id": account.pk,
            "contact_id": contact.pk,
            "verbatim": "Auditors",
            "asked_at": "2026-01-05T10:00:00Z",
        },
    )
    assert asked.status_code == 201, asked.content
    again = admin_api.send("post", f"/feature-requests/{request_id}/asks", {"account_id": account.pk})
    assert again.json()["asks"] == 2 and RequestLink.objects.count() == 1
    listed = admin_api.get("/feature-requests").json()
    assert listed["count"] == 1
    row = listed["items"][0]
    assert row["rank"] == 1 and row["stake"]["accounts"] == 1
    assert float(row["stake"]["total"]) == 120_000 and float(row["stake"]["health_boost"]) == 30_000
    detail = admin_api.get(f"/feature-requests/{request_id}").json()
    assert detail["requesters"][0]["health_grade"] == "red" and float(detail["requesters"][0]["weight"]) == 2
    assert [a["verbatim"] for a in detail["requesters"][0]["asks"]] == ["Auditors", ""]
    shipped = admin_api.send(
        "post", f"/feature-requests/{request_id}/status", {"status": "shipped", "note": "4.2"}
    )
    assert shipped.status_code == 200 and shipped.json()["status"] == "shipped"
    assert Task.objects.filter(owner=csm).count() == 1
    assert admin_api.get("/feature-requests").json()["count"] == 0  # open ones by default
    assert admin_api.get("/feature-requests", status="shipped").json()["count"] == 1


def test_merge_and_duplicates_through_the_api(admin_api):
    survivor = services.create_request(title="Export reports to CSV", actor=None)
    duplicate = services.create_request(title="CSV export of the reports", actor=None)
    services.ask(request=duplicate, account=AccountFactory(), actor=None)
    found = admin_api.get(f"/feature-requests/{survivor.pk}/duplicates").json()
    assert [d["id"] for d in found] == [duplicate.pk] and found[0]["similarity"] >= 0.5
    merged = admin_api.send("post", f"/feature-requests/{duplicate.pk}/merge", {"into": survivor.pk})
    assert merged.status_code == 200 and merged.json()["id"] == survivor.pk
    assert merged.json()["stake"]["accounts"] == 1
    assert admin_api.get(f"/feature-requests/{duplicate.pk}").json()["merged_into"] == survivor.pk
    assert_api_error(
        admin_api.send("post", f"/feature-requests/{duplicate.pk}/merge", {"into": survivor.pk}),
        422,
        "duplicate",
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 100_000}, "title"),
        ({"title": "a\x00b"}, "title"),
        ({"title": 5}, "title"),
        ({"title": "ok", "unknown": 1}, "unknown"),
    ],
)
def test_a_bad_body_is_a_4xx_naming_the_field(admin_api, body, field):
    assert_api_error(admin_api.send("post", "/feature-requests", body), 422, field)
    assert not FeatureRequest.objects.exists()


def test_bad_asks_and_statuses_name_the_field(admin_api):
    request = services.create_request(title="A", actor=None)
    path = f"/feature-requests/{request.pk}"
    assert_api_error(admin_api.send("post", path + "/asks", {"account_id": 2**63}), 422, "account_id")
    assert_api_error(admin_api.send("post", path + "/asks", {"account_id": 999999}), 422, "account_id")
    account = AccountFactory()
    other_contact = ContactFactory()
    assert_api_error(
        admin_api.send("post", path + "/asks", {"account_id": account.pk, "contact_id": other_contact.pk}),
        422,
        "contact_id",
    )
    assert_api_error(
        admin_api.send(
            "post", path + "/asks", {"account_id": account.pk, "asked_at": "0001-01-01T00:00:00Z"}
        ),
        422,
        "asked_at",
    )
    assert_api_error(
        admin_api.send("post", path + "/status", {"status": "maybe", "note": "x"}), 422, "status"
    )
    assert_api_error(admin_api.send("post", path + "/status", {"status": "planned", "note": ""}), 422, "note")
    deep = "[" * 300 + "]" * 300
    response = admin_api.send("post", "/feature-requests", raw=deep)
    assert 400 <= response.status_code < 500
    assert admin_api.get("/feature-requests/99999999").status_code == 404
    assert_api_error(admin_api.get(f"/feature-requests/{2**63}"), 422)
    assert_api_error(admin_api.get("/feature-requests", segment=10**12 * 10**7), 422, "segment")
    assert_api_error(admin_api.get("/feature-requests", sort="best"), 422, "sort")


def test_a_viewer_reads_but_does_not_write(viewer_api):
    request = services.create_request(title="A", actor=None)
    assert viewer_api.get("/feature-requests").status_code == 200
    assert_api_error(viewer_api.send("post", "/feature-requests", {"title": "B"}), 403)
    assert_api_error(
        viewer_api.send("post", f"/feature-requests/{request.pk}/status", {"status": "planned", "note": "x"}),
        403,
    )
    assert_api_error(Api(None).get("/feature-requests"), 401)
    assert json.loads(viewer_api.get(f"/feature-requests/{request.pk}").content)["title"] == "A"
