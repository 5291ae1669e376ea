import pytest

from tests.conftest import logged_in_client
from touchpoint.users.models import User

pytestmark = pytest.mark.django_db


def test_admin_can_add_a_user_through_the_admin_site(admin_user):
    client = logged_in_client(admin_user)
    assert client.get("/admin/users/user/add/").status_code == 200
    response = client.post(
        "/admin/users/user/add/",
        {
            "email": "new.csm@example.com",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.filter(email="new.csm@example.com").exists()


def test_admin_pages_list_users_and_audit_log(admin_user):
    client = logged_in_client(admin_user)
    assert client.get("/admin/users/user/").status_code == 200
    assert client.get(f"/admin/users/user/{admin_user.pk}/change/").status_code == 200
    assert client.get("/admin/users/auditlogentry/").status_code == 200


def test_csm_cannot_open_the_admin_site(csm_client):
    assert csm_client.get("/admin/").status_code == 302


def test_deactivating_outside_the_people_page_signs_the_person_out_everywhere(admin_user):
    """Django's admin (or a shell) saves is_active off directly: the person's sessions end all the same."""
    from tests.factories import UserFactory

    person = UserFactory(email="leaving@example.com")
    client = logged_in_client(person)
    assert client.get("/my-settings/").status_code == 200
    person.is_active = False
    person.save()
    assert client.get("/my-settings/").status_code == 302
    person.save()  # saving an inactive person again ends nothing more (and does not fail)
