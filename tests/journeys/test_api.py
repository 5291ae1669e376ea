"""The journeys API: list and read journeys, enroll by hand or script, list enrollments, take one out."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.factories import AccountFactory, ContactFactory
from tests.journeys.entries_support import definition, enrollments, live_journey
from touchpoint.journeys.models import Enrollment, EnrollmentStatus, JourneyStatus
from touchpoint.users.services import create_api_key

pytestmark = pytest.mark.django_db


def _as(user) -> Api:
    return Api(create_api_key(user=user)[1])


def _manual(key="by-hand", **more):
    return live_journey(definition(key, {"trigger": "manual"}, reentry={"policy": "after_exit"}, **more))


def test_list_and_read_journeys(api, account):
    version = _manual()
    live_journey(definition("draft-one", {"trigger": "manual"}), status=JourneyStatus.DRAFT)
    Enrollment.objects.create(
        journey=version.journey,
        version=version,
        account=account,
        subject_key=f"account:{account.pk}",
        step_id="w",
    )
    listed = api.get("/journeys").json()
    assert listed["count"] == 2
    by_key = {item["key"]: item for item in listed["items"]}
    assert by_key["by-hand"]["status"] == "live"
    assert by_key["by-hand"]["live_version"] == 1
    assert by_key["by-hand"]["trigger"] == "manual"
    assert by_key["by-hand"]["active"] == 1
    assert by_key["draft-one"]["active"] == 0
    assert [item["key"] for item in api.get("/journeys", status="draft").json()["items"]] == ["draft-one"]

    detail = api.get("/journeys/by-hand").json()
    assert detail["versions"][0]["number"] == 1
    assert detail["enrollments"]["active"] == 1 and detail["enrollments"]["converted"] == 0
    assert detail["definition"]["key"] == "by-hand"
    assert api.get("/journeys/nope").status_code == 404
    bad = api.get("/journeys/" + "x" * 200)
    assert bad.status_code == 422


def test_enroll_answers_201_then_200_for_the_same_key(book):
    version = _manual()
    owner = _as(book.owner)
    created = owner.send(
        "post", "/journeys/by-hand/enrollments", {"account_id": book.account.pk, "entry_key": "k1"}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["account"] == book.account.pk and body["contact"] is None
    assert body["entry_key"] == "k1" and body["status"] == "active" and body["version"] == 1
    assert body["entry_data"] == {"trigger": "api", "data": {}}
    again = owner.send(
        "post", "/journeys/by-hand/enrollments", {"account_id": book.account.pk, "entry_key": "k1"}
    )
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    # Re-entry "after exit": another entry while the first is active is refused, then allowed once it ended.
    url, k2 = "/journeys/by-hand/enrollments", {"account_id": book.account.pk, "entry_key": "k2"}
    assert owner.send("post", url, k2).status_code == 409
    assert owner.send("post", f"/enrollments/{body['id']}/exit", {"reason": "done"}).status_code == 200
    assert owner.send("post", url, k2).status_code == 201
    assert len(enrollments(version)) == 2


def test_enroll_needs_a_live_journey_and_the_right_subject(book):
    owner = _as(book.owner)
    live_journey(definition("drafted", {"trigger": "manual"}), status=JourneyStatus.DRAFT)
    assert (
        owner.send("post", "/journeys/drafted/enrollments", {"account_id": book.account.pk}).status_code
        == 409
    )
    assert (
        owner.send("post", "/journeys/missing/enrollments", {"account_id": book.account.pk}).status_code
        == 404
    )
    _manual()
    unknown = owner.send("post", "/journeys/by-hand/enrollments", {"account_id": 999999})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "account_id"
    contact = ContactFactory(account=book.account)
    with_contact = owner.send(
        "post", "/journeys/by-hand/enrollments", {"account_id": book.account.pk, "contact_id": contact.pk}
    )
    assert with_contact.status_code == 422  # an account journey
    _manual(key="people", subject="contact")
    assert (
        owner.send("post", "/journeys/people/enrollments", {"account_id": book.account.pk}).status_code == 422
    )
    elsewhere = ContactFactory(account=AccountFactory())
    wrong = owner.send(
        "post", "/journeys/people/enrollments", {"account_id": book.account.pk, "contact_id": elsewhere.pk}
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "contact_id"
    right = owner.send(
        "post", "/journeys/people/enrollments", {"account_id": book.account.pk, "contact_id": contact.pk}
    )
    assert right.status_code == 201 and right.json()["contact"] == contact.pk
    junk = owner.send("post", "/journeys/by-hand/enrollments", {"account_id": "1", "surprise": True})
    assert junk.status_code == 422
    huge = owner.send(
        "post", "/journeys/by-hand/enrollments", {"account_id": book.account.pk, "data": {"x": "y" * 20_000}}
    )
    assert huge.status_code == 422 and huge.json()["errors"][0]["field"] == "data"


def test_reentry_never_refuses_a_second_entry_with_409_after_the_first_ended(book):
    live_journey(definition("once", {"trigger": "manual"}))  # re-entry never
    owner = _as(book.owner)
    first = owner.send(
        "post", "/journeys/once/enrollments", {"account_id": book.account.pk, "entry_key": "a"}
    )
    assert first.status_code == 201 and first.json()["entry_key"] == ""
    Enrollment.objects.filter(pk=first.json()["id"]).update(status=EnrollmentStatus.EXITED)
    second = owner.send(
        "post", "/journeys/once/enrollments", {"account_id": book.account.pk, "entry_key": "b"}
    )
    assert second.status_code == 409


def test_only_people_who_change_the_account_enroll_it(book):
    _manual()
    for person in (book.outsider, book.viewer):
        refused = _as(person).send("post", "/journeys/by-hand/enrollments", {"account_id": book.account.pk})
        assert refused.status_code == 403
    assert (
        _as(book.teammate)
        .send("post", "/journeys/by-hand/enrollments", {"account_id": book.account.pk})
        .status_code
        == 201
    )


def test_enrollment_list_filters_and_hides_other_books(book, own_books_only):
    version = _manual()
    mine = Enrollment.objects.create(
        journey=version.journey,
        version=version,
        account=book.account,
        subject_key=f"account:{book.account.pk}",
        step_id="w",
    )
    other = AccountFactory()
    Enrollment.objects.create(
        journey=version.journey,
        version=version,
        account=other,
        subject_key=f"account:{other.pk}",
        step_id="t",
        status=EnrollmentStatus.COMPLETED,
    )
    leader = _as(book.leader)
    assert leader.get("/journeys/by-hand/enrollments").json()["count"] == 2
    assert [
        e["id"] for e in leader.get("/journeys/by-hand/enrollments", status="active").json()["items"]
    ] == [mine.pk]
    assert leader.get("/journeys/by-hand/enrollments", step="t").json()["count"] == 1
    assert leader.get("/journeys/by-hand/enrollments", status="bogus").status_code == 422
    assert [e["id"] for e in _as(book.owner).get("/journeys/by-hand/enrollments").json()["items"]] == [
        mine.pk
    ]
    assert _as(book.outsider).get("/journeys/by-hand/enrollments").json()["count"] == 0
    assert leader.get("/journeys/nope/enrollments").status_code == 404


def test_exit_an_enrollment(book):
    version = _manual()
    enrollment = Enrollment.objects.create(
        journey=version.journey,
        version=version,
        account=book.account,
        subject_key=f"account:{book.account.pk}",
        step_id="w",
        wake_at=None,
    )
    assert (
        _as(book.outsider).send("post", f"/enrollments/{enrollment.pk}/exit", {"reason": "x"}).status_code
        == 403
    )
    owner = _as(book.owner)
    assert owner.send("post", f"/enrollments/{enrollment.pk}/exit", {"reason": ""}).status_code == 422
    done = owner.send("post", f"/enrollments/{enrollment.pk}/exit", {"reason": "Asked to stop"})
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "exited"
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.EXITED and "Asked to stop" in enrollment.exit_reason
    assert owner.send("post", f"/enrollments/{enrollment.pk}/exit", {"reason": "again"}).status_code == 409
    assert owner.send("post", "/enrollments/99999999/exit", {"reason": "x"}).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_exit_works_in_autocommit_as_a_server_runs_it(book):
    """No test transaction around the request: the engine's row lock needs the handler's own."""
    version = _manual(key="autocommit")
    enrollment = Enrollment.objects.create(
        journey=version.journey,
        version=version,
        account=book.account,
        subject_key=f"account:{book.account.pk}",
        step_id="w",
    )
    done = _as(book.owner).send("post", f"/enrollments/{enrollment.pk}/exit", {"reason": "Asked to stop"})
    assert done.status_code == 200 and done.json()["status"] == "exited"
