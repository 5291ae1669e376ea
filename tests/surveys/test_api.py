"""The surveys API: CRUD-lite, send, answers, scores; bad input is a 4xx naming the field."""

from __future__ import annotations

import pytest

from tests.conftest import assert_api_error
from tests.factories import ContactFactory
from touchpoint.journeys.models import OutboxRow
from touchpoint.surveys import services

pytestmark = pytest.mark.django_db


def test_create_read_and_list(admin_api):
    created = admin_api.send(
        "post",
        "/surveys",
        {"name": "Onboarding CSAT", "kind": "csat", "texts": {"ja": {"question": "満足度は？"}}},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["key"], body["kind"], body["texts"]) == (
        "onboarding-csat",
        "csat",
        {"ja": {"question": "満足度は？"}},
    )
    assert admin_api.get("/surveys/onboarding-csat").json()["name"] == "Onboarding CSAT"
    assert admin_api.get("/surveys").json()["count"] == 1


def test_bad_input_names_the_field(admin_api, survey, account):
    assert_api_error(admin_api.send("post", "/surveys", {"name": "x" * 300}), 422, "name")
    assert_api_error(admin_api.send("post", "/surveys", {"name": "A", "kind": "stars"}), 422, "kind")
    assert_api_error(admin_api.send("post", "/surveys", {"name": "A", "texts": {"fr": {}}}), 422)
    assert_api_error(admin_api.send("post", "/surveys", {"name": "Quarterly NPS", "key": "nps"}), 422, "key")
    too_big = {"account_id": 2**70, "score": 3}
    assert_api_error(admin_api.send("post", "/surveys/nps/answers", too_big), 422, "account_id")
    assert_api_error(
        admin_api.send("post", "/surveys/nps/answers", {"account_id": account.pk, "score": 10**12}),
        422,
        "score",
    )
    assert_api_error(admin_api.get("/surveys/nps/scores", start="0001-01-01"), 422, "start")
    assert admin_api.get("/surveys/no-such/scores").status_code == 404


def test_post_an_answer_then_read_it_and_the_scores(admin_api, survey, account, contact):
    posted = admin_api.send(
        "post",
        "/surveys/nps/answers",
        {
            "account_id": account.pk,
            "contact_id": contact.pk,
            "score": 4,
            "comment": "Meh",
            "external_id": "x-1",
        },
    )
    assert posted.status_code == 201, posted.content
    assert posted.json()["category"] == "detractor" and posted.json()["task_id"] is not None
    again = admin_api.send(
        "post", "/surveys/nps/answers", {"account_id": account.pk, "score": 4, "external_id": "x-1"}
    )
    assert again.status_code == 409
    admin_api.send("post", "/surveys/nps/answers", {"account_id": account.pk, "score": 10})
    listed = admin_api.get("/surveys/nps/answers", category="detractor").json()
    assert [item["comment"] for item in listed["items"]] == ["Meh"]
    scores = admin_api.get("/surveys/nps/scores").json()
    assert scores["figure"]["count"] == 2 and scores["figure"]["score"] == 0
    assert scores["figure"]["low"] < 0 < scores["figure"]["high"]
    assert len(scores["distribution"]) == 11
    assert scores["by_segment"][0]["figure"]["count"] == 2


def test_a_csat_score_off_its_scale_is_refused(admin_api, account):
    services.create_survey(name="CSAT", key="csat", kind="csat")
    assert_api_error(
        admin_api.send("post", "/surveys/csat/answers", {"account_id": account.pk, "score": 8}), 422, "score"
    )


def test_send_invites_through_the_journey_and_skips_the_recently_asked(admin_api, survey, account):
    people = [ContactFactory(account=account, email=f"p{i}@example.com") for i in range(2)]
    sent = admin_api.send("post", "/surveys/nps/send", {"contact_ids": [p.pk for p in people]})
    assert sent.status_code == 200, sent.content
    assert sent.json() == {"invited": 2, "skipped": {}}
    assert OutboxRow.objects.filter(payload__survey="nps").count() == 2
    again = admin_api.send("post", "/surveys/nps/send", {"contact_ids": [people[0].pk]})
    assert again.json() == {"invited": 0, "skipped": {"throttled": 1}}
    assert_api_error(
        admin_api.send("post", "/surveys/nps/send", {"contact_ids": [2**62]}), 422, "contact_ids"
    )


def test_a_viewer_reads_but_does_not_write(viewer, survey, account):
    from tests.conftest import Api
    from touchpoint.users.services import create_api_key

    reader = Api(create_api_key(user=viewer)[1])
    assert reader.get("/surveys/nps/scores").status_code == 200
    assert_api_error(reader.send("post", "/surveys", {"name": "X"}), 403)
    assert_api_error(reader.send("post", "/surveys/nps/answers", {"account_id": account.pk, "score": 9}), 403)
