"""The account page's Milestones panel and the account milestones API: owner, teammate, outsider."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import logged_in_client
from tests.factories import ContactFactory, FrameworkFactory
from touchpoint.accounts.models import TimelineEntry
from touchpoint.success.models import MilestoneDefinition, MilestoneReached

pytestmark = pytest.mark.django_db


@pytest.fixture
def outcome(account):
    framework = FrameworkFactory()
    MilestoneDefinition.objects.create(
        framework=framework,
        key="first-report",
        name="First report",
        rule={"event": "Report created"},
        position=1,
    )
    return MilestoneDefinition.objects.create(
        framework=framework, key="roi", name="ROI confirmed", kind="outcome", position=2
    )


def _form(milestone, **changes) -> dict:
    return {
        "action": "record",
        "outcome-milestone": milestone.pk,
        "outcome-reached_on": "2026-02-01",
        "outcome-evidence": "Close went from 9 to 4 days",
        "outcome-evidence_url": "https://example.com/qbr",
        "outcome-confirmed_by_name": "Ann Lee",
        **changes,
    }


def test_the_panel_lists_milestones_and_the_owner_records_and_undoes_an_outcome(outcome, account, csm):
    client = logged_in_client(csm)
    url = f"/accounts/{account.pk}/milestones/"
    panel = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "First report" in panel and "ROI confirmed" in panel and "Record an outcome milestone" in panel

    response = client.post(url, _form(outcome), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "Saved." in body and "Confirmed by Ann Lee" in body
    reach = MilestoneReached.objects.get(account=account, milestone=outcome)
    assert (reach.reached_on, reach.source, reach.recorded_by) == (date(2026, 2, 1), "manual", csm)

    client.post(url, {"action": "undo", "milestone": "roi"}, HTTP_HX_REQUEST="true")
    assert not MilestoneReached.objects.exists()


def test_a_bad_form_shows_the_error_beside_the_field(outcome, account, csm):
    client = logged_in_client(csm)
    url = f"/accounts/{account.pk}/milestones/"
    body = client.post(url, _form(outcome, **{"outcome-confirmed_by_name": ""}), HTTP_HX_REQUEST="true")
    assert "Say who at the customer confirmed it" in body.content.decode()
    body = client.post(url, _form(outcome, **{"outcome-reached_on": "2999-01-01"}), HTTP_HX_REQUEST="true")
    assert "cannot be in the future" in body.content.decode()
    assert client.post(url, {"action": "nonsense"}).status_code == 400
    assert not MilestoneReached.objects.exists()


def test_others_read_but_only_the_book_records(outcome, account, outsider, viewer, teammate):
    url = f"/accounts/{account.pk}/milestones/"
    for reader in (outsider, viewer):
        client = logged_in_client(reader)
        assert "Record an outcome milestone" not in client.get(url).content.decode()
        assert client.post(url, _form(outcome)).status_code == 403
    assert logged_in_client(teammate).post(url, _form(outcome)).status_code == 302
    assert MilestoneReached.objects.count() == 1


def test_the_api_reads_records_and_undoes(outcome, account, api, csm):
    contact = ContactFactory(account=account)
    body = api.get(f"/accounts/{account.pk}/milestones").json()
    assert [m["key"] for m in body["milestones"]] == ["first-report", "roi"]
    assert body["milestones"][1]["reached_on"] is None

    payload = {"reached_on": "2026-02-01", "evidence": "QBR slide", "confirmed_by_contact": contact.pk}
    response = api.send("post", f"/accounts/{account.pk}/milestones/roi", payload)
    assert response.status_code == 200
    roi = response.json()["milestones"][1]
    assert roi["reached_on"] == "2026-02-01" and roi["confirmed_by_contact"]["id"] == contact.pk
    assert TimelineEntry.objects.filter(account=account, kind="milestone_reached").count() == 1
    assert api.send("post", f"/accounts/{account.pk}/milestones/roi", payload).status_code == 409
    # Product milestones are found in usage, unknown keys are 404, bad fields name themselves.
    assert api.send("post", f"/accounts/{account.pk}/milestones/first-report", payload).status_code == 422
    assert api.send("post", f"/accounts/{account.pk}/milestones/nope", payload).status_code == 404
    bad = api.send("post", f"/accounts/{account.pk}/milestones/roi", {**payload, "reached_on": "0001-01-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].endswith("reached_on")

    assert api.send("delete", f"/accounts/{account.pk}/milestones/roi").status_code == 200
    assert api.send("delete", f"/accounts/{account.pk}/milestones/roi").status_code == 404
    assert not MilestoneReached.objects.exists()


def test_an_outsider_cannot_record_through_the_api(outcome, account, outsider, own_books_only):
    from tests.conftest import Api
    from touchpoint.users.services import create_api_key

    api = Api(create_api_key(user=outsider)[1])
    assert api.get(f"/accounts/{account.pk}/milestones").status_code == 403
    payload = {"reached_on": "2026-02-01", "evidence": "x", "confirmed_by_name": "Ann"}
    assert api.send("post", f"/accounts/{account.pk}/milestones/roi", payload).status_code == 403
    assert not MilestoneReached.objects.exists()
