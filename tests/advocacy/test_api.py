from __future__ import annotations

import pytest

from tests.advocacy.helpers import grade, promoted
from tests.conftest import assert_api_error
from tests.factories import AccountFactory, ContactFactory
from touchpoint.advocacy import services
from touchpoint.advocacy.models import Ask

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(account):
    return ContactFactory(account=account, name="Grace Hopper")


def test_ask_accept_and_done_through_the_api(api, contact):
    made = api.send(
        "post", "/advocacy/asks", {"contact": contact.pk, "kind": "case_study", "note": "Q3 story"}
    )
    assert made.status_code == 201, made.content
    ask_id = made.json()["id"]
    assert made.json()["status"] == "asked" and made.json()["contact"]["account"]["id"] == contact.account_id
    moved = api.send("post", f"/advocacy/asks/{ask_id}/status", {"status": "accepted"})
    assert moved.json()["status"] == "accepted"
    done = api.send(
        "post", f"/advocacy/asks/{ask_id}/status", {"status": "done", "link": "https://example.com/story"}
    )
    assert done.status_code == 200 and done.json()["activity_id"]
    again = api.send("post", f"/advocacy/asks/{ask_id}/status", {"status": "declined"})
    assert_api_error(again, 422, "status")
    advocates = api.get("/advocacy/advocates").json()
    assert advocates["count"] == 1 and advocates["items"][0]["activity_counts"]["case_study"] == 1


def test_an_ask_beyond_the_quarter_limit_is_a_422_naming_the_limit_and_the_day(api, contact):
    for kind in ("review", "referral"):
        assert api.send("post", "/advocacy/asks", {"contact": contact.pk, "kind": kind}).status_code == 201
    refused = api.send("post", "/advocacy/asks", {"contact": contact.pk, "kind": "speaking"})
    body = assert_api_error(refused, 422, "contact")
    assert (
        "limit of 2 asks" in body["errors"][0]["message"] and "asked again on" in body["errors"][0]["message"]
    )
    assert Ask.objects.count() == 2


def test_bad_input_is_a_4xx_naming_the_field(api, contact):
    assert_api_error(api.send("post", "/advocacy/asks", {"contact": 2**63, "kind": "review"}), 422, "contact")
    assert_api_error(
        api.send("post", "/advocacy/asks", {"contact": 999999, "kind": "review"}), 422, "contact"
    )
    assert_api_error(
        api.send("post", "/advocacy/asks", {"contact": contact.pk, "kind": "bribe"}), 422, "kind"
    )
    assert_api_error(
        api.send(
            "post", "/advocacy/asks", {"contact": contact.pk, "kind": "review", "asked_on": "0001-01-01"}
        ),
        422,
        "asked_on",
    )
    assert_api_error(
        api.send("post", "/advocacy/asks", {"contact": contact.pk, "kind": "review", "note": "x" * 100_000}),
        422,
        "note",
    )
    advocate = services.add_advocate(contact=contact, actor=None)
    assert_api_error(
        api.send("post", f"/advocacy/advocates/{advocate.pk}/rewards", {"kind": "gift", "value": 10**12}),
        422,
        "value",
    )


def test_rewards_and_activities_through_the_api(api, contact):
    made = api.send("post", "/advocacy/advocates", {"contact": contact.pk, "notes": "Loves us"})
    assert made.status_code == 201
    advocate_id = made.json()["id"]
    assert_api_error(api.send("post", "/advocacy/advocates", {"contact": contact.pk}), 409, "contact")
    activity = api.send("post", f"/advocacy/advocates/{advocate_id}/activities", {"kind": "speaking"})
    assert activity.status_code == 201
    reward = api.send(
        "post",
        f"/advocacy/advocates/{advocate_id}/rewards",
        {"kind": "donation", "value": "100.00", "currency": "EUR", "note": "To a charity of her choice"},
    )
    assert reward.status_code == 201 and reward.json()["value"] == "100.00"
    assert api.get("/advocacy/rewards").json()["count"] == 1
    detail = api.get(f"/advocacy/advocates/{advocate_id}").json()
    assert detail["activities"] == 1 and detail["recent_activities"][0]["kind"] == "speaking"


def test_the_pool_and_candidates_through_the_api(api, account):
    grade(account, "green")
    contact = ContactFactory(account=account)
    promoted(contact, 10)
    pool = api.get("/advocacy/pool").json()
    assert pool["count"] == 1 and pool["items"][0]["grade"] == "green"
    by_hand = ContactFactory(account=account)
    assert api.send("post", "/advocacy/candidates", {"contact": by_hand.pk}).json()["source"] == "manual"
    assert api.get("/advocacy/candidates").json()["count"] == 2
    assert api.send("delete", f"/advocacy/candidates/{by_hand.pk}").status_code == 204
    assert api.get("/advocacy/candidates").json()["count"] == 1


def test_a_viewer_reads_but_does_not_ask(viewer_api, contact):
    assert viewer_api.get("/advocacy/asks").status_code == 200
    assert_api_error(
        viewer_api.send("post", "/advocacy/asks", {"contact": contact.pk, "kind": "review"}), 403
    )


def test_a_csm_outside_the_book_does_not_ask(api):
    other = ContactFactory(account=AccountFactory())
    assert_api_error(api.send("post", "/advocacy/asks", {"contact": other.pk, "kind": "review"}), 403)


def test_only_admins_change_the_settings(api, admin_api):
    assert_api_error(api.send("patch", "/advocacy/settings", {"max_asks_per_quarter": 5}), 403)
    changed = admin_api.send("patch", "/advocacy/settings", {"max_asks_per_quarter": 5})
    assert changed.json() == {"max_asks_per_quarter": 5, "pool_quiet_days": 90}
    assert_api_error(
        admin_api.send("patch", "/advocacy/settings", {"max_asks_per_quarter": 0}),
        422,
        "max_asks_per_quarter",
    )
