"""The lifecycle phase on the account page and in the portfolio, as the success app plugs it in."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from tests.factories import AccountFactory, PhaseFactory
from touchpoint.success.models import AccountPlacement

pytestmark = pytest.mark.django_db


def test_the_header_shows_the_phase_and_a_csm_changes_it_with_htmx(csm_client, csm):
    onboarding = PhaseFactory(name="Onboarding")
    adoption = PhaseFactory(name="Adoption")
    account = AccountFactory(owner=csm, phase=onboarding)
    body = csm_client.get(reverse("account-detail", args=[account.pk])).content.decode()
    assert 'data-fact="phase"' in body and "Onboarding" in body and "(Standard)" in body
    assert reverse("account-placement", args=[account.pk]) in body
    response = csm_client.post(
        reverse("account-placement", args=[account.pk]), {"phase": adoption.pk}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'id="phase-fact"' in body and "Adoption" in body
    assert 'hx-swap-oob="afterbegin:#timeline-entries"' in body and "Moved to phase Adoption" in body
    assert AccountPlacement.objects.get(account=account).phase == adoption


def test_an_unknown_phase_is_an_error_beside_the_field(csm_client, account):
    response = csm_client.post(
        reverse("account-placement", args=[account.pk]), {"phase": "999999"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and 'class="field-error"' in response.content.decode()
    assert not AccountPlacement.objects.filter(account=account).exists()
    # Without htmx: back to the account page, the message shown there.
    response = csm_client.post(reverse("account-placement", args=[account.pk]), {"phase": "x"})
    assert response.status_code == 302


def test_a_viewer_sees_the_phase_but_cannot_change_it(viewer_client, account):
    PhaseFactory(name="Onboarding")
    body = viewer_client.get(reverse("account-detail", args=[account.pk])).content.decode()
    assert 'data-fact="phase"' in body and reverse("account-placement", args=[account.pk]) not in body
    phase = PhaseFactory(name="Adoption")
    response = viewer_client.post(reverse("account-placement", args=[account.pk]), {"phase": phase.pk})
    assert response.status_code == 403


def test_portfolio_phase_column_sorts_filters_and_exports(csm_client, csm):
    onboarding = PhaseFactory(name="Onboarding", position=0)
    renewal = PhaseFactory(name="Renewal", position=3)
    AccountFactory(name="Late Co", owner=csm, phase=renewal)
    AccountFactory(name="Early Co", owner=csm, phase=onboarding)
    AccountFactory(name="Nowhere Co", owner=csm)
    page = csm_client.get(reverse("portfolio"), {"sort": "phase"})
    assert 'data-column="phase"' in page.content.decode()
    names = [a.name for a in page.context["page"].object_list]
    assert names.index("Early Co") < names.index("Late Co")
    descending = [a.name for a in csm_client.get(reverse("portfolio"), {"sort": "-phase"}).context["page"]]
    assert descending.index("Late Co") < descending.index("Early Co")
    filtered = csm_client.get(reverse("portfolio"), {"phase": renewal.pk}).context["page"].object_list
    assert [a.name for a in filtered] == ["Late Co"]
    response = csm_client.get(reverse("portfolio-export"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    by_name = {row["name"]: row for row in rows}
    assert (by_name["Late Co"]["success_framework"], by_name["Late Co"]["lifecycle_phase"]) == (
        "Standard",
        "Renewal",
    )
    assert by_name["Nowhere Co"]["lifecycle_phase"] == ""
    assert list(rows[0])[7:11] == ["engagement_model", "success_framework", "lifecycle_phase", "parent"]
