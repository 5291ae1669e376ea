"""The "Success phase" panel and the phase fact in the account header."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import logged_in_client
from tests.factories import FrameworkFactory, PhaseFactory
from touchpoint.success import placement, services
from touchpoint.success.models import AccountPlacement

pytestmark = pytest.mark.django_db


@pytest.fixture
def phases():
    framework = FrameworkFactory(name="Standard", is_default=True)
    onboarding = PhaseFactory(framework=framework, name="Onboarding", position=0, entry_rules=[])
    adoption = PhaseFactory(
        framework=framework,
        name="Adoption",
        position=1,
        entry_rules=[{"days_since_start": {"at_least": 30}}, {"active_users": {"at_least": 3}}],
    )
    return onboarding, adoption


def _url(account) -> str:
    return reverse("account-success-phase", args=[account.pk])


def test_the_panel_shows_the_phase_the_facts_and_the_next_phase_rules(account, phases, csm):
    placement.place_all()
    response = logged_in_client(csm).get(_url(account), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Onboarding" in text and "To enter Adoption" in text
    assert text.count("rule-unmet") == 2
    assert "Override the phase" not in text  # a CSM does not override


def test_a_leader_overrides_with_a_reason_and_lifts_it(account, phases, leader):
    onboarding, adoption = phases
    placement.place_all()
    client = logged_in_client(leader)
    response = client.post(_url(account), {"action": "override", "phase": adoption.pk, "reason": ""})
    assert response.status_code == 422 and "This field is required" in response.content.decode()
    response = client.post(
        _url(account),
        {"action": "override", "phase": adoption.pk, "reason": "Went live early"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Went live early" in response.content.decode()
    row = AccountPlacement.objects.get(account=account)
    assert (row.phase, row.override_phase, row.override_by) == (adoption, adoption, leader)
    page = client.get(reverse("account-detail", args=[account.pk])).content.decode()
    assert "(set by hand)" in page
    response = client.post(_url(account), {"action": "lift"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    row.refresh_from_db()
    assert (row.phase, row.override_phase) == (onboarding, None)


def test_a_csm_cannot_override(account, phases, csm):
    _onboarding, adoption = phases
    response = logged_in_client(csm).post(
        _url(account), {"action": "override", "phase": adoption.pk, "reason": "x"}
    )
    assert response.status_code == 403
    assert not AccountPlacement.objects.filter(account=account, override_phase__isnull=False).exists()


def test_an_unknown_action_and_a_bad_phase_are_clear_errors(account, phases, leader):
    client = logged_in_client(leader)
    assert client.post(_url(account), {"action": "nope"}).status_code == 400
    response = client.post(
        _url(account), {"action": "override", "phase": "99999999999999999999", "reason": "x"}
    )
    assert response.status_code == 422


def test_the_header_shows_time_in_phase(account, phases, csm):
    onboarding, _adoption = phases
    services.place_account(account=account, phase=onboarding, actor=None)
    AccountPlacement.objects.filter(account=account).update(entered_at=timezone.now() - timedelta(days=23))
    page = logged_in_client(csm).get(reverse("account-detail", args=[account.pk])).content.decode()
    assert "for 23\xa0days" in page or "for 23 days" in page
