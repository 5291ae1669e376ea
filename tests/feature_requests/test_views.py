from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import logged_in_client
from tests.factories import AccountFactory, ContactFactory, SegmentFactory
from tests.feature_requests.conftest import arr_account
from touchpoint.feature_requests import services
from touchpoint.feature_requests.models import FeatureRequest, RequestLink, Status
from touchpoint.tasks.models import Task

pytestmark = pytest.mark.django_db


def _many(count: int) -> None:
    segment = SegmentFactory()
    for n in range(count):
        request = services.create_request(title=f"Request number {n}", product_area="Reports", actor=None)
        for _ in range(2):
            services.ask(
                request=request,
                account=arr_account(arr=12_000, renewal_in=30, grade="red", segment=segment),
                actor=None,
            )


def test_the_list_ranks_in_a_bounded_number_of_queries(leader, django_assert_max_num_queries):
    _many(3)
    client = logged_in_client(leader)
    client.get(reverse("feature-requests"))  # warm the session and site settings
    with django_assert_max_num_queries(20):
        small = client.get(reverse("feature-requests"))
    _many(12)
    with django_assert_max_num_queries(20):
        big = client.get(reverse("feature-requests") + "?sort=accounts&status=&segment=")
    assert small.status_code == big.status_code == 200
    assert big.content.decode().count('id="request-') == 15


def test_the_list_filters_and_shows_the_stake(csm):
    calm = arr_account(arr=120_000, renewal_in=300, grade="green")
    request = services.create_request(title="Custom roles", product_area="Admin", actor=csm)
    services.ask(request=request, account=calm, actor=csm)
    other = services.create_request(title="Dark mode", product_area="UI", actor=csm)
    page = logged_in_client(csm).get(reverse("feature-requests"))
    body = page.content.decode()
    assert "Custom roles" in body and "120,000" in body
    filtered = logged_in_client(csm).get(reverse("feature-requests") + "?product_area=UI").content.decode()
    assert other.title in filtered and "Custom roles" not in filtered
    bad = logged_in_client(csm).get(reverse("feature-requests") + "?segment=99999999&sort=nonsense")
    assert bad.status_code == 200


def test_a_new_request_from_the_list_shows_errors_beside_the_field(csm):
    client = logged_in_client(csm)
    response = client.post(reverse("feature-requests"), {"new-title": ""})
    assert response.status_code == 422
    assert 'id="id_new-title-error"' in response.content.decode()
    response = client.post(reverse("feature-requests"), {"new-title": "Webhooks for tasks"})
    assert response.status_code == 302
    assert FeatureRequest.objects.filter(title="Webhooks for tasks").exists()


def test_the_account_panel_adds_a_new_request_and_an_existing_one(csm, account):
    ana = ContactFactory(account=account)
    client = logged_in_client(csm)
    url = reverse("account-feature-requests", args=[account.pk])
    response = client.post(
        url,
        {"ask-title": "Export reports to CSV", "ask-verbatim": "By hand today", "ask-contact": ana.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "Export reports to CSV" in response.content.decode()
    existing = services.create_request(title="Dark mode", actor=None)
    client.post(url, {"ask-request": existing.pk, "ask-title": "dark"}, HTTP_HX_REQUEST="true")
    assert sorted(RequestLink.objects.filter(account=account).values_list("request__title", flat=True)) == [
        "Dark mode",
        "Export reports to CSV",
    ]
    empty = client.post(url, {"ask-title": ""})
    assert empty.status_code == 422
    assert "Say what they ask for" in empty.content.decode()


def test_the_panel_is_read_only_for_a_viewer(viewer, account):
    page = logged_in_client(viewer).get(
        reverse("account-feature-requests", args=[account.pk]), HTTP_HX_REQUEST="true"
    )
    assert page.status_code == 200 and "add-request-form" not in page.content.decode()
    assert (
        logged_in_client(viewer).post(reverse("account-feature-requests", args=[account.pk]), {}).status_code
        == 403
    )


def test_typing_suggests_similar_requests(csm, account):
    existing = services.create_request(title="Export reports to CSV", actor=None)
    services.ask(request=existing, account=account, actor=None)
    services.create_request(title="Single sign-on with Okta", actor=None)
    page = logged_in_client(csm).get(
        reverse("feature-request-suggest"), {"ask-title": "csv export", "account": account.pk}
    )
    body = page.content.decode()
    assert "Export reports to CSV" in body and "Okta" not in body and "asked already" in body
    assert "None of these" in body


def test_the_request_page_explains_the_rank_and_changes_status(leader, csm):
    account = arr_account(arr=60_000, renewal_in=30, grade="red", owner=csm)
    request = services.create_request(title="Audit log export", actor=csm)
    services.ask(request=request, account=account, verbatim="Our auditors need it", actor=csm)
    client = logged_in_client(leader)
    url = reverse("feature-request", args=[request.pk])
    body = client.get(url).content.decode()
    assert "120,000" in body and "Our auditors need it" in body and "×2.00" in body
    missing = client.post(url, {"action": "status", "status-status": "shipped", "status-note": ""})
    assert missing.status_code == 422 and 'id="id_status-note-error"' in missing.content.decode()
    done = client.post(url, {"action": "status", "status-status": "shipped", "status-note": "In 4.2"})
    assert done.status_code == 302
    request.refresh_from_db()
    assert request.status == Status.SHIPPED
    assert Task.objects.filter(owner=csm, about_url=url).count() == 1
    assert logged_in_client(csm).post(url, {"action": "status"}).status_code == 403


def test_merging_from_the_page_and_the_merged_page_redirects(leader):
    survivor = services.create_request(title="Export reports to CSV", actor=leader)
    duplicate = services.create_request(title="CSV export of the reports", actor=leader)
    services.ask(request=duplicate, account=AccountFactory(), actor=leader)
    client = logged_in_client(leader)
    url = reverse("feature-request", args=[survivor.pk])
    assert f'id="duplicate-{duplicate.pk}"' in client.get(url).content.decode()
    assert client.post(url, {"action": "merge-in", "other": duplicate.pk}).status_code == 302
    assert survivor.links.count() == 1
    moved = client.get(reverse("feature-request", args=[duplicate.pk]))
    assert moved.status_code == 302 and moved["Location"].startswith(url)
    assert "was merged into this request" in client.get(moved["Location"]).content.decode()


def test_the_export_neutralises_formulas(leader):
    services.create_request(title='=HYPERLINK("http://evil")', description="+1+1", actor=leader)
    response = logged_in_client(leader).get(reverse("feature-requests-csv"))
    text = response.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",'+1+1" in text
    assert response["Content-Type"].startswith("text/csv")


def test_the_request_page_and_the_panel_cost_the_same_however_many_accounts_asked(
    leader, django_assert_max_num_queries
):
    request = services.create_request(title="Audit log export", actor=None)
    account = arr_account(arr=12_000)
    services.ask(request=request, account=account, contact=ContactFactory(account=account), actor=None)
    for n in range(2):  # requests that read alike: the duplicates' query runs in both measures
        services.ask(
            request=services.create_request(title=f"Other {n}", actor=None), account=account, actor=None
        )
    client = logged_in_client(leader)
    url = reverse("feature-request", args=[request.pk])
    panel = reverse("account-feature-requests", args=[account.pk])
    client.get(url)
    with django_assert_max_num_queries(25) as few:
        client.get(url)
        client.get(panel, HTTP_HX_REQUEST="true")
    for _ in range(12):
        other = arr_account(arr=24_000, renewal_in=10, grade="yellow")
        services.ask(
            request=request, account=other, contact=ContactFactory(account=other), verbatim="Yes", actor=None
        )
        services.ask(
            request=services.create_request(title=f"Other {other.pk}", actor=None),
            account=account,
            actor=None,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200
        assert client.get(panel, HTTP_HX_REQUEST="true").status_code == 200
