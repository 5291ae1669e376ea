"""New accounts and contacts from the app: the same services (and checks) as the API and the import."""

import pytest
from django.urls import reverse

from tests.conftest import logged_in_client
from tests.factories import AccountFactory, ContactFactory, SegmentFactory
from touchpoint.accounts.models import Account, Contact, TimelineEntry
from touchpoint.events.models import DomainEvent

pytestmark = pytest.mark.django_db


def _new_account(client, **data):
    return client.post(reverse("account-create"), {"engagement_model": "hybrid", **data})


def test_csm_adds_an_account_they_own_and_lands_on_it(csm_client, csm):
    segment = SegmentFactory(name="Enterprise")
    parent = AccountFactory(name="Umbrella Holdings", external_id="crm-umbrella")
    response = _new_account(
        csm_client,
        name="  Umbrella Labs ",
        domain="https://Labs.Umbrella.example/about",
        external_id="crm-labs",
        segment=segment.pk,
        engagement_model="high",
        parent="crm-umbrella",
    )
    account = Account.objects.get(name="Umbrella Labs")
    assert response.status_code == 302 and response["Location"] == reverse(
        "account-detail", args=[account.pk]
    )
    assert account.owner == csm and account.domain == "labs.umbrella.example"
    assert account.parent == parent and account.segment == segment and account.engagement_model == "high"
    assert TimelineEntry.objects.filter(account=account, kind="account_created").exists()
    assert DomainEvent.objects.filter(kind="account.created", account_id=account.pk).exists()


def test_a_csm_cannot_hand_a_new_account_to_someone_else(csm_client, csm, leader):
    _new_account(csm_client, name="Mine", owner=leader.pk)  # a disabled field keeps its initial value
    assert Account.objects.get(name="Mine").owner == csm


def test_a_leader_gives_a_new_account_to_a_csm(leader, csm):
    response = _new_account(logged_in_client(leader), name="Handed over", owner=csm.pk)
    assert response.status_code == 302
    assert Account.objects.get(name="Handed over").owner == csm


def test_parent_by_exact_name_and_errors_when_unknown_or_ambiguous(csm_client):
    AccountFactory(name="Twin")
    AccountFactory(name="Twin")
    AccountFactory(name="Solo Group")
    assert _new_account(csm_client, name="Child", parent="solo group").status_code == 302
    assert Account.objects.get(name="Child").parent.name == "Solo Group"
    response = _new_account(csm_client, name="Orphan", parent="Nobody Inc")
    assert response.status_code == 422
    assert "No account you can see" in response.context["form"].errors["parent"][0]
    response = _new_account(csm_client, name="Orphan", parent="Twin")
    assert "external ID" in response.context["form"].errors["parent"][0]


def test_parent_outside_what_a_csm_may_read_is_not_found(csm, own_books_only):
    AccountFactory(name="Someone Else's", external_id="theirs")
    response = _new_account(logged_in_client(csm), name="Child", parent="theirs")
    assert response.status_code == 422 and "parent" in response.context["form"].errors


def test_duplicate_external_id_is_an_error_beside_the_field(csm_client):
    AccountFactory(external_id="crm-1")
    response = _new_account(csm_client, name="Again", external_id="crm-1")
    assert response.status_code == 422
    assert response.context["form"].errors["external_id"] == ["Another record already has this external ID."]
    assert 'id="id_external_id-error"' in response.content.decode()
    assert not Account.objects.filter(name="Again").exists()


def test_duplicate_domain_asks_once_then_adds_the_account(csm_client):
    AccountFactory(name="Parent", domain="shared.example")
    response = _new_account(csm_client, name="Subsidiary", domain="shared.example")
    assert response.status_code == 422 and "domain" in response.context["form"].errors
    assert 'type="checkbox" name="same_domain_ok"' in response.content.decode()
    response = _new_account(csm_client, name="Subsidiary", domain="shared.example", same_domain_ok="on")
    assert response.status_code == 302
    assert Account.objects.filter(domain="shared.example").count() == 2


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "x" * 100_000}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "Bad domain", "domain": "not a domain"}, "domain"),
        ({"name": "Long ID", "external_id": "e" * 129}, "external_id"),
        ({"name": "Bad model", "engagement_model": "sideways"}, "engagement_model"),
        ({"name": "Bad segment", "segment": "999999"}, "segment"),
        ({"name": "Bad segment", "segment": "abc"}, "segment"),
        ({"name": "Long parent", "parent": "p" * 100_000}, "parent"),
    ],
)
def test_bad_input_is_an_error_beside_the_field_never_a_500(csm_client, data, field):
    response = _new_account(csm_client, **data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert Account.objects.count() == 0


def test_viewer_may_not_add_accounts_and_sees_no_button(viewer_client):
    assert viewer_client.get(reverse("account-create")).status_code == 403
    assert _new_account(viewer_client, name="Nope").status_code == 403
    assert 'id="new-account"' not in viewer_client.get(reverse("portfolio")).content.decode()


def test_portfolio_offers_new_account_to_csms(csm_client):
    page = csm_client.get(reverse("portfolio")).content.decode()
    assert f'href="{reverse("account-create")}"' in page
    form_page = csm_client.get(reverse("account-create"))
    assert form_page.status_code == 200 and 'name="name"' in form_page.content.decode()


# --- Contacts ---------------------------------------------------------------------------------


def _new_contact(client, account, **data):
    return client.post(reverse("contact-create", args=[account.pk]), data)


def test_csm_adds_a_contact_with_roles_and_returns_to_the_account(csm_client, account):
    response = _new_contact(
        csm_client,
        account,
        name="Grace Hopper",
        email="Grace@Navy.example",
        title="Rear admiral",
        phone="+1 555 0100",
        roles=["champion", "decision_maker"],
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account-detail", args=[account.pk]))
    contact = Contact.objects.get(account=account)
    assert contact.email == "grace@navy.example" and contact.role_values == ["champion", "decision_maker"]
    assert TimelineEntry.objects.filter(account=account, kind="contact_added").exists()
    page = csm_client.get(reverse("account-detail", args=[account.pk])).content.decode()
    key_people = page[page.index('id="key-people"') :]
    assert "Grace Hopper" in key_people[: key_people.index("</div>")]


def test_duplicate_email_at_the_account_and_duplicate_external_id_are_field_errors(csm_client, account):
    ContactFactory(account=account, email="ada@example.com", external_id="user-1")
    response = _new_contact(csm_client, account, name="Ada again", email="ADA@example.com")
    assert response.status_code == 422
    assert "already has a contact with this email" in response.context["form"].errors["email"][0]
    response = _new_contact(csm_client, account, name="Someone", external_id="user-1")
    assert response.status_code == 422 and "external_id" in response.context["form"].errors
    assert Contact.objects.filter(account=account).count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "n" * 100_000}, "name"),
        ({"name": ""}, "name"),
        ({"name": "Bad email", "email": "not-an-email"}, "email"),
        ({"name": "Bad role", "roles": ["overlord"]}, "roles"),
        ({"name": "Long phone", "phone": "1" * 51}, "phone"),
        ({"name": "Long title", "title": "t" * 201}, "title"),
    ],
)
def test_bad_contact_input_is_an_error_beside_the_field(csm_client, account, data, field):
    response = _new_contact(csm_client, account, **data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert not Contact.objects.exists()


def test_only_the_book_adds_contacts(book):
    assert _new_contact(logged_in_client(book.outsider), book.account, name="X").status_code == 403
    assert _new_contact(logged_in_client(book.viewer), book.account, name="X").status_code == 403
    assert _new_contact(logged_in_client(book.teammate), book.account, name="Y").status_code == 302
    outsider_page = logged_in_client(book.outsider).get(reverse("account-detail", args=[book.account.pk]))
    assert 'id="new-contact"' not in outsider_page.content.decode()
    owner_page = logged_in_client(book.owner).get(reverse("account-detail", args=[book.account.pk]))
    assert 'id="new-contact"' in owner_page.content.decode()


def test_new_contact_for_a_missing_account_is_404(csm_client):
    assert csm_client.get(reverse("contact-create", args=[999999])).status_code == 404


def test_an_empty_post_shows_what_is_required(csm_client, account):
    response = csm_client.post(reverse("account-create"), {})
    assert response.status_code == 422 and "name" in response.context["form"].errors
    response = csm_client.post(reverse("contact-create", args=[account.pk]), {})
    assert response.status_code == 422 and "name" in response.context["form"].errors
