"""GET/PUT /api/v1/accounts/{id}/success-plan: the whole plan out, the whole plan in (idempotent),
errors naming the field, and the account's book deciding who may."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.factories import AccountFactory, ContactFactory
from touchpoint.accounts.models import TimelineEntry
from touchpoint.plans import services
from touchpoint.users.services import create_api_key

pytestmark = pytest.mark.django_db


def _body(champion, **overrides):
    return {
        "title": "Close the month in five days",
        "summary": "What Aiko's team wants from this year.",
        "objectives": [
            {
                "text": "Cut the time to close the month",
                "kpis": [
                    {
                        "name": "Days to close",
                        "unit": "days",
                        "baseline": "10",
                        "target": "5",
                        "current": "8",
                        "due_on": "2026-09-30",
                        "owner": champion.pk,
                    }
                ],
            }
        ],
        "stakeholders": [{"contact": champion.pk, "role": "champion"}],
        "milestones": [{"title": "Kick-off held", "due_on": "2026-03-15", "status": "done"}],
        "agreed_by": champion.pk,
        "agreed_on": "2026-03-01",
        **overrides,
    }


def test_put_writes_the_plan_get_reads_it_and_the_same_put_changes_nothing(placed, api, champion):
    path = f"/accounts/{placed.pk}/success-plan"
    assert api.get(path).status_code == 404
    created = api.send("put", path, _body(champion))
    assert created.status_code == 201, created.content
    plan = created.json()
    assert plan["status"] == "agreed" and plan["agreed_by"]["name"] == "Aiko Tanaka"
    kpi = plan["objectives"][0]["kpis"][0]
    assert kpi["owner"]["id"] == champion.pk and kpi["progress"] == pytest.approx(0.4)
    assert plan["milestones"][0]["done_on"] is not None and plan["progress"] == pytest.approx(70.0)
    again = api.send("put", path, _body(champion))
    assert again.status_code == 200 and again.json() == plan
    assert TimelineEntry.objects.filter(account=placed, kind="plan_changed").count() == 1
    assert api.get(path).json() == plan


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"agreed_on": None}, "agreed_on"),
        ({"agreed_by": 2**64}, "agreed_by"),
        ({"stakeholders": [{"contact": 1, "role": "boss"}]}, "stakeholders.0.role"),
        ({"milestones": [{"title": "M", "progress": 101}]}, "milestones.0.progress"),
        ({"milestones": [{"title": "M", "due_on": "9999-12-31"}]}, "milestones.0.due_on"),
        (
            {"objectives": [{"text": "T", "kpis": [{"name": "K", "target": "1e20"}]}]},
            "objectives.0.kpis.0.target",
        ),
        ({"objectives": [{"text": "T", "kpis": [{"name": "K", "current": 5}]}]}, None),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_bad_body_is_a_422_naming_the_field(placed, api, champion, change, field):
    response = api.send("put", f"/accounts/{placed.pk}/success-plan", _body(champion, **change))
    if field is None:  # a number as JSON number is fine for a KPI (strict=False)
        assert response.status_code == 201, response.content
        return
    assert response.status_code == 422, response.content
    assert field in [error["field"] for error in response.json()["errors"]], response.json()


def test_a_contact_or_milestone_from_elsewhere_is_refused(placed, api, champion):
    stranger = ContactFactory(account=AccountFactory())
    body = _body(champion, stakeholders=[{"contact": stranger.pk, "role": "champion"}])
    response = api.send("put", f"/accounts/{placed.pk}/success-plan", body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "stakeholders.0.contact"


def test_the_book_decides_who_reads_and_writes(placed, csm, champion, viewer, outsider, own_books_only):
    services.create_plan(account=placed, actor=csm)
    path = f"/accounts/{placed.pk}/success-plan"
    viewer_api = Api(create_api_key(user=viewer)[1])
    assert viewer_api.get(path).status_code == 200
    assert viewer_api.send("put", path, _body(champion)).status_code == 403
    outsider_api = Api(create_api_key(user=outsider)[1])
    assert outsider_api.get(path).status_code == 403
    assert outsider_api.send("put", path, _body(champion)).status_code == 403
