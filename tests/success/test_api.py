"""GET/PUT /api/v1/accounts/{id}/placement, and the phase filter of the accounts list."""

from __future__ import annotations

import pytest

from tests.factories import AccountFactory, FrameworkFactory, PhaseFactory
from touchpoint.success.models import AccountPlacement

pytestmark = pytest.mark.django_db


def test_get_and_put_a_placement(api, account):
    assert api.get(f"/accounts/{account.pk}/placement").json() == {
        "account": account.pk,
        "framework": None,
        "phase": None,
        "entered_at": None,
    }
    phase = PhaseFactory(name="Adoption")
    response = api.send("put", f"/accounts/{account.pk}/placement", {"phase": phase.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["phase"] == {"id": phase.pk, "name": "Adoption"}
    assert body["framework"] == {"id": phase.framework_id, "name": "Standard"}
    assert api.get(f"/accounts/{account.pk}/placement").json()["phase"]["name"] == "Adoption"
    response = api.send("put", f"/accounts/{account.pk}/placement", {"framework": None, "phase": None})
    assert response.json()["phase"] is None and response.json()["framework"] is None


def test_bad_placements_are_422_naming_the_field(api, account):
    other = FrameworkFactory(name="Self-serve", is_default=False)
    phase = PhaseFactory(name="Adoption")
    for body, field in (
        ({"framework": other.pk, "phase": phase.pk}, "phase"),
        ({"phase": 999999}, "phase"),
        ({"framework": 999999}, "framework"),
        ({"phase": "soon"}, "phase"),
        ({"stage": 1}, "stage"),
    ):
        response = api.send("put", f"/accounts/{account.pk}/placement", body)
        assert response.status_code == 422, (body, response.content)
        assert field in [error["field"] for error in response.json()["errors"]], response.json()
    assert not AccountPlacement.objects.exists()


def test_unknown_account_is_404_and_a_viewer_cannot_put(api, viewer_api, account):
    assert api.get("/accounts/999999/placement").status_code == 404
    assert api.send("put", "/accounts/999999/placement", {}).status_code == 404
    phase = PhaseFactory(name="Adoption")
    assert viewer_api.get(f"/accounts/{account.pk}/placement").status_code == 200
    response = viewer_api.send("put", f"/accounts/{account.pk}/placement", {"phase": phase.pk})
    assert response.status_code == 403


def test_the_account_list_filters_by_phase_through_the_registry(api, csm):
    renewal = PhaseFactory(name="Renewal", position=3)
    AccountFactory(name="Renewing", owner=csm, phase=renewal)
    AccountFactory(name="Elsewhere", owner=csm)
    body = api.get("/accounts", phase=renewal.pk).json()
    assert [item["name"] for item in body["items"]] == ["Renewing"] and body["count"] == 1
    response = api.get("/accounts", phase=999999)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "phase"
    assert api.get("/accounts", phase="x").status_code == 422
    AccountFactory(name="Onboarding Co", owner=csm, phase=PhaseFactory(name="Onboarding", position=0))
    ordered = [item["name"] for item in api.get("/accounts", order="-phase").json()["items"]]
    assert ordered.index("Renewing") < ordered.index("Onboarding Co")


def test_the_openapi_declares_the_placement_schemas_and_the_phase_filter(api):
    spec = api.get("/openapi.json").json()
    put = spec["paths"]["/api/v1/accounts/{account_id}/placement"]["put"]
    assert {"200", "404", "422"} <= set(put["responses"])
    parameters = {p["name"] for p in spec["paths"]["/api/v1/accounts"]["get"]["parameters"]}
    assert {"phase", "grade"} <= parameters
